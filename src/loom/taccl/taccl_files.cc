#include "loom/taccl/taccl_files.h"

#include <algorithm>
#include <cmath>

#include "loom/base/file_io.h"
#include "loom/base/json.h"
#include "loom/base/strings.h"

namespace loom::taccl {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

StatusOr<double> PositiveField(const JsonValue& v, std::string_view key, bool allow_zero) {
  LOOM_ASSIGN_OR_RETURN(double x, v.GetDouble(key));
  if (!std::isfinite(x) || x < 0 || (!allow_zero && x == 0))
    return v.Error(StrCat("field '", key, "' must be ", allow_zero ? ">= 0" : "> 0"));
  return x;
}

StatusOr<std::vector<int>> IntList(const JsonValue& v) {
  LOOM_ASSIGN_OR_RETURN(auto elems, v.Elements());
  std::vector<int> out;
  for (const auto& e : elems) {
    LOOM_ASSIGN_OR_RETURN(int64_t x, e.AsInt());
    if (x < -1000000 || x > 1000000) return e.Error("integer out of range");
    out.push_back(static_cast<int>(x));
  }
  return out;
}

StatusOr<int> IntKey(const JsonValue& parent, const std::string& key) {
  auto r = ParseInt(key, "GPU id");
  if (!r.ok() || *r < 0 || *r > 1000000)
    return parent.Error(StrCat("key '", key, "' is not a GPU id"));
  return static_cast<int>(*r);
}

}  // namespace

StatusOr<NodeProfile> ParseTacclProfile(std::string_view text, std::string_view source) {
  LOOM_ASSIGN_OR_RETURN(JsonValue root, ParseJson(text, source));
  if (!root.IsObject()) return root.Error("a TACCL profile must be a JSON object");
  LOOM_ASSIGN_OR_RETURN(std::string name, root.GetString("name"));
  LOOM_ASSIGN_OR_RETURN(int64_t gpus, root.GetInt("gpus_per_node"));
  LOOM_ASSIGN_OR_RETURN(int64_t nics, root.GetInt("nics_per_node"));
  LOOM_ASSIGN_OR_RETURN(double alpha, PositiveField(root, "alpha", true));
  LOOM_ASSIGN_OR_RETURN(double ralpha, PositiveField(root, "remote_alpha", true));
  LOOM_ASSIGN_OR_RETURN(double rbeta, PositiveField(root, "remote_beta", false));
  LOOM_ASSIGN_OR_RETURN(JsonValue betas_v, root.Get("node_betas_list"));
  LOOM_ASSIGN_OR_RETURN(auto betas_e, betas_v.Elements());
  std::vector<double> betas;
  for (const auto& e : betas_e) {
    LOOM_ASSIGN_OR_RETURN(double b, e.AsDouble());
    if (!(b > 0) || !std::isfinite(b)) return e.Error("betas must be > 0");
    betas.push_back(b);
  }
  // Scale and chunk size: TACCL bakes them into the profile (brief 3.1). loom reads them from
  // the name's size suffix unless the file states them.
  double chunk_bytes = 0, scale = 0;
  struct Known { const char* suffix; double bytes, scale; };
  const Known known[] = {{"_1MB", kMiB, 1}, {"_32KB", 32 * 1024.0, 10}, {"_1KB", 1024.0, 100}};
  for (const auto& k : known) {
    std::string_view n = name;
    std::string_view suf = k.suffix;
    if (n.size() >= suf.size() && n.substr(n.size() - suf.size()) == suf) {
      chunk_bytes = k.bytes;
      scale = k.scale;
    }
  }
  LOOM_ASSIGN_OR_RETURN(chunk_bytes, root.GetDouble("loom_chunk_bytes", chunk_bytes));
  LOOM_ASSIGN_OR_RETURN(scale, root.GetDouble("loom_time_scale", scale));
  if (!(chunk_bytes > 0) || !(scale > 0))
    return root.Error(StrCat("name '", name, "': cannot infer the profile's chunk size and time ",
                             "scale (suffix _1MB, _32KB or _1KB, or fields loom_chunk_bytes and ",
                             "loom_time_scale)"));
  auto beta_of = [&](double b) { return b / scale / chunk_bytes; };
  NodeProfile p;
  p.gpus = static_cast<int>(gpus);
  p.nics = static_cast<int>(nics);
  p.nic_alpha_us = ralpha / scale;
  p.nic_beta_us_per_byte = beta_of(rbeta);
  if (StartsWithNoCase(name, "dgx2")) {
    if (gpus != 16) return root.Error("DGX-2 profiles have gpus_per_node 16");
    if (betas.size() != 1) return root.Error("DGX-2 node_betas_list has one entry (the switch)");
    p = [&] { NodeProfile d = Dgx2Profile(); return d; }();
    p.nics = static_cast<int>(nics);
    p.switch_alpha_us = alpha / scale;
    p.switch_beta_us_per_byte = beta_of(betas[0]);
    p.nic_alpha_us = ralpha / scale;
    p.nic_beta_us_per_byte = beta_of(rbeta);
  } else if (StartsWithNoCase(name, "ndv2")) {
    if (gpus != 8) return root.Error("NDv2 profiles have gpus_per_node 8");
    if (betas.size() != 2)
      return root.Error("NDv2 node_betas_list has two entries (doubled, single NVLink)");
    NodeProfile d = Ndv2Profile();
    d.nics = static_cast<int>(nics);
    for (auto& l : d.links) {
      bool doubled = std::fabs(l.beta_us_per_byte * kMiB - 23.0) < 1e-9;
      l.alpha_us = alpha / scale;
      l.beta_us_per_byte = beta_of(doubled ? betas[0] : betas[1]);
    }
    d.nic_alpha_us = p.nic_alpha_us;
    d.nic_beta_us_per_byte = p.nic_beta_us_per_byte;
    p = d;
  } else {
    return root.Error(StrCat("name '", name, "': TACCL profiles are DGX2_* or NDv2_* (for other ",
                             "hardware use loom's topology format, docs/formats/taccl_topology.md)"));
  }
  if (p.nics < 1 || p.nics > p.gpus) return root.Error("nics_per_node must be 1..gpus_per_node");
  p.name = name;
  return p;
}

