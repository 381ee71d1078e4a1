// Simulator and bounds against closed forms (brief 3.9), the XML reader against the writer,
// and the cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "loom/base/file_io.h"
#include "loom/testing/temp_dir.h"
#include "loom/taccl/baselines.h"
#include "loom/taccl/bounds.h"
#include "loom/taccl/cache.h"
#include "loom/taccl/program.h"
#include "loom/taccl/reference_exec.h"
#include "loom/taccl/simulator.h"
#include "loom/taccl/synthesizer.h"
#include "loom/taccl/taccl_files.h"

namespace loom::taccl {
namespace {

// p GPUs in a bidirectional ring, alpha 1 us, beta 10 us/MiB.
Topology RingTopology(int p) {
  NodeProfile prof;
  prof.name = "ring";
  prof.gpus = p;
  prof.nics = 1;
  for (int g = 0; g < p; ++g) prof.links.push_back({g, (g + 1) % p, 1.0, 10.0 / kMiB});
  prof.nic_alpha_us = 1;
  prof.nic_beta_us_per_byte = 1.0 / kMiB;
  auto t = BuildTopology(prof, DefaultSketch(prof, 1));
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

TEST(TacclSimulator, RingMatchesTheClosedFormOnAHomogeneousRing) {
  for (int p : {3, 4, 6}) {
    Topology t = RingTopology(p);
    auto ring = FindRing(t);
    ASSERT_TRUE(ring.ok()) << ring.status();
    const double S = p * kMiB;  // one chunk of 1 MiB per rank: one loop iteration
    SimOptions so;
    so.local_beta_us_per_byte = 0;
    for (Collective c : {Collective::kAllGather, Collective::kReduceScatter, Collective::kAllReduce}) {
      auto a = RingAlgorithm(t, *ring, c, 1, S / p);
      ASSERT_TRUE(a.ok()) << a.status();
      ASSERT_TRUE(CheckAlgorithm(*a, t).ok()) << CheckAlgorithm(*a, t);
      auto prog = Lower(*a, t);
      ASSERT_TRUE(prog.ok());
      ASSERT_TRUE(ExecuteAndCheck(*prog).ok()) << ExecuteAndCheck(*prog);
      auto r = Simulate(*prog, t, static_cast<uint64_t>(S), so);
      ASSERT_TRUE(r.ok()) << r.status();
      // Ring AG/RS: (p-1) alpha + (p-1)/p S beta; AR twice that (brief 3.9).
      double steps = c == Collective::kAllReduce ? 2.0 * (p - 1) : p - 1.0;
      double want = steps * (1.0 + 10.0 / kMiB * S / p);
      EXPECT_NEAR(r->time_us, want, 1e-6 * want) << CollectiveName(c) << " p=" << p;
      EXPECT_EQ(r->iterations, 1);
      EXPECT_NEAR(r->busbw_gbs, r->algbw_gbs * BusBwFactor(c, p), 1e-12);
      // Recorded sends: every ring step once per rank, each one chunk in exactly alpha + beta * chunk
      // (a ring link carries one send at a time), the last delivery at the end.
      SimOptions rec = so;
      rec.record_sends = true;
      auto rr = Simulate(*prog, t, static_cast<uint64_t>(S), rec);
      ASSERT_TRUE(rr.ok()) << rr.status();
      EXPECT_TRUE(r->sends.empty());
      ASSERT_EQ(rr->sends.size(), static_cast<size_t>(steps * p));
      double last = 0;
      for (const SimSend& x : rr->sends) {
        EXPECT_EQ(t.FindLink(x.src, x.dst), x.link);
        EXPECT_NEAR(x.end_us - x.start_us, 1.0 + 10.0 / kMiB * S / p, 1e-9);
        last = std::max(last, x.end_us);
      }
      EXPECT_DOUBLE_EQ(last, rr->time_us);
    }
  }
}

TEST(TacclSimulator, TwoNdv2AnchorsNcclRingCutBoundAndAlltoallBound) {
  // NIC: 1 MiB per 105 us. NCCL ring AG crosses each NIC with 15/16 of the data: algbw
  // 16/15 of the NIC rate; the AG cut bound is twice the NIC rate and A2A's a quarter of it
  // (brief section 4, with TACCL's 105 us/MiB instead of 12.5 GB/s).
  const double nic = kMiB / 105.0 / 1e3;  // GB/s
  const uint64_t S = 1ull << 30;
  auto ring = SimulateNcclRing(Ndv2Profile(), 2, Collective::kAllGather, S);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_NEAR(ring->algbw_gbs, nic * 16 / 15, 0.02 * nic);
  EXPECT_LE(ring->algbw_gbs, nic * 16 / 15);
  auto topo = BuildTopology(Ndv2Profile(), DefaultSketch(Ndv2Profile(), 2));
  ASSERT_TRUE(topo.ok());
  Bound ag = CutBound(*topo, Collective::kAllGather, S);
  EXPECT_NEAR(ag.algbw_gbs, 2 * nic, 1e-4 * nic) << ag.cut;
  Bound a2a = CutBound(*topo, Collective::kAllToAll, S);
  EXPECT_NEAR(a2a.algbw_gbs, nic / 4, 1e-4 * nic) << a2a.cut;
  // At 1 MiB the binding cut (a node's NIC ingress, 512 KiB at 105 us/MiB) needs 52.5 us of pure
  // bandwidth; the cut bound adds the one IB alpha (2.6 us) some message must pay.
  Bound mib = CutBound(*topo, Collective::kAllGather, 1 << 20);
  EXPECT_NEAR(mib.pure_bandwidth_us, 52.5, 1e-9) << mib.cut;
  EXPECT_NEAR(mib.bandwidth_us, 52.5 + 2.6, 1e-9) << mib.cut;
  // Small sizes are latency-bound: IB alpha plus two NVLink alphas at least.
  Bound small = CutBound(*topo, Collective::kAllGather, 1024);
  EXPECT_GE(small.time_us, 2.6);
}

TEST(TacclSimulator, NcclDoubleBinaryTreeAllReduceIsCorrectAndNicBound) {
  // Two nodes: tree 0 sends half the buffer up node 1 -> node 0 and back down, tree 1 the other
  // half the other way, so each NIC direction carries S once: T ~ S / NIC rate, against the
  // ring's 2 (p-1)/p S / NIC rate.
  Sketch sk = DefaultSketch(Ndv2Profile(), 2);
  sk.conn_mode = "fully-connected";
  auto topo = BuildTopology(Ndv2Profile(), sk);
  ASSERT_TRUE(topo.ok()) << topo.status();
  auto ring = FindRing(*topo, 0);
  ASSERT_TRUE(ring.ok()) << ring.status();
  auto tree = DoubleBinaryTreeAllReduce(*topo, {*ring}, kMiB);
  ASSERT_TRUE(tree.ok()) << tree.status();
  ASSERT_TRUE(CheckAlgorithm(*tree, *topo).ok()) << CheckAlgorithm(*tree, *topo);
  int net = 0;
  for (const Transfer& tr : tree->transfers) net += topo->links[tr.link].kind == LinkKind::kNetwork;
  EXPECT_EQ(net, 2 * tree->num_chunks());  // every chunk crosses once up and once down
  auto prog = Lower(*tree, *topo);
  ASSERT_TRUE(prog.ok()) << prog.status();
  EXPECT_TRUE(ExecuteAndCheck(*prog, 3, 3).ok());
  const uint64_t S = 1ull << 30;
  const double nic_us = static_cast<double>(S) / kMiB * 105.0;
  auto t = SimulateNcclTree(Ndv2Profile(), 2, Collective::kAllReduce, S);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_GE(t->time_us, nic_us);
  EXPECT_LE(t->time_us, 1.1 * nic_us);
  auto r = SimulateNcclRing(Ndv2Profile(), 2, Collective::kAllReduce, S);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->time_us, 2.0 * 15 / 16 * nic_us, 0.05 * nic_us);
  EXPECT_FALSE(SimulateNcclTree(Ndv2Profile(), 2, Collective::kAllGather, S).ok());
}

TEST(TacclSimulator, BrokenProgramsGetErrorsNotHangs) {
  Topology t = RingTopology(4);
  auto ring = FindRing(t);
  ASSERT_TRUE(ring.ok());
  auto a = RingAlgorithm(t, *ring, Collective::kAllGather, 1, 1024);
  ASSERT_TRUE(a.ok());
  auto prog = Lower(*a, t);
  ASSERT_TRUE(prog.ok());
  Program missing = *prog;
  // Drop one receive: the connection's sends outnumber its receives.
  for (auto& tb : missing.gpus[1].tbs)
    if (tb.recv >= 0 && !tb.steps.empty()) {
      tb.steps.pop_back();
      break;
    }
  EXPECT_FALSE(Simulate(missing, t, 1 << 20).ok());
  EXPECT_FALSE(ExecuteAndCheck(missing).ok());
  // A send over a link the topology lacks (0 -> 2 on a ring).
  Program nolink = *prog;
  nolink.gpus[0].tbs.push_back({2, -1, 0, {Step{StepType::kSend, 'o', 'o', 0, 0, 1, -1, -1, false}}});
  auto s = Simulate(nolink, t, 1 << 20);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("no link"), std::string::npos) << s.status();
}

TEST(TacclXml, WriterAndReaderRoundTripAndErrorsNameTheLine) {
  auto topo = BuildTopology(Ndv2Profile(), DefaultSketch(Ndv2Profile(), 2));
  ASSERT_TRUE(topo.ok());
  SynthOptions o;
  o.coll = Collective::kAllReduce;
  auto r = Synthesize(*topo, DefaultSketch(Ndv2Profile(), 2), o);
  ASSERT_TRUE(r.ok()) << r.status();
  for (Dialect d : {Dialect::kOriginal, Dialect::kExecutor}) {
    std::string xml = WriteXml(r->program, d);
    auto back = ParseProgramXml(xml, "rt.xml");
    ASSERT_TRUE(back.ok()) << back.status();
    back->root = r->program.root;
    back->min_bytes = r->program.min_bytes;
    EXPECT_EQ(WriteXml(*back, d), xml);
    auto sim_a = Simulate(r->program, *topo, 1 << 24);
    auto sim_b = Simulate(*back, *topo, 1 << 24);
    ASSERT_TRUE(sim_a.ok() && sim_b.ok());
    EXPECT_EQ(sim_a->time_us, sim_b->time_us);
  }
  auto bad = ParseProgramXml("<algo coll=\"allgather\" nchannels=\"1\" nchunksperloop=\"2\" inplace=\"1\">\n"
                             "  <gpu id=\"0\" i_chunks=\"1\" o_chunks=\"2\" s_chunks=\"0\">\n"
                             "    <tb id=\"0\" send=\"1\" recv=\"-1\" chan=\"0\">\n"
                             "      <step s=\"0\" type=\"zz\" srcbuf=\"o\" srcoff=\"0\" dstbuf=\"o\" dstoff=\"0\" cnt=\"1\" depid=\"-1\" deps=\"-1\" hasdep=\"0\"/>\n",
                             "bad.xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.xml:4"), std::string::npos) << bad.status();
}

