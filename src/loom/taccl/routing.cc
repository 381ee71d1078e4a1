#include "loom/taccl/routing.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "loom/base/strings.h"
#include "loom/taccl/milp.h"

namespace loom::taccl {
namespace {

// One node's share of a chunk's route: from `root` (inside the node) to `dsts`.
struct Segment {
  int chunk = 0;
  int root = 0;
  std::vector<int> dsts;  // sorted, root excluded
  bool home = false;      // root is the chunk's origin (not a relay landing)
};

// Intra-node BFS levels from root (NVLink and switch links only).
std::vector<int> IntraLevels(const Topology& t, int root) {
  std::vector<int> level(t.num_ranks(), -1);
  std::deque<int> q{root};
  level[root] = 0;
  while (!q.empty()) {
    int u = q.front();
    q.pop_front();
    for (int li : t.out_links[u]) {
      const Link& l = t.links[li];
      if (l.kind == LinkKind::kNetwork || level[l.dst] >= 0) continue;
      level[l.dst] = level[u] + 1;
      q.push_back(l.dst);
    }
  }
  return level;
}

void AddLoad(const Topology& t, int link, double cost, std::vector<double>* load, std::vector<int>* tmp) {
  t.ResourcesOf(link, tmp);
  for (int r : *tmp) (*load)[r] += cost;
}

double LinkLoadAfter(const Topology& t, int link, double cost, const std::vector<double>& load,
                     std::vector<int>* tmp) {
  t.ResourcesOf(link, tmp);
  double m = 0;
  for (int r : *tmp) m = std::max(m, load[r] + cost);
  return m;
}

// Candidate parent links of v for a segment: intra links u->v with level[u] == level[v] - 1.
std::vector<int> ParentLinks(const Topology& t, const std::vector<int>& level, int v) {
  std::vector<int> out;
  for (int li : t.in_links[v]) {
    const Link& l = t.links[li];
    if (l.kind != LinkKind::kNetwork && level[l.src] >= 0 && level[l.src] == level[v] - 1) out.push_back(li);
  }
  return out;
}

// Switch relay trees (TACCL's uc-min spirit): on a switch every destination is one hop away, so
// BFS levels force the root to send every copy itself and its out-port becomes the bottleneck.
// Here each destination attaches to the tree member with the least-loaded out-port (depth at
// most opt.switch_depth), spreading the forwarding over the switch. Fills parent / depth;
// false when the segment is not entirely on one switch.
bool SwitchRelayTree(const Topology& t, const Segment& seg, const RouteOptions& opt, std::vector<double>* load,
                     std::vector<int>* depth, std::vector<int>* parent) {
  int sw = t.SwitchOf(seg.root);
  if (sw < 0) return false;
  for (int d : seg.dsts)
    if (t.SwitchOf(d) != sw) return false;
  std::vector<int> tmp;
  const int N = t.num_ranks();
  std::vector<int> members{seg.root};
  std::fill(depth->begin(), depth->end(), -1);
  (*depth)[seg.root] = 0;
  // Destinations in rotated order from the root, so symmetric segments build symmetric trees.
  std::vector<int> order = seg.dsts;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return (a - seg.root + N) % N < (b - seg.root + N) % N; });
  for (int v : order) {
    int best = -1;
    double best_load = 0;
    for (int u : members) {
      if ((*depth)[u] >= opt.switch_depth) continue;
      int li = t.FindLink(u, v);
      if (li < 0) continue;
      // Only the sender's side differs between candidate parents (v's in-port carries the copy
      // whoever sends it), so compare the senders' out-port loads; ties go to the shallower.
      t.ResourcesOf(li, &tmp);
      double l = (*load)[tmp[0]] + 1e-9 * (*depth)[u];
      if (best < 0 || l < best_load - 1e-12) {
        best = li;
        best_load = l;
      }
    }
    if (best < 0) return false;
    (*parent)[v] = best;
    (*depth)[v] = (*depth)[t.links[best].src] + 1;
    members.push_back(v);
    AddLoad(t, best, t.links[best].Cost(opt.chunk_bytes), load, &tmp);
  }
  return true;
}

