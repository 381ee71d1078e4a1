#include "loom/w2v/dist/distributed_trainer.h"

#include <cstring>
#include <vector>

#include "loom/base/strings.h"
#include "loom/w2v/trainer.h"

namespace loom::w2v::dist {
namespace {

// Exchanges the touched rows of one matrix and applies the combined deltas to `base` and
// `local` (afterwards both hold the same, combined values).
Status SyncMatrix(comm::Communicator& comm, Combiner combiner, int64_t rows, int64_t dim,
                  std::vector<float>* local, std::vector<float>* base, DistributedStats* stats) {
  const int p = comm.size();
  const size_t d = static_cast<size_t>(dim);
  std::vector<int64_t> ids;
  std::vector<float> deltas;
  for (int64_t r = 0; r < rows; ++r) {
    const float* l = local->data() + r * dim;
    const float* b = base->data() + r * dim;
    if (std::memcmp(l, b, d * sizeof(float)) == 0) continue;
    ids.push_back(r);
    for (size_t k = 0; k < d; ++k) deltas.push_back(l[k] - b[k]);
  }
  int64_t n = static_cast<int64_t>(ids.size());
  std::vector<int64_t> counts(static_cast<size_t>(p));
  LOOM_RETURN_IF_ERROR(comm.AllGather(&n, counts.data(), 1, comm::DataType::kI64));
  std::vector<size_t> send_counts(static_cast<size_t>(p), static_cast<size_t>(n)), send_displs(static_cast<size_t>(p), 0);
  std::vector<size_t> recv_counts(static_cast<size_t>(p)), recv_displs(static_cast<size_t>(p));
  size_t total = 0;
  for (int r = 0; r < p; ++r) {
    recv_counts[static_cast<size_t>(r)] = static_cast<size_t>(counts[static_cast<size_t>(r)]);
    recv_displs[static_cast<size_t>(r)] = total;
    total += static_cast<size_t>(counts[static_cast<size_t>(r)]);
  }
  std::vector<int64_t> all_ids(total);
  LOOM_RETURN_IF_ERROR(comm.AllToAllV(ids.data(), send_counts, send_displs, all_ids.data(), recv_counts,
                                      recv_displs, comm::DataType::kI64));
  std::vector<size_t> sc(static_cast<size_t>(p)), rc(static_cast<size_t>(p)), rd(static_cast<size_t>(p));
  for (int r = 0; r < p; ++r) {
    sc[static_cast<size_t>(r)] = static_cast<size_t>(n) * d;
    rc[static_cast<size_t>(r)] = recv_counts[static_cast<size_t>(r)] * d;
    rd[static_cast<size_t>(r)] = recv_displs[static_cast<size_t>(r)] * d;
  }
  std::vector<float> all_deltas(total * d);
  LOOM_RETURN_IF_ERROR(comm.AllToAllV(deltas.data(), sc, send_displs, all_deltas.data(), rc, rd,
                                      comm::DataType::kF32));
  if (stats != nullptr) {
    stats->rows_sent += n;
    stats->bytes_sent += n * static_cast<int64_t>(sizeof(int64_t) + d * sizeof(float));
    stats->rows_total += rows;
  }
  // Per touched row, the deltas of each rank in rank order (nullptr = untouched there).
  std::vector<int32_t> slot(static_cast<size_t>(rows), -1);
  std::vector<int64_t> touched;
  std::vector<std::vector<const float*>> per_row;
  for (int r = 0; r < p; ++r) {
    for (size_t i = 0; i < recv_counts[static_cast<size_t>(r)]; ++i) {
      size_t j = recv_displs[static_cast<size_t>(r)] + i;
      int64_t row = all_ids[j];
      if (row < 0 || row >= rows) return InternalError(StrCat("rank ", r, " sent row ", row, " of ", rows));
      if (slot[static_cast<size_t>(row)] < 0) {
        slot[static_cast<size_t>(row)] = static_cast<int32_t>(per_row.size());
        per_row.emplace_back(static_cast<size_t>(p), nullptr);
        touched.push_back(row);
      }
      per_row[static_cast<size_t>(slot[static_cast<size_t>(row)])][static_cast<size_t>(r)] = all_deltas.data() + j * d;
    }
  }
  std::vector<float> combined(d);
  for (size_t t = 0; t < touched.size(); ++t) {
    CombineRow(combiner, per_row[t], dim, combined.data());
    float* b = base->data() + touched[t] * dim;
    float* l = local->data() + touched[t] * dim;
    for (size_t k = 0; k < d; ++k) {
      b[k] += combined[k];
      l[k] = b[k];
    }
  }
  return OkStatus();
}

}  // namespace

Status DistributedTrain(comm::Communicator& comm, const TrainContext& ctx,
                        std::span<const uint32_t> tokens, Model* model,
                        const DistributedOptions& options, DistributedStats* stats,
                        const std::function<Status(int)>& after_epoch) {
  const TrainOptions& o = ctx.options;
  const int p = comm.size(), rank = comm.rank();
  if (options.rounds_per_epoch < 1) return InvalidArgumentError("rounds per epoch must be >= 1");
  if (tokens.empty()) return InvalidArgumentError("the encoded corpus has no in-vocabulary tokens");
  std::span<const uint32_t> mine = tokens;
  if (!options.replicate_data) {
    size_t b = tokens.size() * static_cast<size_t>(rank) / static_cast<size_t>(p);
    size_t e = tokens.size() * static_cast<size_t>(rank + 1) / static_cast<size_t>(p);
    mine = tokens.subspan(b, e - b);
  }
  // Rank r's thread t draws from LCG stream r*T + t, so rank 0 matches the single process.
  TrainState state;
  for (int t = 0; t < o.threads; ++t) {
    int stream = options.replicate_data ? t : rank * o.threads + t;
    state.rng.push_back(ThreadSeed(o.seed, stream));
    state.alpha.push_back(o.starting_alpha());
  }
  Model base = *model;  // the replicas' common state at the last round
  const int r_count = options.rounds_per_epoch;
  for (int epoch = 0; epoch < o.iter; ++epoch) {
    for (int round = 0; round < r_count; ++round) {
      size_t b = mine.size() * static_cast<size_t>(round) / static_cast<size_t>(r_count);
      size_t e = mine.size() * static_cast<size_t>(round + 1) / static_cast<size_t>(r_count);
      int64_t before = state.words_done;
      if (e > b) LOOM_RETURN_IF_ERROR(TrainSlice(ctx, mine.subspan(b, e - b), model, &state));
      if (p == 1) continue;  // one replica: nothing to combine
      // The learning-rate clock is global: add the other ranks' words of this round.
      int64_t local = state.words_done - before, global = 0;
      LOOM_RETURN_IF_ERROR(comm.AllReduce(&local, &global, 1, comm::DataType::kI64, comm::ReduceOp::kSum));
      state.words_done = before + global;
      LOOM_RETURN_IF_ERROR(SyncMatrix(comm, options.combiner, model->vocab_size, model->dim,
                                      &model->syn0, &base.syn0, stats));
      if (!model->syn1neg.empty())
        LOOM_RETURN_IF_ERROR(SyncMatrix(comm, options.combiner, model->vocab_size, model->dim,
                                        &model->syn1neg, &base.syn1neg, stats));
      if (!model->syn1.empty())
        LOOM_RETURN_IF_ERROR(SyncMatrix(comm, options.combiner, model->vocab_size, model->dim,
                                        &model->syn1, &base.syn1, stats));
    }
    if (after_epoch) LOOM_RETURN_IF_ERROR(after_epoch(epoch + 1));
  }
  return OkStatus();
}

}  // namespace loom::w2v::dist
