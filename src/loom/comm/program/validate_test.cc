// The validator: generated programs are valid; each broken rule is reported with the offending
// gpu/tb/step; dialect-specific rules apply only to their dialect.
#include "loom/comm/program/validate.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "loom/base/random.h"
#include "loom/comm/program/generators.h"
#include "loom/comm/program/internal/races.h"

namespace loom::comm::program {
namespace {

TEST(Validate, GeneratedRingsAreValidUnderEveryRuleSet) {
  for (int p = 1; p <= 9; ++p) {
    for (int ch : {1, 3}) {
      for (auto gen : {RingAllReduceProgram, RingAllGatherProgram}) {
        Program prog = *gen(p, ch);
        for (auto d : {std::optional<Dialect>(), std::optional<Dialect>(Dialect::kMsccl),
                       std::optional<Dialect>(Dialect::kExecutor)}) {
          ValidateOptions o;
          o.dialect = d;
          EXPECT_TRUE(ValidateProgram(prog, o).ok())
              << prog.name << ": " << ValidateProgram(prog, o);
        }
      }
    }
  }
}

struct Case {
  const char* what;
  std::function<void(Program&)> mutate;
  const char* expect;
  std::optional<Dialect> dialect = std::nullopt;
};

TEST(Validate, EachRuleNamesTheOffender) {
  const Case kCases[] = {
      {"long name", [](Program& p) { p.name = std::string(64, 'x'); }, "name is 64 characters"},
      {"ngpus", [](Program& p) { p.num_ranks = 4; }, "ngpus=4 but the program has 3"},
      {"nchannels", [](Program& p) { p.num_channels = 0; }, "nchannels=0"},
      {"nchunksperloop", [](Program& p) { p.chunks_per_loop = 0; }, "nchunksperloop=0"},
      {"nthreads", [](Program& p) { p.num_threads = 100; }, "nthreads=100"},
      {"byte range", [](Program& p) { p.min_bytes = 10; p.max_bytes = 5; }, "minBytes=10 maxBytes=5"},
      {"neither place", [](Program& p) { p.in_place = false; p.out_of_place = false; }, "inplace=0 and outofplace=0"},
      {"executor byte range", [](Program& p) { p.max_bytes.reset(); }, "requires 'maxBytes'", Dialect::kExecutor},
      {"executor outofplace", [](Program& p) { p.out_of_place.reset(); }, "requires 'outofplace'", Dialect::kExecutor},
      {"custom on executor", [](Program& p) { p.collective = Collective::kCustom; }, "custom is not supported", Dialect::kExecutor},
      {"alltoallv on legacy", [](Program& p) { p.collective = Collective::kAllToAllV; }, "exists only in msccl-executor", Dialect::kMsccl},
      {"gpu order", [](Program& p) { std::swap(p.gpus[0], p.gpus[1]); }, "must appear in id order"},
      {"i_chunks", [](Program& p) { p.gpus[1].input_chunks = 2; }, "gpu 1: i_chunks=2 must equal nchunksperloop=3"},
      {"s_chunks", [](Program& p) { p.gpus[1].scratch_chunks = -1; }, "gpu 1: s_chunks=-1"},
      {"huge s_chunks", [](Program& p) { p.gpus[1].scratch_chunks = 1 << 20; }, "gpu 1: s_chunks=1048576 outside"},
      {"tb ids", [](Program& p) { p.gpus[2].tbs[0].id = 1; }, "gpu 2 tb 1: thread block ids"},
      {"self peer", [](Program& p) { p.gpus[1].tbs[0].send_peer = 1; }, "gpu 1 tb 0: send peer is the gpu itself"},
      {"peer range", [](Program& p) { p.gpus[1].tbs[0].recv_peer = 3; }, "gpu 1 tb 0: recv=3 is not -1 or a rank"},
      {"chan range", [](Program& p) { p.gpus[0].tbs[0].channel = 32; }, "gpu 0 tb 0: chan=32 outside"},
      {"chan vs nchannels", [](Program& p) { p.gpus[0].tbs[0].channel = 1; }, "gpu 0 tb 0: chan=1 but nchannels=1"},
      {"shared connection", [](Program& p) { p.gpus[0].tbs.push_back(p.gpus[0].tbs[0]); p.gpus[0].tbs[1].id = 1; }, "gpu 0 tb 1: a second thread block sending to gpu 1"},
      {"ra", [](Program& p) { p.gpus[0].tbs[0].steps[1].op = OpType::kResidualAdd; }, "gpu 0 tb 0 step 1: 'ra'"},
      {"cnt 0", [](Program& p) { p.gpus[0].tbs[0].steps[1].count = 0; }, "gpu 0 tb 0 step 1: cnt=0 outside [1, 72)"},
      {"cnt 72", [](Program& p) { p.gpus[0].tbs[0].steps[1].count = 72; }, "cnt=72"},
      {"send without peer", [](Program& p) { p.gpus[2].tbs[0].send_peer = -1; }, "gpu 2 tb 0 step 0: 's' sends but the thread block has no send peer"},
      {"recv without peer", [](Program& p) { p.gpus[2].tbs[0].recv_peer = -1; }, "gpu 2 tb 0 step 1: 'rrs' receives but the thread block has no recv peer"},
      {"src offset", [](Program& p) { p.gpus[0].tbs[0].steps[0].src_offset = 3; }, "gpu 0 tb 0 step 0: src i[3 .. 3] outside the 3 chunks of i"},
      {"dst offset -1", [](Program& p) { p.gpus[0].tbs[0].steps[2].dst_offset = -1; }, "gpu 0 tb 0 step 2: dst o[-1"},
      {"count overruns", [](Program& p) { p.gpus[0].tbs[0].steps[3].dst_offset = 2; p.gpus[0].tbs[0].steps[3].count = 2; }, "gpu 0 tb 0 step 3: dst o[2 .. 3] outside"},
      {"dep on missing tb", [](Program& p) { p.gpus[0].tbs[0].steps[1].deps = {{5, 0}}; }, "gpu 0 tb 0 step 1: depends on tb 5"},
      {"dep on later own step", [](Program& p) { p.gpus[0].tbs[0].steps[1].deps = {{0, 3}}; }, "depends on its own thread block's step 3"},
      {"nop without dep", [](Program& p) { Step s; s.op = OpType::kNop; s.count = 0; p.gpus[0].tbs[0].steps.push_back(s); }, "a nop step must carry a dependency"},
      {"nop mid tb", [](Program& p) { Step s; s.op = OpType::kNop; s.count = 0; s.deps = {{0, 0}}; auto& v = p.gpus[0].tbs[0].steps; v.insert(v.begin() + 1, s); }, "a nop step may only end"},
      {"cnt mismatch", [](Program& p) { p.gpus[0].tbs[0].steps[0].count = 2; p.gpus[0].tbs[0].steps[0].src_offset = 0; }, "connection gpu 0 -> gpu 1 channel 0: message 0 is sent with cnt=2 by gpu 0 tb 0 step 0 but received with cnt=1 by gpu 1 tb 0 step 1"},
      {"message count", [](Program& p) { p.gpus[0].tbs[0].steps.pop_back(); }, "gpu 2 tb 0 sends 4 messages but gpu 0 tb 0 receives 3"},
      {"no receiver", [](Program& p) { p.gpus[1].tbs[0].recv_peer = 2; }, "gpu 0 tb 0: sends to gpu 1 on channel 0, but gpu 1 has no thread block receiving from gpu 0"},
  };
  for (const Case& c : kCases) {
    Program p = *RingAllReduceProgram(3);
    c.mutate(p);
    ValidateOptions o;
    o.dialect = c.dialect;
    std::vector<Status> problems = FindProblems(p, o);
    ASSERT_FALSE(problems.empty()) << c.what << " was accepted";
    bool found = false;
    std::string all;
    for (const Status& s : problems) {
      all += s.message() + "\n";
      if (s.message().find(c.expect) != std::string::npos) found = true;
    }
    EXPECT_TRUE(found) << c.what << ": expected '" << c.expect << "' among:\n" << all;
    if (c.dialect) {
      // The rule belongs to that dialect only.
      ValidateOptions other;
      other.dialect = *c.dialect == Dialect::kMsccl ? Dialect::kExecutor : Dialect::kMsccl;
      for (const Status& s : FindProblems(p, other))
        EXPECT_EQ(s.message().find(c.expect), std::string::npos) << c.what;
    }
  }
}

// Two ranks that both receive before they send wait for each other forever.
TEST(Validate, DeadlockIsReportedWithTheWaitingSteps) {
  Program p = *RingAllReduceProgram(2);
  for (GpuProgram& g : p.gpus) std::swap(g.tbs[0].steps[0], g.tbs[0].steps[1]);
  ValidateOptions o;
  auto problems = FindProblems(p, o);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].message().find("gpu 0 tb 0 step 0: deadlock: 'rrcs' waits for a message from gpu 1"),
            std::string::npos)
      << problems[0];
}

