// Synthesized programs through comm: comm's validator accepts them in both dialects, comm's
// XML reader reads back exactly what was written, and comm's interpreter executes them on
// thread ranks (many slice iterations, in and out of place) with every output element equal to
// a sequential reference on integer data.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "loom/base/strings.h"
#include "loom/comm/communicator.h"
#include "loom/comm/interpreter.h"
#include "loom/comm/program/validate.h"
#include "loom/comm/program/xml.h"
#include "loom/comm/thread/thread_transport.h"
#include "loom/taccl/comm_bridge.h"
#include "loom/taccl/schedule_milp.h"
#include "loom/taccl/synth_test_util.h"
#include "loom/taccl/synthesizer.h"
#include "loom/taccl/taccl_files.h"

namespace loom::taccl {
namespace {

std::string Data(const std::string& name) { return std::string(LOOM_TACCL_TESTDATA) + "/" + name; }

int32_t In(int rank, size_t x) { return static_cast<int32_t>(rank * 1000 + static_cast<int>(x % 997)); }

// Runs `prog` on N thread ranks and compares with the collective's definition.
Status RunAndCheck(const comm::program::Program& prog, Collective coll, int N, size_t count, size_t slice_bytes,
                   bool in_place, int root = 0) {
  return comm::thread::RunRanks(N, [&](comm::Communicator& c) -> Status {
    const int r = c.rank();
    size_t in_n = count, out_n = count;
    switch (coll) {
      case Collective::kAllGather: out_n = count * N; break;
      case Collective::kReduceScatter: in_n = count * N; break;
      case Collective::kAllToAll: in_n = out_n = count * N; break;
      default: break;
    }
    std::vector<int32_t> in(in_n), out(std::max(in_n, out_n), -7), want(out_n);
    for (size_t x = 0; x < in_n; ++x) in[x] = In(r, x);
    for (size_t x = 0; x < out_n; ++x) {
      switch (coll) {
        case Collective::kAllGather: want[x] = In(static_cast<int>(x / count), x % count); break;
        case Collective::kBroadcast: want[x] = In(root, x); break;
        case Collective::kAllToAll: want[x] = In(static_cast<int>(x / count), r * count + x % count); break;
        case Collective::kReduceScatter: {
          int32_t s = 0;
          for (int q = 0; q < N; ++q) s += In(q, r * count + x);
          want[x] = s;
          break;
        }
        case Collective::kAllReduce: {
          int32_t s = 0;
          for (int q = 0; q < N; ++q) s += In(q, x);
          want[x] = s;
          break;
        }
      }
    }
    comm::ExecuteOptions o;
    o.slice_bytes = slice_bytes;
    const void* src = in.data();
    if (in_place) {
      std::copy(in.begin(), in.end(), out.begin());
      src = out.data();
    }
    LOOM_RETURN_IF_ERROR(comm::Execute(prog, c, src, out.data(), count, comm::DataType::kI32, comm::ReduceOp::kSum, o));
    for (size_t x = 0; x < out_n; ++x)
      if (out[x] != want[x])
        return InternalError(StrCat("rank ", r, " element ", x, ": got ", out[x], ", want ", want[x]));
    return OkStatus();
  });
}

TEST(TacclComm, SynthesizedProgramsValidateRoundTripAndExecuteOnThreadRanks) {
  struct Case { const char* sketch; bool dgx2; };
  for (Case cs : {Case{"sk1-ndv2-n2.json", false}, Case{"sk3-ndv2-n2.json", false}, Case{"sk1-dgx2-n1.json", true},
                  Case{"sk-ndv2-n1-cUp6.json", false}}) {
    auto sk = ReadTacclSketch(Data(cs.sketch));
    ASSERT_TRUE(sk.ok()) << sk.status();
    auto topo = BuildTopology(cs.dgx2 ? Dgx2Profile() : Ndv2Profile(), *sk);
    ASSERT_TRUE(topo.ok()) << topo.status();
    const int N = topo->num_ranks();
    for (Collective coll : {Collective::kAllGather, Collective::kReduceScatter, Collective::kAllReduce,
                            Collective::kAllToAll, Collective::kBroadcast}) {
      std::string what = std::string(cs.sketch) + " " + CollectiveName(coll);
      SynthOptions o;
      o.coll = coll;
      o.bytes = 1 << 20;
      auto res = Synthesize(*topo, *sk, o);
      ASSERT_TRUE(res.ok()) << what << ": " << res.status();
      for (Dialect d : {Dialect::kOriginal, Dialect::kExecutor}) {
        auto xml = EmitXml(res->program, d);
        ASSERT_TRUE(xml.ok()) << what << ": " << xml.status();
        auto parsed = comm::program::ParseMscclXml(*xml, what);
        ASSERT_TRUE(parsed.ok()) << what << ": " << parsed.status();
        auto again = comm::program::WriteMscclXml(parsed->program, parsed->dialect);
        ASSERT_TRUE(again.ok());
        EXPECT_EQ(*again, *xml) << what << ": XML does not round-trip through comm's reader";
      }
      auto prog = ToCommProgram(res->program);
      ASSERT_TRUE(prog.ok()) << prog.status();
      const int k = res->algo.chunkup;
      // count: elements per rank block; chunk = count / k elements. Slices of 8 bytes give
      // several iterations per chunk, with a ragged last one when count / k is odd.
      size_t count = static_cast<size_t>(k) * 5;
      if (coll == Collective::kBroadcast || coll == Collective::kAllReduce) count = static_cast<size_t>(prog->chunks_per_loop) * 3;
      for (bool in_place : {false, true}) {
        if (in_place && coll != Collective::kAllReduce && coll != Collective::kBroadcast) continue;
        Status s = RunAndCheck(*prog, coll, N, count, 8, in_place);
        EXPECT_TRUE(s.ok()) << what << (in_place ? " in place" : "") << ": " << s;
      }
    }
  }
}

// A schedule MILP result (tiny 4-GPU line, AllGather, chunkup 2, pairs merged on every link)
// lowered, through comm's validator in both dialects, and executed on thread ranks.
TEST(TacclComm, ScheduleMilpProgramValidatesAndExecutes) {
  const Topology t = test_util::TinyLine(4);
  const double cb = 65536;
  ScheduleMilpOptions mo;
  mo.order.chunk_bytes = cb;
  auto r = SolveScheduleMilp(t, MergeContiguous(t, test_util::AllGatherEdges(t, 2, cb), 2, 0, true), mo);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->solved) << r->skipped_why;
  Algorithm a;
  a.name = "milp-order";
  a.nranks = 4;
  a.chunkup = 2;
  a.chunk_bytes = cb;
  a.transfers = r->transfers;
  ASSERT_TRUE(CheckAlgorithm(a, t).ok());
  for (bool split : {false, true}) {
    auto p = Lower(a, t, split);
    ASSERT_TRUE(p.ok()) << p.status();
    for (Dialect d : {Dialect::kOriginal, Dialect::kExecutor}) {
      auto xml = EmitXml(*p, d);
      EXPECT_TRUE(xml.ok()) << xml.status();
    }
    auto prog = ToCommProgram(*p);
    ASSERT_TRUE(prog.ok()) << prog.status();
    Status s = RunAndCheck(*prog, Collective::kAllGather, 4, 10, 8, false);
    EXPECT_TRUE(s.ok()) << s;
  }
}

TEST(TacclComm, CorruptedProgramIsCaughtByTheCheck) {
  auto sk = ReadTacclSketch(Data("sk1-ndv2-n1.json"));
  ASSERT_TRUE(sk.ok());
  auto topo = BuildTopology(Ndv2Profile(), *sk);
  ASSERT_TRUE(topo.ok());
  SynthOptions o;
  auto res = Synthesize(*topo, *sk, o);
  ASSERT_TRUE(res.ok());
  auto prog = ToCommProgram(res->program);
  ASSERT_TRUE(prog.ok());
  ASSERT_TRUE(RunAndCheck(*prog, Collective::kAllGather, 8, 5, 8, false).ok());
  // Redirect one receive to another (valid) output chunk: the program still validates and
  // runs, but a destination element is wrong, and the check must say so.
  bool changed = false;
  for (auto& tb : prog->gpus[3].tbs)
    for (auto& st : tb.steps)
      if (!changed && st.op == comm::program::OpType::kRecv) {
        st.dst_offset = (st.dst_offset + 1) % prog->gpus[3].output_chunks;
        changed = true;
      }
  ASSERT_TRUE(changed);
  EXPECT_FALSE(RunAndCheck(*prog, Collective::kAllGather, 8, 5, 8, false).ok());
}

// Emits `res` in both dialects through comm's validator (schedule and provenance checks on),
// reads the executor XML back with comm's reader and returns that program, so what runs is
// what the file says.
StatusOr<comm::program::Program> EmitValidateAndReadBack(const SynthResult& res, const std::string& what) {
  std::string last;
  for (Dialect d : {Dialect::kOriginal, Dialect::kExecutor}) {
    LOOM_ASSIGN_OR_RETURN(last, EmitXml(res.program, d));
  }
  LOOM_ASSIGN_OR_RETURN(auto parsed, comm::program::ParseMscclXml(last, what));
  comm::program::ValidateOptions vo;
  vo.dialect = parsed.dialect;
  vo.check_schedule = true;
  vo.check_postcondition = true;
  LOOM_RETURN_IF_ERROR(comm::program::ValidateProgram(parsed.program, vo));
  return parsed.program;
}

TEST(TacclComm, BroadcastFromANonZeroRootIsEmittedAndRunsFromThatRoot) {
  auto sk = ReadTacclSketch(Data("sk1-ndv2-n2.json"));
  ASSERT_TRUE(sk.ok()) << sk.status();
  auto topo = BuildTopology(Ndv2Profile(), *sk);
  ASSERT_TRUE(topo.ok()) << topo.status();
  for (int root : {3, 9, 15}) {  // same node as rank 0's, the other node, the last rank
    std::string what = StrCat("broadcast root ", root);
    SynthOptions o;
    o.coll = Collective::kBroadcast;
    o.root = root;
    o.bytes = 1 << 20;
    auto res = Synthesize(*topo, *sk, o);
    ASSERT_TRUE(res.ok()) << what << ": " << res.status();
    EXPECT_EQ(res->algo.root, root);
    auto prog = EmitValidateAndReadBack(*res, what);
    ASSERT_TRUE(prog.ok()) << what << ": " << prog.status();
    // Only the root reads its input: every other rank's input is never touched.
    for (const auto& gpu : prog->gpus)
      for (const auto& tb : gpu.tbs)
        for (const auto& st : tb.steps)
          if (comm::program::TraitsOf(st.op).reads_src && st.src_buffer == comm::program::Buffer::kInput) {
            EXPECT_EQ(gpu.rank, root) << what << ": rank " << gpu.rank << " reads its input";
          }
    size_t count = static_cast<size_t>(prog->chunks_per_loop) * 3;
    for (bool in_place : {false, true}) {
      Status s = RunAndCheck(*prog, Collective::kBroadcast, topo->num_ranks(), count, 8, in_place, root);
      EXPECT_TRUE(s.ok()) << what << (in_place ? " in place" : "") << ": " << s;
    }
  }
}

TEST(TacclComm, ReductionsHonourTheSendersReverseMap) {
  // DGX-2 sk1: odd GPU 2k+1 relays to remote GPU 2k, and only the chunks of GPUs 2k, 2k+1.
  auto sk = ReadTacclSketch(Data("sk1-dgx2-n2.json"));
  ASSERT_TRUE(sk.ok()) << sk.status();
  ASSERT_FALSE(sk->sender_rev_map.empty());
  auto topo = BuildTopology(Dgx2Profile(), *sk);
  ASSERT_TRUE(topo.ok()) << topo.status();
  const int N = topo->num_ranks(), G = topo->gpus_per_node;
  for (Collective coll : {Collective::kReduceScatter, Collective::kAllReduce}) {
    std::string what = StrCat("sk1-dgx2-n2 ", CollectiveName(coll));
    SynthOptions o;
    o.coll = coll;
    o.bytes = 1 << 20;
    // The map, not the search, is under test: the sketch's chunk count, greedy routing and one
    // relay-tree depth (every routing applies the map when it picks the relay for a chunk).
    o.chunkup_search = {1};
    o.use_milp = false;
    o.relay_depths = {2};
    auto res = Synthesize(*topo, *sk, o);
    ASSERT_TRUE(res.ok()) << what << ": " << res.status();
    const int k = res->algo.chunkup;
    int network = 0;
    for (const Transfer& tr : res->algo.transfers) {
      if (topo->links[tr.link].kind != LinkKind::kNetwork) continue;
      ++network;
      // The chunk's owner (where its sum ends up) is a GPU the sender's map lists, on the node
      // the partial sum goes to (reducing) or comes from (the AllGather phase).
      int owner = tr.chunk / k, x = tr.src % G;
      const auto& allowed = sk->sender_rev_map.at(x);
      EXPECT_NE(std::find(allowed.begin(), allowed.end(), owner % G), allowed.end())
          << what << ": GPU " << tr.src << " carries chunk " << tr.chunk << " of GPU " << owner;
      EXPECT_EQ(owner / G, (tr.reduce ? tr.dst : tr.src) / G) << what << ": chunk " << tr.chunk;
    }
    EXPECT_GT(network, 0) << what;
    auto prog = EmitValidateAndReadBack(*res, what);
    ASSERT_TRUE(prog.ok()) << what << ": " << prog.status();
    size_t count = static_cast<size_t>(k) * 3;
    if (coll == Collective::kAllReduce) count = static_cast<size_t>(prog->chunks_per_loop) * 2;
    Status s = RunAndCheck(*prog, coll, N, count, 8, false);
    EXPECT_TRUE(s.ok()) << what << ": " << s;
  }
}

TEST(TacclComm, AlltoallNetworkGroupsAreStagedThroughScratchAndStayCorrect) {
  // At 1 KiB the network alpha dominates, so the winner sends each contiguity group over IB as
  // one message: its chunks are staged through consecutive scratch slots (cpy into scratch on
  // the sender, out of it on the receiver). Check that this path is taken and that the result
  // is still every source's block, on comm's thread ranks, through comm's validator.
  auto sk = ReadTacclSketch(Data("sk1-ndv2-n2.json"));
  ASSERT_TRUE(sk.ok()) << sk.status();
  auto topo = BuildTopology(Ndv2Profile(), *sk);
  ASSERT_TRUE(topo.ok()) << topo.status();
  SynthOptions o;
  o.coll = Collective::kAllToAll;
  o.bytes = 1024;
  auto res = Synthesize(*topo, *sk, o);
  ASSERT_TRUE(res.ok()) << res.status();
  int grouped = 0, staged = 0;
  for (int g = 0; g < topo->num_ranks(); ++g)
    for (const ThreadBlock& tb : res->program.gpus[g].tbs)
      for (const Step& st : tb.steps) {
        if (st.type == StepType::kSend && st.cnt > 1 && topo->NodeOf(tb.send) != topo->NodeOf(g)) ++grouped;
        if (st.type == StepType::kCopy && (st.srcbuf == 's' || st.dstbuf == 's')) ++staged;
      }
  EXPECT_GT(grouped, 0) << res->method;
  EXPECT_GT(staged, 0) << res->method;
  ASSERT_TRUE(EmitXml(res->program, Dialect::kExecutor).ok());
  auto prog = ToCommProgram(res->program);
  ASSERT_TRUE(prog.ok()) << prog.status();
  Status s = RunAndCheck(*prog, Collective::kAllToAll, topo->num_ranks(), 7, 8, false);
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace loom::taccl
