// The distributed trainer over comm_mpi under `mpirun -np 4`. Oracle: the same run on comm's
// thread backend (P thread ranks inside rank 0's process) with the same seeds must give the
// same model bit for bit, for every combiner, negative sampling and hierarchical softmax; and
// the combiners keep their semantics on identical data (average and Adasum reproduce one rank,
// sum moves P times as far).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "loom/comm/mpi/mpi_transport.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/dist/dist_checkpoint.h"
#include "loom/w2v/dist/distributed_trainer.h"
#include "loom/w2v/dist/testing/dist_testing.h"

namespace loom::w2v::dist {
namespace {

// The binary's only suite, so MPI lives exactly as long as it.
class DistributedMpi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { LOOM_CHECK_OK(comm::mpi::InitMpi()); }
  static void TearDownTestSuite() { comm::mpi::FinalizeMpi(); }
};

std::unique_ptr<comm::Communicator> World() {
  auto t = comm::mpi::WorldTransport();
  LOOM_CHECK_OK(t.status());
  auto c = std::make_unique<comm::Communicator>(std::move(*t));
  c->set_timeout_ms(60000);
  return c;
}

Model RunMpi(comm::Communicator& c, const Data& data, const TrainOptions& o, const DistributedOptions& d) {
  auto ctx = std::move(TrainContext::Create(data.vocab, o)).value();
  Model m = InitialModel(data, o);
  Status st = DistributedTrain(c, *ctx, data.tokens->tokens(), &m, d);
  EXPECT_TRUE(st.ok()) << st;
  return m;
}

// Every rank's matrix equals rank 0's (broadcast and compared bitwise).
void ExpectSameOnEveryRank(comm::Communicator& c, const std::vector<float>& mine, const char* what) {
  std::vector<float> root = mine;
  ASSERT_TRUE(c.Broadcast(root.data(), root.size(), comm::DataType::kF32, 0).ok());
  EXPECT_EQ(mine, root) << "rank " << c.rank() << " " << what << " differs from rank 0";
}

TEST_F(DistributedMpi, EqualsTheThreadBackendBitForBit) {
  auto c = World();
  Data data(/*regions=*/12);  // rows touched by one rank too (touched-average != average)
  for (bool hs : {false, true}) {
    TrainOptions o = SmallOptions(hs);
    for (Combiner comb : {Combiner::kAdasum, Combiner::kAverage, Combiner::kTouchedAverage, Combiner::kSum}) {
      const DistributedOptions d{.combiner = comb, .rounds_per_epoch = 3};
      Model m = RunMpi(*c, data, o, d);
      ExpectSameOnEveryRank(*c, m.syn0, "syn0");
      if (c->rank() == 0) {
        auto ranks = RunThreadRanks(data, o, c->size(), d);
        ASSERT_TRUE(ranks.ok()) << ranks.status();
        const Model& want = (*ranks)[0];
        EXPECT_EQ(m.syn0, want.syn0) << CombinerName(comb) << " hs=" << hs;
        EXPECT_EQ(m.syn1neg, want.syn1neg) << CombinerName(comb) << " hs=" << hs;
        EXPECT_EQ(m.syn1, want.syn1) << CombinerName(comb) << " hs=" << hs;
        // Training moved the model (the comparison is not of two untouched copies).
        EXPECT_GT(MaxDiff(m.syn0, InitialModel(data, o).syn0), 1e-3);
      }
      ASSERT_TRUE(c->Barrier().ok());
    }
  }
}

TEST_F(DistributedMpi, CombinersOnIdenticalData) {
  auto c = World();
  Data data;
  TrainOptions o = SmallOptions(false);
  o.iter = 1;
  const int p = c->size();
  const Model init = InitialModel(data, o);
  auto ones = RunThreadRanks(data, o, 1, {.rounds_per_epoch = 1, .replicate_data = true});
  ASSERT_TRUE(ones.ok()) << ones.status();
  const Model& one = (*ones)[0];
  for (Combiner comb : {Combiner::kAverage, Combiner::kTouchedAverage, Combiner::kAdasum}) {
    Model m = RunMpi(*c, data, o, {.combiner = comb, .rounds_per_epoch = 1, .replicate_data = true});
    EXPECT_LT(MaxDiff(m.syn0, one.syn0), 1e-5) << CombinerName(comb);
    EXPECT_LT(MaxDiff(m.syn1neg, one.syn1neg), 1e-5) << CombinerName(comb);
  }
  Model sum = RunMpi(*c, data, o, {.combiner = Combiner::kSum, .rounds_per_epoch = 1, .replicate_data = true});
  for (size_t i = 0; i < sum.syn0.size(); ++i)
    ASSERT_NEAR(sum.syn0[i] - init.syn0[i], p * (one.syn0[i] - init.syn0[i]), 1e-5) << i;
}

// Checkpoint after every round, crash after round 4 (mid-epoch 2), resume: the model equals
// the uninterrupted thread-backend run. Rank 0's directory holds every rank's files.
TEST_F(DistributedMpi, ResumeEqualsTheUninterruptedRun) {
  auto c = World();
  Data data;
  TrainOptions o = SmallOptions(false);
  const DistributedOptions d{.combiner = Combiner::kAdasum, .rounds_per_epoch = 3};
  std::unique_ptr<loom::testing::TempDir> dir;
  std::vector<char> path(4096, 0);  // broadcast as 1024 i32 words
  if (c->rank() == 0) {
    dir = std::make_unique<loom::testing::TempDir>();
    const std::string prefix = dir->File("ckpt");
    ASSERT_LT(prefix.size(), path.size());
    std::copy(prefix.begin(), prefix.end(), path.begin());
  }
  ASSERT_TRUE(c->Broadcast(path.data(), path.size() / 4, comm::DataType::kI32, 0).ok());
  const std::string prefix(path.data());
  Model m;
  EXPECT_EQ(TrainRankWithCheckpoints(*c, data, o, d, prefix, 4, false, &m).code(), StatusCode::kUnavailable);
  ASSERT_TRUE(TrainRankWithCheckpoints(*c, data, o, d, prefix, 0, true, &m).ok());
  ExpectSameOnEveryRank(*c, m.syn0, "syn0");
  if (c->rank() == 0) {
    auto ranks = RunThreadRanks(data, o, c->size(), d);
    ASSERT_TRUE(ranks.ok()) << ranks.status();
    EXPECT_EQ(m.syn0, (*ranks)[0].syn0);
    EXPECT_EQ(m.syn1neg, (*ranks)[0].syn1neg);
  }
  ASSERT_TRUE(c->Barrier().ok());
}

}  // namespace
}  // namespace loom::w2v::dist