// A dependency cycle across thread blocks of one rank is a deadlock too.
TEST(Validate, DependencyCycleIsADeadlock) {
  Program p = *RingAllGatherProgram(1, 2);
  auto& g = p.gpus[0];
  g.tbs[0].steps[0].deps = {{1, 0}};
  g.tbs[1].steps[0].deps = {{0, 0}};
  ComputeHasDep(p);
  Status s = ValidateProgram(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("deadlock"), std::string::npos) << s;
  EXPECT_NE(s.message().find("(and 1 more)"), std::string::npos) << s;
}

// Flow control: a sender that must push three messages before its peer receives any deadlocks
// with two credits and runs with three.
TEST(Validate, BoundedCreditsDetectUnboundedBuffering) {
  Program p;
  p.collective = Collective::kAllReduce;
  p.num_ranks = 2;
  p.chunks_per_loop = 3;
  p.in_place = true;
  for (int r = 0; r < 2; ++r) {
    GpuProgram g;
    g.rank = r;
    g.input_chunks = g.output_chunks = 3;
    ThreadBlock tb;
    tb.send_peer = tb.recv_peer = 1 - r;
    for (int k = 0; k < 3; ++k) {
      Step s;
      s.op = OpType::kSend;
      s.src_buffer = Buffer::kInput;
      s.src_offset = k;
      tb.steps.push_back(s);
    }
    for (int k = 0; k < 3; ++k) {
      Step s;
      s.op = OpType::kRecvReduceCopy;
      s.src_buffer = Buffer::kInput;
      s.src_offset = k;
      s.dst_buffer = Buffer::kOutput;
      s.dst_offset = k;
      tb.steps.push_back(s);
    }
    g.tbs.push_back(tb);
    p.gpus.push_back(g);
  }
  ValidateOptions o;
  o.credits = 2;
  Status s = ValidateProgram(p, o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("step 2: deadlock: 's' waits for gpu"), std::string::npos) << s;
  o.credits = 3;
  EXPECT_TRUE(ValidateProgram(p, o).ok()) << ValidateProgram(p, o);
}

