#include "loom/taccl/ordering.h"

#include <algorithm>
#include <map>
#include <queue>
#include <set>
#include <tuple>

#include "loom/base/strings.h"
#include "loom/comm/program/validate.h"

namespace loom::taccl {

void AppendTreeEdges(const Topology& topo, const std::vector<std::vector<int>>& trees,
                     const std::vector<int>& sources, int phase,
                     const std::vector<std::vector<int>>* root_ready, std::vector<ScheduleEdge>* out) {
  for (size_t c = 0; c < trees.size(); ++c) {
    std::vector<int> in_edge(topo.num_ranks(), -1);
    for (int li : trees[c]) {
      const Link& l = topo.links[li];
      ScheduleEdge e;
      e.chunk = static_cast<int>(c);
      e.link = li;
      e.phase = phase;
      e.origin = sources[c];
      if (l.src == sources[c]) {
        if (root_ready) e.preds = (*root_ready)[c];
      } else if (in_edge[l.src] >= 0) {
        e.preds.push_back(in_edge[l.src]);
      }
      in_edge[l.dst] = static_cast<int>(out->size());
      out->push_back(std::move(e));
    }
  }
}

std::vector<std::vector<int>> AppendReduceEdges(const Topology& topo,
                                                const std::vector<std::vector<int>>& trees,
                                                std::vector<ScheduleEdge>* out) {
  std::vector<std::vector<int>> root_in(trees.size());
  for (size_t c = 0; c < trees.size(); ++c) {
    size_t first = out->size();
    // Sources of the chunk's AllGather-on-transpose tree = the destination of the reduction.
    std::vector<bool> is_child(topo.num_ranks(), false);
    for (int li : trees[c]) is_child[topo.links[li].src] = true;
    for (int li : trees[c]) {
      ScheduleEdge e;
      e.chunk = static_cast<int>(c);
      e.link = li;
      e.reduce = true;
      e.origin = topo.links[li].src;
      out->push_back(std::move(e));
    }
    for (size_t i = first; i < out->size(); ++i) {
      int child = topo.links[(*out)[i].link].src;
      for (size_t j = first; j < out->size(); ++j)
        if (topo.links[(*out)[j].link].dst == child) (*out)[i].preds.push_back(static_cast<int>(j));
      int parent = topo.links[(*out)[i].link].dst;
      if (!is_child[parent]) root_in[c].push_back(static_cast<int>(i));
    }
  }
  return root_in;
}

std::vector<ScheduleEdge> MergeContiguous(const Topology& topo, const std::vector<ScheduleEdge>& edges,
                                          int max_contig, int taper, bool all_links, int first_n, int last_n) {
  // One group is one MSCCL step, whose cnt must stay below MSCCL_MAX_COUNT (comm's validator
  // rejects the program otherwise: `--chunkup 16` at 1 MiB on 2xNDv2 made a group of 80).
  const int max_cnt = comm::program::kMaxCount - 1;
  max_contig = std::min(max_contig, max_cnt);
  first_n = std::min(first_n, max_cnt);
  last_n = std::min(last_n, max_cnt);
  const int E = static_cast<int>(edges.size());
  std::vector<int> leader(E);
  for (int i = 0; i < E; ++i) leader[i] = i;
  std::vector<std::vector<int>> plan_chains;  // planned runs: their groups go in this order
  if (max_contig > 1) {
    std::map<int, std::vector<int>> by_link;
    for (int i = 0; i < E; ++i)
      if ((all_links || topo.links[edges[i].link].kind == LinkKind::kNetwork) && edges[i].count == 1)
        by_link[edges[i].link].push_back(i);
    // An edge is at its chunk's endpoint when its sender is the chunk's origin (AllGather: no
    // gathering before it) or, for a reduction, its receiver is the chunk's final root (no
    // spreading after it).
    std::set<std::tuple<int, int, int>> reduce_senders;  // (phase, chunk, src) of reduce edges
    for (const ScheduleEdge& e : edges)
      if (e.reduce) reduce_senders.insert({e.phase, e.chunk, topo.links[e.link].src});
    auto at_endpoint = [&](int i) {
      const ScheduleEdge& e = edges[i];
      const Link& l = topo.links[e.link];
      return e.reduce ? !reduce_senders.count({e.phase, e.chunk, l.dst}) : e.origin == l.src;
    };
    // Cuts ids[b, e) into groups of max_contig from the start, after its first chunk alone
    // (taper & kTaperFirst) and before its last chunk alone (taper & kTaperLast).
    auto cut = [&](const std::vector<int>& ids, size_t b, size_t e, int bits) {
      size_t lo = b, hi = e;
      if ((bits & kTaperFirst) && hi - lo >= 2) ++lo;
      if ((bits & kTaperLast) && hi - lo >= 2) --hi;
      for (size_t x = lo; x < hi; ++x) leader[ids[x]] = ids[lo + (x - lo) / max_contig * max_contig];
    };
    // A run of consecutive chunks (ids[b, e)); with kTaperOwn its block of endpoint chunks (the
    // sender's own chunks, or the receiver's own partial sums) is one group of its own and the
    // chunks before and after it are cut as above, the taper applying to the run's ends.
    auto group = [&](const std::vector<int>& ids, size_t b, size_t e) {
      size_t ob = b;
      while ((taper & kTaperOwn) && ob < e && !at_endpoint(ids[ob])) ++ob;
      size_t oe = ob;
      while (oe < e && at_endpoint(ids[oe])) ++oe;
      if (!(taper & kTaperOwn) || ob == e || oe - ob == e - b) {
        cut(ids, b, e, taper);
        return;
      }
      for (size_t x = ob; x < oe; ++x) leader[ids[x]] = ids[ob];
      cut(ids, b, ob, taper & kTaperFirst);
      cut(ids, oe, e, taper & kTaperLast);
    };
    // An explicit network plan: the run's first first_n and last last_n chunks each one group, the
    // middle cut as above; the groups are sent in run order (chained below), or list scheduling
    // would send whichever is gathered first and the small first message would not lead.
    auto plan = [&](const std::vector<int>& ids, size_t b, size_t e) {
      if (e - b <= static_cast<size_t>(first_n + last_n)) {
        cut(ids, b, e, 0);
      } else {
        for (size_t x = b; x < b + first_n; ++x) leader[ids[x]] = ids[b];
        for (size_t x = e - last_n; x < e; ++x) leader[ids[x]] = ids[e - last_n];
        cut(ids, b + first_n, e - last_n, 0);
      }
      plan_chains.emplace_back(ids.begin() + static_cast<long>(b), ids.begin() + static_cast<long>(e));
    };
    for (auto& [li, ids] : by_link) {
      const bool planned = first_n > 0 && last_n > 0 && topo.links[li].kind == LinkKind::kNetwork;
      std::sort(ids.begin(), ids.end(), [&](int a, int b) {
        return std::make_tuple(edges[a].phase, edges[a].reduce, edges[a].chunk) <
               std::make_tuple(edges[b].phase, edges[b].reduce, edges[b].chunk);
      });
      size_t run = 0;
      for (size_t x = 1; x <= ids.size(); ++x) {
        const ScheduleEdge& r = edges[ids[run]];
        bool extend = x < ids.size() && edges[ids[x]].phase == r.phase && edges[ids[x]].reduce == r.reduce &&
                      edges[ids[x]].chunk == r.chunk + static_cast<int>(x - run);
        if (!extend) {
          if (planned) plan(ids, run, x);
          else group(ids, run, x);
          run = x;
        }
      }
    }
  }
  std::vector<int> index(E, -1);
  std::vector<ScheduleEdge> out;
  for (int i = 0; i < E; ++i)
    if (leader[i] == i) {
      index[i] = static_cast<int>(out.size());
      out.push_back(edges[i]);
      out.back().preds.clear();
    }
  for (int i = 0; i < E; ++i) {
    ScheduleEdge& m = out[index[leader[i]]];
    if (leader[i] != i) m.count = std::max(m.count, edges[i].chunk - m.chunk + 1);
    for (int p : edges[i].preds) {
      int q = index[leader[p]];
      if (q != index[leader[i]] && std::find(m.preds.begin(), m.preds.end(), q) == m.preds.end()) m.preds.push_back(q);
    }
  }
  for (const auto& run : plan_chains) {
    int prev = -1;
    for (int i : run) {
      const int g = index[leader[i]];
      if (prev >= 0 && g != prev && std::find(out[g].preds.begin(), out[g].preds.end(), prev) == out[g].preds.end())
        out[g].preds.push_back(prev);
      prev = g;
    }
  }
  return out;
}

StatusOr<std::vector<Transfer>> ScheduleEdges(const Topology& topo,
                                              const std::vector<ScheduleEdge>& edges,
                                              const OrderOptions& opt, std::vector<double>* edge_starts) {
  const int E = static_cast<int>(edges.size());
  std::vector<std::vector<int>> succ(E);
  std::vector<int> pending(E, 0);
  for (int i = 0; i < E; ++i)
    for (int p : edges[i].preds) {
      if (p < 0 || p >= E || p == i) return InternalError(StrCat("ordering: edge ", i, " has bad predecessor ", p));
      succ[p].push_back(i);
      ++pending[i];
    }
  std::vector<double> cost(E);
  for (int i = 0; i < E; ++i) cost[i] = topo.links[edges[i].link].Cost(opt.chunk_bytes * edges[i].count);
  // Critical path to the end, via Kahn order reversed.
  std::vector<int> order;
  {
    std::vector<int> indeg = pending;
    std::vector<int> q;
    for (int i = 0; i < E; ++i)
      if (indeg[i] == 0) q.push_back(i);
    for (size_t h = 0; h < q.size(); ++h) {
      order.push_back(q[h]);
      for (int s : succ[q[h]])
        if (--indeg[s] == 0) q.push_back(s);
    }
    if (static_cast<int>(order.size()) != E) return InternalError("ordering: dependency cycle");
  }
  std::vector<double> tail(E, 0);
  for (int h = E - 1; h >= 0; --h) {
    int i = order[h];
    double m = 0;
    for (int s : succ[i]) m = std::max(m, tail[s]);
    tail[i] = cost[i] + m;
  }
  std::vector<double> res_free(topo.num_resources(), 0);
  std::vector<double> ready(E, 0), start(E, 0), end(E, 0);
  std::vector<std::vector<int>> res(E);
  for (int i = 0; i < E; ++i) topo.ResourcesOf(edges[i].link, &res[i]);
  auto earliest = [&](int i) {
    double t = ready[i];
    for (int r : res[i]) t = std::max(t, res_free[r]);
    return t;
  };
  // Key: (earliest start, -critical path, -own chunk first, id); min-heap.
  using Key = std::tuple<double, double, int, int>;
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> heap;
  auto own = [&](int i) {
    return opt.enforce_ordering && topo.links[edges[i].link].kind == LinkKind::kNetwork &&
                   edges[i].origin == topo.links[edges[i].link].src
               ? 0
               : 1;
  };
  for (int i = 0; i < E; ++i)
    if (pending[i] == 0) heap.push({earliest(i), -tail[i], own(i), i});
  std::vector<int> done_order;
  while (!heap.empty()) {
    auto [t0, neg_tail, o, i] = heap.top();
    heap.pop();
    double t = earliest(i);
    if (t > t0 + 1e-9) {
      heap.push({t, neg_tail, o, i});
      continue;
    }
    start[i] = t;
    end[i] = t + cost[i];
    for (int r : res[i]) res_free[r] = end[i];
    done_order.push_back(i);
    for (int s : succ[i]) {
      ready[s] = std::max(ready[s], end[i]);
      if (--pending[s] == 0) heap.push({earliest(s), -tail[s], own(s), s});
    }
  }
  if (static_cast<int>(done_order.size()) != E) return InternalError("ordering: unscheduled edges");
  if (edge_starts) *edge_starts = start;
  return EdgeTransfers(topo, edges, done_order, start, end);
}

std::vector<Transfer> EdgeTransfers(const Topology& topo, const std::vector<ScheduleEdge>& edges,
                                    const std::vector<int>& order, const std::vector<double>& start,
                                    const std::vector<double>& end) {
  std::vector<Transfer> out;
  out.reserve(edges.size());
  for (int i : order) {
    for (int x = 0; x < edges[i].count; ++x) {
      Transfer tr;
      tr.chunk = edges[i].chunk + x;
      tr.link = edges[i].link;
      tr.src = topo.links[tr.link].src;
      tr.dst = topo.links[tr.link].dst;
      tr.reduce = edges[i].reduce;
      tr.phase = edges[i].phase;
      tr.start_us = start[i];
      tr.end_us = end[i];
      tr.group = edges[i].count > 1 ? i : -1;
      out.push_back(tr);
    }
  }
  return out;
}

}  // namespace loom::taccl
