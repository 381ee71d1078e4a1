// The physical model taccl synthesizes for: GPUs (ranks) grouped in nodes, directed links with
// an alpha-beta cost, switch hyperedges (a GPU's switch out- and in-port are one resource each), and NICs
// shared by the inter-node links of their GPUs. A Topology is immutable once validated and may
// be read from any number of threads.
//
// Units: time in microseconds, sizes in bytes. A link moves `b` bytes in alpha + beta * b.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loom/base/status.h"

namespace loom::taccl {

inline constexpr double kMiB = 1024.0 * 1024.0;

enum class LinkKind { kNvlink, kSwitch, kNetwork };
const char* LinkKindName(LinkKind kind);

struct Link {
  int src = 0;
  int dst = 0;
  LinkKind kind = LinkKind::kNvlink;
  double alpha_us = 0;
  double beta_us_per_byte = 0;  // aggregate over the connection's physical lanes
  double Cost(double bytes) const { return alpha_us + beta_us_per_byte * bytes; }
};

// A switch hyperedge: every member GPU reaches every other through one port per direction.
struct SwitchGroup {
  std::vector<int> ranks;  // global rank ids
  double alpha_us = 0;
  double beta_us_per_byte = 0;  // per port, already divided by the number of switch planes
  bool uc_max = false;          // TACCL's uc-max (many distinct peers) vs uc-min
};

// One node's hardware, in local GPU indices. Replicated by BuildTopology.
struct NodeProfile {
  std::string name;
  int gpus = 0;
  int nics = 0;
  struct LocalLink {
    int a = 0, b = 0;
    double alpha_us = 0, beta_us_per_byte = 0;
    bool both = true;  // false: only a -> b
  };
  std::vector<LocalLink> links;
  bool has_switch = false;  // all GPUs on one switch (DGX-2 NVSwitch)
  double switch_alpha_us = 0, switch_beta_us_per_byte = 0;
  double nic_alpha_us = 0, nic_beta_us_per_byte = 0;  // per NIC, per direction
  std::vector<int> gpu_nic;  // local GPU -> local NIC; empty = gpus spread evenly over nics
};

struct Topology {
  std::string name;
  int num_nodes = 1;
  int gpus_per_node = 0;
  int nics_per_node = 0;
  std::vector<Link> links;  // directed
  std::vector<SwitchGroup> switches;
  double nic_alpha_us = 0, nic_beta_us_per_byte = 0;
  std::vector<int> gpu_nic;  // local GPU -> local NIC

  int num_ranks() const { return num_nodes * gpus_per_node; }
  int NodeOf(int rank) const { return rank / gpus_per_node; }
  int LocalOf(int rank) const { return rank % gpus_per_node; }
  int NicOf(int rank) const { return NodeOf(rank) * nics_per_node + gpu_nic[LocalOf(rank)]; }
  // Index into links of the directed link src->dst, or -1. O(1) after Finalize().
  int FindLink(int src, int dst) const;
  // Switch group containing rank, or -1.
  int SwitchOf(int rank) const;

  // Checks ranges, duplicates, positive costs; builds the lookup tables.
  Status Finalize();

  // The resources a transfer on `link` uses for its whole duration (simulator.h says how a
  // resource is shared among the sends in flight): the NVLink
  // itself; for a switch link the sender's out-port and the receiver's in-port; for a network
  // link the sending GPU's NIC (egress) and the receiving GPU's NIC (ingress), which is how NIC
  // sharing is modelled (one shared port, not TACCL's fluid beta scaling).
  void ResourcesOf(int link, std::vector<int>* out) const;
  int num_resources() const;
  std::string ResourceName(int resource) const;

  // Hop distances (BFS over links) from src to every rank; -1 when unreachable.
  std::vector<int> HopDistances(int src) const;
  std::vector<std::vector<int>> in_links;   // per rank: link ids arriving
  std::vector<std::vector<int>> out_links;  // per rank: link ids leaving

 private:
  std::vector<int> link_index_;  // src * n + dst -> link id
  std::vector<int> switch_of_;
};

// Built-in node profiles with TACCL's measured numbers (brief section 3.1).
NodeProfile Ndv2Profile();
NodeProfile Dgx2Profile();

}  // namespace loom::taccl
