#include "loom/taccl/topology.h"

#include <cmath>
#include <deque>

#include "loom/base/strings.h"

namespace loom::taccl {

const char* LinkKindName(LinkKind kind) {
  switch (kind) {
    case LinkKind::kNvlink: return "nvlink";
    case LinkKind::kSwitch: return "switch";
    case LinkKind::kNetwork: return "network";
  }
  return "?";
}

int Topology::FindLink(int src, int dst) const {
  int n = num_ranks();
  if (src < 0 || dst < 0 || src >= n || dst >= n) return -1;
  return link_index_[static_cast<size_t>(src) * n + dst];
}

int Topology::SwitchOf(int rank) const {
  if (rank < 0 || rank >= num_ranks()) return -1;
  return switch_of_[rank];
}

Status Topology::Finalize() {
  if (num_nodes < 1) return InvalidArgumentError(StrCat(name, ": nodes must be >= 1"));
  if (gpus_per_node < 1) return InvalidArgumentError(StrCat(name, ": gpus_per_node must be >= 1"));
  if (num_ranks() > 4096) return InvalidArgumentError(StrCat(name, ": more than 4096 GPUs"));
  if (num_nodes > 1 && nics_per_node < 1)
    return InvalidArgumentError(StrCat(name, ": nics_per_node must be >= 1 with several nodes"));
  if (gpu_nic.empty()) {
    for (int g = 0; g < gpus_per_node; ++g)
      gpu_nic.push_back(nics_per_node > 0 ? g * nics_per_node / gpus_per_node : 0);
  }
  if (static_cast<int>(gpu_nic.size()) != gpus_per_node)
    return InvalidArgumentError(StrCat(name, ": gpu_nic has ", gpu_nic.size(), " entries, want ",
                                       gpus_per_node));
  for (int g = 0; g < gpus_per_node; ++g)
    if (gpu_nic[g] < 0 || (nics_per_node > 0 && gpu_nic[g] >= nics_per_node))
      return InvalidArgumentError(StrCat(name, ": gpu_nic[", g, "] = ", gpu_nic[g],
                                         " is not a NIC of the node"));
  int n = num_ranks();
  link_index_.assign(static_cast<size_t>(n) * n, -1);
  in_links.assign(n, {});
  out_links.assign(n, {});
  for (size_t i = 0; i < links.size(); ++i) {
    const Link& l = links[i];
    std::string where = StrCat(name, ": link ", i, " (", l.src, "->", l.dst, ")");
    if (l.src < 0 || l.src >= n || l.dst < 0 || l.dst >= n)
      return InvalidArgumentError(where + ": endpoint out of range");
    if (l.src == l.dst) return InvalidArgumentError(where + ": self link");
    if (!(l.alpha_us >= 0) || !(l.beta_us_per_byte > 0) || !std::isfinite(l.alpha_us) ||
        !std::isfinite(l.beta_us_per_byte))
      return InvalidArgumentError(where + ": alpha must be >= 0 and beta > 0");
    if ((l.kind == LinkKind::kNetwork) != (NodeOf(l.src) != NodeOf(l.dst)))
      return InvalidArgumentError(where + ": network links join nodes, others stay inside one");
    size_t key = static_cast<size_t>(l.src) * n + l.dst;
    if (link_index_[key] >= 0) return InvalidArgumentError(where + ": duplicate link");
    link_index_[key] = static_cast<int>(i);
    out_links[l.src].push_back(static_cast<int>(i));
    in_links[l.dst].push_back(static_cast<int>(i));
  }
  switch_of_.assign(n, -1);
  for (size_t s = 0; s < switches.size(); ++s) {
    for (int r : switches[s].ranks) {
      if (r < 0 || r >= n) return InvalidArgumentError(StrCat(name, ": switch ", s, " rank ", r));
      if (switch_of_[r] >= 0)
        return InvalidArgumentError(StrCat(name, ": rank ", r, " is on two switches"));
      switch_of_[r] = static_cast<int>(s);
    }
  }
  if (num_nodes > 1 && !(nic_beta_us_per_byte > 0))
    return InvalidArgumentError(StrCat(name, ": NIC beta must be > 0"));
  return OkStatus();
}

void Topology::ResourcesOf(int link, std::vector<int>* out) const {
  out->clear();
  const Link& l = links[link];
  const int L = static_cast<int>(links.size()), N = num_ranks();
  switch (l.kind) {
    case LinkKind::kNvlink: out->push_back(link); break;
    case LinkKind::kSwitch:
      out->push_back(L + l.src);
      out->push_back(L + N + l.dst);
      break;
    case LinkKind::kNetwork:
      out->push_back(L + 2 * N + NicOf(l.src));
      out->push_back(L + 2 * N + num_nodes * nics_per_node + NicOf(l.dst));
      break;
  }
}

int Topology::num_resources() const {
  return static_cast<int>(links.size()) + 2 * num_ranks() + 2 * num_nodes * nics_per_node;
}

std::string Topology::ResourceName(int r) const {
  const int L = static_cast<int>(links.size()), N = num_ranks(), K = num_nodes * nics_per_node;
  if (r < L) return StrCat("link ", links[r].src, "->", links[r].dst);
  if (r < L + N) return StrCat("switch out-port of GPU ", r - L);
  if (r < L + 2 * N) return StrCat("switch in-port of GPU ", r - L - N);
  if (r < L + 2 * N + K) return StrCat("NIC ", r - L - 2 * N, " egress");
  return StrCat("NIC ", r - L - 2 * N - K, " ingress");
}

std::vector<int> Topology::HopDistances(int src) const {
  std::vector<int> dist(num_ranks(), -1);
  std::deque<int> queue{src};
  dist[src] = 0;
  while (!queue.empty()) {
    int u = queue.front();
    queue.pop_front();
    for (int li : out_links[u]) {
      int v = links[li].dst;
      if (dist[v] < 0) {
        dist[v] = dist[u] + 1;
        queue.push_back(v);
      }
    }
  }
  return dist;
}

// NDv2 (DGX-1V hybrid cube-mesh): doubled NVLinks cost 23 us/MiB, single ones 46 us/MiB
// (TACCL topo-ndv2-1MB.json); one IB NIC at 105 us/MiB, alpha 2.6 us.
NodeProfile Ndv2Profile() {
  NodeProfile p;
  p.name = "ndv2";
  p.gpus = 8;
  p.nics = 1;
  const int doubled[8][2] = {{0, 1}, {0, 4}, {1, 3}, {2, 3}, {2, 6}, {4, 5}, {5, 7}, {6, 7}};
  const int single[8][2] = {{0, 2}, {0, 3}, {1, 2}, {1, 5}, {3, 7}, {4, 6}, {4, 7}, {5, 6}};
  for (auto& d : doubled) p.links.push_back({d[0], d[1], 0.3, 23.0 / kMiB});
  for (auto& s : single) p.links.push_back({s[0], s[1], 0.3, 46.0 / kMiB});
  p.nic_alpha_us = 2.6;
  p.nic_beta_us_per_byte = 105.0 / kMiB;
  return p;
}

// DGX-2: 16 GPUs on NVSwitch (8 us/MiB per port, alpha 0.3 us), 8 NICs (topo-dgx2-1MB.json).
NodeProfile Dgx2Profile() {
  NodeProfile p;
  p.name = "dgx2";
  p.gpus = 16;
  p.nics = 8;
  p.has_switch = true;
  p.switch_alpha_us = 0.3;
  p.switch_beta_us_per_byte = 8.0 / kMiB;
  p.nic_alpha_us = 2.6;
  p.nic_beta_us_per_byte = 105.0 / kMiB;
  return p;
}

}  // namespace loom::taccl
