#include "loom/w2v/dist/testing/dist_testing.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "loom/base/check.h"
#include "loom/base/file_io.h"
#include "loom/base/strings.h"
#include "loom/comm/thread/thread_transport.h"
#include "loom/w2v/dist/dist_checkpoint.h"

namespace loom::w2v::dist {

Data::Data(int regions, int lines) {
  std::string text;
  const char* s[] = {"the cat sat on the mat", "a dog ran in the park", "the bird sang in a tree",
                     "my cat saw a bird", "the dog sat on a mat"};
  for (int i = 0; i < lines; ++i) {
    text += s[(i * 7) % 5];
    if (regions > 0) text += StrCat(" region", i * regions / lines);
    text += "\n";
  }
  LOOM_CHECK_OK(WriteFileAtomically(dir.File("c.txt"), text));
  vocab = *LearnVocab(dir.File("c.txt"), {.min_count = 1});
  LOOM_CHECK_OK(EncodeCorpus(dir.File("c.txt"), vocab, dir.File("t")).status());
  tokens = std::move(TokenFile::Open(dir.File("t"))).value();
}

TrainOptions SmallOptions(bool hs) {
  TrainOptions o;
  o.dim = 16;
  o.iter = 2;
  o.cbow = false;
  o.hs = hs;
  o.negative = hs ? 0 : 4;
  o.threads = 1;
  return o;
}

Model InitialModel(const Data& data, const TrainOptions& o) {
  return InitModel(data.vocab.size(), o.dim, o.hs, o.negative > 0, 1);
}

StatusOr<std::vector<Model>> RunThreadRanks(const Data& data, const TrainOptions& o, int p,
                                            const DistributedOptions& d, DistributedStats* stats0) {
  LOOM_ASSIGN_OR_RETURN(auto ctx, TrainContext::Create(data.vocab, o));
  std::vector<Model> models(static_cast<size_t>(p), InitialModel(data, o));
  std::vector<DistributedStats> stats(static_cast<size_t>(p));
  LOOM_RETURN_IF_ERROR(comm::thread::RunRanks(p, [&](comm::Communicator& comm) {
    const size_t r = static_cast<size_t>(comm.rank());
    return DistributedTrain(comm, *ctx, data.tokens->tokens(), &models[r], d, &stats[r]);
  }));
  for (int r = 1; r < p; ++r)
    if (models[static_cast<size_t>(r)].syn0 != models[0].syn0) return InternalError(StrCat("replica ", r, " differs from rank 0"));
  if (stats0 != nullptr) *stats0 = stats[0];
  return models;
}

Status TrainRankWithCheckpoints(comm::Communicator& comm, const Data& data, const TrainOptions& o,
                                const DistributedOptions& d, const std::string& prefix,
                                int64_t stop_after, bool resume, Model* model) {
  LOOM_ASSIGN_OR_RETURN(auto ctx, TrainContext::Create(data.vocab, o));
  DistributedProgress start;
  DistributedOptions dist = d;
  if (resume) {
    LOOM_ASSIGN_OR_RETURN(DistributedCheckpoint c, LoadDistributedCheckpoint(prefix, comm.rank(), comm.size()));
    *model = std::move(c.rank.model);
    start = {c.rounds_done, std::move(c.rank.state)};
    dist = c.dist;
  } else {
    *model = InitialModel(data, o);
  }
  int64_t previous = resume ? start.rounds_done : -1;
  auto after = [&](const DistributedProgress& pr) -> Status {
    LOOM_RETURN_IF_ERROR(SaveDistributedCheckpoint(comm, prefix, o, data.vocab, *model, dist, pr, previous));
    previous = pr.rounds_done;
    if (pr.rounds_done == stop_after) return UnavailableError("simulated crash");
    return OkStatus();
  };
  return DistributedTrain(comm, *ctx, data.tokens->tokens(), model, dist, nullptr, resume ? &start : nullptr, after);
}

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace loom::w2v::dist
