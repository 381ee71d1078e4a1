// GraphWord2Vec-style distributed training over any loom Communicator (comm_thread ranks in
// one process, comm_mpi ranks under mpirun; the result is the same bit for bit): rank r owns
// the contiguous token range [r N/P, (r+1) N/P); an epoch is R bulk-synchronous rounds; in a
// round every rank trains its next sub-range locally (Hogwild over its own threads), then for
// syn0, syn1neg and syn1 the ids of the rows it touched are all-gathered (AllGather of the
// counts, AllToAllV of the ids) and the deltas since the last round are combined per row:
// - sum / average / touched-average: each rank's touched deltas travel to every rank
//   (AllToAllV) and every rank combines each row's deltas in rank order (combiner.h);
// - adasum: the union of touched rows, one tensor per row (a rank's zeros where it did not
//   touch the row), goes through the adasum module's VHDD allreduce (AdasumReducer, Horovod's
//   tree ((r0+r1)+(r2+r3))+..., non-powers of two folded first), per-row coefficients.
// Every rank applies the combined rows to its snapshot, so all replicas stay identical.
// Rows no rank touched never travel. The learning rate follows the global word count
// (summed over ranks at every round; each round starts at the decayed alpha of that global
// clock, since a short round never reaches a thread's own 10K-word refresh). With P = 1 nothing is exchanged and the run equals the
// single-process trainer (R = 1).
// This reconstructs GraphWord2Vec's model combiners (brief 3.4); it is a hypothesis under
// test, not the paper's confirmed method.
// Thread-safety: call once per rank, each rank from its own thread with its own Model.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "loom/base/status.h"
#include "loom/comm/communicator.h"
#include "loom/w2v/combiner.h"
#include "loom/w2v/model.h"
#include "loom/w2v/train_context.h"
#include "loom/w2v/trainer.h"

namespace loom::w2v::dist {

struct DistributedOptions {
  Combiner combiner = Combiner::kAdasum;
  // 128: on the 4.91M-word slice Adasum then reaches the sequential accuracy at P = 4 and 8 in
  // the same epochs (G6, README); 16 rounds were too stale. What matters is a rank's words per
  // round (~10K or fewer met): P = 2 needs 256 there. RoundsPerEpochFor picks R from the corpus
  // (what `loom w2v train` does unless --rounds-per-epoch is given).
  int rounds_per_epoch = 128;
  // Testing: every rank trains the whole corpus with the same seeds (identical data).
  bool replicate_data = false;
};

// Rounds per epoch that keep each rank's words per round at or under kWordsPerRankRound, and at
// least 128: R = max(128, ceil(words / (P * kWordsPerRankRound))); 1 at P = 1, which exchanges
// nothing (one round per epoch equals the single-process trainer bit for bit). G6 was met
// at 4.8K-9.6K words per rank and round and missed at 19K (README); 8K leaves a margin.
inline constexpr int64_t kWordsPerRankRound = 8000;
int RoundsPerEpochFor(int64_t corpus_words, int ranks);

struct DistributedStats {
  int64_t rows_sent = 0;    // touched rows this rank sent, summed over rounds and matrices
  int64_t bytes_sent = 0;   // payload bytes this rank contributed
  int64_t rows_total = 0;   // rows that would travel if every row were sent
  double scan_seconds = 0;  // finding the touched rows (comparing rows with the last round's)
};

// Where a rank stands: global rounds finished (epoch = rounds_done / R) and its TrainState
// (LCGs, learning rates, the global word clock). At a round boundary every replica's model is
// the same, so this plus the model is all a resume needs (dist_checkpoint.h).
struct DistributedProgress {
  int64_t rounds_done = 0;
  TrainState state;
};
using RoundCallback = std::function<Status(const DistributedProgress&)>;

// Rank `rank`'s starting LCGs and learning rates: thread t of rank r draws from stream
// r*T + t (t with replicate_data), so rank 0 starts as the single-process trainer.
TrainState DistributedInitialState(const TrainOptions& options, int rank, bool replicate_data);

// Trains ctx.options.iter epochs. `model` must be initialised identically on every rank
// (InitModel with the same seed), or be the checkpointed replica when `resume` is given (then
// training continues after resume->rounds_done rounds with resume->state; with one thread per
// rank the result equals the uninterrupted run bit for bit). `after_round` runs on every rank
// after each round's exchange, when all replicas are equal.
Status DistributedTrain(comm::Communicator& comm, const TrainContext& ctx,
                        std::span<const uint32_t> tokens, Model* model,
                        const DistributedOptions& options, DistributedStats* stats = nullptr,
                        const DistributedProgress* resume = nullptr,
                        const RoundCallback& after_round = {});

}  // namespace loom::w2v::dist
