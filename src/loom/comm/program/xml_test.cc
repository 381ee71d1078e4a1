// MSCCL XML: round trips, canonical output, dialects, nop lowering, and one fixture per reader
// rule (an invalid document plus the text its Status must contain).
#include "loom/comm/program/xml.h"

#include <gtest/gtest.h>

#include <string>

#include "loom/base/file_io.h"
#include "loom/comm/program/generators.h"
#include "loom/comm/program/validate.h"
#include "loom/testing/temp_dir.h"

namespace loom::comm::program {
namespace {

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture pattern not found: " << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(MscclXml, RingProgramsRoundTripInBothDialects) {
  for (int p : {1, 2, 3, 8}) {
    for (int ch : {1, 2}) {
      for (auto gen : {RingAllReduceProgram, RingAllGatherProgram}) {
        Program prog = *gen(p, ch);
        ComputeHasDep(prog);
        for (Dialect d : {Dialect::kMsccl, Dialect::kExecutor}) {
          auto text = WriteMscclXml(prog, d);
          ASSERT_TRUE(text.ok()) << text.status();
          auto back = ParseMscclXml(*text, "ring.xml");
          ASSERT_TRUE(back.ok()) << back.status();
          EXPECT_EQ(back->program, prog) << prog.name;
          // A full byte range makes any file executor-compatible, and it is detected so.
          EXPECT_EQ(back->dialect, Dialect::kExecutor);
          EXPECT_EQ(*WriteMscclXml(back->program, d), *text) << "writer not byte-stable";
        }
      }
    }
  }
}

TEST(MscclXml, ReduceScatterSpellingFollowsTheDialect) {
  Program p = *RingAllReduceProgram(2);
  p.collective = Collective::kReduceScatter;
  auto legacy = *WriteMscclXml(p, Dialect::kMsccl);
  auto exec = *WriteMscclXml(p, Dialect::kExecutor);
  EXPECT_NE(legacy.find("coll=\"reduce_scatter\""), std::string::npos);
  EXPECT_NE(exec.find("coll=\"reducescatter\""), std::string::npos);
  EXPECT_EQ(ParseMscclXml(legacy)->dialect, Dialect::kMsccl);
  EXPECT_EQ(ParseMscclXml(exec)->dialect, Dialect::kExecutor);
  EXPECT_EQ(ParseMscclXml(legacy)->program.collective, Collective::kReduceScatter);
}

TEST(MscclXml, LegacyToExecutorFillsByteRangeAndOutOfPlace) {
  Program p = *RingAllReduceProgram(3);
  p.out_of_place.reset();
  p.min_bytes.reset();
  p.max_bytes.reset();
  std::string legacy = *WriteMscclXml(p, Dialect::kMsccl);
  EXPECT_EQ(legacy.find("minBytes"), std::string::npos);
  auto parsed = *ParseMscclXml(legacy);
  EXPECT_EQ(parsed.dialect, Dialect::kMsccl);
  EXPECT_FALSE(ValidateProgram(parsed.program, {.dialect = Dialect::kExecutor}).ok());
  std::string exec = *WriteMscclXml(parsed.program, Dialect::kExecutor);
  auto converted = *ParseMscclXml(exec);
  EXPECT_EQ(converted.dialect, Dialect::kExecutor);
  EXPECT_EQ(converted.program.min_bytes, 0);
  EXPECT_EQ(converted.program.max_bytes, kLegacyDefaultMaxBytes);
  EXPECT_EQ(converted.program.out_of_place, true);
  EXPECT_TRUE(ValidateProgram(converted.program, {.dialect = Dialect::kExecutor}).ok());
}

TEST(MscclXml, ConversionRefusesWhatTheTargetCannotExpress) {
  Program p = *RingAllReduceProgram(2);
  p.collective = Collective::kCustom;
  EXPECT_FALSE(WriteMscclXml(p, Dialect::kExecutor).ok());
  p.collective = Collective::kAllToAllV;
  EXPECT_FALSE(WriteMscclXml(p, Dialect::kMsccl).ok());
  p = *RingAllReduceProgram(2);
  p.gpus[0].tbs[0].steps[0].op = OpType::kResidualAdd;
  EXPECT_FALSE(WriteMscclXml(p, Dialect::kExecutor).ok());
  EXPECT_TRUE(WriteMscclXml(p, Dialect::kMsccl).ok());  // kept for round trips
}

// A step with three dependencies becomes two nops plus the step; deps name XML s indices.
TEST(MscclXml, MultipleDependenciesLowerToNopChains) {
  Program p;
  p.name = "deps";
  p.collective = Collective::kAllReduce;
  p.num_ranks = 1;
  p.chunks_per_loop = 4;
  p.in_place = true;
  GpuProgram g;
  g.input_chunks = g.output_chunks = 4;
  for (int t = 0; t < 3; ++t) {
    ThreadBlock tb;
    tb.id = t;
    Step s;
    s.op = OpType::kCopy;
    s.src_buffer = Buffer::kInput;
    s.src_offset = t;
    s.dst_buffer = Buffer::kOutput;
    s.dst_offset = t;
    tb.steps.push_back(s);
    g.tbs.push_back(tb);
  }
  Step re;
  re.op = OpType::kReduce;
  re.src_buffer = Buffer::kOutput;
  re.src_offset = 0;
  re.dst_buffer = Buffer::kOutput;
  re.dst_offset = 3;
  re.deps = {{0, 0}, {1, 0}, {2, 0}};
  Step re2 = re;
  re2.deps = {{2, 1}};  // refers to IR step 1 of tb 2, which is XML step 3
  re2.src_offset = 1;
  g.tbs[2].steps.push_back(re);
  g.tbs[2].steps.push_back(re2);
  p.gpus.push_back(g);
  ComputeHasDep(p);
  ASSERT_TRUE(ValidateProgram(p).ok()) << ValidateProgram(p);
  std::string xml = *WriteMscclXml(p, Dialect::kMsccl);
  EXPECT_NE(xml.find("<step s=\"1\" type=\"nop\" srcbuf=\"i\" srcoff=\"-1\" dstbuf=\"o\" dstoff=\"-1\" "
                     "cnt=\"0\" depid=\"0\" deps=\"0\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<step s=\"4\" type=\"re\" srcbuf=\"o\" srcoff=\"1\" dstbuf=\"o\" dstoff=\"3\" "
                     "cnt=\"1\" depid=\"2\" deps=\"3\""),
            std::string::npos)
      << xml;
  auto back = ParseMscclXml(xml);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->program, p);
}