StatusOr<NodeProfile> ReadTacclProfile(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseTacclProfile(text, path);
}

StatusOr<Sketch> ParseTacclSketch(std::string_view text, std::string_view source) {
  LOOM_ASSIGN_OR_RETURN(JsonValue root, ParseJson(text, source));
  if (!root.IsObject()) return root.Error("a TACCL sketch must be a JSON object");
  Sketch s;
  s.source = std::string(source);
  LOOM_ASSIGN_OR_RETURN(int64_t nnodes, root.GetInt("nnodes"));
  if (nnodes < 1 || nnodes > 1024) return root.Error("nnodes must be 1..1024");
  s.nnodes = static_cast<int>(nnodes);
  LOOM_ASSIGN_OR_RETURN(JsonValue intra, root.Get("intranode_sketch"));
  LOOM_ASSIGN_OR_RETURN(std::string strategy, intra.GetString("strategy"));
  if (strategy == "none") s.intra = IntraStrategy::kNone;
  else if (strategy == "switch") s.intra = IntraStrategy::kSwitch;
  else if (strategy == "minmax") s.intra = IntraStrategy::kMinMax;
  else if (strategy == "maxmin") s.intra = IntraStrategy::kMaxMin;
  else return intra.Error(StrCat("strategy '", strategy, "' is not none, switch, minmax or maxmin"));
  if (s.intra == IntraStrategy::kSwitch) {
    LOOM_ASSIGN_OR_RETURN(JsonValue sw, intra.Get("switches"));
    LOOM_ASSIGN_OR_RETURN(auto sws, sw.Elements());
    for (const auto& e : sws) {
      LOOM_ASSIGN_OR_RETURN(auto ids, IntList(e));
      s.switches.push_back(ids);
    }
    LOOM_ASSIGN_OR_RETURN(JsonValue st, intra.Get("switch_hyperedge_strategy"));
    LOOM_ASSIGN_OR_RETURN(auto sts, st.Elements());
    for (const auto& e : sts) {
      LOOM_ASSIGN_OR_RETURN(std::string v, e.AsString());
      if (v != "uc-min" && v != "uc-max") return e.Error(StrCat("'", v, "' is not uc-min or uc-max"));
      s.switch_uc_max.push_back(v == "uc-max");
    }
    if (s.switch_uc_max.size() != s.switches.size())
      return st.Error(StrCat("has ", s.switch_uc_max.size(), " entries for ", s.switches.size(),
                             " switches"));
  }
  if (auto inter = root.Find("internode_sketch")) {
    s.has_internode = true;
    LOOM_ASSIGN_OR_RETURN(std::string st, inter->GetString("strategy"));
    if (st != "relay") return inter->Error(StrCat("strategy '", st, "' is not relay"));
    LOOM_ASSIGN_OR_RETURN(JsonValue conn, inter->Get("internode_conn"));
    if (conn.IsString()) {
      LOOM_ASSIGN_OR_RETURN(std::string mode, conn.AsString());
      if (mode != "direct-map" && mode != "fully-connected")
        return conn.Error(StrCat("'", mode, "' is not direct-map, fully-connected or a map"));
      s.conn_mode = mode;
    } else {
      LOOM_ASSIGN_OR_RETURN(auto members, conn.Members());
      for (const auto& [k, v] : members) {
        LOOM_ASSIGN_OR_RETURN(int g, IntKey(conn, k));
        LOOM_ASSIGN_OR_RETURN(s.conn[g], IntList(v));
      }
    }
    if (auto rev = inter->Find("gpus_to_sender_rev_map")) {
      LOOM_ASSIGN_OR_RETURN(auto members, rev->Members());
      for (const auto& [k, v] : members) {
        LOOM_ASSIGN_OR_RETURN(int g, IntKey(*rev, k));
        LOOM_ASSIGN_OR_RETURN(s.sender_rev_map[g], IntList(v));
      }
    }
    LOOM_ASSIGN_OR_RETURN(s.enforce_ordering, inter->GetBool("enforce_ordering", false));
  } else if (s.nnodes > 1) {
    return root.Error("internode_sketch is required with nnodes > 1");
  }
  if (auto sym = root.Find("symmetry_offsets")) {
    LOOM_ASSIGN_OR_RETURN(auto elems, sym->Elements());
    for (const auto& e : elems) {
      LOOM_ASSIGN_OR_RETURN(auto pair, IntList(e));
      if (pair.size() != 2) return e.Error("a symmetry offset is [offset, size]");
      s.symmetry_offsets.push_back({pair[0], pair[1]});
    }
  }
  if (auto hp = root.Find("hyperparameters")) {
    LOOM_ASSIGN_OR_RETURN(int64_t cu, hp->GetInt("input_chunkup", 1));
    if (cu < 1 || cu > 64) return hp->Error("input_chunkup must be 1..64");
    s.chunkup = static_cast<int>(cu);
  }
  return s;
}

