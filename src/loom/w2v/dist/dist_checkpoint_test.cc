// Distributed checkpoint and resume on thread ranks: a run interrupted after a round and
// resumed from its checkpoint equals the uninterrupted run bit for bit (one thread per rank);
// the manifest only ever names a complete generation; bad checkpoints are errors.
#include <gtest/gtest.h>

#include "loom/base/file_io.h"
#include "loom/comm/thread/thread_transport.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/dist/dist_checkpoint.h"
#include "loom/w2v/dist/testing/dist_testing.h"

namespace loom::w2v::dist {
namespace {

// P thread ranks of TrainRankWithCheckpoints; rank 0's model.
StatusOr<Model> RunWithCheckpoints(const Data& data, const TrainOptions& o, int p, const DistributedOptions& d,
                                   const std::string& prefix, int64_t stop_after, bool resume) {
  std::vector<Model> models(static_cast<size_t>(p));
  LOOM_RETURN_IF_ERROR(comm::thread::RunRanks(p, [&](comm::Communicator& comm) {
    return TrainRankWithCheckpoints(comm, data, o, d, prefix, stop_after, resume,
                                    &models[static_cast<size_t>(comm.rank())]);
  }));
  return models[0];
}

TEST(DistributedCheckpoint, ResumeEqualsTheUninterruptedRun) {
  Data data;
  for (bool hs : {false, true}) {
    TrainOptions o = SmallOptions(hs);  // 2 epochs, 1 thread per rank
    for (int p : {2, 3}) {
      for (Combiner c : {Combiner::kAdasum, Combiner::kSum, Combiner::kAverage}) {
        SCOPED_TRACE(::testing::Message() << "hs " << hs << " P " << p << " " << CombinerName(c));
        const DistributedOptions d{.combiner = c, .rounds_per_epoch = 3};
        auto whole = RunThreadRanks(data, o, p, d);
        ASSERT_TRUE(whole.ok()) << whole.status();
        loom::testing::TempDir dir;
        const std::string prefix = dir.File("ckpt");
        // Interrupt mid-epoch (round 2 of epoch 2), then resume.
        auto crashed = RunWithCheckpoints(data, o, p, d, prefix, 4, false);
        ASSERT_EQ(crashed.status().code(), StatusCode::kUnavailable);
        EXPECT_FALSE(FileExists(RankCheckpointPath(prefix, 3, 0)));  // older generation deleted
        auto resumed = RunWithCheckpoints(data, o, p, d, prefix, 0, true);
        ASSERT_TRUE(resumed.ok()) << resumed.status();
        EXPECT_EQ(resumed->syn0, (*whole)[0].syn0);
        EXPECT_EQ(resumed->syn1neg, (*whole)[0].syn1neg);
        EXPECT_EQ(resumed->syn1, (*whole)[0].syn1);
      }
    }
  }
}

// Two ranks, two rounds per epoch, crashed after `stop_after` rounds; whether it stopped so.
bool CrashTwoRanks(Combiner c, int64_t stop_after, const std::string& prefix) {
  Data data;
  const DistributedOptions d{.combiner = c, .rounds_per_epoch = 2};
  auto m = RunWithCheckpoints(data, SmallOptions(false), 2, d, prefix, stop_after, false);
  return m.status().code() == StatusCode::kUnavailable;
}

TEST(DistributedCheckpoint, ManifestNamesACompleteGeneration) {
  loom::testing::TempDir dir;
  const std::string prefix = dir.File("ckpt");
  ASSERT_TRUE(CrashTwoRanks(Combiner::kAdasum, 1, prefix));
  // A crash while writing the next generation leaves a partial file; the manifest still
  // names generation 1 and the resume ignores the partial one.
  ASSERT_TRUE(WriteFileAtomically(RankCheckpointPath(prefix, 2, 0), "LOOMW2V1 partial").ok());
  auto c = LoadDistributedCheckpoint(prefix, 0, 2);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rounds_done, 1);
  EXPECT_EQ(c->dist.rounds_per_epoch, 2);
  EXPECT_EQ(c->dist.combiner, Combiner::kAdasum);
  EXPECT_EQ(c->rank.state.epochs_done, 0);
}

TEST(DistributedCheckpoint, BadCheckpointsAreErrors) {
  loom::testing::TempDir dir;
  const std::string prefix = dir.File("ckpt");
  EXPECT_EQ(LoadDistributedCheckpoint(prefix, 0, 2).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(CrashTwoRanks(Combiner::kSum, 3, prefix));
  EXPECT_EQ(LoadDistributedCheckpoint(prefix, 0, 4).status().code(), StatusCode::kFailedPrecondition);
  // A truncated rank file.
  auto full = ReadFileToString(RankCheckpointPath(prefix, 3, 1));
  ASSERT_TRUE(full.ok());
  ASSERT_TRUE(WriteFileAtomically(RankCheckpointPath(prefix, 3, 1), full->substr(0, full->size() / 2)).ok());
  EXPECT_EQ(LoadDistributedCheckpoint(prefix, 1, 2).status().code(), StatusCode::kDataLoss);
  // A manifest that is not one.
  ASSERT_TRUE(WriteFileAtomically(prefix, "{\"format\": \"x\"}").ok());
  EXPECT_EQ(LoadDistributedCheckpoint(prefix, 0, 2).status().code(), StatusCode::kDataLoss);
  ASSERT_TRUE(WriteFileAtomically(prefix, "not json").ok());
  EXPECT_FALSE(LoadDistributedCheckpoint(prefix, 0, 2).ok());
}

}  // namespace
}  // namespace loom::w2v::dist