// Spread trees for chunks landed from the network (RouteOptions::landed_depth), Prim-style:
// repeatedly attach the unreached destination whose cheapest in-link from the tree (that link's
// load from the landed chunks routed so far, plus this chunk's cost) is least, at depth <=
// max_depth; not restricted to BFS levels. BFS levels make the landing GPU send every landed chunk
// over each of its links (2xNDv2: both single NVLinks at 46 us/MiB), so a network message that
// lands late takes long to spread; here the landing GPU sends each chunk about once and its
// neighbours forward it, which balances the spread over the node's links (2xNDv2 AllGather 1 MiB
// with a 3-message network plan: 64.1 us against 68.5 for the best BFS-level schedule).
bool LandedSpreadTree(const Topology& t, const Segment& seg, double bytes, int max_depth, std::vector<double>* load,
                      std::vector<int>* depth, std::vector<int>* parent) {
  const int N = t.num_ranks();
  std::vector<int> tmp;
  std::fill(depth->begin(), depth->end(), -1);
  (*depth)[seg.root] = 0;
  std::vector<bool> need(N, false);
  for (int d : seg.dsts) need[d] = true;
  for (size_t n = 0; n < seg.dsts.size(); ++n) {
    int best = -1;
    double best_key = 0;
    for (int v = 0; v < N; ++v) {
      if (!need[v] || (*depth)[v] >= 0) continue;
      for (int li : t.in_links[v]) {
        const Link& l = t.links[li];
        if (l.kind == LinkKind::kNetwork || (*depth)[l.src] < 0 || (*depth)[l.src] >= max_depth) continue;
        double key = LinkLoadAfter(t, li, l.Cost(bytes), *load, &tmp) + 1e-6 * (*depth)[l.src];
        if (best < 0 || key < best_key - 1e-12) {
          best = li;
          best_key = key;
        }
      }
    }
    if (best < 0) return false;
    (*parent)[t.links[best].dst] = best;
    (*depth)[t.links[best].dst] = (*depth)[t.links[best].src] + 1;
    AddLoad(t, best, t.links[best].Cost(bytes), load, &tmp);
  }
  return true;
}

// Two-level trees on a switch (RouteOptions::switch_group = g): the node's GPUs form blocks of g
// consecutive local ids; the root sends to its own block, and the block member at position p
// forwards to the GPUs at position p of every other block. All g blocks' chunks from one member
// to one GPU are then consecutive chunk ids on one link, which the all-link contiguity merge
// sends as one message: each switch in-port takes about 2 (G / g + g) messages per AllGather
// instead of one per chunk (0.3 us alpha each), at the same port load as direct sends. False when
// the segment is not on one switch or a forwarding member is not a destination.
bool SwitchGroupTree(const Topology& t, const Segment& seg, int g, std::vector<int>* depth, std::vector<int>* parent) {
  const int sw = t.SwitchOf(seg.root), G = t.gpus_per_node;
  if (sw < 0 || g < 2 || G % g != 0) return false;
  std::vector<bool> is_dst(t.num_ranks(), false);
  for (int d : seg.dsts) {
    if (t.SwitchOf(d) != sw || t.NodeOf(d) != t.NodeOf(seg.root)) return false;
    is_dst[d] = true;
  }
  const int base = t.NodeOf(seg.root) * G, block = t.LocalOf(seg.root) / g;
  std::fill(depth->begin(), depth->end(), -1);
  (*depth)[seg.root] = 0;
  for (int d : seg.dsts) {
    const int m = base + block * g + t.LocalOf(d) % g;  // the forwarding member for d
    const int from = t.LocalOf(d) / g == block || m == seg.root ? seg.root : m;
    if (from != seg.root && !is_dst[m]) return false;
    const int li = t.FindLink(from, d);
    if (li < 0) return false;
    (*parent)[d] = li;
    (*depth)[d] = from == seg.root ? 1 : 2;
  }
  return true;
}

