#include "loom/taccl/schedule_milp.h"

#include <algorithm>
#include <numeric>
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
  out.binaries = static_cast<int>(pairs.size());
  if (out.binaries > opt.max_binaries)
    return skip(StrCat(out.binaries, " order binaries over ", E, " edges (cap ", opt.max_binaries, ")"));

  const double H = out.warm_us;  // every finish time <= H; also the big M
  Milp m;
  std::vector<int> s(E);
  double lower = 0;
  for (int i = 0; i < E; ++i) {
    s[i] = m.AddVar(head[i], std::max(head[i], H - tail[i]), 0, false);
    lower = std::max(lower, head[i] + tail[i]);
  }
  // Resource bound: a resource's edges run one at a time, after the earliest of them can start
  // and before the shortest remaining path of any of them (the big-M LP alone bounds nothing).
  for (const auto& v : by_res) {
    if (v.empty()) continue;
    double first = H, sum = 0, last = H;
    for (int i : v) {
      first = std::min(first, head[i]);
      sum += cost[i];
      last = std::min(last, tail[i] - cost[i]);
    }
    lower = std::max(lower, first + sum + last);
  }
  lower = std::min(lower, H);
  const int mk = m.AddVar(lower, H, 1, false);
  for (int i = 0; i < E; ++i) {
    m.AddRow({mk, s[i]}, {1, -1}, cost[i], 1e30);
    for (int p : edges[i].preds) m.AddRow({s[i], s[p]}, {1, -1}, cost[p], 1e30);
  }
  std::vector<double> start(m.num_vars() + pairs.size(), 0);
  for (int i = 0; i < E; ++i) start[s[i]] = warm[i];
  start[mk] = H;
  for (auto [a, b] : pairs) {
    // y = 1: a before b (s_a + c_a <= s_b); y = 0: b before a.
    const int y = m.AddVar(0, 1, 0, true);
    m.AddRow({s[a], s[b], y}, {1, -1, H}, -1e30, H - cost[a]);
    m.AddRow({s[b], s[a], y}, {1, -1, -H}, -1e30, -cost[b]);
    start[y] = warm[a] < warm[b] ? 1 : 0;
  }
  LOOM_ASSIGN_OR_RETURN(Milp::Result r, m.Solve(start, opt.max_nodes, opt.max_seconds));
  out.solved = true;
  out.bound_us = std::min(std::max(r.bound, lower), H);
  std::vector<double> key = warm;
  if (r.has_solution && r.objective < H * (1 - 1e-9))
    for (int i = 0; i < E; ++i) key[i] = r.x[s[i]];
  std::vector<int> order;
  std::vector<double> st = LeftShift(edges, res, cost, key, topo.num_resources(), &order);
  std::vector<double> end(E);
  double makespan = 0;
  for (int i = 0; i < E; ++i) {
    end[i] = st[i] + cost[i];
    makespan = std::max(makespan, end[i]);
  }
  if (makespan < H * (1 - 1e-9)) {
    out.improved = true;
    out.makespan_us = makespan;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return st[a] != st[b] ? st[a] < st[b] : end[a] < end[b];
    });
    out.transfers = EdgeTransfers(topo, edges, order, st, end);
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
