#include "loom/taccl/schedule_milp.h"

#include <algorithm>
#include <numeric>
#include <map>
#include <set>
#include <utility>

#include "loom/base/logging.h"
#include "loom/base/strings.h"
#include "loom/taccl/milp.h"

namespace loom::taccl {
namespace {

// Re-times edges in the order of `key` (ties by id): each starts once its predecessors have
// ended and its resources are free of the edges before it. Given a feasible MILP solution's
// start times this never starts an edge later than the MILP did (induction over the order).
std::vector<double> LeftShift(const std::vector<ScheduleEdge>& edges, const std::vector<std::vector<int>>& res,
                              const std::vector<double>& cost, const std::vector<double>& key, int num_resources,
                              std::vector<int>* order) {
  const int E = static_cast<int>(edges.size());
  order->resize(E);
  std::iota(order->begin(), order->end(), 0);
  std::stable_sort(order->begin(), order->end(), [&](int a, int b) { return key[a] < key[b]; });
  std::vector<double> start(E, 0), free(num_resources, 0);
  for (int i : *order) {
    double t = 0;
    for (int p : edges[i].preds) t = std::max(t, start[p] + cost[p]);
    for (int r : res[i]) t = std::max(t, free[r]);
    start[i] = t;
    for (int r : res[i]) free[r] = t + cost[i];
  }
  return start;
}

}  // namespace

std::vector<ScheduleEdge> MergeEdgePairs(const std::vector<ScheduleEdge>& edges, const std::vector<int>& partner) {
  const int E = static_cast<int>(edges.size());
  std::vector<int> index(E, -1);
  std::vector<ScheduleEdge> out;
  for (int i = 0; i < E; ++i)
    if (partner[i] < 0 || edges[i].chunk < edges[partner[i]].chunk) {
      index[i] = static_cast<int>(out.size());
      out.push_back(edges[i]);
      out.back().preds.clear();
      if (partner[i] >= 0) out.back().count += edges[partner[i]].count;
    }
  for (int i = 0; i < E; ++i)
    if (index[i] < 0) index[i] = index[partner[i]];
  for (int i = 0; i < E; ++i)
    for (int p : edges[i].preds) {
      auto& preds = out[index[i]].preds;
      if (index[p] != index[i] && std::find(preds.begin(), preds.end(), index[p]) == preds.end())
        preds.push_back(index[p]);
    }
  return out;
}

StatusOr<ScheduleMilpResult> SolveScheduleMilp(const Topology& topo, const std::vector<ScheduleEdge>& edges,
                                               const ScheduleMilpOptions& opt) {
  ScheduleMilpResult out;
  const int E = static_cast<int>(edges.size());
  out.edges = E;
  std::vector<double> warm;
  LOOM_ASSIGN_OR_RETURN(std::vector<Transfer> greedy, ScheduleEdges(topo, edges, opt.order, &warm));
  std::vector<double> cost(E);
  std::vector<std::vector<int>> res(E), by_res(topo.num_resources());
  for (int i = 0; i < E; ++i) {
    cost[i] = topo.links[edges[i].link].Cost(opt.order.chunk_bytes * edges[i].count);
    topo.ResourcesOf(edges[i].link, &res[i]);
    for (int r : res[i]) by_res[r].push_back(i);
    out.warm_us = std::max(out.warm_us, warm[i] + cost[i]);
  }
  // Size cap, first on the pairs per resource (cheap), then on the binaries proper.
  size_t pair_upper = 0;
  for (const auto& v : by_res) pair_upper += v.size() * (v.size() - (v.empty() ? 0 : 1)) / 2;
  auto skip = [&](std::string why) {
    LOOM_LOG(kDebug) << "schedule MILP skipped: " << why;
    out.skipped_why = std::move(why);
    return out;
  };
  if (pair_upper > 20 * static_cast<size_t>(opt.max_binaries))
    return skip(StrCat(pair_upper, " resource-sharing pairs over ", E, " edges (cap ", opt.max_binaries, " binaries)"));
  // Topological order (ScheduleEdges already rejected cycles and bad ids), reachability bitsets,
  // earliest start (head) and critical path to the end (tail, including the edge itself).
  std::vector<std::vector<int>> succ(E);
  std::vector<int> indeg(E, 0), topo_order;
  for (int i = 0; i < E; ++i)
    for (int p : edges[i].preds) {
      succ[p].push_back(i);
      ++indeg[i];
    }
  for (int i = 0; i < E; ++i)
    if (indeg[i] == 0) topo_order.push_back(i);
  for (size_t h = 0; h < topo_order.size(); ++h)
    for (int s : succ[topo_order[h]])
      if (--indeg[s] == 0) topo_order.push_back(s);
  const size_t words = (static_cast<size_t>(E) + 63) / 64;
  std::vector<uint64_t> reach(static_cast<size_t>(E) * words, 0);  // reach[i]: edges after i
  std::vector<double> head(E, 0), tail(E, 0);
  for (int h = E - 1; h >= 0; --h) {
    const int i = topo_order[h];
    tail[i] = cost[i];
    for (int s : succ[i]) {
      tail[i] = std::max(tail[i], cost[i] + tail[s]);
      reach[i * words + s / 64] |= uint64_t{1} << (s % 64);
      for (size_t w = 0; w < words; ++w) reach[i * words + w] |= reach[s * words + w];
    }
  }
  for (int i : topo_order)
    for (int s : succ[i]) head[s] = std::max(head[s], head[i] + cost[i]);
  auto reaches = [&](int a, int b) { return (reach[a * words + b / 64] >> (b % 64)) & 1; };
  std::set<std::pair<int, int>> pairs;
  for (const auto& v : by_res)
    for (size_t x = 0; x < v.size(); ++x)
      for (size_t y = x + 1; y < v.size(); ++y) {
        const int a = std::min(v[x], v[y]), b = std::max(v[x], v[y]);
        if (!reaches(a, b) && !reaches(b, a)) pairs.insert({a, b});
      }
  // Contiguity candidates: consecutive chunk ranges of one kind on one link, not ordered by
  // precedence, together below MSCCL's count limit (71).
  std::vector<std::pair<int, int>> merges;
  if (opt.contiguity)
    for (auto [a, b] : pairs) {
      const ScheduleEdge &x = edges[a], &y = edges[b];
      if (x.link != y.link || x.phase != y.phase || x.reduce != y.reduce || x.count + y.count > 71) continue;
      if (x.chunk + x.count == y.chunk) merges.push_back({a, b});
      else if (y.chunk + y.count == x.chunk) merges.push_back({b, a});
    }
  out.binaries = static_cast<int>(pairs.size() + merges.size());
  if (out.binaries > opt.max_binaries)
    return skip(StrCat(out.binaries, " order binaries over ", E, " edges (cap ", opt.max_binaries, ")"));

  const double H = out.warm_us;  // every finish time <= H; also the big M
  Milp m;
  // A merge only lengthens sends, so head and tail (own costs) still bound every start; it saves
  // at most one alpha per merged pair on a resource, which the resource bound gives back.
  std::vector<int> s(E), e(E);
  std::vector<double> saving(E, 0);
  for (auto [a, b] : merges) saving[a] = saving[b] = topo.links[edges[a].link].alpha_us / 2;
  double lower = 0;
  for (int i = 0; i < E; ++i) {
    s[i] = m.AddVar(head[i], std::max(head[i], H - tail[i]), 0, false);
    e[i] = m.AddVar(head[i] + cost[i], std::max(head[i], H - tail[i]) + cost[i], 0, false);
    lower = std::max(lower, head[i] + tail[i]);
  }
  // Resource bound: a resource's edges run one at a time, after the earliest of them can start
  // and before the shortest remaining path of any of them (the big-M LP alone bounds nothing).
  for (const auto& v : by_res) {
    if (v.empty()) continue;
    double first = H, sum = 0, last = H;
    for (int i : v) {
      first = std::min(first, head[i]);
      sum += cost[i] - saving[i];
      last = std::min(last, tail[i] - cost[i]);
    }
    lower = std::max(lower, first + sum + last);
  }
  lower = std::min(lower, H);
  const int mk = m.AddVar(lower, H, 1, false);
  // e_i >= s_i + c_i (+ the partner's bytes when merged, below); successors start after e_i.
  std::vector<std::vector<int>> end_cols(E);
  std::vector<std::vector<double>> end_coeffs(E);
  for (int i = 0; i < E; ++i) {
    end_cols[i] = {e[i], s[i]};
    end_coeffs[i] = {1, -1};
    m.AddRow({mk, e[i]}, {1, -1}, 0, 1e30);
    for (int p : edges[i].preds) m.AddRow({s[i], e[p]}, {1, -1}, 0, 1e30);
  }
  std::vector<double> start(m.num_vars() + pairs.size() + merges.size(), 0);
  for (int i = 0; i < E; ++i) {
    start[s[i]] = warm[i];
    start[e[i]] = warm[i] + cost[i];
  }
  start[mk] = H;
  std::map<std::pair<int, int>, int> merge_var;  // (min, max) edge ids -> z column
  std::vector<std::vector<int>> merges_of(E);
  for (auto [a, b] : merges) {
    // z = 1: a and b are one message: same start, same end, alpha paid once.
    const int z = m.AddVar(0, 1, 0, true);
    merge_var[{std::min(a, b), std::max(a, b)}] = z;
    merges_of[a].push_back(z);
    merges_of[b].push_back(z);
    const double extra_a = cost[b] - topo.links[edges[b].link].alpha_us;
    const double extra_b = cost[a] - topo.links[edges[a].link].alpha_us;
    end_cols[a].push_back(z), end_coeffs[a].push_back(-extra_a);
    end_cols[b].push_back(z), end_coeffs[b].push_back(-extra_b);
    m.AddRow({s[a], s[b], z}, {1, -1, H}, -1e30, H);
    m.AddRow({s[b], s[a], z}, {1, -1, H}, -1e30, H);
    m.AddRow({e[a], e[b], z}, {1, -1, H}, -1e30, H);
    m.AddRow({e[b], e[a], z}, {1, -1, H}, -1e30, H);
  }
  for (int i = 0; i < E; ++i) {
    m.AddRow(end_cols[i], end_coeffs[i], cost[i], 1e30);
    if (merges_of[i].size() > 1) m.AddRow(merges_of[i], std::vector<double>(merges_of[i].size(), 1), -1e30, 1);
  }
  for (auto [a, b] : pairs) {
    // y = 1: a before b (e_a <= s_b); y = 0: b before a; either is void when they are merged.
    const int y = m.AddVar(0, 1, 0, true);
    auto it = merge_var.find({a, b});
    std::vector<int> c1{e[a], s[b], y}, c2{e[b], s[a], y};
    std::vector<double> v1{1, -1, H}, v2{1, -1, -H};
    if (it != merge_var.end()) {
      c1.push_back(it->second), v1.push_back(-H);
      c2.push_back(it->second), v2.push_back(-H);
    }
    m.AddRow(c1, v1, -1e30, H);
    m.AddRow(c2, v2, -1e30, 0);
    start[y] = warm[a] < warm[b] ? 1 : 0;
  }
  // Preprocessing off: its short time limit can end a solve inside CBC's preprocessing, after
  // which CBC 2.10 crashed in CglPreProcess::postProcess (taccl_comm_test under load).
  LOOM_ASSIGN_OR_RETURN(Milp::Result r,
                        m.Solve(start, opt.max_nodes, opt.max_seconds, /*preprocess=*/false));
  out.solved = true;
  out.bound_us = std::min(std::max(r.bound, lower), H);
  std::vector<double> key = warm;
  std::vector<int> partner(E, -1);
  if (r.has_solution && r.objective < H * (1 - 1e-9)) {
    for (int i = 0; i < E; ++i) key[i] = r.x[s[i]];
    for (const auto& [ab, z] : merge_var)
      if (r.x[z] > 0.5) partner[ab.first] = ab.second, partner[ab.second] = ab.first;
  }
  // Merged pairs become one edge (the lower chunk leads), timed by the pair's start.
  const std::vector<ScheduleEdge> medges = MergeEdgePairs(edges, partner);
  const int ME = static_cast<int>(medges.size());
  std::vector<double> mkey, mcost(ME);
  std::vector<std::vector<int>> mres(ME);
  for (int i = 0; i < E; ++i)
    if (partner[i] < 0 || edges[i].chunk < edges[partner[i]].chunk) mkey.push_back(key[i]);
  for (int i = 0; i < ME; ++i) {
    mcost[i] = topo.links[medges[i].link].Cost(opt.order.chunk_bytes * medges[i].count);
    topo.ResourcesOf(medges[i].link, &mres[i]);
  }
  std::vector<int> order;
  std::vector<double> st = LeftShift(medges, mres, mcost, mkey, topo.num_resources(), &order);
  std::vector<double> end(ME);
  double makespan = 0;
  for (int i = 0; i < ME; ++i) {
    end[i] = st[i] + mcost[i];
    makespan = std::max(makespan, end[i]);
  }
  if (makespan < H * (1 - 1e-9)) {
    out.improved = true;
    out.makespan_us = makespan;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return st[a] != st[b] ? st[a] < st[b] : end[a] < end[b];
    });
    out.transfers = EdgeTransfers(topo, medges, order, st, end);
    for (int i = 0; i < E; ++i) out.merges += partner[i] > i ? 1 : 0;
  } else {
    out.makespan_us = H;
    out.transfers = std::move(greedy);
  }
  out.optimal = r.optimal && out.makespan_us <= r.objective * (1 + 1e-9) + 1e-9;
  if (out.optimal) out.bound_us = out.makespan_us;
  LOOM_LOG(kDebug) << "schedule MILP: " << E << " edges, " << out.binaries << " binaries, greedy " << H
                   << " us, MILP " << out.makespan_us << " us, bound " << out.bound_us << " us (gap "
                   << out.gap() << (out.optimal ? ", optimal)" : ")");
  return out;
}

}  // namespace loom::taccl