TEST(MscclXml, ReadsForeignFormattingCommentsAndSingleQuotes) {
  std::string xml = R"(<?xml version="1.0" encoding="utf-8"?>
<!-- comment -->
<algo name='a&amp;b' proto='LL' nchannels = "1" nchunksperloop="1" ngpus="1" coll="allreduce"
      inplace="0" extra="ignored">
  <gpu id="0" i_chunks="1" o_chunks="1" s_chunks="0"><!-- c -->
    <tb id="0" send="-1" recv="-1" chan="0">
      <step s="0" type="cpy" srcbuf="i" srcoff="0" dstbuf="o" dstoff="0" cnt="1" depid="-1" deps="-1" hasdep="0"></step>
    </tb>
  </gpu>
</algo>
)";
  auto r = ParseMscclXml(xml, "foreign.xml");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->program.name, "a&b");
  EXPECT_EQ(r->program.protocol, Protocol::kLL);
  EXPECT_TRUE(ValidateProgram(r->program).ok());
}

TEST(MscclXml, FileRoundTrip) {
  testing::TempDir dir;
  Program p = *RingAllReduceProgram(4, 2);
  ASSERT_TRUE(WriteMscclXmlFile(dir.File("a.xml"), p, Dialect::kExecutor).ok());
  auto r = ReadMscclXmlFile(dir.File("a.xml"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->program, p);
  auto missing = ReadMscclXmlFile(dir.File("none.xml"));
  EXPECT_FALSE(missing.ok());
}

struct Fixture {
  const char* what;
  const char* from;
  const char* to;
  const char* expect;  // substring of the Status message
};

// Each row breaks one reader rule in a valid 2-rank ring file (both dialects).
TEST(MscclXml, ReaderRejectsEachMalformedInputWithANamedError) {
  const Fixture kFixtures[] = {
      {"unterminated", "</algo>", "", "unterminated <algo>"},
      {"mismatched tag", "</tb>", "</gpu>", "</gpu> closes <tb>"},
      {"text", "<gpu id=\"0\"", "hello <gpu id=\"0\"", "unexpected text"},
      {"entity", "name=\"ring", "name=\"&bogus;ring", "unknown entity"},
      {"duplicate attr", "inplace=\"1\"", "inplace=\"1\" inplace=\"0\"", "duplicate attribute 'inplace'"},
      {"missing ngpus", "ngpus=\"2\" ", "", "lacks the required attribute 'ngpus'"},
      {"missing proto", "proto=\"Simple\" ", "", "'proto'"},
      {"bad proto", "proto=\"Simple\"", "proto=\"LL64\"", "unknown proto 'LL64'"},
      {"bad coll", "coll=\"allreduce\"", "coll=\"allreduc\"", "unknown coll 'allreduc'"},
      {"inplace 2", "inplace=\"1\"", "inplace=\"2\"", "'inplace' must be 0 or 1"},
      {"not int", "nchannels=\"1\"", "nchannels=\"one\"", "'nchannels' is not an integer"},
      {"int overflow", "nchannels=\"1\"", "nchannels=\"99999999999\"", "out of range"},
      {"missing i_chunks", "i_chunks=\"2\" ", "", "gpu 0: <gpu> lacks the required attribute 'i_chunks'"},
      {"missing chan", "recv=\"1\" chan=\"0\"", "recv=\"1\"", "gpu 0 tb 0: <tb> lacks the required attribute 'chan'"},
      {"bad type", "type=\"s\"", "type=\"x\"", "gpu 0 tb 0 step 0: unknown step type 'x'"},
      {"bad buffer", "srcbuf=\"i\"", "srcbuf=\"q\"", "gpu 0 tb 0 step 0: srcbuf: unknown buffer 'q'"},
      {"missing hasdep", " hasdep=\"0\"/>", "/>", "'hasdep'"},
      {"hasdep 2", "hasdep=\"0\"", "hasdep=\"2\"", "'hasdep' must be 0 or 1"},
      {"half dep", "depid=\"-1\" deps=\"-1\"", "depid=\"0\" deps=\"-1\"", "must both be -1"},
      {"step order", "<step s=\"0\"", "<step s=\"5\"", "s=5 but steps must be numbered"},
      {"unknown element", "<step s=\"0\"", "<foo/><step s=\"0\"", "unexpected <foo>"},
      {"dep on missing tb", "depid=\"-1\" deps=\"-1\"", "depid=\"7\" deps=\"0\"", "depends on tb 7, which gpu 0 does not have"},
      {"dep on missing step", "depid=\"-1\" deps=\"-1\"", "depid=\"0\" deps=\"9\"", "depends on step 9 of tb 0"},
      {"duplicate tb", "</tb>", "</tb><tb id=\"0\" send=\"-1\" recv=\"-1\" chan=\"0\"></tb>", "duplicate thread block id"},
  };
  Program ring = *RingAllReduceProgram(2);
  for (Dialect d : {Dialect::kMsccl, Dialect::kExecutor}) {
    std::string good = *WriteMscclXml(ring, d);
    ASSERT_TRUE(ParseMscclXml(good).ok());
    for (const Fixture& f : kFixtures) {
      std::string bad = Replace(good, f.from, f.to);
      auto r = ParseMscclXml(bad, "fixture.xml");
      ASSERT_FALSE(r.ok()) << f.what << " (" << DialectName(d) << ") was accepted";
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << f.what;
      EXPECT_NE(r.status().message().find(f.expect), std::string::npos)
          << f.what << ": " << r.status();
      EXPECT_NE(r.status().message().find("fixture.xml"), std::string::npos) << f.what;
    }
  }
}

TEST(MscclXml, NopChainMustEndOnAStepWithItsOwnDependency) {
  // Two TBs; tb 1's nop carries a dependency on tb 0, the next step has none: both runtimes
  // reject this file.
  std::string xml = R"(<algo name="x" proto="Simple" nchannels="1" nchunksperloop="1" ngpus="1" coll="allreduce" inplace="0">
  <gpu id="0" i_chunks="1" o_chunks="1" s_chunks="1">
    <tb id="0" send="-1" recv="-1" chan="0">
      <step s="0" type="cpy" srcbuf="i" srcoff="0" dstbuf="s" dstoff="0" cnt="1" depid="-1" deps="-1" hasdep="1"/>
    </tb>
    <tb id="1" send="-1" recv="-1" chan="0">
      <step s="0" type="nop" srcbuf="i" srcoff="-1" dstbuf="o" dstoff="-1" cnt="0" depid="0" deps="0" hasdep="0"/>
      <step s="1" type="cpy" srcbuf="s" srcoff="0" dstbuf="o" dstoff="0" cnt="1" depid="-1" deps="-1" hasdep="0"/>
    </tb>
  </gpu>
</algo>)";
  auto r = ParseMscclXml(xml, "chain.xml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gpu 0 tb 1 step 1"), std::string::npos) << r.status();
  // With its own dependency the file is fine, and the IR step carries both.
  std::string ok = Replace(xml, R"(cnt="1" depid="-1" deps="-1" hasdep="0"/>
    </tb>
  </gpu>)", R"(cnt="1" depid="0" deps="0" hasdep="0"/>
    </tb>
  </gpu>)");
  auto r2 = ParseMscclXml(ok, "chain.xml");
  ASSERT_TRUE(r2.ok()) << r2.status();
  ASSERT_EQ(r2->program.gpus[0].tbs[1].steps.size(), 1u);
  EXPECT_EQ(r2->program.gpus[0].tbs[1].steps[0].deps.size(), 2u);
}

TEST(MscclXml, DeepNestingAndHugeInputsFailCleanly) {
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "<a>";
  auto r = ParseMscclXml(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested deeper"), std::string::npos) << r.status();
  EXPECT_FALSE(ParseMscclXml("").ok());
  auto root = ParseMscclXml("<gpu id=\"0\"/>", "root.xml");
  ASSERT_FALSE(root.ok());
  EXPECT_NE(root.status().message().find("root.xml: the root element is <gpu>, expected <algo>"),
            std::string::npos) << root.status();
  EXPECT_FALSE(ParseMscclXml("<algo").ok());
  EXPECT_FALSE(ParseMscclXml("<algo/><algo/>").ok());
}

}  // namespace
}  // namespace loom::comm::program