TEST(TacclCache, WarmHitIsByteIdenticalAndKeysSeparateSizeBuckets) {
  testing::TempDir dir;
  auto topo = BuildTopology(Ndv2Profile(), DefaultSketch(Ndv2Profile(), 1));
  ASSERT_TRUE(topo.ok());
  Sketch sk = DefaultSketch(Ndv2Profile(), 1);
  SynthOptions o;
  o.bytes = 3 << 20;
  std::string key = CacheKey(*topo, sk, o, "executor");
  SynthOptions same_bucket = o;
  same_bucket.bytes = 4 << 20;
  EXPECT_EQ(CacheKey(*topo, sk, same_bucket, "executor"), key);
  SynthOptions other = o;
  other.bytes = 5 << 20;
  EXPECT_NE(CacheKey(*topo, sk, other, "executor"), key);
  other = o;
  other.coll = Collective::kAllToAll;
  EXPECT_NE(CacheKey(*topo, sk, other, "executor"), key);
  auto miss = CacheLookup(dir.path(), key);
  ASSERT_TRUE(miss.ok());
  EXPECT_FALSE(miss->has_value());
  auto r = Synthesize(*topo, sk, o);
  ASSERT_TRUE(r.ok());
  std::string xml = WriteXml(r->program, Dialect::kExecutor);
  ASSERT_TRUE(CacheStore(dir.path(), key, xml).ok());
  auto hit = CacheLookup(dir.path(), key);
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ(**hit, xml);
}

}  // namespace
}  // namespace loom::taccl
