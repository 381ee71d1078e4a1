// The interpreter: ring programs give bitwise the hand-written algorithms' results at any slice
// size (one slice, many, a ragged last one); multi-channel and dependency-heavy programs match
// the sequential reference; broken programs are refused by the validator and, unvalidated,
// fail cleanly (Unavailable / InvalidArgument) instead of hanging.
#include "loom/comm/interpreter.h"

#include <gtest/gtest.h>

#include <vector>

#include "loom/base/random.h"
#include "loom/comm/communicator.h"
#include "loom/comm/program/generators.h"
#include "loom/comm/program/xml.h"
#include "loom/comm/thread/thread_transport.h"

namespace loom::comm {
namespace {

using program::Program;

std::vector<float> RandomVector(int rank, size_t n) {
  Prng rng(1000 + static_cast<uint64_t>(rank));
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Normal());
  return v;
}

TEST(Interpreter, RingAllReduceProgramEqualsHandWrittenRingBitwise) {
  for (int p = 1; p <= 8; ++p) {
    Program prog = *program::RingAllReduceProgram(p);
    for (size_t per_chunk : {size_t{1}, size_t{5}, size_t{61}}) {
      const size_t count = per_chunk * static_cast<size_t>(p);
      for (size_t slice_bytes : {size_t{4}, size_t{8}, size_t{12}, size_t{1} << 20}) {
        Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
          std::vector<float> in = RandomVector(c.rank(), count), want(count), got(count, -1.0f);
          LOOM_RETURN_IF_ERROR(c.AllReduce(in.data(), want.data(), count, DataType::kF32,
                                           ReduceOp::kSum, {.algorithm = Algorithm::kRing}));
          ExecuteOptions o;
          o.slice_bytes = slice_bytes;
          LOOM_RETURN_IF_ERROR(Execute(prog, c, in.data(), got.data(), count, DataType::kF32,
                                       ReduceOp::kSum, o));
          if (got != want) return InternalError("program result differs from the ring");
          // In place too.
          LOOM_RETURN_IF_ERROR(Execute(prog, c, in.data(), in.data(), count, DataType::kF32,
                                       ReduceOp::kSum, o));
          return in == want ? OkStatus() : InternalError("in-place program result differs");
        });
        ASSERT_TRUE(s.ok()) << s << " p=" << p << " count=" << count << " slice=" << slice_bytes;
      }
    }
  }
}

TEST(Interpreter, RingAllGatherProgramEqualsHandWrittenRing) {
  for (int p = 1; p <= 8; ++p)
    for (int ch : {1, 3}) {
      Program prog = *program::RingAllGatherProgram(p, ch);
      const size_t count = 7 * static_cast<size_t>(ch);  // per rank
      Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
        std::vector<float> in = RandomVector(c.rank(), count);
        std::vector<float> want(count * static_cast<size_t>(p)), got(want.size(), -1.0f);
        LOOM_RETURN_IF_ERROR(c.AllGather(in.data(), want.data(), count, DataType::kF32));
        ExecuteOptions o;
        o.slice_bytes = 8;  // 2 elements: 4 slices per 7-element chunk, the last ragged
        LOOM_RETURN_IF_ERROR(Execute(prog, c, in.data(), got.data(), count, DataType::kF32,
                                     ReduceOp::kSum, o));
        return got == want ? OkStatus() : InternalError("allgather program differs");
      });
      ASSERT_TRUE(s.ok()) << s << " p=" << p << " ch=" << ch;
    }
}

