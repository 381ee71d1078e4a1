// Topology model, TACCL file readers and sketches.
#include <gtest/gtest.h>

#include <string>

#include "loom/base/file_io.h"
#include "loom/taccl/sketch.h"
#include "loom/taccl/taccl_files.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {
namespace {

std::string Data(const std::string& name) { return std::string(LOOM_TACCL_TESTDATA) + "/" + name; }

const char* kTopos[] = {"topo-dgx2-1KB.json", "topo-dgx2-1MB.json", "topo-ndv2-1KB.json",
                        "topo-ndv2-1MB.json", "topo-ndv2-32KB.json"};
const char* kSketches[] = {"sk-dgx2-n1.json",  "sk-ndv2-n1-cUp6.json", "sk1-dgx2-n1.json",
                           "sk1-dgx2-n2.json", "sk1-ndv2-n1.json",     "sk1-ndv2-n2.json",
                           "sk1-ndv2-n4.json", "sk2-dgx2-n2.json",     "sk2-ndv2-n2.json",
                           "sk2-ndv2-n4.json", "sk3-ndv2-n2.json"};

TEST(TacclFiles, AllFiveProfilesLoadToTheSamePhysicalLinks) {
  // Every profile is the same hardware at another chunk size and scale (brief 3.1): after
  // conversion the per-byte NVLink / IB costs agree within the files' rounding.
  for (const char* f : kTopos) {
    auto p = ReadTacclProfile(Data(f));
    ASSERT_TRUE(p.ok()) << f << ": " << p.status();
    EXPECT_NEAR(p->nic_beta_us_per_byte * kMiB, 105.0, 0.5) << f;
    EXPECT_NEAR(p->nic_alpha_us, 2.6, 1e-9) << f;
    if (p->has_switch) {
      EXPECT_EQ(p->gpus, 16);
      EXPECT_EQ(p->nics, 8);
      // 1 KB DGX-2 profile: beta 1 per KB x100 -> 10.24 us/MiB vs 8 at 1 MB; keep the file's value.
      EXPECT_GT(p->switch_beta_us_per_byte * kMiB, 7.9) << f;
    } else {
      EXPECT_EQ(p->gpus, 8);
      EXPECT_EQ(p->links.size(), 16u);
      double lo = 1e9, hi = 0;
      for (const auto& l : p->links) {
        lo = std::min(lo, l.beta_us_per_byte * kMiB);
        hi = std::max(hi, l.beta_us_per_byte * kMiB);
      }
      EXPECT_NEAR(lo, 23.0, 0.1) << f;
      EXPECT_NEAR(hi, 46.05, 0.1) << f;
    }
  }
}

TEST(TacclFiles, AllElevenSketchesLoadAndBuildTopologies) {
  for (const char* f : kSketches) {
    auto s = ReadTacclSketch(Data(f));
    ASSERT_TRUE(s.ok()) << f << ": " << s.status();
    NodeProfile p = std::string(f).find("dgx2") != std::string::npos ? Dgx2Profile() : Ndv2Profile();
    auto t = BuildTopology(p, *s);
    ASSERT_TRUE(t.ok()) << f << ": " << t.status();
    EXPECT_EQ(t->num_ranks(), s->nnodes * p.gpus) << f;
    EXPECT_TRUE(CheckSymmetry(*t, *s).ok()) << f << ": " << CheckSymmetry(*t, *s);
  }
}

TEST(TacclFiles, RelayLinksFollowTheSketch) {
  auto s = ReadTacclSketch(Data("sk1-ndv2-n2.json"));
  ASSERT_TRUE(s.ok());
  auto t = BuildTopology(Ndv2Profile(), *s);
  ASSERT_TRUE(t.ok());
  int network = 0;
  for (const auto& l : t->links) network += l.kind == LinkKind::kNetwork;
  EXPECT_EQ(network, 2);  // 0 -> 9 and 8 -> 1
  EXPECT_GE(t->FindLink(0, 9), 0);
  EXPECT_GE(t->FindLink(8, 1), 0);
  EXPECT_LT(t->FindLink(9, 0), 0);
  auto fc = ReadTacclSketch(Data("sk2-ndv2-n2.json"));
  ASSERT_TRUE(fc.ok());
  auto t2 = BuildTopology(Ndv2Profile(), *fc);
  ASSERT_TRUE(t2.ok());
  network = 0;
  for (const auto& l : t2->links) network += l.kind == LinkKind::kNetwork;
  EXPECT_EQ(network, 2 * 64);  // 64 logical links per direction on one NIC
}

TEST(TacclTopology, Ndv2IsTheHybridCubeMesh) {
  Sketch s = DefaultSketch(Ndv2Profile(), 1);
  auto t = BuildTopology(Ndv2Profile(), s);
  ASSERT_TRUE(t.ok());
  for (int g = 0; g < 8; ++g) {
    EXPECT_EQ(t->out_links[g].size(), 4u) << g;  // 4 neighbours, 6 NVLinks
    double rate = 0;
    for (int li : t->out_links[g]) rate += 1.0 / (t->links[li].beta_us_per_byte * kMiB);
    EXPECT_NEAR(rate, 2.0 / 23 + 2.0 / 46, 1e-12) << g;
  }
  auto d = t->HopDistances(0);
  EXPECT_EQ(d[1], 1);
  EXPECT_EQ(d[7], 2);
}

TEST(TacclFiles, BadInputsNameTheField) {
  auto bad = ParseTacclSketch(R"({"nnodes": 2, "intranode_sketch": {"strategy": "none"}})", "x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("internode_sketch"), std::string::npos) << bad.status();
  auto bad2 = ParseTacclSketch(R"({"nnodes": 1, "intranode_sketch": {"strategy": "ring"}})", "x.json");
  ASSERT_FALSE(bad2.ok());
  EXPECT_NE(bad2.status().message().find("strategy"), std::string::npos) << bad2.status();
  auto bad3 = ParseTacclProfile(R"({"name": "NDv2_1MB", "gpus_per_node": 8, "nics_per_node": 1,
      "alpha": 0.3, "node_betas_list": [23], "remote_alpha": 2.6, "remote_beta": 105})", "p.json");
  ASSERT_FALSE(bad3.ok());
  EXPECT_NE(bad3.status().message().find("node_betas_list"), std::string::npos) << bad3.status();
  auto bad4 = ParseTacclProfile(R"({"name": "Foo_1MB", "gpus_per_node": 8, "nics_per_node": 1,
      "alpha": 0.3, "node_betas_list": [23, 46], "remote_alpha": 2.6, "remote_beta": 105})", "p.json");
  ASSERT_FALSE(bad4.ok());
  // A relay map whose senders do not cover every GPU is infeasible, and says so.
  auto sk = ParseTacclSketch(R"({"nnodes": 2, "intranode_sketch": {"strategy": "none"},
      "internode_sketch": {"strategy": "relay", "internode_conn": {"0": [0]},
      "gpus_to_sender_rev_map": {"0": [0, 1]}}})", "rev.json");
  ASSERT_TRUE(sk.ok()) << sk.status();
  auto t = BuildTopology(Ndv2Profile(), *sk);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInfeasible);
  EXPECT_NE(t.status().message().find("gpus_to_sender_rev_map"), std::string::npos);
  // GPU id out of range.
  auto sk2 = ParseTacclSketch(R"({"nnodes": 2, "intranode_sketch": {"strategy": "none"},
      "internode_sketch": {"strategy": "relay", "internode_conn": {"9": [0]}}})", "r.json");
  ASSERT_TRUE(sk2.ok());
  auto t2 = BuildTopology(Ndv2Profile(), *sk2);
  ASSERT_FALSE(t2.ok());
  EXPECT_NE(t2.status().message().find("internode_conn"), std::string::npos) << t2.status();
}