TEST(Validate, HasDepMustBeSetOnProducers) {
  Program p = *RingAllGatherProgram(1, 2);
  p.gpus[0].tbs[1].steps[0].deps = {{0, 0}};
  Status s = ValidateProgram(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("gpu 0 tb 1 step 0: depends on gpu 0 tb 0 step 0, which has hasdep=0"),
            std::string::npos)
      << s;
  ComputeHasDep(p);
  EXPECT_TRUE(ValidateProgram(p).ok()) << ValidateProgram(p);
}

// A chain broadcast from `root` (root, root+1, ... mod p), two chunks per message, out of place.
Program ChainBroadcast(int p, int root) {
  Program prog;
  prog.name = "chain_broadcast";
  prog.collective = Collective::kBroadcast;
  prog.num_ranks = p;
  prog.num_channels = 1;
  prog.chunks_per_loop = 2;
  prog.in_place = false;
  prog.out_of_place = true;
  prog.min_bytes = 0;
  prog.max_bytes = int64_t{1} << 40;
  for (int r = 0; r < p; ++r) {
    const int pos = (r - root + p) % p;  // place in the chain
    GpuProgram g;
    g.rank = r;
    g.input_chunks = 2;
    g.output_chunks = 2;
    ThreadBlock tb;
    if (pos + 1 < p) tb.send_peer = (r + 1) % p;
    if (pos > 0) tb.recv_peer = (r - 1 + p) % p;
    auto step = [](OpType op, int src, int dst) {
      return MakeStep(op, Buffer::kInput, src, Buffer::kOutput, dst, 2);
    };
    if (pos == 0) {
      tb.steps.push_back(step(OpType::kCopy, 0, 0));
      if (p > 1) tb.steps.push_back(step(OpType::kSend, 0, -1));
    } else {
      tb.steps.push_back(step(pos + 1 < p ? OpType::kRecvCopySend : OpType::kRecv, -1, 0));
    }
    g.tbs.push_back(tb);
    prog.gpus.push_back(g);
  }
  return prog;
}

