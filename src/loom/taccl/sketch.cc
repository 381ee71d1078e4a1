#include "loom/taccl/sketch.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "loom/base/strings.h"

namespace loom::taccl {
namespace {

std::string Where(const Sketch& s, const std::string& field) {
  return StrCat(s.source.empty() ? "sketch" : s.source, ": ", field);
}

bool Near(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)); }

}  // namespace

Sketch DefaultSketch(const NodeProfile& profile, int nodes) {
  Sketch s;
  s.nnodes = nodes;
  s.intra = profile.has_switch ? IntraStrategy::kSwitch : IntraStrategy::kNone;
  if (profile.has_switch) {
    std::vector<int> all;
    for (int g = 0; g < profile.gpus; ++g) all.push_back(g);
    s.switches.push_back(all);
    s.switch_uc_max.push_back(false);
  }
  s.has_internode = nodes > 1;
  s.conn_mode = "direct-map";
  if (nodes > 1) s.symmetry_offsets.push_back({profile.gpus, profile.gpus * nodes});
  s.source = "default sketch";
  return s;
}

std::map<int, std::vector<int>> ResolvedConn(const Sketch& s, int gpus) {
  std::map<int, std::vector<int>> conn;
  if (s.conn_mode == "direct-map") {
    for (int g = 0; g < gpus; ++g) conn[g] = {g};
  } else if (s.conn_mode == "fully-connected") {
    for (int g = 0; g < gpus; ++g)
      for (int h = 0; h < gpus; ++h) conn[g].push_back(h);
  } else {
    conn = s.conn;
  }
  return conn;
}

Status ValidateSketch(const Sketch& s, const NodeProfile& p) {
  const auto conn = ResolvedConn(s, p.gpus);
  if (s.nnodes < 1 || s.nnodes > 1024) return InvalidArgumentError(Where(s, "nnodes must be 1..1024"));
  if (s.chunkup < 1 || s.chunkup > 64)
    return InvalidArgumentError(Where(s, "hyperparameters.input_chunkup must be 1..64"));
  auto check_gpu = [&](int g, const std::string& field) -> Status {
    if (g < 0 || g >= p.gpus)
      return InvalidArgumentError(Where(s, StrCat(field, ": GPU ", g, " is not in 0..", p.gpus - 1,
                                                  " (profile ", p.name, ")")));
    return OkStatus();
  };
  if (s.intra == IntraStrategy::kSwitch) {
    if (!p.has_switch)
      return InvalidArgumentError(Where(s, StrCat("intranode_sketch.strategy: 'switch' but profile ",
                                                  p.name, " has no switch")));
    if (s.switches.empty())
      return InvalidArgumentError(Where(s, "intranode_sketch.switches: empty"));
    if (s.switch_uc_max.size() != s.switches.size())
      return InvalidArgumentError(
          Where(s, "intranode_sketch.switch_hyperedge_strategy: one entry per switch required"));
    for (size_t i = 0; i < s.switches.size(); ++i) {
      std::set<int> seen;
      for (int g : s.switches[i]) {
        LOOM_RETURN_IF_ERROR(check_gpu(g, StrCat("intranode_sketch.switches[", i, "]")));
        if (!seen.insert(g).second)
          return InvalidArgumentError(
              Where(s, StrCat("intranode_sketch.switches[", i, "]: GPU ", g, " twice")));
      }
    }
  }
  if (s.nnodes > 1 && conn.empty())
    return InvalidArgumentError(Where(s, "internode_sketch.internode_conn: no sender GPUs"));
  for (const auto& [snd, rcv] : conn) {
    LOOM_RETURN_IF_ERROR(check_gpu(snd, "internode_sketch.internode_conn"));
    if (rcv.empty())
      return InvalidArgumentError(
          Where(s, StrCat("internode_sketch.internode_conn[", snd, "]: no receivers")));
    for (int r : rcv) LOOM_RETURN_IF_ERROR(check_gpu(r, StrCat("internode_sketch.internode_conn[", snd, "]")));
  }
  std::set<int> covered;
  for (const auto& [snd, gs] : s.sender_rev_map) {
    LOOM_RETURN_IF_ERROR(check_gpu(snd, "internode_sketch.gpus_to_sender_rev_map"));
    if (!conn.count(snd))
      return InvalidArgumentError(Where(
          s, StrCat("internode_sketch.gpus_to_sender_rev_map: GPU ", snd,
                    " forwards chunks but is not a sender in internode_conn")));
    for (int g : gs) {
      LOOM_RETURN_IF_ERROR(check_gpu(g, StrCat("internode_sketch.gpus_to_sender_rev_map[", snd, "]")));
      covered.insert(g);
    }
  }
  if (!s.sender_rev_map.empty() && static_cast<int>(covered.size()) != p.gpus)
    return InfeasibleError(Where(
        s, StrCat("internode_sketch.gpus_to_sender_rev_map: only ", covered.size(), " of ", p.gpus,
                  " GPUs have a sender, so some chunks can never leave their node")));
  for (size_t i = 0; i < s.symmetry_offsets.size(); ++i) {
    const int off = s.symmetry_offsets[i].first, size = s.symmetry_offsets[i].second;
    if (size <= 0 || (s.nnodes * p.gpus) % size != 0 || off < 0 || off >= size)
      return InvalidArgumentError(Where(
          s, StrCat("symmetry_offsets[", i, "] = [", off, ", ", size, "]: size must divide ",
                    s.nnodes * p.gpus, " ranks and 0 <= offset < size")));
  }
  return OkStatus();
}

