#include "loom/taccl/baselines.h"

#include <algorithm>
#include <functional>
#include <map>

#include "loom/base/strings.h"
#include "loom/taccl/ordering.h"

namespace loom::taccl {
namespace {

// Hamiltonian path inside node `n` from e to x (global ranks) over intra-node links.
bool HamPath(const Topology& t, int e, int x, std::vector<int>* path) {
  const int G = t.gpus_per_node;
  std::vector<bool> seen(t.num_ranks(), false);
  path->assign(1, e);
  seen[e] = true;
  int budget = 200000;  // DFS steps; node graphs are small
  std::function<bool(int)> dfs = [&](int u) -> bool {
    if (--budget < 0) return false;
    if (static_cast<int>(path->size()) == G) return u == x;
    for (int li : t.out_links[u]) {
      int v = t.links[li].dst;
      if (t.links[li].kind == LinkKind::kNetwork || seen[v]) continue;
      if (v == x && static_cast<int>(path->size()) != G - 1) continue;
      seen[v] = true;
      path->push_back(v);
      if (dfs(v)) return true;
      path->pop_back();
      seen[v] = false;
    }
    return false;
  };
  if (G == 1) return e == x;
  return dfs(e);
}

StatusOr<Algorithm> Finish(const Topology& t, Algorithm a, const std::vector<ScheduleEdge>& edges) {
  OrderOptions o;
  o.chunk_bytes = a.chunk_bytes;
  LOOM_ASSIGN_OR_RETURN(a.transfers, ScheduleEdges(t, edges, o));
  for (const auto& tr : a.transfers) a.makespan_us = std::max(a.makespan_us, tr.end_us);
  return a;
}

}  // namespace

StatusOr<std::vector<int>> FindRing(const Topology& t, int nic) {
  const int G = t.gpus_per_node, M = t.num_nodes;
  if (M == 1) {
    // Hamiltonian cycle: a path 0 -> x with a link x -> 0.
    for (int li : t.in_links[0]) {
      std::vector<int> path;
      if (t.links[li].kind != LinkKind::kNetwork && HamPath(t, 0, t.links[li].src, &path)) return path;
    }
    if (G == 1) return std::vector<int>{0};
    return NotFoundError(StrCat(t.name, ": no ring through all GPUs over the node's links"));
  }
  // Per node: entry e_n, exit x_n with a network link x_n -> e_{n+1}; the last exits to node 0.
  auto on_nic = [&](int g) { return nic < 0 || t.gpu_nic[t.LocalOf(g)] == nic; };
  for (int e0 = 0; e0 < G; ++e0) {
    if (!on_nic(e0)) continue;
    std::vector<int> ring;
    std::function<bool(int, int)> walk = [&](int n, int entry) -> bool {
      for (int x = n * G; x < (n + 1) * G; ++x) {
        if ((G > 1 && x == entry) || !on_nic(x)) continue;
        int next_node = (n + 1) % M;
        int next_entry = -1;
        for (int li : t.out_links[x])
          if (t.links[li].kind == LinkKind::kNetwork && t.NodeOf(t.links[li].dst) == next_node &&
              on_nic(t.links[li].dst) &&
              (next_node != 0 || t.links[li].dst == e0)) {
            next_entry = t.links[li].dst;
            break;
          }
        if (next_entry < 0) continue;
        std::vector<int> path;
        if (!HamPath(t, entry, x, &path)) continue;
        size_t mark = ring.size();
        ring.insert(ring.end(), path.begin(), path.end());
        if (next_node == 0 || walk(next_node, next_entry)) return true;
        ring.resize(mark);
      }
      return false;
    };
    if (walk(0, e0)) return ring;
  }
  return NotFoundError(StrCat(t.name, ": no ring through all GPUs (the sketch's relay links do not chain the nodes)"));
}

StatusOr<Algorithm> RingAlgorithm(const Topology& t, const std::vector<int>& ring, Collective coll,
                                  int k, double chunk_bytes) {
  std::vector<std::vector<int>> rings(k, ring);
  return MultiRingAlgorithm(t, rings, coll, chunk_bytes);
}

StatusOr<Algorithm> MultiRingAlgorithm(const Topology& t, const std::vector<std::vector<int>>& rings,
                                       Collective coll, double chunk_bytes) {
  const int N = t.num_ranks();
  const int k = static_cast<int>(rings.size());
  if (k < 1) return InvalidArgumentError("no rings");
  std::vector<std::vector<int>> pos_of(k, std::vector<int>(N, -1)), next_of(k, std::vector<int>(N, -1));
  for (int j = 0; j < k; ++j) {
    const auto& ring = rings[j];
    if (static_cast<int>(ring.size()) != N) return InvalidArgumentError("ring must list every rank once");
    for (int i = 0; i < N; ++i) pos_of[j][ring[i]] = i;
    for (int i = 0; i < N; ++i) {
      next_of[j][i] = t.FindLink(ring[i], ring[(i + 1) % N]);
      if (next_of[j][i] < 0 && N > 1) return InvalidArgumentError(StrCat("ring hop ", ring[i], "->", ring[(i + 1) % N], " has no link"));
    }
  }
  Algorithm a;
  a.name = "ring";
  a.coll = coll;
  a.nranks = N;
  a.chunkup = k;
  a.chunk_bytes = chunk_bytes;
  std::vector<ScheduleEdge> edges;
  const int C = NumChunks(coll, N, k);
  std::vector<std::vector<int>> ready(C);
  if (coll == Collective::kReduceScatter || coll == Collective::kAllReduce) {
    for (int c = 0; c < C; ++c) {
      int owner = c / k;
      const auto& pos = pos_of[c % k];
      const auto& next_link = next_of[c % k];
      int prev = -1;
      for (int h = 1; h < N; ++h) {  // start right after the owner, end at it
        int from = (pos[owner] + h) % N;
        ScheduleEdge e;
        e.chunk = c;
        e.link = next_link[from];
        e.reduce = true;
        if (prev >= 0) e.preds.push_back(prev);
        prev = static_cast<int>(edges.size());
        edges.push_back(e);
      }
      if (prev >= 0) ready[c].push_back(prev);
    }
  }
  if (coll == Collective::kAllGather || coll == Collective::kAllReduce) {
    for (int c = 0; c < C; ++c) {
      int owner = c / k;
      const auto& pos = pos_of[c % k];
      const auto& next_link = next_of[c % k];
      int prev = -1;
      for (int h = 0; h < N - 1; ++h) {
        ScheduleEdge e;
        e.chunk = c;
        e.link = next_link[(pos[owner] + h) % N];
        e.phase = coll == Collective::kAllReduce ? 1 : 0;
        e.preds = prev >= 0 ? std::vector<int>{prev} : ready[c];
        prev = static_cast<int>(edges.size());
        edges.push_back(e);
      }
    }
  }
  if (coll != Collective::kAllGather && coll != Collective::kReduceScatter && coll != Collective::kAllReduce)
    return InvalidArgumentError("ring: allgather, reduce_scatter and allreduce only");
  return Finish(t, std::move(a), edges);
}

StatusOr<Algorithm> DoubleBinaryTreeAllReduce(const Topology& t, const std::vector<std::vector<int>>& rings,
                                              double chunk_bytes) {
  const int N = t.num_ranks(), M = t.num_nodes;
  const int k = 2 * static_cast<int>(rings.size());
  if (k < 2) return InvalidArgumentError("tree: no rings");
  // Node-level parents of the two trees; -1 at the root.
  auto node_parent = [&](int tree, int b) {
    if (tree == 0) return b == 0 ? -1 : (b - 1) / 2;
    int m = M - 1 - b;
    return m == 0 ? -1 : M - 1 - (m - 1) / 2;
  };
  // Rank-level parent per (ring, tree).
  std::vector<std::vector<int>> parent(k, std::vector<int>(N, -1));
  for (int j = 0; j < k / 2; ++j) {
    const auto& ring = rings[j];
    if (static_cast<int>(ring.size()) != N) return InvalidArgumentError("tree: ring must list every rank once");
    std::vector<int> leader(M, -1);
    for (int i = 0; i < N; ++i) {
      int b = t.NodeOf(ring[i]);
      bool first = leader[b] < 0;
      if (first) leader[b] = ring[i];
      for (int tree = 0; tree < 2; ++tree)
        if (!first) parent[2 * j + tree][ring[i]] = ring[i - 1];
      if (!first && t.NodeOf(ring[i - 1]) != b) return InvalidArgumentError("tree: ring leaves a node and comes back");
    }
    for (int tree = 0; tree < 2; ++tree)
      for (int b = 0; b < M; ++b) {
        int pb = node_parent(tree, b);
        if (pb >= 0) parent[2 * j + tree][leader[b]] = leader[pb];
      }
  }
  Algorithm a;
  a.name = "nccl-tree";
  a.coll = Collective::kAllReduce;
  a.nranks = N;
  a.chunkup = k;
  a.chunk_bytes = chunk_bytes;
  std::vector<ScheduleEdge> edges;
  for (int c = 0; c < N * k; ++c) {
    const auto& par = parent[c % k];
    std::vector<std::vector<int>> children(N);
    int root = -1;
    for (int v = 0; v < N; ++v) {
      if (par[v] < 0) root = v;
      else children[par[v]].push_back(v);
    }
    // Post-order: each rank sends its partial sum up once its children's have arrived.
    std::vector<int> order;
    std::function<void(int)> post = [&](int v) {
      for (int ch : children[v]) post(ch);
      order.push_back(v);
    };
    post(root);
    std::vector<std::vector<int>> arrived(N);
    for (int v : order) {
      if (v == root) continue;
      ScheduleEdge e;
      e.chunk = c;
      e.link = t.FindLink(v, par[v]);
      if (e.link < 0) return NotFoundError(StrCat("tree: no link ", v, "->", par[v]));
      e.reduce = true;
      e.preds = arrived[v];
      arrived[par[v]].push_back(static_cast<int>(edges.size()));
      edges.push_back(e);
    }
    // Broadcast down in pre-order (reverse post-order visits parents before children).
    std::vector<int> down(N, -1);
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      int v = *it;
      if (v == root) continue;
      ScheduleEdge e;
      e.chunk = c;
      e.link = t.FindLink(par[v], v);
      if (e.link < 0) return NotFoundError(StrCat("tree: no link ", par[v], "->", v));
      e.phase = 1;
      e.preds = par[v] == root ? arrived[root] : std::vector<int>{down[par[v]]};
      down[v] = static_cast<int>(edges.size());
      edges.push_back(e);
    }
  }
  return Finish(t, std::move(a), edges);
}