TEST(Interpreter, MultiChannelRingMatchesReferenceForEveryOp) {
  for (int p : {2, 3, 5}) {
    Program prog = *program::RingAllReduceProgram(p, 2);
    const size_t count = static_cast<size_t>(p) * 2 * 9;
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kAvg}) {
      Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
        std::vector<int32_t> in(count), out(count);
        for (size_t i = 0; i < count; ++i) in[i] = static_cast<int32_t>((i * 7 + static_cast<size_t>(c.rank()) * 3) % 11) - 5;
        ExecuteOptions o;
        o.slice_bytes = 12;
        LOOM_RETURN_IF_ERROR(Execute(prog, c, in.data(), out.data(), count, DataType::kI32, op, o));
        for (size_t i = 0; i < count; ++i) {
          int32_t acc = 0, mn = 1 << 30, mx = -(1 << 30);
          for (int r = 0; r < p; ++r) {
            int32_t v = static_cast<int32_t>((i * 7 + static_cast<size_t>(r) * 3) % 11) - 5;
            acc += v;
            mn = std::min(mn, v);
            mx = std::max(mx, v);
          }
          int32_t want = op == ReduceOp::kSum ? acc : op == ReduceOp::kMax ? mx
                         : op == ReduceOp::kMin ? mn : acc / p;
          if (out[i] != want) return InternalError("element differs from the reference");
        }
        return OkStatus();
      });
      ASSERT_TRUE(s.ok()) << s << " p=" << p << " op=" << ReduceOpName(op);
    }
  }
}

// A reduce-scatter with scratch, three thread blocks, cross-block dependencies and a nop
// chain, in the executor dialect.
constexpr char kDepsProgram[] = R"(<algo name="deps" proto="LL128" nchannels="1" nchunksperloop="2" ngpus="2" coll="reducescatter" inplace="0" outofplace="1" minBytes="0" maxBytes="1048576">
  <gpu id="0" i_chunks="2" o_chunks="1" s_chunks="1">
    <tb id="0" send="1" recv="-1" chan="0">
      <step s="0" type="s" srcbuf="i" srcoff="1" dstbuf="o" dstoff="-1" cnt="1" depid="-1" deps="-1" hasdep="0"/>
    </tb>
    <tb id="1" send="-1" recv="1" chan="0">
      <step s="0" type="r" srcbuf="i" srcoff="-1" dstbuf="s" dstoff="0" cnt="1" depid="-1" deps="-1" hasdep="1"/>
    </tb>
    <tb id="2" send="-1" recv="-1" chan="0">
      <step s="0" type="cpy" srcbuf="i" srcoff="0" dstbuf="o" dstoff="0" cnt="1" depid="-1" deps="-1" hasdep="1"/>
      <step s="1" type="nop" srcbuf="i" srcoff="-1" dstbuf="o" dstoff="-1" cnt="0" depid="1" deps="0" hasdep="0"/>
      <step s="2" type="re" srcbuf="s" srcoff="0" dstbuf="o" dstoff="0" cnt="1" depid="2" deps="0" hasdep="0"/>
    </tb>
  </gpu>
  <gpu id="1" i_chunks="2" o_chunks="1" s_chunks="0">
    <tb id="0" send="0" recv="-1" chan="0">
      <step s="0" type="s" srcbuf="i" srcoff="0" dstbuf="o" dstoff="-1" cnt="1" depid="-1" deps="-1" hasdep="0"/>
    </tb>
    <tb id="1" send="-1" recv="0" chan="0">
      <step s="0" type="rrc" srcbuf="i" srcoff="1" dstbuf="o" dstoff="0" cnt="1" depid="-1" deps="-1" hasdep="0"/>
    </tb>
  </gpu>
</algo>)";