// Leaf moves shared by the two local searches below: in every tree marked `active`, each leaf v
// (no children) may move to the parent link `better(v, its link, depths)` returns (-1: stay);
// `apply(from, to)` moves its load. Passes repeat until nothing moves (at most 50). Every move
// keeps each destination's single parent, so the trees stay trees.
void MoveLeaves(const Topology& t, const std::vector<bool>& active, std::vector<std::vector<int>>* depth,
                std::vector<std::vector<int>>* parent,
                const std::function<int(int, int, const std::vector<int>&)>& better,
                const std::function<void(int, int)>& apply) {
  const int N = t.num_ranks();
  for (int pass = 0; pass < 50; ++pass) {
    bool moved = false;
    for (size_t s = 0; s < parent->size(); ++s) {
      if (!active[s]) continue;
      std::vector<int>& par = (*parent)[s];
      std::vector<int>& dep = (*depth)[s];
      std::vector<int> children(N, 0);
      for (int v = 0; v < N; ++v)
        if (par[v] >= 0) ++children[t.links[par[v]].src];
      for (int v = 0; v < N; ++v) {
        if (par[v] < 0 || children[v] > 0) continue;
        const int cur = par[v];
        const int li = better(v, cur, dep);
        if (li < 0) continue;
        apply(cur, li);
        --children[t.links[cur].src];
        ++children[t.links[li].src];
        par[v] = li;
        dep[v] = dep[t.links[li].src] + 1;
        moved = true;
      }
    }
    if (!moved) break;
  }
}

// Local search after the landed-spread trees (Prim fixes each chunk's tree before seeing the
// later ones): move a leaf to another tree member (depth < max_depth, with a link to it) while
// that lowers the heaviest resource of the link it leaves; loads are the landed chunks' only.
void RebalanceLandedTrees(const Topology& t, double bytes, int max_depth, const std::vector<bool>& spread,
                          std::vector<std::vector<int>>* depth, std::vector<std::vector<int>>* parent,
                          std::vector<double>* load) {
  std::vector<int> tmp;
  auto heaviest = [&](int li, double extra) {
    t.ResourcesOf(li, &tmp);
    double m = 0;
    for (int r : tmp) m = std::max(m, (*load)[r] + extra);
    return m;
  };
  auto better = [&](int v, int cur, const std::vector<int>& dep) {
    int best = -1;
    double best_after = heaviest(cur, 0) - 1e-9;  // must end strictly below the link it leaves
    for (int li : t.in_links[v]) {
      const Link& l = t.links[li];
      if (li == cur || l.kind == LinkKind::kNetwork || dep[l.src] < 0 || dep[l.src] >= max_depth) continue;
      double after = heaviest(li, l.Cost(bytes));
      if (after < best_after) {
        best = li;
        best_after = after;
      }
    }
    return best;
  };
  MoveLeaves(t, spread, depth, parent, better, [&](int from, int to) {
    AddLoad(t, from, -t.links[from].Cost(bytes), load, &tmp);
    AddLoad(t, to, t.links[to].Cost(bytes), load, &tmp);
  });
}

// Local search after the greedy relay trees: the greedy fixes each segment before seeing the
// later ones, so move leaves from the busiest out-ports to the least-loaded member of the same
// tree (within the depth limit) while that lowers the sender's load; only out-port loads change.
void RebalanceSwitchTrees(const Topology& t, const RouteOptions& opt, const std::vector<bool>& is_tree,
                          std::vector<std::vector<int>>* depth, std::vector<std::vector<int>>* parent,
                          std::vector<double>* load) {
  std::vector<int> tmp;
  const int N = t.num_ranks();
  auto out_port = [&](int li) {
    t.ResourcesOf(li, &tmp);
    return tmp[0];
  };
  auto better = [&](int v, int cur, const std::vector<int>& dep) {
    const int u = t.links[cur].src;
    int best = -1;
    double best_load = (*load)[out_port(cur)] - t.links[cur].Cost(opt.chunk_bytes) - 1e-9;  // strictly below u's
    for (int w = 0; w < N; ++w) {
      if (w == u || w == v || dep[w] < 0 || dep[w] >= opt.switch_depth || t.FindLink(w, v) < 0) continue;
      double lw = (*load)[out_port(t.FindLink(w, v))];
      if (lw < best_load) {
        best = w;
        best_load = lw;
      }
    }
    return best < 0 ? -1 : t.FindLink(best, v);
  };
  MoveLeaves(t, is_tree, depth, parent, better, [&](int from, int to) {
    (*load)[out_port(from)] -= t.links[from].Cost(opt.chunk_bytes);
    (*load)[out_port(to)] += t.links[to].Cost(opt.chunk_bytes);
  });
}

