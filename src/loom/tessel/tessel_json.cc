#include "loom/tessel/tessel_json.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"

namespace loom::tessel {
namespace {

Json Num(double x) {
  if (std::fabs(x) < 9e15 && x == std::floor(x)) return Json(static_cast<int64_t>(x));
  return Json(x);
}

StatusOr<int> SmallInt(const JsonValue& v, std::string_view key, int lo, int hi) {
  LOOM_ASSIGN_OR_RETURN(int64_t x, v.GetInt(key));
  if (x < lo || x > hi) {
    LOOM_ASSIGN_OR_RETURN(JsonValue f, v.Get(key));
    return f.Error(StrCat("must be in [", lo, ", ", hi, "], got ", x));
  }
  return static_cast<int>(x);
}

StatusOr<double> Finite(const JsonValue& v, std::string_view key) {
  LOOM_ASSIGN_OR_RETURN(double x, v.GetDouble(key));
  if (!std::isfinite(x)) {
    LOOM_ASSIGN_OR_RETURN(JsonValue f, v.Get(key));
    return f.Error("must be finite");
  }
  return x;
}

StatusOr<std::vector<double>> Doubles(const JsonValue& v) {
  std::vector<double> out;
  LOOM_ASSIGN_OR_RETURN(auto elems, v.Elements());
  for (const auto& e : elems) {
    LOOM_ASSIGN_OR_RETURN(double x, e.AsDouble());
    out.push_back(x);
  }
  return out;
}

}  // namespace

Json PlacementToJson(const Placement& p) {
  Json blocks = Json::array();
  for (const Block& b : p.blocks) {
    Json dur = Json::array(), mem = Json::array();
    for (double d : b.duration) dur.push_back(Num(d));
    for (double m : b.memory) mem.push_back(Num(m));
    blocks.push_back({{"name", b.name}, {"type", std::string(BlockTypeName(b.type))},
                      {"devices", b.devices}, {"duration", dur}, {"memory", mem}});
  }
  Json edges = Json::array();
  for (const Edge& e : p.edges) edges.push_back({{"from", e.from}, {"to", e.to}, {"latency", Num(e.latency)}});
  Json caps = Json::array();
  for (int d = 0; d < p.num_devices; ++d)
    caps.push_back(p.Cap(d) == kNoCap ? Json(nullptr) : Num(p.Cap(d)));
  return {{"name", p.name}, {"num_devices", p.num_devices}, {"memory_cap", caps},
          {"blocks", blocks}, {"edges", edges}};
}

StatusOr<Placement> PlacementFromJson(const JsonValue& v) {
  Placement p;
  LOOM_ASSIGN_OR_RETURN(p.name, v.GetString("name", "placement"));
  LOOM_ASSIGN_OR_RETURN(p.num_devices, SmallInt(v, "num_devices", 1, 4096));
  LOOM_ASSIGN_OR_RETURN(JsonValue blocks, v.Get("blocks"));
  LOOM_ASSIGN_OR_RETURN(auto belems, blocks.Elements());
  if (belems.size() > 100000) return blocks.Error("more than 100000 blocks");
  for (const auto& e : belems) {
    Block b;
    LOOM_ASSIGN_OR_RETURN(b.name, e.GetString("name"));
    LOOM_ASSIGN_OR_RETURN(std::string type, e.GetString("type"));
    auto t = ParseBlockType(type);
    if (!t.ok()) return e.Error(t.status().message());
    b.type = *t;
    LOOM_ASSIGN_OR_RETURN(JsonValue devs, e.Get("devices"));
    LOOM_ASSIGN_OR_RETURN(auto dv, devs.Elements());
    for (const auto& d : dv) {
      LOOM_ASSIGN_OR_RETURN(int64_t x, d.AsInt());
      if (x < 0 || x >= p.num_devices) return d.Error("device out of range");
      b.devices.push_back(static_cast<int>(x));
    }
    LOOM_ASSIGN_OR_RETURN(JsonValue dur, e.Get("duration"));
    LOOM_ASSIGN_OR_RETURN(b.duration, Doubles(dur));
    LOOM_ASSIGN_OR_RETURN(JsonValue mem, e.Get("memory"));
    LOOM_ASSIGN_OR_RETURN(b.memory, Doubles(mem));
    if (b.duration.size() != b.devices.size()) return dur.Error("needs one entry per device");
    if (b.memory.size() != b.devices.size()) return mem.Error("needs one entry per device");
    p.blocks.push_back(std::move(b));
  }
  if (auto edges = v.Find("edges")) {
    LOOM_ASSIGN_OR_RETURN(auto ee, edges->Elements());
    for (const auto& e : ee) {
      Edge ed;
      LOOM_ASSIGN_OR_RETURN(int64_t from, e.GetInt("from"));
      LOOM_ASSIGN_OR_RETURN(int64_t to, e.GetInt("to"));
      if (from < 0 || to < 0 || from >= static_cast<int64_t>(p.blocks.size()) ||
          to >= static_cast<int64_t>(p.blocks.size()))
        return e.Error("edge names a block out of range");
      ed.from = static_cast<int>(from);
      ed.to = static_cast<int>(to);
      LOOM_ASSIGN_OR_RETURN(ed.latency, e.GetDouble("latency", 0.0));
      p.edges.push_back(ed);
    }
  }
  if (auto caps = v.Find("memory_cap")) {
    LOOM_ASSIGN_OR_RETURN(auto ce, caps->Elements());
    for (const auto& c : ce) {
      if (c.IsNull()) {
        p.memory_cap.push_back(kNoCap);
        continue;
      }
      LOOM_ASSIGN_OR_RETURN(double x, c.AsDouble());
      p.memory_cap.push_back(x);
    }
  }
  Status st = ValidatePlacement(p);
  if (!st.ok()) return v.Error(st.message());
  return p;
}

StatusOr<TesselPlan> ParseTesselJson(std::string_view text, std::string_view source) {
  LOOM_ASSIGN_OR_RETURN(JsonValue root, ParseJson(text, source));
  if (!root.IsObject()) return root.Error("expected an object");
  TesselPlan plan;
  LOOM_ASSIGN_OR_RETURN(plan.ndevs, SmallInt(root, "ndevs", 1, 4096));
  if (auto rep = root.Find("repetend"); rep && !rep->IsNull()) {
    LOOM_ASSIGN_OR_RETURN(auto r, Doubles(*rep));
    if (r.size() != 2 || !std::isfinite(r[0]) || !std::isfinite(r[1]))
      return rep->Error("expected [start, end]");
    plan.repetend_begin = r[0];
    plan.repetend_end = r[1];
    plan.has_repetend = true;
  }
  LOOM_ASSIGN_OR_RETURN(JsonValue blocks, root.Get("blocks"));
  LOOM_ASSIGN_OR_RETURN(auto belems, blocks.Elements());
  if (belems.size() > 10000000) return blocks.Error("too many blocks");
  for (const auto& e : belems) {
    TesselBlock b;
    LOOM_ASSIGN_OR_RETURN(b.mid, SmallInt(e, "mid", 0, 10000000));
    LOOM_ASSIGN_OR_RETURN(b.span, Finite(e, "span"));
    if (!(b.span > 0)) return e.Error("span must be positive");
    LOOM_ASSIGN_OR_RETURN(b.memory, Finite(e, "memory"));
    LOOM_ASSIGN_OR_RETURN(b.btype, e.GetString("btype"));
    if (!ParseBlockType(b.btype).ok()) return e.Error(StrCat("unknown btype '", b.btype, "'"));
    LOOM_ASSIGN_OR_RETURN(int64_t gid, e.GetInt("gid", -1));
    if (gid < -1 || gid > 10000000) return e.Error("gid out of range");
    b.gid = static_cast<int>(gid);
    LOOM_ASSIGN_OR_RETURN(b.step, Finite(e, "step"));
    LOOM_ASSIGN_OR_RETURN(JsonValue devs, e.Get("device"));
    LOOM_ASSIGN_OR_RETURN(auto dv, devs.Elements());
    if (dv.empty()) return devs.Error("no devices");
    for (const auto& d : dv) {
      LOOM_ASSIGN_OR_RETURN(int64_t x, d.AsInt());
      if (x < 0 || x >= plan.ndevs) return d.Error(StrCat("device ", x, " out of range"));
      b.device.push_back(static_cast<int>(x));
    }
    plan.blocks.push_back(std::move(b));
  }
  if (auto pl = root.Find("loom_placement")) {
    LOOM_ASSIGN_OR_RETURN(Placement p, PlacementFromJson(*pl));
    if (p.num_devices != plan.ndevs) return pl->Error("num_devices differs from ndevs");
    plan.placement = std::move(p);
  }
  return plan;
}

StatusOr<TesselPlan> ReadTesselJson(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseTesselJson(text, path);
}

Json TesselPlanToJson(const TesselPlan& plan) {
  Json blocks = Json::array();
  for (const TesselBlock& b : plan.blocks) {
    Json j = {{"mid", b.mid}, {"span", Num(b.span)}, {"memory", Num(b.memory)},
              {"btype", b.btype}, {"step", Num(b.step)}, {"device", b.device}};
    if (b.gid >= 0) j["gid"] = b.gid;
    blocks.push_back(std::move(j));
  }
  Json out = {{"ndevs", plan.ndevs}, {"blocks", blocks}};
  out["repetend"] = plan.has_repetend
                        ? Json::array({Num(plan.repetend_begin), Num(plan.repetend_end)})
                        : Json(nullptr);
  if (plan.placement) out["loom_placement"] = PlacementToJson(*plan.placement);
  return out;
}

Status WriteTesselJson(const std::string& path, const TesselPlan& plan) {
  return WriteJsonFile(path, TesselPlanToJson(plan));
}

TesselPlan PlanFromSchedule(const Placement& p, const Schedule& s) {
  TesselPlan plan;
  plan.ndevs = p.num_devices;
  plan.has_repetend = s.period > 0;
  plan.repetend_begin = s.window_begin;
  plan.repetend_end = s.window_end;
  for (const Op& op : s.ops) {
    const Block& b = p.blocks[static_cast<size_t>(op.block)];
    TesselBlock tb;
    tb.mid = op.mid;
    tb.span = b.Span();
    tb.memory = b.memory[0];
    tb.btype = b.type == BlockType::kForward || b.type == BlockType::kOther ? "forward" : "backward";
    tb.gid = op.block;
    tb.step = op.start;
    tb.device = b.devices;
    plan.blocks.push_back(std::move(tb));
  }
  plan.placement = p;
  return plan;
}

StatusOr<std::pair<Placement, Schedule>> ScheduleFromPlan(const TesselPlan& plan,
                                                          const Placement* fallback) {
  Placement p;
  if (plan.placement) p = *plan.placement;
  else if (fallback) p = *fallback;
  else {
    // Infer blocks from the plan: one block per gid (or per position within micro-batch 0).
    p.name = "inferred";
    p.num_devices = plan.ndevs;
    std::map<int, const TesselBlock*> by_gid;
    std::map<int, int> pos_in_mid;
    for (const TesselBlock& b : plan.blocks) {
      int gid = b.gid >= 0 ? b.gid : pos_in_mid[b.mid]++;
      if (!by_gid.count(gid)) by_gid[gid] = &b;
    }
    int expect = 0;
    for (const auto& [gid, b] : by_gid) {
      if (gid != expect++)
        return InvalidArgumentError(StrCat("gids are not 0..", by_gid.size() - 1, " (missing ",
                                           expect - 1, ")"));
      LOOM_ASSIGN_OR_RETURN(BlockType t, ParseBlockType(b->btype));
      p.AddBlock(StrCat(BlockTypeLetter(t), gid), t, b->device, b->span, b->memory);
    }
    LOOM_RETURN_IF_ERROR(ValidatePlacement(p));
  }
  if (p.num_devices != plan.ndevs)
    return InvalidArgumentError(StrCat("plan has ", plan.ndevs, " devices, placement ",
                                       p.num_devices));
  Schedule s;
  s.num_devices = plan.ndevs;
  std::map<int, int> pos_in_mid;
  int max_mid = -1;
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    const TesselBlock& b = plan.blocks[i];
    int gid = b.gid >= 0 ? b.gid : pos_in_mid[b.mid]++;
    if (gid >= static_cast<int>(p.blocks.size()))
      return InvalidArgumentError(StrCat("blocks[", i, "]: gid ", gid, " not in placement"));
    const Block& pb = p.blocks[static_cast<size_t>(gid)];
    std::vector<int> dv = b.device, pd = pb.devices;
    std::sort(dv.begin(), dv.end());
    std::sort(pd.begin(), pd.end());
    if (dv != pd)
      return InvalidArgumentError(StrCat("blocks[", i, "]: devices differ from block '", pb.name,
                                         "' of the placement"));
    s.ops.push_back({gid, b.mid, b.step});
    max_mid = std::max(max_mid, b.mid);
  }
  s.num_micro = max_mid + 1;
  if (plan.has_repetend) {
    s.window_begin = plan.repetend_begin;
    s.window_end = plan.repetend_end;
    s.period = plan.repetend_end - plan.repetend_begin;
  }
  return std::make_pair(std::move(p), std::move(s));
}

}  // namespace loom::tessel