TEST(Interpreter, DependenciesScratchAndNopChainsFromXml) {
  auto parsed = program::ParseMscclXml(kDepsProgram, "deps.xml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  for (size_t slice : {size_t{8}, size_t{1} << 20}) {
    std::vector<TraceEvent> trace0;
    Status s = thread::RunRanks(2, [&](Communicator& c) -> Status {
      const size_t count = 6;  // per rank output
      std::vector<double> in(2 * count), out(count);
      for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<double>(i + 100 * static_cast<size_t>(c.rank()));
      ExecuteOptions o;
      o.slice_bytes = slice;
      if (c.rank() == 0) o.trace = &trace0;
      LOOM_RETURN_IF_ERROR(Execute(parsed->program, c, in.data(), out.data(), count,
                                   DataType::kF64, ReduceOp::kSum, o));
      for (size_t i = 0; i < count; ++i) {
        double want = static_cast<double>(c.rank() * count + i) * 2 + 100;
        if (out[i] != want) return InternalError("reduce-scatter element differs");
      }
      return OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    // Rank 0 runs 4 real steps per iteration; its re waited for the receive of the same slice.
    size_t iterations = slice == 8 ? 6 : 1;
    EXPECT_EQ(trace0.size(), 4 * iterations);
  }
}

TEST(Interpreter, RefusesInvalidProgramsAndFailsCleanlyWithoutValidation) {
  Program prog = *program::RingAllReduceProgram(2);
  for (auto& g : prog.gpus) std::swap(g.tbs[0].steps[0], g.tbs[0].steps[1]);  // both receive first
  auto st = thread::RunRanksEach(2, [&](Communicator& c) -> Status {
    std::vector<float> v(4, 1.0f);
    return Execute(prog, c, v.data(), v.data(), 4, DataType::kF32, ReduceOp::kSum);
  });
  for (const Status& s : st) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
    EXPECT_NE(s.message().find("deadlock"), std::string::npos) << s;
  }
  st = thread::RunRanksEach(2, [&](Communicator& c) -> Status {
    std::vector<float> v(4, 1.0f);
    ExecuteOptions o;
    o.validate = false;
    return Execute(prog, c, v.data(), v.data(), 4, DataType::kF32, ReduceOp::kSum, o);
  }, {.timeout_ms = 200});
  for (const Status& s : st) {
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
    EXPECT_NE(s.message().find("gpu"), std::string::npos) << s;
  }
  // A cnt mismatch, unvalidated: the transport's size check fails both sides.
  Program bad = *program::RingAllReduceProgram(2);
  bad.gpus[0].tbs[0].steps[0].count = 2;
  bad.gpus[0].tbs[0].steps[0].src_offset = 0;
  st = thread::RunRanksEach(2, [&](Communicator& c) -> Status {
    std::vector<float> v(4, 1.0f);
    ExecuteOptions o;
    o.validate = false;
    return Execute(bad, c, v.data(), v.data(), 4, DataType::kF32, ReduceOp::kSum, o);
  }, {.timeout_ms = 2000});
  bool mismatch = false;
  for (const Status& s : st) {
    EXPECT_FALSE(s.ok());
    mismatch = mismatch || s.message().find("size mismatch") != std::string::npos;
  }
  EXPECT_TRUE(mismatch);
}

// The race check's ground truth: randomized schedules. Ring programs (race-free) give the
// reference under every seed; a program the validator calls racy really gives seed-dependent
// results when run unvalidated.
TEST(Interpreter, RandomizedSchedulesAgreeOnRaceFreeProgramsOnly) {
  for (int p : {3, 4}) {
    Program ar = *program::RingAllReduceProgram(p, 2), ag = *program::RingAllGatherProgram(p, 2);
    const size_t count = static_cast<size_t>(p) * 2 * 5;
    for (uint64_t seed = 1; seed <= 6; ++seed) {
      Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
        // Integer-valued floats: sums are exact in any order, so the reference is exact.
        std::vector<float> in(count), want(count), got(count);
        for (size_t i = 0; i < count; ++i) in[i] = static_cast<float>(c.rank() * 7 + static_cast<int>(i % 5));
        LOOM_RETURN_IF_ERROR(c.AllReduce(in.data(), want.data(), count, DataType::kF32,
                                         ReduceOp::kSum, {.algorithm = Algorithm::kRing}));
        ExecuteOptions o;
        o.slice_bytes = 8;
        o.schedule_seed = seed;
        LOOM_RETURN_IF_ERROR(Execute(ar, c, in.data(), got.data(), count, DataType::kF32,
                                     ReduceOp::kSum, o));
        if (got != want) return InternalError("allreduce differs under a random schedule");
        std::vector<float> all(count * static_cast<size_t>(p)), all_got(all.size());
        LOOM_RETURN_IF_ERROR(c.AllGather(in.data(), all.data(), count, DataType::kF32));
        LOOM_RETURN_IF_ERROR(Execute(ag, c, in.data(), all_got.data(), count, DataType::kF32,
                                     ReduceOp::kSum, o));
        return all_got == all ? OkStatus() : InternalError("allgather differs");
      });
      ASSERT_TRUE(s.ok()) << s << " p=" << p << " seed=" << seed;
    }
  }
  // Rank 0 gets a second thread block that writes output chunk 1 (rank 1's block, which the
  // ring's final receive, tb 0 step 3, writes) with its own input, ordered after tb 0 step 2
  // but not after step 3.
  Program racy = *program::RingAllGatherProgram(3);
  program::ThreadBlock extra;
  extra.id = 1;
  program::Step cpy = program::MakeStep(program::OpType::kCopy, program::Buffer::kInput, 0,
                                        program::Buffer::kOutput, 1);
  cpy.deps = {{0, 2}};
  extra.steps.push_back(cpy);
  racy.gpus[0].tbs.push_back(extra);
  program::ComputeHasDep(racy);
  const size_t count = 4;
  Status refused = thread::RunRanks(3, [&](Communicator& c) -> Status {
    std::vector<float> in(count), out(3 * count);
    return Execute(racy, c, in.data(), out.data(), count, DataType::kF32, ReduceOp::kSum);
  });
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument) << refused;
  EXPECT_NE(refused.message().find("race"), std::string::npos) << refused;
  int right = 0, wrong = 0;
  for (uint64_t seed = 1; seed <= 400 && (right == 0 || wrong == 0); ++seed) {
    std::vector<float> rank0(3 * count);
    Status s = thread::RunRanks(3, [&](Communicator& c) -> Status {
      std::vector<float> in(count, static_cast<float>(c.rank() + 1)), out(3 * count, -1.0f);
      ExecuteOptions o;
      o.validate = false;
      o.schedule_seed = seed;
      LOOM_RETURN_IF_ERROR(Execute(racy, c, in.data(), out.data(), count, DataType::kF32,
                                   ReduceOp::kSum, o));
      if (c.rank() == 0) rank0 = out;
      return OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    if (rank0[count] == 2.0f) ++right;  // rank 1's block
    else if (rank0[count] == 1.0f) ++wrong;  // rank 0's own input copied over it
  }
  EXPECT_GT(right, 0);
  EXPECT_GT(wrong, 0) << "the race never showed in 400 random schedules";
}

TEST(Interpreter, ChecksShapesAndPlacement) {
  Program ag = *program::RingAllGatherProgram(2);
  Status s = thread::RunRanks(2, [&](Communicator& c) -> Status {
    std::vector<float> v(8);
    Status a = Execute(ag, c, v.data(), v.data(), 1, DataType::kF32, ReduceOp::kSum);
    if (a.code() != StatusCode::kFailedPrecondition) return InternalError("in place accepted: " + a.ToString());
    Program ar = *program::RingAllReduceProgram(2);
    Status b = Execute(ar, c, v.data(), v.data() + 4, 3, DataType::kF32, ReduceOp::kSum);
    if (b.code() != StatusCode::kInvalidArgument || b.message().find("nchunksperloop") == std::string::npos)
      return InternalError("indivisible count accepted: " + b.ToString());
    Program three = *program::RingAllReduceProgram(3);
    Status d = Execute(three, c, v.data(), v.data() + 4, 3, DataType::kF32, ReduceOp::kSum);
    if (d.code() != StatusCode::kInvalidArgument) return InternalError("rank count mismatch accepted");
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace loom::comm