TEST(TacclSketch, WrongSymmetryIsRejected) {
  auto s = ReadTacclSketch(Data("sk1-ndv2-n2.json"));
  ASSERT_TRUE(s.ok());
  auto t = BuildTopology(Ndv2Profile(), *s);
  ASSERT_TRUE(t.ok());
  Sketch wrong = *s;
  wrong.symmetry_offsets = {{1, 8}};  // rotating the cube-mesh by one is not an automorphism
  Status st = CheckSymmetry(*t, wrong);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("symmetry_offsets[0]"), std::string::npos) << st;
  EXPECT_EQ(ApplySymmetry(3, 8, 16), 11);
  EXPECT_EQ(ApplySymmetry(17, 2, 16), 19);
}

TEST(TacclFiles, LoomTopologyFormat) {
  const char* text = R"({"format": "loom-taccl-topology/1", "name": "mixed", "gpus": 4, "nics": 2,
    "links": [{"a": 0, "b": 1, "alpha_us": 0.5, "beta_us_per_mib": 20},
              {"a": 1, "b": 2, "alpha_us": 0.5, "beta_us_per_mib": 40},
              {"a": 2, "b": 3, "alpha_us": 0.5, "beta_us_per_mib": 20},
              {"a": 3, "b": 0, "alpha_us": 0.7, "beta_us_per_mib": 80, "directed": true}],
    "nic": {"alpha_us": 3, "beta_us_per_mib": 100}, "gpu_nic": [0, 0, 1, 1]})";
  auto p = ParseLoomTopology(text, "mixed.json");
  ASSERT_TRUE(p.ok()) << p.status();
  auto t = BuildTopology(*p, DefaultSketch(*p, 2));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_GE(t->FindLink(3, 0), 0);
  EXPECT_LT(t->FindLink(0, 3), 0);
  EXPECT_EQ(t->NicOf(6), 3);
  auto bad = ParseLoomTopology(R"({"format": "loom-taccl-topology/1", "name": "x", "gpus": 2,
    "links": [{"a": 0, "b": 5, "alpha_us": 1, "beta_us_per_mib": 1}], "nic": {"alpha_us": 1, "beta_us_per_mib": 1}})", "x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("links"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace loom::taccl