TEST(Provenance, BroadcastFromAnyRootSatisfiesItsPostcondition) {
  for (int p = 1; p <= 5; ++p)
    for (int root = 0; root < p; ++root) {
      std::vector<Status> problems = FindProblems(ChainBroadcast(p, root));
      EXPECT_TRUE(problems.empty()) << p << " root " << root << ": " << problems[0];
    }
}

TEST(Provenance, BroadcastThatMixesInAnotherInputIsCaught) {
  // Root 0; rank 2 adds its own input while forwarding: ranks 2 and 3 end with r0 + r2.
  Program p = ChainBroadcast(4, 0);
  Step& st = p.gpus[2].tbs[0].steps[0];
  st.op = OpType::kRecvReduceCopySend;
  st.src_offset = 0;
  Status s = ValidateProgram(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("gpu 2: output chunk 0 ends as r0.i0 r2.i0 but broadcast needs r0.i0"),
            std::string::npos) << s;
  // Root 1: rank 0 is last in the chain, so no single root explains its output.
  Program q = ChainBroadcast(4, 1);
  Step& qt = q.gpus[2].tbs[0].steps[0];
  qt.op = OpType::kRecvReduceCopySend;
  qt.src_offset = 0;
  s = ValidateProgram(q);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("gpu 0: output chunk 0 ends as r1.i0 r2.i0 but broadcast needs one "
                             "rank's (the root's) input chunk 0 alone"), std::string::npos) << s;
}

TEST(Provenance, BroadcastThatMissesARankIsCaught) {
  // Root 0, p = 3: rank 2 receives into scratch instead of its output.
  Program p = ChainBroadcast(3, 0);
  p.gpus[2].scratch_chunks = 2;
  p.gpus[2].tbs[0].steps[0].dst_buffer = Buffer::kScratch;
  Status s = ValidateProgram(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("gpu 2: output chunk 0 ends as nothing but broadcast needs r0.i0"),
            std::string::npos) << s;
}

// Ring allgather on 3 ranks plus, on rank 0, a thread block that copies output chunk 1 (which
// the ring's last receive, tb 0 step 3, writes) into scratch after `dep_step` of tb 0.
Program RingWithExtraReader(int dep_step) {
  Program p = *RingAllGatherProgram(3);
  GpuProgram& g = p.gpus[0];
  g.scratch_chunks = 1;
  ThreadBlock extra;
  extra.id = 1;
  Step cpy = MakeStep(OpType::kCopy, Buffer::kOutput, 1, Buffer::kScratch, 0);
  cpy.deps = {{0, dep_step}};
  extra.steps.push_back(cpy);
  g.tbs.push_back(extra);
  ComputeHasDep(p);
  return p;
}

TEST(Races, UnorderedReadOfAWrittenChunkIsARace) {
  Program p = RingWithExtraReader(2);  // after the rcs, but not after the final receive
  std::vector<Status> problems = FindProblems(p);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message().find("gpu 0 tb 0 step 3 writes o[1] and gpu 0 tb 1 step 0 "
                                       "reads it with no dependency or message chain"),
            std::string::npos) << problems[0];
  // Ordered after the final receive: no race, and the allgather is still correct.
  EXPECT_TRUE(FindProblems(RingWithExtraReader(3)).empty());
  // Turned off, the check reports nothing (the other checks see one valid order only).
  ValidateOptions o;
  o.check_races = false;
  EXPECT_TRUE(ValidateProgram(p, o).ok());
}