// Routes the segments of one node: greedy, then (if small enough) the MILP warm-started from it.
// Returns per segment its tree (link ids, parents first).
StatusOr<std::vector<std::vector<int>>> RouteNode(const Topology& t, const std::vector<Segment>& segs,
                                                  const RouteOptions& opt, std::vector<double>* load,
                                                  Routing* stats) {
  const double bytes = opt.chunk_bytes;
  std::vector<int> tmp;
  std::vector<std::vector<int>> levels(segs.size());
  // Greedy: deepest destinations first; each picks the least-loaded parent link.
  std::vector<std::vector<int>> parent(segs.size());  // per segment, per rank: link id or -1
  std::vector<double> gload = *load;
  std::vector<bool> is_tree(segs.size(), false);
  std::vector<double> landed_load(t.num_resources(), 0);  // landed_depth: the landed chunks' load
  std::vector<bool> spread(segs.size(), false);           // landed_depth: segments with spread trees
  // Landed-spread trees first, the highest chunks first: a run's last chunks travel in the
  // network's last message, whose spread is the schedule's tail, so they get the least-loaded
  // links (2xNDv2 1 MiB AllGather 64.3 -> 64.1 us, ReduceScatter 4 MiB 232.0 -> 230.1 us).
  if (opt.landed_depth > 0)
    for (size_t s = segs.size(); s-- > 0;) {
      if (segs[s].home) continue;
      levels[s] = IntraLevels(t, segs[s].root);
      parent[s].assign(t.num_ranks(), -1);
      spread[s] = LandedSpreadTree(t, segs[s], bytes, opt.landed_depth, &landed_load, &levels[s], &parent[s]);
    }
  for (size_t s = 0; s < segs.size(); ++s) {
    const Segment& seg = segs[s];
    if (spread[s]) continue;
    levels[s] = IntraLevels(t, seg.root);
    parent[s].assign(t.num_ranks(), -1);
    if (opt.switch_group > 1 && SwitchGroupTree(t, seg, opt.switch_group, &levels[s], &parent[s])) {
      for (int v = 0; v < t.num_ranks(); ++v)
        if (parent[s][v] >= 0) AddLoad(t, parent[s][v], t.links[parent[s][v]].Cost(bytes), &gload, &tmp);
      continue;
    }
    if (opt.switch_relay && !(opt.switch_direct_home && seg.home) &&
        SwitchRelayTree(t, seg, opt, &gload, &levels[s], &parent[s])) {
      is_tree[s] = true;
      continue;
    }
    std::vector<int> order = seg.dsts;
    for (int d : order)
      if (levels[s][d] < 0)
        return InfeasibleError(StrCat("GPU ", d, " cannot be reached from GPU ", seg.root,
                                      " inside node ", t.NodeOf(seg.root), " (chunk ", seg.chunk,
                                      "): the node's links do not connect them"));
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      return levels[s][a] != levels[s][b] ? levels[s][a] > levels[s][b] : a < b;
    });
    std::vector<bool> active(t.num_ranks(), false);
    for (int d : order) active[d] = true;
    for (size_t i = 0; i < order.size(); ++i) {
      int v = order[i];
      if (!active[v] || v == seg.root || parent[s][v] >= 0) continue;
      int best = -1;
      double best_load = 0;
      for (int li : ParentLinks(t, levels[s], v)) {
        double l = LinkLoadAfter(t, li, t.links[li].Cost(bytes), gload, &tmp) + (active[t.links[li].src] ? 0 : 1e-9);
        if (best < 0 || l < best_load - 1e-12) {
          best = li;
          best_load = l;
        }
      }
      parent[s][v] = best;
      AddLoad(t, best, t.links[best].Cost(bytes), &gload, &tmp);
      int u = t.links[best].src;
      if (!active[u] && u != seg.root) {
        active[u] = true;
        // u joins the tree; it is shallower, so insert it to be processed later in this pass.
        order.push_back(u);
        std::stable_sort(order.begin() + static_cast<long>(i) + 1, order.end(), [&](int a, int b) {
          return levels[s][a] != levels[s][b] ? levels[s][a] > levels[s][b] : a < b;
        });
      }
    }
  }
  RebalanceSwitchTrees(t, opt, is_tree, &levels, &parent, &gload);
  if (opt.landed_depth > 0 && opt.landed_rebalance) RebalanceLandedTrees(t, bytes, opt.landed_depth, spread, &levels, &parent, &landed_load);
  for (size_t s = 0; s < segs.size(); ++s)
    for (int v = 0; spread[s] && v < t.num_ranks(); ++v)
      if (parent[s][v] >= 0) AddLoad(t, parent[s][v], t.links[parent[s][v]].Cost(bytes), &gload, &tmp);
  // MILP over the same choices.
  int binaries = 0;
  for (size_t s = 0; s < segs.size(); ++s)
    for (int v = 0; v < t.num_ranks(); ++v)
      if (levels[s][v] > 0) binaries += static_cast<int>(ParentLinks(t, levels[s], v).size()) + 1;
  bool milp = opt.use_milp && !opt.switch_relay && opt.landed_depth == 0 && opt.switch_group == 0 && binaries <= opt.max_milp_binaries && !segs.empty();
  if (milp) {
    Milp m;
    std::vector<double> start;
    int T = m.AddVar(0, 1e12, 1.0, false);
    double base_max = 0;
    for (double x : *load) base_max = std::max(base_max, x);
    double greedy_max = 0;
    for (double x : gload) greedy_max = std::max(greedy_max, x);
    start.push_back(greedy_max);
    std::map<int, std::vector<std::pair<int, double>>> res_terms;  // resource -> (col, cost)
    // Switch hyperedge strategy: +/- 0.01 of the cheapest link cost per distinct switch link used.
    double unit = 1e30;
    for (const Link& l : t.links) unit = std::min(unit, l.Cost(bytes));
    std::map<int, int> z_col;
    struct Choice { size_t seg; int v; int link; int col; };
    std::vector<Choice> choices;
    for (size_t s = 0; s < segs.size(); ++s) {
      const Segment& seg = segs[s];
      std::vector<int> a_col(t.num_ranks(), -1);  // -1: fixed 1 (dst/root) or unused
      std::vector<bool> is_dst(t.num_ranks(), false);
      for (int d : seg.dsts) is_dst[d] = true;
      std::vector<bool> g_active(t.num_ranks(), false);
      for (int v = 0; v < t.num_ranks(); ++v)
        if (parent[s][v] >= 0) {
          g_active[v] = true;
          g_active[t.links[parent[s][v]].src] = true;
        }
      for (int v = 0; v < t.num_ranks(); ++v)
        if (levels[s][v] > 0 && !is_dst[v]) {
          a_col[v] = m.AddVar(0, 1, 0, true);
          start.push_back(g_active[v] ? 1 : 0);
        }
      for (int v = 0; v < t.num_ranks(); ++v) {
        if (levels[s][v] <= 0) continue;
        std::vector<int> cols;
        std::vector<double> ones;
        for (int li : ParentLinks(t, levels[s], v)) {
          int c = m.AddVar(0, 1, 0, true);
          start.push_back(parent[s][v] == li ? 1 : 0);
          choices.push_back({s, v, li, c});
          cols.push_back(c);
          ones.push_back(1);
          int u = t.links[li].src;
          if (a_col[u] >= 0) m.AddRow({c, a_col[u]}, {1, -1}, -1e30, 0);  // p <= a[u]
          double cost = t.links[li].Cost(bytes);
          t.ResourcesOf(li, &tmp);
          for (int r : tmp) res_terms[r].push_back({c, cost});
          int sw = t.links[li].kind == LinkKind::kSwitch ? t.SwitchOf(u) : -1;
          if (sw >= 0) {
            auto it = z_col.find(li);
            if (it == z_col.end()) {
              double coef = (t.switches[sw].uc_max ? -0.01 : 0.01) * unit;
              int z = m.AddVar(0, 1, coef, true);
              start.push_back(0);
              it = z_col.emplace(li, z).first;
            }
            m.AddRow({c, it->second}, {1, -1}, -1e30, 0);  // z >= p
            if (start[it->second] == 0 && parent[s][v] == li) start[it->second] = 1;
          }
        }
        if (a_col[v] >= 0) {
          cols.push_back(a_col[v]);
          ones.push_back(-1);
          m.AddRow(cols, ones, 0, 0);
        } else if (is_dst[v]) {
          m.AddRow(cols, ones, 1, 1);
        } else {
          m.AddRow(cols, ones, 0, 0);
        }
      }
    }
    // uc-max maximises distinct links: z may only be 1 when the link is used.
    for (auto [li, z] : z_col) {
      if (!t.switches[t.SwitchOf(t.links[li].src)].uc_max) continue;
      std::vector<int> cols{z};
      std::vector<double> co{1};
      for (const auto& ch : choices)
        if (ch.link == li) {
          cols.push_back(ch.col);
          co.push_back(-1);
        }
      m.AddRow(cols, co, -1e30, 0);
      // Warm start: z = 1 iff some greedy choice uses it.
      bool used = false;
      for (const auto& ch : choices)
        if (ch.link == li && start[ch.col] > 0.5) used = true;
      start[z] = used ? 1 : 0;
    }
    for (const auto& [r, terms] : res_terms) {
      std::vector<int> cols{T};
      std::vector<double> co{-1};
      for (auto [c, cost] : terms) {
        cols.push_back(c);
        co.push_back(cost);
      }
      m.AddRow(cols, co, -1e30, -(*load)[r]);  // base + sum <= T
    }
    m.AddRow({T}, {1}, base_max, 1e30);
    // The warm start's T must cover every resource, including the z terms' objective.
    LOOM_ASSIGN_OR_RETURN(Milp::Result res, m.Solve(start, opt.max_nodes, opt.max_seconds));
    ++stats->milp_models;
    stats->milp_binaries += m.num_integers();
    if (res.optimal) ++stats->milp_optimal;
    stats->load_bound_us = std::max(stats->load_bound_us, res.bound);
    if (res.has_solution && res.x[T] <= greedy_max + 1e-9) {
      for (size_t s = 0; s < segs.size(); ++s) std::fill(parent[s].begin(), parent[s].end(), -1);
      for (const auto& ch : choices)
        if (res.x[ch.col] > 0.5) parent[ch.seg][ch.v] = ch.link;
    }
  }
  // Emit trees (parents first: by level) and commit the load.
  std::vector<std::vector<int>> trees(segs.size());
  for (size_t s = 0; s < segs.size(); ++s) {
    std::vector<int> vs;
    for (int v = 0; v < t.num_ranks(); ++v)
      if (parent[s][v] >= 0) vs.push_back(v);
    std::sort(vs.begin(), vs.end(), [&](int a, int b) {
      return levels[s][a] != levels[s][b] ? levels[s][a] < levels[s][b] : a < b;
    });
    for (int v : vs) {
      trees[s].push_back(parent[s][v]);
      AddLoad(t, parent[s][v], t.links[parent[s][v]].Cost(bytes), load, &tmp);
    }
  }
  return trees;
}

}  // namespace

