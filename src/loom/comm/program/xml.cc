// MSCCL XML reader and canonical writer (xml.h).
#include "loom/comm/program/xml.h"

#include <limits>
#include <map>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"
#include "loom/comm/program/internal/xml_dom.h"

namespace loom::comm::program {

using internal::XmlElement;

std::string_view DialectName(Dialect d) { return d == Dialect::kMsccl ? "msccl" : "executor"; }

StatusOr<Dialect> ParseDialect(std::string_view text) {
  if (text == "msccl" || text == "legacy") return Dialect::kMsccl;
  if (text == "executor" || text == "msccl-executor") return Dialect::kExecutor;
  return InvalidArgumentError(StrCat("unknown dialect '", text, "' (expected msccl or executor)"));
}

namespace {

// Attribute access with errors that name the element and where it is.
class Attrs {
 public:
  Attrs(const XmlElement& e, std::string where) : e_(e), where_(std::move(where)) {}

  bool Has(std::string_view key) const { return e_.Find(key) != nullptr; }

  StatusOr<std::string> Str(std::string_view key) const {
    const std::string* v = e_.Find(key);
    if (v == nullptr) return Missing(key);
    return *v;
  }
  StatusOr<int64_t> Int64(std::string_view key) const {
    const std::string* v = e_.Find(key);
    if (v == nullptr) return Missing(key);
    auto parsed = ParseInt(StripWhitespace(*v), key);
    if (!parsed.ok())
      return InvalidArgumentError(
          StrCat(where_, ": attribute '", key, "' is not an integer: '", *v, "'"));
    return *parsed;
  }
  StatusOr<int> Int(std::string_view key) const {
    LOOM_ASSIGN_OR_RETURN(int64_t v, Int64(key));
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
      return InvalidArgumentError(StrCat(where_, ": attribute '", key, "' out of range: ", v));
    return static_cast<int>(v);
  }
  StatusOr<bool> Bool01(std::string_view key) const {
    LOOM_ASSIGN_OR_RETURN(int v, Int(key));
    if (v != 0 && v != 1)
      return InvalidArgumentError(StrCat(where_, ": attribute '", key, "' must be 0 or 1, got ", v));
    return v == 1;
  }
  Status Wrap(const Status& s) const { return s.WithContext(where_); }

