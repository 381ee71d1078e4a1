#include "loom/w2v/dist/dist_checkpoint.h"

#include <cstdio>

#include "loom/base/file_io.h"
#include "loom/base/json.h"
#include "loom/base/strings.h"

namespace loom::w2v::dist {

std::string RankCheckpointPath(const std::string& prefix, int64_t rounds_done, int rank) {
  return StrCat(prefix, ".g", rounds_done, ".rank", rank);
}

Status SaveDistributedCheckpoint(comm::Communicator& comm, const std::string& prefix,
                                 const TrainOptions& options, const Vocabulary& vocab,
                                 const Model& model, const DistributedOptions& dist,
                                 const DistributedProgress& progress, int64_t previous_rounds) {
  const int rank = comm.rank();
  LOOM_RETURN_IF_ERROR(SaveCheckpoint(RankCheckpointPath(prefix, progress.rounds_done, rank), options,
                                      vocab, model, progress.state));
  // Every rank's file is durable before the manifest points at this generation.
  LOOM_RETURN_IF_ERROR(comm.Barrier());
  if (rank == 0) {
    Json m = {{"format", "loom-w2v-distributed-checkpoint"}, {"version", 1}, {"ranks", comm.size()},
              {"rounds_per_epoch", dist.rounds_per_epoch}, {"combiner", std::string(CombinerName(dist.combiner))},
              {"rounds_done", progress.rounds_done}};
    LOOM_RETURN_IF_ERROR(WriteFileAtomically(prefix, m.dump() + "\n"));
  }
  LOOM_RETURN_IF_ERROR(comm.Barrier());
  if (previous_rounds >= 0 && previous_rounds != progress.rounds_done)
    std::remove(RankCheckpointPath(prefix, previous_rounds, rank).c_str());
  return OkStatus();
}

StatusOr<DistributedCheckpoint> LoadDistributedCheckpoint(const std::string& prefix, int rank, int ranks) {
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(prefix));
  LOOM_ASSIGN_OR_RETURN(JsonValue m, ParseJson(text, prefix));
  LOOM_ASSIGN_OR_RETURN(std::string format, m.GetString("format"));
  if (format != "loom-w2v-distributed-checkpoint")
    return DataLossError(StrCat(prefix, ": not a distributed w2v checkpoint manifest (format '", format, "')"));
  LOOM_ASSIGN_OR_RETURN(int64_t saved_ranks, m.GetInt("ranks"));
  if (saved_ranks != ranks)
    return FailedPreconditionError(StrCat(prefix, ": written by ", saved_ranks, " ranks, resumed with ", ranks));
  DistributedCheckpoint c;
  LOOM_ASSIGN_OR_RETURN(int64_t rounds, m.GetInt("rounds_per_epoch"));
  LOOM_ASSIGN_OR_RETURN(std::string combiner, m.GetString("combiner"));
  LOOM_ASSIGN_OR_RETURN(c.dist.combiner, ParseCombiner(combiner));
  LOOM_ASSIGN_OR_RETURN(c.rounds_done, m.GetInt("rounds_done"));
  if (rounds < 1 || rounds > (int64_t{1} << 30) || c.rounds_done < 0)
    return DataLossError(StrCat(prefix, ": rounds_per_epoch ", rounds, ", rounds_done ", c.rounds_done));
  c.dist.rounds_per_epoch = static_cast<int>(rounds);
  const std::string path = RankCheckpointPath(prefix, c.rounds_done, rank);
  auto loaded = LoadCheckpoint(path);
  if (!loaded.ok()) return DataLossError(StrCat(prefix, ": rank ", rank, "'s file: ", loaded.status().ToString()));
  c.rank = std::move(*loaded);
  if (c.rank.state.epochs_done != c.rounds_done / rounds)
    return DataLossError(StrCat(path, ": epoch ", c.rank.state.epochs_done, " disagrees with the manifest's round ", c.rounds_done));
  return c;
}

}  // namespace loom::w2v::dist