// Ring allgather on `ranks` ranks plus a second thread block on rank 1 that copies i[0] into
// o[0] with no dependency. Rank 1's ring receive (tb 0 step 2) also writes o[0]: a race.
Program RingWithRacingCopy(int ranks) {
  Program p = *RingAllGatherProgram(ranks);
  ThreadBlock extra;
  extra.id = 1;
  extra.steps.push_back(MakeStep(OpType::kCopy, Buffer::kInput, 0, Buffer::kOutput, 0));
  p.gpus[1].tbs.push_back(extra);
  return p;
}

constexpr char kRacingCopy[] = "gpu 1 tb 0 step 2 writes o[0] and gpu 1 tb 1 step 0 writes it";

TEST(Races, SecondWriterWithoutDependencyIsARace) {
  // (Plain ring programs pass: Validate.* above.)
  std::vector<Status> problems = FindProblems(RingWithRacingCopy(2));
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].message().find(kRacingCopy), std::string::npos) << problems[0];
}

// A racy ring allgather on `ranks` ranks with more than `min_steps` steps: the race is found and
// named (both steps), and without the racing copy the program passes every check.
void ExpectRaceFoundAtScale(int ranks, size_t min_steps) {
  Program p = RingWithRacingCopy(ranks);
  size_t steps = 0;
  for (const GpuProgram& g : p.gpus)
    for (const ThreadBlock& tb : g.tbs) steps += tb.steps.size();
  ASSERT_GT(steps, min_steps);
  std::string all;
  for (const Status& s : FindProblems(p)) all += s.message() + "\n";
  EXPECT_NE(all.find(kRacingCopy), std::string::npos) << all;
  EXPECT_FALSE(ValidateProgram(p).ok());
  p.gpus[1].tbs.pop_back();
  EXPECT_TRUE(FindProblems(p).empty());
}

// Past the old 16384-step limit (128 ranks: 16512 ring steps plus the copy).
TEST(Races, ProgramsOverSixteenThousandStepsAreChecked) { ExpectRaceFoundAtScale(128, 16384); }

// Past the 32768-step limit of the pairwise reachability check (200 ranks: 40200 ring steps plus
// the copy; the vector clocks take 40k × 201 counters).
TEST(Races, ProgramsOverThirtyTwoThousandStepsAreChecked) { ExpectRaceFoundAtScale(200, 32768); }