StatusOr<Algorithm> DirectAlgorithm(const Topology& t, Collective coll, int k, int root, double chunk_bytes) {
  const int N = t.num_ranks();
  Algorithm a;
  a.name = "direct";
  a.coll = coll;
  a.nranks = N;
  a.chunkup = k;
  a.root = root;
  a.chunk_bytes = chunk_bytes;
  std::vector<ScheduleEdge> edges;
  const int C = NumChunks(coll, N, k);
  for (int c = 0; c < C; ++c) {
    std::vector<std::pair<int, int>> pairs;  // (src, dst)
    switch (coll) {
      case Collective::kAllGather:
        for (int d = 0; d < N; ++d) if (d != c / k) pairs.push_back({c / k, d});
        break;
      case Collective::kBroadcast:
        for (int d = 0; d < N; ++d) if (d != root) pairs.push_back({root, d});
        break;
      case Collective::kAllToAll: {
        int s = c / k / N, d = (c / k) % N;
        if (s != d) pairs.push_back({s, d});
        break;
      }
      case Collective::kReduceScatter:
        for (int s = 0; s < N; ++s) if (s != c / k) pairs.push_back({s, c / k});
        break;
      default:
        return InvalidArgumentError("direct: allgather, broadcast, alltoall, reduce_scatter only");
    }
    for (auto [s, d] : pairs) {
      int li = t.FindLink(s, d);
      if (li < 0) return NotFoundError(StrCat("direct: no link ", s, "->", d));
      ScheduleEdge e;
      e.chunk = c;
      e.link = li;
      e.reduce = coll == Collective::kReduceScatter;
      edges.push_back(e);
    }
  }
  return Finish(t, std::move(a), edges);
}

}  // namespace loom::taccl
