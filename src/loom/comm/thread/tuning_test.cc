// Tuning tables (tuning.h, docs/formats/comm-tuning.md): a loaded table changes what kAuto runs
// (and the collectives still match the reference under it), Split inherits it, files round-trip
// atomically, the environment variable loads one, and every malformed or inconsistent table is
// refused with InvalidArgument naming the file and the field.
#include "loom/comm/tuning.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"
#include "loom/comm/communicator.h"
#include "loom/comm/thread/thread_transport.h"
#include "loom/testing/temp_dir.h"

namespace loom::comm {
namespace {

std::string Table(const std::string& collectives, int ranks = 8, const std::string& head = "") {
  return StrCat("{\"format\": \"loom-comm-tuning\", \"version\": 1, ", head,
                "\"tables\": [{\"ranks\": ", ranks, ", \"collectives\": {", collectives, "}}]}");
}

TEST(Tuning, LoadedTableChangesTheSelectionAndResultsStayRight) {
  // Built-in at 8 ranks: 1 KiB allgather -> recursive doubling, 1 KiB allreduce -> recursive
  // doubling, 1 KiB gather -> binomial. The table says otherwise.
  auto table = TuningTable::Parse(
      Table(R"("allgather": [{"up_to_bytes": 1048576, "algorithm": "bruck"}, {"algorithm": "ring"}],
               "allreduce": [{"algorithm": "ring"}],
               "gather": [{"up_to_bytes": 100, "algorithm": "binomial"}, {"algorithm": "linear"}])"),
      "t.json");
  ASSERT_TRUE(table.ok()) << table.status();
  auto shared = std::make_shared<const TuningTable>(std::move(*table));
  Status s = thread::RunRanks(8, [&](Communicator& c) -> Status {
    const CollectiveOptions autos;
    // Without a table the thread backend takes its shared-memory collectives where it has them
    // (allgather, allreduce), unless LOOM_COMM_SHM=0; gather stays point-to-point.
    const Algorithm shm_or_rd =
        c.transport().shared_memory_available() ? Algorithm::kShm : Algorithm::kRecursiveDoubling;
    if (c.Choose(CollectiveKind::kAllGather, 1024, autos) != shm_or_rd ||
        c.Choose(CollectiveKind::kAllReduce, 1024, autos) != shm_or_rd ||
        c.Choose(CollectiveKind::kGather, 1024, autos) != Algorithm::kBinomial)
      return InternalError("built-in selection changed; update this test");
    c.set_tuning(shared);
    if (c.Choose(CollectiveKind::kAllGather, 1024, autos) != Algorithm::kBruck)
      return InternalError("allgather 1 KiB not bruck under the table");
    if (c.Choose(CollectiveKind::kAllGather, size_t{2} << 20, autos) != Algorithm::kRing)
      return InternalError("allgather 2 MiB not ring under the table");
    if (c.Choose(CollectiveKind::kAllReduce, 1024, autos) != Algorithm::kRing)
      return InternalError("allreduce 1 KiB not ring under the table");
    if (c.Choose(CollectiveKind::kGather, 1024, autos) != Algorithm::kLinear)
      return InternalError("gather 1 KiB not linear under the table");
    // Collectives the table does not name keep the built-in choice; explicit choices win.
    if (c.Choose(CollectiveKind::kBroadcast, 1024, autos) != Algorithm::kBinomial)
      return InternalError("broadcast changed");
    if (c.Choose(CollectiveKind::kAllGather, 1024, {.algorithm = Algorithm::kRing}) != Algorithm::kRing)
      return InternalError("explicit algorithm overridden");
    // The tuned calls still compute the right thing.
    std::vector<int32_t> mine(32, c.rank()), all(32 * 8);
    LOOM_RETURN_IF_ERROR(c.AllGather(mine.data(), all.data(), 32, DataType::kI32));
    for (size_t i = 0; i < all.size(); ++i)
      if (all[i] != static_cast<int32_t>(i / 32)) return InternalError("tuned allgather");
    std::vector<int32_t> sum(5, c.rank() + 1);
    LOOM_RETURN_IF_ERROR(c.AllReduce(sum.data(), sum.data(), 5, DataType::kI32, ReduceOp::kSum));
    if (sum[4] != 36) return InternalError("tuned allreduce");
    // Split inherits the table; at 4 ranks the table has no entry, so the built-in applies.
    LOOM_ASSIGN_OR_RETURN(auto half, c.Split(c.rank() % 2, c.rank()));
    if (half->tuning() != shared.get()) return InternalError("split lost the table");
    if (half->Choose(CollectiveKind::kAllGather, 1024, autos) != shm_or_rd)
      return InternalError("4-rank lookup used the 8-rank table");
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST(Tuning, SetRoundTripsThroughAnAtomicFile) {
  TuningTable t;
  t.backend = "mpi";
  ASSERT_TRUE(t.Set(4, CollectiveKind::kAllReduce,
                    {{4096, Algorithm::kRecursiveDoubling}, {std::nullopt, Algorithm::kRing}}).ok());
  ASSERT_TRUE(t.Set(6, CollectiveKind::kAllGather, {{std::nullopt, Algorithm::kBruck}}).ok());
  EXPECT_FALSE(t.Set(6, CollectiveKind::kAllGather, {{std::nullopt, Algorithm::kRecursiveDoubling}}).ok());
  testing::TempDir dir;
  const std::string path = dir.path() + "/tuning.json";
  ASSERT_TRUE(t.WriteFile(path).ok());
  auto back = TuningTable::ReadFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->backend, "mpi");
  EXPECT_EQ(back->ToJson(), t.ToJson());
  EXPECT_EQ(back->Lookup(CollectiveKind::kAllReduce, 4, 4096), Algorithm::kRecursiveDoubling);
  EXPECT_EQ(back->Lookup(CollectiveKind::kAllReduce, 4, 4097), Algorithm::kRing);
  EXPECT_EQ(back->Lookup(CollectiveKind::kAllReduce, 8, 10), std::nullopt);
  // The environment variable names it; a broken file there is an error, not ignored.
  ::setenv("LOOM_COMM_TUNING", path.c_str(), 1);
  auto env = TuningFromEnvironment();
  ASSERT_TRUE(env.ok()) << env.status();
  ASSERT_NE(*env, nullptr);
  EXPECT_EQ((*env)->Lookup(CollectiveKind::kAllGather, 6, 1), Algorithm::kBruck);
  ASSERT_TRUE(WriteFileAtomically(path, "{").ok());
  auto bad = TuningFromEnvironment();
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("LOOM_COMM_TUNING"), std::string::npos) << bad.status();
  ::unsetenv("LOOM_COMM_TUNING");
  auto none = TuningFromEnvironment();
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
}

TEST(Tuning, BadTablesNameTheFileAndTheField) {
  struct Case {
    std::string text, field;
  };
  const std::string ok_ranges = R"([{"algorithm": "ring"}])";
  const std::vector<Case> cases = {
      {"{", "bad.json"},
      {"[]", "expected an object"},
      {R"({"format": "nccl", "version": 1, "tables": []})", "'format'"},
      {R"({"format": "loom-comm-tuning", "version": 2, "tables": []})", "'version'"},
      {R"({"format": "loom-comm-tuning", "version": 1})", "tables"},
      {Table("", 0), "'tables[0].ranks'"},
      {Table(R"("allsum": )" + ok_ranges), "'tables[0].collectives.allsum'"},
      {Table(R"("allreduce": [{"algorithm": "magic"}])"), "'tables[0].collectives.allreduce[0].algorithm'"},
      {Table(R"("allreduce": [{"algorithm": "auto"}])"), "allreduce[0].algorithm"},
      {Table(R"("allreduce": [])"), "'tables[0].collectives.allreduce'"},
      {Table(R"("allgather": [{"algorithm": "recursive_doubling"}])", 6), "allgather[0].algorithm': recursive_doubling does not implement allgather on 6 ranks"},
      {Table(R"("broadcast": [{"algorithm": "ring"}])"), "broadcast[0]"},
      {Table(R"("allreduce": [{"up_to_bytes": 10, "algorithm": "ring"}])"), "allreduce[0].up_to_bytes': the last range must be open"},
      {Table(R"("allreduce": [{"algorithm": "ring"}, {"algorithm": "ring"}])"), "allreduce[0].up_to_bytes': only the last range"},
      {Table(R"("allreduce": [{"up_to_bytes": 10, "algorithm": "ring"}, {"up_to_bytes": 10, "algorithm": "ring"}, {"algorithm": "ring"}])"), "allreduce[1].up_to_bytes': 10 is not above"},
      {Table(R"("allreduce": [{"up_to_bytes": -1, "algorithm": "ring"}, {"algorithm": "ring"}])"), "allreduce[0].up_to_bytes"},
      {Table(R"("allreduce": [{"up_to_bytes": 1.5, "algorithm": "ring"}, {"algorithm": "ring"}])"), "allreduce[0].up_to_bytes"},
      {Table(R"("allreduce": [7])"), "allreduce[0]"},
      {R"({"format": "loom-comm-tuning", "version": 1, "tables": [{"ranks": 2, "collectives": {"allreduce": [{"algorithm": "ring"}]}}, {"ranks": 2, "collectives": {"allreduce": [{"algorithm": "ring"}]}}]})", "repeats allreduce"},
  };
  for (const Case& c : cases) {
    auto t = TuningTable::Parse(c.text, "bad.json");
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << t.status();
    EXPECT_NE(t.status().message().find("bad.json"), std::string::npos) << t.status();
    EXPECT_NE(t.status().message().find(c.field), std::string::npos)
        << "want '" << c.field << "' in: " << t.status();
  }
  EXPECT_EQ(TuningTable::ReadFile("/nonexistent/tuning.json").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace loom::comm