Topology Transposed(const Topology& topo) {
  Topology t = topo;
  for (Link& l : t.links) std::swap(l.src, l.dst);
  LOOM_CHECK_OK(t.Finalize());
  return t;
}

Sketch TransposedSketch(const Sketch& sketch, int gpus_per_node) {
  Sketch out = sketch;
  out.sender_rev_map.clear();
  if (sketch.sender_rev_map.empty()) return out;
  std::map<int, std::set<int>> by_receiver;
  for (const auto& [x, ys] : ResolvedConn(sketch, gpus_per_node)) {
    auto it = sketch.sender_rev_map.find(x);
    if (it == sketch.sender_rev_map.end()) continue;
    for (int y : ys) by_receiver[y].insert(it->second.begin(), it->second.end());
  }
  for (const auto& [y, owners] : by_receiver) out.sender_rev_map[y] = {owners.begin(), owners.end()};
  return out;
}

Status CheckSenderMap(const Algorithm& a, const Topology& t, const Sketch& sketch) {
  if (sketch.sender_rev_map.empty()) return OkStatus();
  const int N = t.num_ranks(), k = a.chunkup;
  for (const Transfer& tr : a.transfers) {
    if (t.links[tr.link].kind != LinkKind::kNetwork) continue;
    int owner = a.coll == Collective::kBroadcast ? a.root
                : a.coll == Collective::kAllToAll ? tr.chunk / k / N
                                                  : tr.chunk / k;
    int x = t.LocalOf(tr.src);
    auto it = sketch.sender_rev_map.find(x);
    if (it == sketch.sender_rev_map.end() ||
        std::find(it->second.begin(), it->second.end(), t.LocalOf(owner)) == it->second.end())
      return InfeasibleError(StrCat(sketch.source, ": internode_sketch.gpus_to_sender_rev_map: GPU ", tr.src,
                                    tr.reduce ? " sends partial sums of chunk " : " forwards chunk ", tr.chunk,
                                    " (owner GPU ", owner, ") to GPU ", tr.dst, ", but local GPU ", x,
                                    " may only carry the chunks of its listed GPUs"));
  }
  return OkStatus();
}

