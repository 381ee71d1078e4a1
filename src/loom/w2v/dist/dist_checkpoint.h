// Checkpoints of a distributed run (docs/formats/word2vec-vectors.md, "Distributed
// checkpoints"). At a round boundary all replicas are equal, so a rank's resume state is the
// model plus its own LCGs and learning rates and the global round counter. For global round g
// every rank writes PREFIX.g<g>.rank<r> (checkpoint.h's file: vocabulary, model, that rank's
// TrainState) atomically; after a barrier rank 0 commits the manifest PREFIX (JSON: ranks,
// rounds_per_epoch, combiner, rounds_done = g) atomically; after a second barrier every rank
// deletes its previous generation. A crash at any point leaves the manifest naming a complete
// generation, so a resume never mixes rounds.
// Thread-safety: one call per rank, each from its own rank's thread (collective).
#pragma once

#include <string>

#include "loom/base/status.h"
#include "loom/comm/communicator.h"
#include "loom/w2v/checkpoint.h"
#include "loom/w2v/dist/distributed_trainer.h"

namespace loom::w2v::dist {

std::string RankCheckpointPath(const std::string& prefix, int64_t rounds_done, int rank);

// Collective. `previous_rounds` (-1: none) names the generation to delete once this one is
// committed.
Status SaveDistributedCheckpoint(comm::Communicator& comm, const std::string& prefix,
                                 const TrainOptions& options, const Vocabulary& vocab,
                                 const Model& model, const DistributedOptions& dist,
                                 const DistributedProgress& progress, int64_t previous_rounds);

struct DistributedCheckpoint {
  Checkpoint rank;  // options, vocabulary, model and this rank's TrainState
  DistributedOptions dist;
  int64_t rounds_done = 0;
};

// Reads the manifest and this rank's file of the generation it names. FailedPrecondition when
// the run had a different number of ranks; DataLoss for a missing, truncated or inconsistent
// file.
StatusOr<DistributedCheckpoint> LoadDistributedCheckpoint(const std::string& prefix, int rank, int ranks);

}  // namespace loom::w2v::dist
