// Test helpers shared by the distributed trainer's thread and MPI tests: a tiny corpus, its
// vocabulary and token file, small training options, and P thread ranks as the oracle run.
// Thread-safety: one Data per test; functions are reentrant.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/corpus.h"
#include "loom/w2v/dist/distributed_trainer.h"

namespace loom::w2v::dist {

struct Data {
  loom::testing::TempDir dir;
  Vocabulary vocab;
  std::unique_ptr<TokenFile> tokens;
  Data() : Data(0) {}  // 1500 lines of five short sentences (~10K tokens), min-count 1
  // With regions > 0, line i also ends with the word "region<i * regions / lines>", so each
  // region's word lives in one stretch of the corpus: with regions = 12 and P = 2, 3 or 4 most
  // of them occur in one rank's slice only (rows that a single rank touches).
  explicit Data(int regions, int lines = 1500);
};

TrainOptions SmallOptions(bool hs);  // d = 16, 2 epochs, skip-gram, 1 thread
Model InitialModel(const Data& data, const TrainOptions& o);

// Runs P thread ranks; every rank's model. Internal error if the replicas differ.
StatusOr<std::vector<Model>> RunThreadRanks(const Data& data, const TrainOptions& o, int p,
                                            const DistributedOptions& d,
                                            DistributedStats* stats0 = nullptr);

// One rank's run that checkpoints after every round to `prefix` (dist_checkpoint.h). With
// `stop_after` > 0 it fails with Unavailable (a simulated crash) right after that global
// round's checkpoint; with `resume` it starts from the checkpoint instead of InitialModel.
Status TrainRankWithCheckpoints(comm::Communicator& comm, const Data& data, const TrainOptions& o,
                                const DistributedOptions& d, const std::string& prefix,
                                int64_t stop_after, bool resume, Model* model);

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace loom::w2v::dist