 private:
  Status Missing(std::string_view key) const {
    return InvalidArgumentError(
        StrCat(where_, ": <", e_.name, "> lacks the required attribute '", key, "'"));
  }
  const XmlElement& e_;
  std::string where_;
};

struct CollectiveSpelling {
  std::string_view text;
  Collective coll;
  int dialects;  // bit 0: msccl, bit 1: executor
};
constexpr CollectiveSpelling kCollectives[] = {
    {"allreduce", Collective::kAllReduce, 3},   {"allgather", Collective::kAllGather, 3},
    {"reduce", Collective::kReduce, 3},         {"broadcast", Collective::kBroadcast, 3},
    {"alltoall", Collective::kAllToAll, 3},     {"reduce_scatter", Collective::kReduceScatter, 1},
    {"custom", Collective::kCustom, 1},         {"reducescatter", Collective::kReduceScatter, 2},
    {"send", Collective::kSend, 2},             {"recv", Collective::kRecv, 2},
    {"gather", Collective::kGather, 2},         {"scatter", Collective::kScatter, 2},
    {"alltoallv", Collective::kAllToAllV, 2},
};

// One XML step before dependency resolution.
struct RawStep {
  Step step;     // deps still empty
  int depid = -1;
  int deps = -1;
  int xml_s = 0;
};

Status ParseStep(const XmlElement& e, const std::string& where, RawStep& out) {
  Attrs a(e, where);
  LOOM_ASSIGN_OR_RETURN(out.xml_s, a.Int("s"));
  LOOM_ASSIGN_OR_RETURN(std::string type, a.Str("type"));
  auto op = ParseOpType(type);
  if (!op.ok()) return a.Wrap(op.status());
  out.step.op = *op;
  LOOM_ASSIGN_OR_RETURN(std::string srcbuf, a.Str("srcbuf"));
  LOOM_ASSIGN_OR_RETURN(std::string dstbuf, a.Str("dstbuf"));
  auto sb = ParseBuffer(srcbuf);
  if (!sb.ok()) return a.Wrap(sb.status().WithContext("srcbuf"));
  auto db = ParseBuffer(dstbuf);
  if (!db.ok()) return a.Wrap(db.status().WithContext("dstbuf"));
  out.step.src_buffer = *sb;
  out.step.dst_buffer = *db;
  LOOM_ASSIGN_OR_RETURN(out.step.src_offset, a.Int("srcoff"));
  LOOM_ASSIGN_OR_RETURN(out.step.dst_offset, a.Int("dstoff"));
  LOOM_ASSIGN_OR_RETURN(out.step.count, a.Int("cnt"));
  LOOM_ASSIGN_OR_RETURN(out.depid, a.Int("depid"));
  LOOM_ASSIGN_OR_RETURN(out.deps, a.Int("deps"));
  LOOM_ASSIGN_OR_RETURN(out.step.has_dep, a.Bool01("hasdep"));
  if ((out.depid < 0) != (out.deps < 0))
    return InvalidArgumentError(StrCat(where, ": depid=", out.depid, " and deps=", out.deps,
                                       " must both be -1 or both name a step"));
  if (out.depid < -1 || out.deps < -1)
    return InvalidArgumentError(StrCat(where, ": depid/deps below -1"));
  return OkStatus();
}

// Per thread block: XML s index -> IR step index (-1 for a folded nop).
using StepMap = std::map<int, int>;

Status ParseThreadBlock(const XmlElement& e, int gpu, std::vector<RawStep>& raw_out,
                        ThreadBlock& tb) {
  Attrs a(e, Where(gpu));
  LOOM_ASSIGN_OR_RETURN(tb.id, a.Int("id"));
  std::string where = Where(gpu, tb.id);
  Attrs at(e, where);
  LOOM_ASSIGN_OR_RETURN(tb.send_peer, at.Int("send"));
  LOOM_ASSIGN_OR_RETURN(tb.recv_peer, at.Int("recv"));
  LOOM_ASSIGN_OR_RETURN(tb.channel, at.Int("chan"));
  int index = 0;
  for (const XmlElement& c : e.children) {
    if (c.name != "step")
      return InvalidArgumentError(StrCat(where, ": unexpected <", c.name, "> (line ", c.line,
                                         "); a <tb> holds only <step> elements"));
    RawStep rs;
    LOOM_RETURN_IF_ERROR(ParseStep(c, Where(gpu, tb.id, index), rs));
    if (rs.xml_s != index)
      return InvalidArgumentError(StrCat(Where(gpu, tb.id, index), ": s=", rs.xml_s,
                                         " but steps must be numbered 0, 1, 2, ... in order"));
    raw_out.push_back(std::move(rs));
    ++index;
  }
  return OkStatus();
}

// Folds nops and resolves XML (depid, deps) to IR StepRefs for one gpu.
Status LowerGpu(int gpu, std::vector<std::vector<RawStep>>& raw, GpuProgram& g) {
  // Pass 1: the IR position of each XML step (nops that carry no dependency vanish; a nop
  // chain attaches to the next real step; a trailing chain stays one IR nop).
  std::map<int, size_t> tb_index;  // tb id -> index in g.tbs
  for (size_t i = 0; i < g.tbs.size(); ++i) {
    if (tb_index.count(g.tbs[i].id))
      return InvalidArgumentError(StrCat(Where(gpu, g.tbs[i].id), ": duplicate thread block id"));
    tb_index[g.tbs[i].id] = i;
  }
  std::vector<std::vector<int>> ir_index(g.tbs.size());
  for (size_t t = 0; t < g.tbs.size(); ++t) {
    const auto& steps = raw[t];
    ir_index[t].assign(steps.size(), -1);
    int next = 0;
    bool pending = false;  // nops with dependencies waiting for a real step
    for (size_t k = 0; k < steps.size(); ++k) {
      if (steps[k].step.op == OpType::kNop) {
        if (steps[k].depid >= 0) pending = true;
        continue;
      }
      ir_index[t][k] = next++;
      pending = false;
    }
    if (pending) {
      // The trailing chain becomes one IR nop at position `next`; map its last XML nop there.
      for (size_t k = steps.size(); k-- > 0;) {
        if (steps[k].step.op != OpType::kNop) break;
        if (steps[k].depid >= 0) {
          ir_index[t][k] = next;
          break;
        }
      }
    }
  }
  auto resolve = [&](int t, int k, int depid, int deps) -> StatusOr<StepRef> {
    std::string where = Where(gpu, g.tbs[static_cast<size_t>(t)].id, k);
    auto it = tb_index.find(depid);
    if (it == tb_index.end())
      return InvalidArgumentError(
          StrCat(where, ": depends on tb ", depid, ", which gpu ", gpu, " does not have"));
    const auto& producer = raw[it->second];
    if (deps >= static_cast<int>(producer.size()))
      return InvalidArgumentError(StrCat(where, ": depends on step ", deps, " of tb ", depid,
                                         ", which has ", producer.size(), " steps"));
    int ir = ir_index[it->second][static_cast<size_t>(deps)];
    if (ir < 0 || producer[static_cast<size_t>(deps)].step.op == OpType::kNop)
      return InvalidArgumentError(StrCat(where, ": depends on step ", deps, " of tb ", depid,
                                         ", a nop, which no runtime signals"));
    return StepRef{depid, ir};
  };
  // Pass 2: build the IR steps.
  for (size_t t = 0; t < g.tbs.size(); ++t) {
    std::vector<StepRef> pending;
    auto& steps = raw[t];
    for (size_t k = 0; k < steps.size(); ++k) {
      RawStep& rs = steps[k];
      if (rs.depid >= 0) {
        LOOM_ASSIGN_OR_RETURN(StepRef ref, resolve(static_cast<int>(t), static_cast<int>(k),
                                                   rs.depid, rs.deps));
        pending.push_back(ref);
      }
      if (rs.step.op == OpType::kNop) {
        if (ir_index[t][k] >= 0) {  // the end of a trailing chain
          Step nop = rs.step;
          nop.deps = std::move(pending);
          pending.clear();
          g.tbs[t].steps.push_back(std::move(nop));
        }
        continue;
      }
      if (!pending.empty() && rs.depid < 0)
        return InvalidArgumentError(StrCat(
            Where(gpu, g.tbs[t].id, static_cast<int>(k)),
            ": follows nop steps carrying dependencies but has no dependency itself; both "
            "runtimes reject this (the last dependency of a chain belongs on the real step)"));
      Step st = rs.step;
      st.deps = std::move(pending);
      pending.clear();
      g.tbs[t].steps.push_back(std::move(st));
    }
  }
  return OkStatus();
}

StatusOr<GpuProgram> ParseGpu(const XmlElement& e) {
  Attrs a(e, "<gpu>");
  GpuProgram g;
  LOOM_ASSIGN_OR_RETURN(g.rank, a.Int("id"));
  Attrs ag(e, Where(g.rank));
  LOOM_ASSIGN_OR_RETURN(g.input_chunks, ag.Int("i_chunks"));
  LOOM_ASSIGN_OR_RETURN(g.output_chunks, ag.Int("o_chunks"));
  LOOM_ASSIGN_OR_RETURN(g.scratch_chunks, ag.Int("s_chunks"));
  std::vector<std::vector<RawStep>> raw;
  for (const XmlElement& c : e.children) {
    if (c.name != "tb")
      return InvalidArgumentError(StrCat(Where(g.rank), ": unexpected <", c.name, "> (line ",
                                         c.line, "); a <gpu> holds only <tb> elements"));
    g.tbs.emplace_back();
    raw.emplace_back();
    LOOM_RETURN_IF_ERROR(ParseThreadBlock(c, g.rank, raw.back(), g.tbs.back()));
  }
  LOOM_RETURN_IF_ERROR(LowerGpu(g.rank, raw, g));
  return g;
}

}  // namespace

namespace {

// The <algo> element; errors carry no source name (the caller adds it).
StatusOr<ParsedXml> ParseAlgo(const XmlElement& root) {
  ParsedXml out;
  Program& p = out.program;
  Attrs a(root, "<algo>");
  if (a.Has("name")) {
    LOOM_ASSIGN_OR_RETURN(p.name, a.Str("name"));
  }
  LOOM_ASSIGN_OR_RETURN(std::string proto, a.Str("proto"));
  auto pr = ParseProtocol(proto);
  if (!pr.ok()) return pr.status().WithContext("<algo>");
  p.protocol = *pr;
  LOOM_ASSIGN_OR_RETURN(p.num_ranks, a.Int("ngpus"));
  LOOM_ASSIGN_OR_RETURN(p.num_channels, a.Int("nchannels"));
  LOOM_ASSIGN_OR_RETURN(p.chunks_per_loop, a.Int("nchunksperloop"));
  LOOM_ASSIGN_OR_RETURN(std::string coll, a.Str("coll"));
  const CollectiveSpelling* spelling = nullptr;
  for (const auto& cs : kCollectives)
    if (cs.text == coll) spelling = &cs;
  if (spelling == nullptr) return InvalidArgumentError(StrCat("<algo>: unknown coll '", coll, "'"));
  p.collective = spelling->coll;
  LOOM_ASSIGN_OR_RETURN(p.in_place, a.Bool01("inplace"));
  if (a.Has("outofplace")) {
    LOOM_ASSIGN_OR_RETURN(p.out_of_place, a.Bool01("outofplace"));
  }
  if (a.Has("minBytes")) {
    LOOM_ASSIGN_OR_RETURN(p.min_bytes, a.Int64("minBytes"));
  }
  if (a.Has("maxBytes")) {
    LOOM_ASSIGN_OR_RETURN(p.max_bytes, a.Int64("maxBytes"));
  }
  if (a.Has("nthreads")) {
    LOOM_ASSIGN_OR_RETURN(p.num_threads, a.Int("nthreads"));
  }
  if (a.Has("redop")) p.reduce_op = *a.Str("redop");
  for (const XmlElement& c : root.children) {
    if (c.name != "gpu")
      return InvalidArgumentError(StrCat("unexpected <", c.name, "> (line ", c.line,
                                         "); <algo> holds only <gpu> elements"));
    LOOM_ASSIGN_OR_RETURN(GpuProgram g, ParseGpu(c));
    p.gpus.push_back(std::move(g));
  }
  if (spelling->dialects == 1) out.dialect = Dialect::kMsccl;
  else if (spelling->dialects == 2) out.dialect = Dialect::kExecutor;
  else if (p.out_of_place && p.min_bytes && p.max_bytes) out.dialect = Dialect::kExecutor;
  else out.dialect = Dialect::kMsccl;
  return out;
}

}  // namespace

StatusOr<ParsedXml> ParseMscclXml(std::string_view text, std::string_view source) {
  auto doc = internal::ParseXml(text, source);
  if (!doc.ok()) return doc.status();  // already names source:line:column
  if (doc->name != "algo")
    return InvalidArgumentError(
        StrCat(source, ": the root element is <", doc->name, ">, expected <algo>"));
  auto parsed = ParseAlgo(*doc);
  if (!parsed.ok()) return parsed.status().WithContext(source);
  return parsed;
}

StatusOr<ParsedXml> ReadMscclXmlFile(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseMscclXml(text, path);
}

StatusOr<std::string> WriteMscclXml(const Program& program, Dialect dialect) {
  std::string_view coll;
  int bit = dialect == Dialect::kMsccl ? 1 : 2;
  for (const auto& cs : kCollectives)
    if (cs.coll == program.collective && (cs.dialects & bit)) {
      coll = cs.text;
      break;
    }
  if (coll.empty())
    return InvalidArgumentError(StrCat("coll ", CollectiveDisplayName(program.collective),
                                       " cannot be written in the ", DialectName(dialect),
                                       " dialect"));
  Program p = program;
  ComputeHasDep(p);
  std::string out;
  out += StrCat("<algo name=\"", internal::XmlEscape(p.name), "\" proto=\"",
                ProtocolName(p.protocol), "\" nchannels=\"", p.num_channels,
                "\" nchunksperloop=\"", p.chunks_per_loop, "\" ngpus=\"", p.num_ranks,
                "\" coll=\"", coll, "\" inplace=\"", p.in_place ? 1 : 0, "\"");
  std::optional<bool> oop = p.out_of_place;
  std::optional<int64_t> min_b = p.min_bytes, max_b = p.max_bytes;
  if (dialect == Dialect::kExecutor) {
    if (!oop) oop = true;
    if (!min_b) min_b = 0;
    if (!max_b) max_b = kLegacyDefaultMaxBytes;
  }
  if (oop) out += StrCat(" outofplace=\"", *oop ? 1 : 0, "\"");
  if (min_b) out += StrCat(" minBytes=\"", *min_b, "\"");
  if (max_b) out += StrCat(" maxBytes=\"", *max_b, "\"");
  if (p.num_threads) out += StrCat(" nthreads=\"", *p.num_threads, "\"");
  if (p.reduce_op) out += StrCat(" redop=\"", internal::XmlEscape(*p.reduce_op), "\"");
  out += ">\n";
  for (const GpuProgram& g : p.gpus) {
    out += StrCat("  <gpu id=\"", g.rank, "\" i_chunks=\"", g.input_chunks, "\" o_chunks=\"",
                  g.output_chunks, "\" s_chunks=\"", g.scratch_chunks, "\">\n");
    // XML s index of each IR step: each step is preceded by deps.size()-1 nops.
    std::map<int, std::vector<int>> xml_index;  // tb id -> per IR step
    for (const ThreadBlock& tb : g.tbs) {
      auto& v = xml_index[tb.id];
      int s = 0;
      for (const Step& st : tb.steps) {
        s += st.deps.size() > 1 ? static_cast<int>(st.deps.size()) - 1 : 0;
        v.push_back(s++);
      }
    }
    auto xml_step = [&](const StepRef& d) {
      auto it = xml_index.find(d.tb);
      if (it == xml_index.end() || d.step < 0 || d.step >= static_cast<int>(it->second.size()))
        return d.step;  // invalid reference; written as is, the validator names it
      return it->second[static_cast<size_t>(d.step)];
    };
    for (const ThreadBlock& tb : g.tbs) {
      if (dialect == Dialect::kExecutor)
        for (const Step& st : tb.steps)
          if (st.op == OpType::kResidualAdd)
            return InvalidArgumentError(
                StrCat(Where(g.rank, tb.id), ": 'ra' steps cannot be written for the executor"));
      out += StrCat("    <tb id=\"", tb.id, "\" send=\"", tb.send_peer, "\" recv=\"",
                    tb.recv_peer, "\" chan=\"", tb.channel, "\">\n");
      int s = 0;
      auto emit = [&](OpType op, Buffer sb, int so, Buffer db, int dof, int cnt,
                      const StepRef* dep, bool hasdep) {
        out += StrCat("      <step s=\"", s++, "\" type=\"", OpTypeName(op), "\" srcbuf=\"",
                      BufferName(sb), "\" srcoff=\"", so, "\" dstbuf=\"", BufferName(db),
                      "\" dstoff=\"", dof, "\" cnt=\"", cnt, "\" depid=\"",
                      dep ? dep->tb : -1, "\" deps=\"", dep ? xml_step(*dep) : -1,
                      "\" hasdep=\"", hasdep ? 1 : 0, "\"/>\n");
      };
      for (const Step& st : tb.steps) {
        for (size_t k = 0; k + 1 < st.deps.size(); ++k)
          emit(OpType::kNop, Buffer::kInput, -1, Buffer::kOutput, -1, 0, &st.deps[k], false);
        emit(st.op, st.src_buffer, st.src_offset, st.dst_buffer, st.dst_offset, st.count,
             st.deps.empty() ? nullptr : &st.deps.back(), st.has_dep);
      }
      out += "    </tb>\n";
    }
    out += "  </gpu>\n";
  }
  out += "</algo>\n";
  return out;
}

Status WriteMscclXmlFile(const std::string& path, const Program& program, Dialect dialect) {
  LOOM_ASSIGN_OR_RETURN(std::string text, WriteMscclXml(program, dialect));
  return WriteFileAtomically(path, text);
}

}  // namespace loom::comm::program
