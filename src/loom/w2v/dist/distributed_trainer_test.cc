// The distributed trainer on thread ranks against the single-process trainer.
#include <gtest/gtest.h>

#include <cmath>
#include <mutex>

#include "loom/base/file_io.h"
#include "loom/comm/thread/thread_transport.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/corpus.h"
#include "loom/w2v/dist/distributed_trainer.h"
#include "loom/w2v/trainer.h"

namespace loom::w2v::dist {
namespace {

struct Data {
  loom::testing::TempDir dir;
  Vocabulary vocab;
  std::unique_ptr<TokenFile> tokens;
  Data() {
    std::string text;
    const char* s[] = {"the cat sat on the mat", "a dog ran in the park", "the bird sang in a tree",
                       "my cat saw a bird", "the dog sat on a mat"};
    for (int i = 0; i < 1500; ++i) text += std::string(s[(i * 7) % 5]) + "\n";
    LOOM_CHECK_OK(WriteFileAtomically(dir.File("c.txt"), text));
    vocab = *LearnVocab(dir.File("c.txt"), {.min_count = 1});
    LOOM_CHECK_OK(EncodeCorpus(dir.File("c.txt"), vocab, dir.File("t")).status());
    tokens = std::move(TokenFile::Open(dir.File("t"))).value();
  }
};

TrainOptions Opts(bool hs) {
  TrainOptions o;
  o.dim = 16;
  o.iter = 2;
  o.cbow = false;
  o.hs = hs;
  o.negative = hs ? 0 : 4;
  o.threads = 1;
  return o;
}

// Runs P thread ranks and returns rank 0's model (checking all replicas agree).
Model RunRanks(const Data& data, const TrainOptions& o, int p, const DistributedOptions& d,
               DistributedStats* stats0 = nullptr) {
  auto ctx = std::move(TrainContext::Create(data.vocab, o)).value();
  std::vector<Model> models(static_cast<size_t>(p), InitModel(data.vocab.size(), o.dim, o.hs, o.negative > 0, 1));
  std::vector<DistributedStats> stats(static_cast<size_t>(p));
  Status st = comm::thread::RunRanks(p, [&](comm::Communicator& comm) {
    return DistributedTrain(comm, *ctx, data.tokens->tokens(), &models[static_cast<size_t>(comm.rank())], d,
                            &stats[static_cast<size_t>(comm.rank())]);
  });
  EXPECT_TRUE(st.ok()) << st;
  for (int r = 1; r < p; ++r) EXPECT_EQ(models[static_cast<size_t>(r)].syn0, models[0].syn0) << "replica " << r;
  if (stats0) *stats0 = stats[0];
  return models[0];
}

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

TEST(Distributed, OneRankEqualsTheSingleProcessTrainer) {
  Data data;
  for (bool hs : {false, true}) {
    TrainOptions o = Opts(hs);
    auto ctx = std::move(TrainContext::Create(data.vocab, o)).value();
    Model single = InitModel(data.vocab.size(), o.dim, o.hs, o.negative > 0, 1);
    TrainState s = InitialTrainState(o);
    ASSERT_TRUE(Train(*ctx, data.tokens->tokens(), &single, &s).ok());
    for (Combiner c : {Combiner::kAdasum, Combiner::kAverage, Combiner::kSum}) {
      Model m = RunRanks(data, o, 1, {.combiner = c, .rounds_per_epoch = 1});
      EXPECT_EQ(m.syn0, single.syn0);
      EXPECT_EQ(m.syn1, single.syn1);
    }
  }
}

TEST(Distributed, IdenticalDataAverageAndAdasumReproduceOneRankSumOvershoots) {
  Data data;
  TrainOptions o = Opts(false);
  o.iter = 1;
  Model init = InitModel(data.vocab.size(), o.dim, false, true, 1);
  Model one = RunRanks(data, o, 1, {.rounds_per_epoch = 1, .replicate_data = true});
  for (Combiner c : {Combiner::kAverage, Combiner::kAdasum}) {
    Model m = RunRanks(data, o, 3, {.combiner = c, .rounds_per_epoch = 1, .replicate_data = true});
    EXPECT_LT(MaxDiff(m.syn0, one.syn0), 1e-5) << CombinerName(c);
    EXPECT_LT(MaxDiff(m.syn1neg, one.syn1neg), 1e-5) << CombinerName(c);
  }
  Model sum = RunRanks(data, o, 3, {.combiner = Combiner::kSum, .rounds_per_epoch = 1, .replicate_data = true});
  for (size_t i = 0; i < sum.syn0.size(); ++i)
    ASSERT_NEAR(sum.syn0[i] - init.syn0[i], 3 * (one.syn0[i] - init.syn0[i]), 1e-5) << i;
}

TEST(Distributed, OnlyTouchedRowsTravelAndReplicasAgree) {
  Data data;
  TrainOptions o = Opts(false);
  for (int p : {2, 4}) {
    DistributedStats st;
    Model m = RunRanks(data, o, p, {.combiner = Combiner::kAdasum, .rounds_per_epoch = 3}, &st);
    EXPECT_GT(st.rows_sent, 0);
    EXPECT_LE(st.rows_sent, st.rows_total);
    for (float x : m.syn0) ASSERT_TRUE(std::isfinite(x));
  }
  // A word that never occurs in any rank's slice (count 0 entry from a vocab file) is untouched.
}

}  // namespace
}  // namespace loom::w2v::dist
