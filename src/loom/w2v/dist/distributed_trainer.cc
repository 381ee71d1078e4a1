#include "loom/w2v/dist/distributed_trainer.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <tuple>
#include <vector>

#include "loom/adasum/adasum.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/w2v/model.h"
#include "loom/w2v/trainer.h"

namespace loom::w2v::dist {
namespace {

// Every rank's touched row ids (all-gather-v: AllGather of the counts, then AllToAllV sending
// the same ids to every rank), ordered by rank.
struct GatheredIds {
  std::vector<size_t> counts, displs;  // per rank, in rows
  std::vector<int64_t> ids;            // concatenated in rank order
};

StatusOr<GatheredIds> GatherIds(comm::Communicator& comm, const std::vector<int64_t>& ids, int64_t rows) {
  const size_t p = static_cast<size_t>(comm.size());
  int64_t n = static_cast<int64_t>(ids.size());
  std::vector<int64_t> counts(p);
  LOOM_RETURN_IF_ERROR(comm.AllGather(&n, counts.data(), 1, comm::DataType::kI64));
  GatheredIds g;
  g.counts.resize(p);
  g.displs.resize(p);
  size_t total = 0;
  for (size_t r = 0; r < p; ++r) {
    if (counts[r] < 0 || counts[r] > rows) return InternalError(StrCat("rank ", r, " reports ", counts[r], " touched rows of ", rows));
    g.counts[r] = static_cast<size_t>(counts[r]);
    g.displs[r] = total;
    total += g.counts[r];
  }
  g.ids.resize(total);
  const std::vector<size_t> send_counts(p, ids.size()), send_displs(p, 0);
  LOOM_RETURN_IF_ERROR(comm.AllToAllV(ids.data(), send_counts, send_displs, g.ids.data(), g.counts,
                                      g.displs, comm::DataType::kI64));
  for (size_t j = 0; j < total; ++j)
    if (g.ids[j] < 0 || g.ids[j] >= rows) return InternalError(StrCat("a rank sent row ", g.ids[j], " of ", rows));
  return g;
}

// Sum / average / touched-average: the touched rows' deltas travel to every rank (AllToAllV),
// each rank combines each row's deltas in rank order (a rank absent from a row's list did not
// touch it, which is all touched-average needs). Returns the combined delta per row of `touched`.
Status CombineGathered(comm::Communicator& comm, Combiner combiner, const GatheredIds& g,
                       const std::vector<float>& deltas, int64_t rows, size_t d,
                       std::vector<int64_t>* touched, std::vector<float>* combined) {
  const size_t p = static_cast<size_t>(comm.size());
  const size_t n = deltas.size() / d;
  std::vector<size_t> sc(p, n * d), sd(p, 0), rc(p), rd(p);
  for (size_t r = 0; r < p; ++r) {
    rc[r] = g.counts[r] * d;
    rd[r] = g.displs[r] * d;
  }
  std::vector<float> all(g.ids.size() * d);
  LOOM_RETURN_IF_ERROR(comm.AllToAllV(deltas.data(), sc, sd, all.data(), rc, rd, comm::DataType::kF32));
  // Per touched row, each rank's delta in rank order (nullptr = untouched there).
  std::vector<int32_t> slot(static_cast<size_t>(rows), -1);
  std::vector<std::vector<const float*>> per_row;
  for (size_t r = 0; r < p; ++r) {
    for (size_t i = 0; i < g.counts[r]; ++i) {
      const size_t j = g.displs[r] + i;
      const size_t row = static_cast<size_t>(g.ids[j]);
      if (slot[row] < 0) {
        slot[row] = static_cast<int32_t>(per_row.size());
        per_row.emplace_back(p, nullptr);
        touched->push_back(g.ids[j]);
      }
      per_row[static_cast<size_t>(slot[row])][r] = all.data() + j * d;
    }
  }
  combined->resize(touched->size() * d);
  for (size_t t = 0; t < touched->size(); ++t)
    CombineRow(combiner, per_row[t], static_cast<int64_t>(d), combined->data() + t * d);
  return OkStatus();
}

// Adasum: the union of touched rows (sorted) is one tensor per row; every rank contributes its
// delta or zeros (Adasum(a, 0) = a) and the adasum module's VHDD allreduce combines them per
// row, so every rank ends with the same combined rows.
Status CombineAdasum(adasum::AdasumReducer& reducer, const GatheredIds& g, const std::vector<int64_t>& ids,
                     const std::vector<float>& deltas, size_t d, std::vector<int64_t>* touched,
                     std::vector<float>* combined) {
  *touched = g.ids;
  std::sort(touched->begin(), touched->end());
  touched->erase(std::unique(touched->begin(), touched->end()), touched->end());
  combined->assign(touched->size() * d, 0.0f);
  for (size_t i = 0; i < ids.size(); ++i) {
    size_t t = static_cast<size_t>(std::lower_bound(touched->begin(), touched->end(), ids[i]) - touched->begin());
    std::memcpy(combined->data() + t * d, deltas.data() + i * d, d * sizeof(float));
  }
  std::vector<adasum::TensorView> views(touched->size());
  for (size_t t = 0; t < views.size(); ++t) views[t] = {combined->data() + t * d, d};
  return reducer.Allreduce(views, comm::DataType::kF32);
}

// Exchanges the touched rows of one matrix and applies the combined deltas to `base` and
// `local` (afterwards both hold the same, combined values on every rank). `candidates`, when
// given, marks the only rows this rank can have changed (syn0: the words of its round slice);
// the others are not compared, which spares most of the full-matrix scan at many rounds.
Status SyncMatrix(comm::Communicator& comm, Combiner combiner, adasum::AdasumReducer* reducer,
                  int64_t rows, int64_t dim, std::vector<float>* local, std::vector<float>* base,
                  const std::vector<uint8_t>* candidates, DistributedStats* stats) {
  const size_t d = static_cast<size_t>(dim);
  std::vector<int64_t> ids;
  std::vector<float> deltas;
  Stopwatch scan;
  for (int64_t r = 0; r < rows; ++r) {
    if (candidates != nullptr && !(*candidates)[static_cast<size_t>(r)]) continue;
    const float* l = local->data() + r * dim;
    const float* b = base->data() + r * dim;
    if (std::memcmp(l, b, d * sizeof(float)) == 0) continue;
    ids.push_back(r);
    deltas.resize(deltas.size() + d);  // amortised growth; the subtraction below vectorises
    float* out = deltas.data() + deltas.size() - d;
    for (size_t k = 0; k < d; ++k) out[k] = l[k] - b[k];
  }
  if (stats != nullptr) stats->scan_seconds += scan.ElapsedSeconds();
  LOOM_ASSIGN_OR_RETURN(GatheredIds g, GatherIds(comm, ids, rows));
  std::vector<int64_t> touched;
  std::vector<float> combined;
  if (combiner == Combiner::kAdasum) {
    LOOM_RETURN_IF_ERROR(CombineAdasum(*reducer, g, ids, deltas, d, &touched, &combined));
  } else {
    LOOM_RETURN_IF_ERROR(CombineGathered(comm, combiner, g, deltas, rows, d, &touched, &combined));
  }
  if (stats != nullptr) {
    // Adasum's operands are the union of the ranks' touched rows (zeros where untouched).
    const int64_t sent = static_cast<int64_t>(combiner == Combiner::kAdasum ? touched.size() : ids.size());
    stats->rows_sent += sent;
    stats->bytes_sent += static_cast<int64_t>(ids.size() * sizeof(int64_t)) + sent * dim * static_cast<int64_t>(sizeof(float));
    stats->rows_total += rows;
  }
  for (size_t t = 0; t < touched.size(); ++t) {
    float* b = base->data() + touched[t] * dim;
    float* l = local->data() + touched[t] * dim;
    const float* c = combined.data() + t * d;
    for (size_t k = 0; k < d; ++k) {
      b[k] += c[k];
      l[k] = b[k];
    }
  }
  return OkStatus();
}

}  // namespace

int RoundsPerEpochFor(int64_t corpus_words, int ranks) {
  if (ranks <= 1) return 1;  // nothing to exchange: one round per epoch is Train bit for bit
  const int64_t per_round = kWordsPerRankRound * std::max(1, ranks);
  const int64_t r = (std::max<int64_t>(0, corpus_words) + per_round - 1) / per_round;
  return static_cast<int>(std::clamp<int64_t>(r, 128, int64_t{1} << 20));
}

Status DistributedTrain(comm::Communicator& comm, const TrainContext& ctx,
                        std::span<const uint32_t> tokens, Model* model,
                        const DistributedOptions& options, DistributedStats* stats,
                        const DistributedProgress* resume, const RoundCallback& after_round) {
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
  std::unique_ptr<adasum::AdasumReducer> reducer;
  if (options.combiner == Combiner::kAdasum && p > 1) {
    LOOM_ASSIGN_OR_RETURN(reducer, adasum::AdasumReducer::Create(comm, /*fold_non_power_of_two=*/true));
  }
  const int64_t r_count = options.rounds_per_epoch;
  DistributedProgress progress;
  if (resume != nullptr) {
    if (resume->rounds_done < 0 || resume->state.rng.size() != static_cast<size_t>(o.threads) ||
        resume->state.alpha.size() != resume->state.rng.size())
      return InvalidArgumentError(StrCat("resume state: ", resume->rounds_done, " rounds, ", resume->state.rng.size(),
                                         " thread states for ", o.threads, " threads"));
    progress = *resume;
  } else {
    progress.state = DistributedInitialState(o, rank, options.replicate_data);
  }
  TrainState& state = progress.state;
  Model base = *model;  // the replicas' common state at the last round
  std::vector<uint8_t> in_slice;     // per word: a token of this round's slice
  std::vector<uint8_t> out_touched;  // per output row: updated by this rank's kernels this round
  for (int64_t g = progress.rounds_done; g < o.iter * r_count; ++g) {
    const int64_t round = g % r_count;
    size_t b = mine.size() * static_cast<size_t>(round) / static_cast<size_t>(r_count);
    size_t e = mine.size() * static_cast<size_t>(round + 1) / static_cast<size_t>(r_count);
    int64_t before = state.words_done;
    // A thread refreshes its alpha only every 10,000 of its own words, counted within a
    // TrainSlice call; a round can be shorter than that (many rounds per epoch, many ranks), so
    // every round starts from the global clock. An epoch's first round at P = 1 keeps the
    // single-process trainer's schedule (one round per epoch is Train bit for bit); without the
    // refresh, P = 1 at 2,434 rounds of 8K words on the full corpus never decayed alpha.
    if (p > 1 || round > 0)
      for (float& a : state.alpha) a = DecayedAlpha(ctx, state.words_done);
    out_touched.assign(static_cast<size_t>(model->vocab_size), 0);
    // Inside a round a thread sees only its own rank's words on the clock, so a refresh there
    // (a round over 10,000 words per thread) counts P words per own word: the P slices are
    // equal and trained at the same time. Replicated ranks train the same words: no scaling.
    const int clock_ranks = options.replicate_data ? 1 : p;
    if (e > b)
      LOOM_RETURN_IF_ERROR(TrainSlice(ctx, mine.subspan(b, e - b), model, &state, Kernels::kFast,
                                      p > 1 ? &out_touched : nullptr, clock_ranks));
    if (p > 1) {
      // The learning-rate clock is global: add the other ranks' words of this round.
      int64_t local = state.words_done - before, global = 0;
      LOOM_RETURN_IF_ERROR(comm.AllReduce(&local, &global, 1, comm::DataType::kI64, comm::ReduceOp::kSum));
      state.words_done = before + global;
      // A syn0 row changes only when its word is a token of this round's slice (it is read and
      // updated as a context word); an output row only when the kernels marked it (a target, a
      // drawn negative, an inner node). Only these candidates are compared with `base`.
      in_slice.assign(static_cast<size_t>(model->vocab_size), 0);
      for (size_t i = b; i < e; ++i) in_slice[mine[i]] = 1;
      using Sync = std::tuple<std::vector<float>*, std::vector<float>*, const std::vector<uint8_t>*>;
      for (auto [l, bm, cand] : {Sync{&model->syn0, &base.syn0, &in_slice}, Sync{&model->syn1neg, &base.syn1neg, &out_touched},
                                 Sync{&model->syn1, &base.syn1, &out_touched}}) {
        if (l->empty()) continue;
        LOOM_RETURN_IF_ERROR(SyncMatrix(comm, options.combiner, reducer.get(), model->vocab_size,
                                        model->dim, l, bm, cand, stats));
      }
    }
    // Every replica holds the same model after the sync, so every rank returns the same error
    // (no rank is left waiting in the next round's collectives).
    LOOM_RETURN_IF_ERROR(CheckFinite(*model, StrCat("in round ", g + 1, " (epoch ", g / r_count + 1, ")")));
    progress.rounds_done = g + 1;
    state.epochs_done = static_cast<int>(progress.rounds_done / r_count);
    if (after_round) LOOM_RETURN_IF_ERROR(after_round(progress));
  }
  return OkStatus();
}

TrainState DistributedInitialState(const TrainOptions& o, int rank, bool replicate_data) {
  // Rank r's thread t draws from LCG stream r*T + t, so rank 0 matches the single process.
  TrainState state;
  for (int t = 0; t < o.threads; ++t) {
    int stream = replicate_data ? t : rank * o.threads + t;
    state.rng.push_back(ThreadSeed(o.seed, stream));
    state.alpha.push_back(o.starting_alpha());
  }
  return state;
}

}  // namespace loom::w2v::dist