StatusOr<Sketch> ReadTacclSketch(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseTacclSketch(text, path);
}

StatusOr<NodeProfile> ParseLoomTopology(std::string_view text, std::string_view source) {
  LOOM_ASSIGN_OR_RETURN(JsonValue root, ParseJson(text, source));
  if (!root.IsObject()) return root.Error("a loom topology must be a JSON object");
  LOOM_ASSIGN_OR_RETURN(std::string format, root.GetString("format"));
  if (format != "loom-taccl-topology/1")
    return root.Error(StrCat("format '", format, "' is not loom-taccl-topology/1"));
  NodeProfile p;
  LOOM_ASSIGN_OR_RETURN(p.name, root.GetString("name"));
  LOOM_ASSIGN_OR_RETURN(int64_t gpus, root.GetInt("gpus"));
  LOOM_ASSIGN_OR_RETURN(int64_t nics, root.GetInt("nics", 1));
  if (gpus < 1 || gpus > 1024) return root.Error("gpus must be 1..1024");
  if (nics < 1 || nics > gpus) return root.Error("nics must be 1..gpus");
  p.gpus = static_cast<int>(gpus);
  p.nics = static_cast<int>(nics);
  auto read_cost = [&](const JsonValue& v, double* alpha, double* beta) -> Status {
    LOOM_ASSIGN_OR_RETURN(*alpha, PositiveField(v, "alpha_us", true));
    LOOM_ASSIGN_OR_RETURN(double b, PositiveField(v, "beta_us_per_mib", false));
    *beta = b / kMiB;
    return OkStatus();
  };
  if (auto links = root.Find("links")) {
    LOOM_ASSIGN_OR_RETURN(auto elems, links->Elements());
    for (const auto& e : elems) {
      NodeProfile::LocalLink l;
      LOOM_ASSIGN_OR_RETURN(int64_t a, e.GetInt("a"));
      LOOM_ASSIGN_OR_RETURN(int64_t b, e.GetInt("b"));
      if (a < 0 || a >= gpus || b < 0 || b >= gpus || a == b)
        return e.Error(StrCat("link ", a, "-", b, ": endpoints must be distinct GPUs 0..", gpus - 1));
      l.a = static_cast<int>(a);
      l.b = static_cast<int>(b);
      LOOM_RETURN_IF_ERROR(read_cost(e, &l.alpha_us, &l.beta_us_per_byte));
      LOOM_ASSIGN_OR_RETURN(bool directed, e.GetBool("directed", false));
      l.both = !directed;
      p.links.push_back(l);
    }
  }
  if (auto m = root.Find("beta_matrix_us_per_mib")) {
    LOOM_ASSIGN_OR_RETURN(double alpha, PositiveField(root, "matrix_alpha_us", true));
    LOOM_ASSIGN_OR_RETURN(auto rows, m->Elements());
    if (static_cast<int64_t>(rows.size()) != gpus) return m->Error("must have one row per GPU");
    for (int d = 0; d < gpus; ++d) {
      LOOM_ASSIGN_OR_RETURN(auto cols, rows[d].Elements());
      if (static_cast<int64_t>(cols.size()) != gpus) return rows[d].Error("must have one entry per GPU");
      for (int src = 0; src < gpus; ++src) {
        LOOM_ASSIGN_OR_RETURN(double b, cols[src].AsDouble());
        if (!(b >= 0) || !std::isfinite(b)) return cols[src].Error("beta must be >= 0 (0 = no link)");
        if (b == 0) continue;
        if (src == d) return cols[src].Error("a GPU has no link to itself");
        // Row = destination, column = source, as TACCL's links[dst][src].
        p.links.push_back({src, d, alpha, b / kMiB, false});
      }
    }
  }
  if (auto sw = root.Find("switch")) {
    p.has_switch = true;
    LOOM_RETURN_IF_ERROR(read_cost(*sw, &p.switch_alpha_us, &p.switch_beta_us_per_byte));
  }
  LOOM_ASSIGN_OR_RETURN(JsonValue nic, root.Get("nic"));
  LOOM_RETURN_IF_ERROR(read_cost(nic, &p.nic_alpha_us, &p.nic_beta_us_per_byte));
  if (auto gn = root.Find("gpu_nic")) {
    LOOM_ASSIGN_OR_RETURN(p.gpu_nic, IntList(*gn));
    if (static_cast<int64_t>(p.gpu_nic.size()) != gpus) return gn->Error("one NIC per GPU required");
    for (int x : p.gpu_nic)
      if (x < 0 || x >= nics) return gn->Error(StrCat("NIC ", x, " is not in 0..", nics - 1));
  }
  if (p.links.empty() && !p.has_switch && gpus > 1)
    return root.Error("no links, beta_matrix_us_per_mib or switch: GPUs cannot talk");
  return p;
}

StatusOr<NodeProfile> LoadProfile(const std::string& spec) {
  if (spec == "ndv2") return Ndv2Profile();
  if (spec == "dgx2") return Dgx2Profile();
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(spec));
  if (text.find("loom-taccl-topology/") != std::string::npos) return ParseLoomTopology(text, spec);
  return ParseTacclProfile(text, spec);
}

}  // namespace loom::taccl