StatusOr<Topology> BuildTopology(const NodeProfile& p, const Sketch& s) {
  LOOM_RETURN_IF_ERROR(ValidateSketch(s, p));
  Topology t;
  t.name = s.nnodes > 1 ? StrCat(p.name, "x", s.nnodes) : p.name;
  t.num_nodes = s.nnodes;
  t.gpus_per_node = p.gpus;
  t.nics_per_node = p.nics;
  t.nic_alpha_us = p.nic_alpha_us;
  t.nic_beta_us_per_byte = p.nic_beta_us_per_byte;
  t.gpu_nic = p.gpu_nic;
  const int G = p.gpus;
  for (int node = 0; node < s.nnodes; ++node) {
    int base = node * G;
    for (const auto& l : p.links) {
      t.links.push_back({base + l.a, base + l.b, LinkKind::kNvlink, l.alpha_us, l.beta_us_per_byte});
      if (l.both)
        t.links.push_back({base + l.b, base + l.a, LinkKind::kNvlink, l.alpha_us, l.beta_us_per_byte});
    }
    if (p.has_switch) {
      // Identical switch sets are parallel planes: beta divided by their count (brief 3.2).
      std::vector<std::pair<std::vector<int>, int>> sets;
      std::vector<bool> uc;
      if (s.intra == IntraStrategy::kSwitch) {
        for (size_t i = 0; i < s.switches.size(); ++i) {
          std::vector<int> sorted = s.switches[i];
          std::sort(sorted.begin(), sorted.end());
          auto it = std::find_if(sets.begin(), sets.end(), [&](auto& e) { return e.first == sorted; });
          if (it != sets.end()) {
            ++it->second;
          } else {
            sets.push_back({sorted, 1});
            uc.push_back(s.switch_uc_max[i]);
          }
        }
      } else {
        std::vector<int> all;
        for (int g = 0; g < G; ++g) all.push_back(g);
        sets.push_back({all, 1});
        uc.push_back(false);
      }
      for (size_t i = 0; i < sets.size(); ++i) {
        SwitchGroup sw;
        for (int g : sets[i].first) sw.ranks.push_back(base + g);
        sw.alpha_us = p.switch_alpha_us;
        sw.beta_us_per_byte = p.switch_beta_us_per_byte / sets[i].second;
        sw.uc_max = uc[i];
        for (int a : sw.ranks)
          for (int b : sw.ranks)
            if (a != b) t.links.push_back({a, b, LinkKind::kSwitch, sw.alpha_us, sw.beta_us_per_byte});
        t.switches.push_back(std::move(sw));
      }
    }
  }
  if (s.nnodes > 1) {
    for (int a = 0; a < s.nnodes; ++a)
      for (int b = 0; b < s.nnodes; ++b) {
        if (a == b) continue;
        for (const auto& [snd, rcvs] : ResolvedConn(s, G))
          for (int r : rcvs)
            t.links.push_back({a * G + snd, b * G + r, LinkKind::kNetwork, p.nic_alpha_us,
                               p.nic_beta_us_per_byte});
      }
  }
  LOOM_RETURN_IF_ERROR(t.Finalize());
  return t;
}

int ApplySymmetry(int rank, int offset, int size) {
  return (rank % size + offset) % size + (rank / size) * size;
}

Status CheckSymmetry(const Topology& t, const Sketch& s) {
  const int n = t.num_ranks();
  for (size_t i = 0; i < s.symmetry_offsets.size(); ++i) {
    const int off = s.symmetry_offsets[i].first, size = s.symmetry_offsets[i].second;
    std::string where = Where(s, StrCat("symmetry_offsets[", i, "] = [", off, ", ", size, "]"));
    if (size <= 0 || n % size != 0) return InvalidArgumentError(where + ": size must divide ranks");
    auto f = [&](int r) { return ApplySymmetry(r, off, size); };
    for (const Link& l : t.links) {
      int m = t.FindLink(f(l.src), f(l.dst));
      if (m < 0 || t.links[m].kind != l.kind || !Near(t.links[m].alpha_us, l.alpha_us) ||
          !Near(t.links[m].beta_us_per_byte, l.beta_us_per_byte))
        return InvalidArgumentError(StrCat(where, ": not an automorphism; link ", l.src, "->",
                                           l.dst, " maps to ", f(l.src), "->", f(l.dst),
                                           m < 0 ? " which does not exist" : " with another cost"));
    }
    for (int a = 0; a < n; ++a)
      for (int b = a + 1; b < n; ++b) {
        if ((t.NicOf(a) == t.NicOf(b)) != (t.NicOf(f(a)) == t.NicOf(f(b))) ||
            (t.SwitchOf(a) == t.SwitchOf(b)) != (t.SwitchOf(f(a)) == t.SwitchOf(f(b))))
          return InvalidArgumentError(StrCat(where, ": ranks ", a, " and ", b,
                                             " share a NIC or switch but their images do not"));
      }
    const int G = t.gpus_per_node;
    for (const auto& [snd, gs] : s.sender_rev_map)
      for (int node = 0; node < t.num_nodes; ++node) {
        int img = f(node * G + snd);
        auto it = s.sender_rev_map.find(t.LocalOf(img));
        for (int g : gs) {
          int gi = f(node * G + g);
          bool ok = it != s.sender_rev_map.end() && t.NodeOf(gi) == t.NodeOf(img) &&
                    std::count(it->second.begin(), it->second.end(), t.LocalOf(gi)) > 0;
          if (!ok)
            return InvalidArgumentError(StrCat(where, ": gpus_to_sender_rev_map is not symmetric (",
                                               "sender ", snd, " forwards ", g, ")"));
        }
      }
  }
  return OkStatus();
}

}  // namespace loom::taccl