double MaxLoad(const Topology& t, const std::vector<std::vector<int>>& trees, double bytes, int* which) {
  std::vector<double> load(t.num_resources(), 0);
  std::vector<int> tmp;
  for (const auto& tree : trees)
    for (int li : tree) AddLoad(t, li, t.links[li].Cost(bytes), &load, &tmp);
  auto it = std::max_element(load.begin(), load.end());
  if (which) *which = static_cast<int>(it - load.begin());
  return load.empty() ? 0 : *it;
}

StatusOr<Routing> RouteChunks(const Topology& t, const Sketch& sketch, Collective coll, int k,
                              int root, const RouteOptions& opt) {
  const int N = t.num_ranks(), G = t.gpus_per_node;
  const int C = NumChunks(coll, N, k);
  if (coll != Collective::kAllGather && coll != Collective::kAllToAll && coll != Collective::kBroadcast)
    return InternalError("RouteChunks routes allgather, alltoall and broadcast trees");
  if (root < 0 || root >= N) return InvalidArgumentError(StrCat("root ", root, " is not a rank"));
  Routing out;
  out.trees.assign(C, {});
  std::vector<int> src(C);
  std::vector<std::vector<int>> dsts(C);
  for (int c = 0; c < C; ++c) {
    if (coll == Collective::kAllToAll) {
      src[c] = c / k / N;
      int d = (c / k) % N;
      if (d != src[c]) dsts[c] = {d};
    } else {
      src[c] = coll == Collective::kBroadcast ? root : c / k;
      for (int r = 0; r < N; ++r)
        if (r != src[c]) dsts[c].push_back(r);
    }
  }
  std::vector<double> load(t.num_resources(), 0);
  std::vector<int> tmp;
  const double bytes = opt.chunk_bytes;
  // Inter-node relay choice: per (chunk, remote node) one network link, NIC-balanced greedily.
  // (The relay MILP is a pure NIC-balancing assignment whose LP relaxation is tight; the greedy
  // choice below reaches the same per-NIC load, so it is not sent to CBC.)
  std::vector<std::vector<Segment>> node_segs(t.num_nodes);
  std::vector<double> gpu_net(2 * N, 0);  // per-GPU network egress / ingress counts (tie-break)
  for (int c = 0; c < C; ++c) {
    int a = t.NodeOf(src[c]);
    std::map<int, std::vector<int>> by_node;
    for (int d : dsts[c]) by_node[t.NodeOf(d)].push_back(d);
    std::set<int> local_dsts(by_node[a].begin(), by_node[a].end());
    std::vector<int> net_links;
    for (auto& [b, ds] : by_node) {
      if (b == a) continue;
      std::vector<int> level_src = IntraLevels(t, src[c]);
      int best = -1;
      std::tuple<int, double, double, int> best_key;
      for (int s = a * G; s < (a + 1) * G; ++s) {
        if (level_src[s] < 0) continue;
        if (!sketch.sender_rev_map.empty()) {
          auto it = sketch.sender_rev_map.find(t.LocalOf(s));
          int origin = t.LocalOf(src[c]);
          if (it == sketch.sender_rev_map.end() ||
              std::find(it->second.begin(), it->second.end(), origin) == it->second.end())
            continue;
        }
        for (int li : t.out_links[s]) {
          const Link& l = t.links[li];
          if (l.kind != LinkKind::kNetwork || t.NodeOf(l.dst) != b) continue;
          int hops = level_src[s];
          if (coll == Collective::kAllToAll) {
            std::vector<int> lv = IntraLevels(t, l.dst);
            if (lv[ds[0]] < 0) continue;
            hops += lv[ds[0]];
          }
          double nic = LinkLoadAfter(t, li, l.Cost(bytes), load, &tmp);
          double gpu = gpu_net[s] + gpu_net[N + l.dst];
          auto key = std::make_tuple(hops, nic, gpu, li);
          if (best < 0 || key < best_key) {
            best = li;
            best_key = key;
          }
        }
      }
      if (best < 0)
        return InfeasibleError(StrCat(sketch.source, ": internode_sketch: no relay link can carry chunk ", c,
                                      " (from GPU ", src[c], ") into node ", b,
                                      " (check internode_conn and gpus_to_sender_rev_map)"));
      AddLoad(t, best, t.links[best].Cost(bytes), &load, &tmp);
      gpu_net[t.links[best].src] += 1;
      gpu_net[N + t.links[best].dst] += 1;
      net_links.push_back(best);
      int h = t.links[best].dst;
      Segment seg{c, h, {}};
      for (int d : ds)
        if (d != h) seg.dsts.push_back(d);
      std::sort(seg.dsts.begin(), seg.dsts.end());
      if (!seg.dsts.empty()) node_segs[b].push_back(seg);
      if (t.links[best].src != src[c]) local_dsts.insert(t.links[best].src);
    }
    Segment home{c, src[c], {local_dsts.begin(), local_dsts.end()}, true};
    if (!home.dsts.empty()) node_segs[a].push_back(home);
    out.trees[c] = net_links;  // network links first; intra links are added below in order
  }
  // Intra-node trees, node by node; nodes whose sub-problem is an image of node 0's reuse it.
  std::vector<std::vector<int>> intra(C);
  auto signature = [&](const std::vector<Segment>& segs, int node) {
    std::vector<std::vector<int>> sig;
    for (const auto& s : segs) {
      std::vector<int> e{s.root - node * G};
      for (int d : s.dsts) e.push_back(d - node * G);
      sig.push_back(e);
    }
    return sig;
  };
  // Sorted order of a node's segments by signature, so equal problems pair up.
  auto sorted_index = [&](const std::vector<Segment>& segs, int node) {
    auto sig = signature(segs, node);
    std::vector<size_t> idx(segs.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return sig[x] < sig[y]; });
    return idx;
  };
  std::vector<std::vector<int>> node0_trees;
  std::vector<std::vector<int>> node0_sorted_sig;
  bool node0_symmetric_links = true;
  for (int b = 1; b < t.num_nodes && node0_symmetric_links; ++b)
    for (const Link& l : t.links)
      if (l.kind != LinkKind::kNetwork && t.NodeOf(l.src) == 0) {
        int m = t.FindLink(l.src + b * G, l.dst + b * G);
        if (m < 0 || t.links[m].Cost(bytes) != l.Cost(bytes)) node0_symmetric_links = false;
      }
  std::vector<size_t> idx0;
  std::vector<double> greedy_load = load;
  for (int b = 0; b < t.num_nodes; ++b) {
    auto& segs = node_segs[b];
    auto idx = sorted_index(segs, b);
    auto sig = signature(segs, b);
    std::vector<std::vector<int>> sorted_sig;
    for (size_t i : idx) sorted_sig.push_back(sig[i]);
    std::vector<std::vector<int>> trees;
    if (b > 0 && node0_symmetric_links && sorted_sig == node0_sorted_sig) {
      ++out.nodes_reused;
      trees.assign(segs.size(), {});
      for (size_t j = 0; j < idx.size(); ++j) {
        for (int li0 : node0_trees[idx0[j]]) {
          int m = t.FindLink(t.links[li0].src + b * G, t.links[li0].dst + b * G);
          trees[idx[j]].push_back(m);
          AddLoad(t, m, t.links[m].Cost(bytes), &load, &tmp);
        }
      }
    } else {
      LOOM_ASSIGN_OR_RETURN(trees, RouteNode(t, segs, opt, &load, &out));
    }
    if (b == 0) {
      node0_trees = trees;
      node0_sorted_sig = sorted_sig;
      idx0 = idx;
    }
    for (size_t i = 0; i < segs.size(); ++i)
      for (int li : trees[i]) intra[segs[i].chunk].push_back(li);
  }
  // Order each chunk's tree so every link's source already holds the chunk.
  for (int c = 0; c < C; ++c) {
    std::vector<int> all = out.trees[c];
    all.insert(all.end(), intra[c].begin(), intra[c].end());
    std::vector<bool> has(N, false);
    has[src[c]] = true;
    std::vector<int> ordered;
    std::vector<bool> used(all.size(), false);
    for (size_t round = 0; round < all.size(); ++round) {
      bool progress = false;
      for (size_t i = 0; i < all.size(); ++i) {
        if (used[i] || !has[t.links[all[i]].src]) continue;
        used[i] = true;
        has[t.links[all[i]].dst] = true;
        ordered.push_back(all[i]);
        progress = true;
      }
      if (!progress) break;
    }
    if (ordered.size() != all.size())
      return InternalError(StrCat("routing: chunk ", c, " tree is not connected to its source"));
    out.trees[c] = ordered;
  }
  out.load_us = MaxLoad(t, out.trees, bytes);
  out.greedy_load_us = out.load_us;  // refined by the caller's comparison runs
  return out;
}

}  // namespace loom::taccl