// The fast check (vector clocks, one sweep per chunk) against the slow reference (transitive
// closure, every pair): on ring programs with extra copy thread blocks at random places and
// random dependencies, both find the same racing chunks, and every pair the fast check names is
// a pair the reference names.
TEST(Races, FastCheckFindsTheRacingChunksOfTheReference) {
  Prng rng(71);
  auto chunk_of = [](const std::string& m) {  // "gpu R ... writes|reads B[C] and ..."
    size_t w = m.find(" writes "), r = m.find(" reads ");
    size_t at = std::min(w, r) + (w < r ? 8 : 7);
    return m.substr(0, m.find(' ', 4)) + " " + m.substr(at, m.find(' ', at) - at);
  };
  int racy = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int ranks = 2 + static_cast<int>(rng.Uniform(4));
    Program p = trial % 2 ? *RingAllReduceProgram(ranks, 1 + trial % 3 / 2)
                          : *RingAllGatherProgram(ranks, 1 + trial % 3 / 2);
    for (int extra = 0, n = 1 + static_cast<int>(rng.Uniform(3)); extra < n; ++extra) {
      GpuProgram& g = p.gpus[rng.Uniform(static_cast<uint64_t>(ranks))];
      g.scratch_chunks = std::max(g.scratch_chunks, 2);
      ThreadBlock tb;
      tb.id = static_cast<int>(g.tbs.size());
      for (int k = 0, steps = 1 + static_cast<int>(rng.Uniform(3)); k < steps; ++k) {
        Buffer src = rng.Uniform(2) ? Buffer::kInput : Buffer::kOutput;
        Buffer dst = rng.Uniform(2) ? Buffer::kOutput : Buffer::kScratch;
        Step st = MakeStep(OpType::kCopy, src, static_cast<int>(rng.Uniform(static_cast<uint64_t>(g.ChunksIn(src)))),
                           dst, static_cast<int>(rng.Uniform(static_cast<uint64_t>(g.ChunksIn(dst)))));
        const ThreadBlock& base = g.tbs[0];
        if (rng.Uniform(3) != 0)
          st.deps = {{0, static_cast<int>(rng.Uniform(static_cast<uint64_t>(base.steps.size())))}};
        tb.steps.push_back(st);
      }
      g.tbs.push_back(tb);
    }
    ComputeHasDep(p);
    std::vector<Status> fast, slow;
    internal::CheckRaces(p, fast, 1 << 20);
    internal::CheckRacesReference(p, slow, 1 << 20);
    std::set<std::string> fast_chunks, slow_chunks, slow_pairs;
    for (const Status& s : slow) {
      slow_chunks.insert(chunk_of(std::string(s.message())));
      slow_pairs.insert(std::string(s.message()));
    }
    for (const Status& s : fast) {
      fast_chunks.insert(chunk_of(std::string(s.message())));
      EXPECT_TRUE(slow_pairs.count(std::string(s.message()))) << "trial " << trial << ": " << s;
    }
    EXPECT_EQ(fast_chunks, slow_chunks) << "trial " << trial;
    racy += !slow.empty();
  }
  EXPECT_GT(racy, 10);   // the mutations do make races
  EXPECT_LT(racy, 55);   // and sometimes not
}

}  // namespace
}  // namespace loom::comm::program

namespace loom::comm::program {
namespace {

TEST(Provenance, RingProgramsSatisfyTheirPostconditions) {
  for (int p = 1; p <= 8; ++p)
    for (int ch : {1, 2}) {
      EXPECT_TRUE(FindProblems(*RingAllReduceProgram(p, ch)).empty()) << p;
      EXPECT_TRUE(FindProblems(*RingAllGatherProgram(p, ch)).empty()) << p;
    }
}

TEST(Provenance, ForgottenReductionIsCaught) {
  Program p = *RingAllReduceProgram(4);
  // Rank 2 forwards instead of adding its contribution: chunk 1 misses rank 2's input.
  Step& st = p.gpus[2].tbs[0].steps[1];
  ASSERT_EQ(st.op, OpType::kRecvReduceSend);
  st.op = OpType::kRecvCopySend;
  st.dst_buffer = Buffer::kScratch;
  st.dst_offset = 0;
  p.gpus[2].scratch_chunks = 1;
  Status s = ValidateProgram(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("output chunk 0 ends as"), std::string::npos) << s;
  EXPECT_NE(s.message().find("but allreduce needs"), std::string::npos) << s;
}

TEST(Provenance, DoubleCountingIsCaught) {
  Program p = *RingAllReduceProgram(2);
  // Rank 0 adds its own input a second time with a local re after its final receive.
  Step re;
  re.op = OpType::kReduce;
  re.src_buffer = Buffer::kInput;
  re.src_offset = 0;
  re.dst_buffer = Buffer::kOutput;
  re.dst_offset = 0;
  p.gpus[0].tbs[0].steps.push_back(re);
  Status s = ValidateProgram(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("gpu 0 tb 0 step 3: reduces a contribution twice"), std::string::npos) << s;
}

TEST(Provenance, ReadingUnwrittenScratchIsCaught) {
  Program p = *RingAllReduceProgram(2);
  p.gpus[1].scratch_chunks = 1;
  p.gpus[1].tbs[0].steps[0].src_buffer = Buffer::kScratch;
  p.gpus[1].tbs[0].steps[0].src_offset = 0;
  Status s = ValidateProgram(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("gpu 1 tb 0 step 0: reads s[0] before anything wrote it"), std::string::npos) << s;
}

}  // namespace
}  // namespace loom::comm::program
