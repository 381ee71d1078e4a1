// A TACCL communication sketch (taccl/cli/common.py semantics): the intra-node switch strategy,
// the inter-node relay map, symmetry offsets and input chunk-up; and BuildTopology, which
// replicates a node profile over the sketch's nodes and adds the sketch's inter-node links.
// Plain values; thread-compatible.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "loom/base/status.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

enum class IntraStrategy { kNone, kSwitch, kMinMax, kMaxMin };

struct Sketch {
  int nnodes = 1;
  IntraStrategy intra = IntraStrategy::kNone;
  std::vector<std::vector<int>> switches;  // local GPU sets
  std::vector<bool> switch_uc_max;         // per switch: uc-max (true) or uc-min
  bool has_internode = false;
  // Local sender GPU -> allowed remote local receiver GPUs (every ordered node pair); used when
  // conn_mode is "map". "direct-map" = g -> g, "fully-connected" = every g -> every h.
  std::string conn_mode = "map";
  std::map<int, std::vector<int>> conn;
  // Sender -> local GPUs whose chunks it may forward; empty map = any sender forwards any chunk.
  std::map<int, std::vector<int>> sender_rev_map;
  bool enforce_ordering = false;
  std::vector<std::pair<int, int>> symmetry_offsets;  // [offset, size]
  int chunkup = 1;
  std::string source;  // file name, for messages
};

// The default sketch for `nodes` nodes of a profile: direct-map between nodes, chunk-up 1.
Sketch DefaultSketch(const NodeProfile& profile, int nodes);

// The sender -> receivers map with conn_mode expanded for a node of `gpus` GPUs.
std::map<int, std::vector<int>> ResolvedConn(const Sketch& sketch, int gpus);

// Checks the sketch against a profile (GPU ids in range, senders exist, ...).
Status ValidateSketch(const Sketch& sketch, const NodeProfile& profile);

// Replicates the profile over sketch.nnodes nodes, adds switch groups and the relay links.
StatusOr<Topology> BuildTopology(const NodeProfile& profile, const Sketch& sketch);

// r -> (r mod size + offset) mod size + floor(r / size) * size.
int ApplySymmetry(int rank, int offset, int size);

// Verifies every symmetry offset is an automorphism of the topology (links map onto links with
// the same kind and cost, NICs onto NICs) and of the sketch's relay map. A wrong map would
// silently over-constrain the model, so this runs before any use.
Status CheckSymmetry(const Topology& topo, const Sketch& sketch);

}  // namespace loom::taccl
