// Stage 1, routing (TACCL's routing.py in spirit, decomposed): every chunk gets a multicast tree
// from its source to its destinations. Inter-node hops are chosen first (which relay link of the
// sketch carries the chunk into each remote node, balancing NIC load), then each node's trees are
// chosen by a MILP over BFS-level parent choices (so every choice is a tree), minimising the
// heaviest link / switch-port / NIC load (TACCL's load relaxation). CBC solves both MILPs,
// warm-started from a greedy load-balancing choice; nodes with identical sub-problems are
// solved once and mapped (symmetry quotient). Thread-compatible; deterministic.
#pragma once

#include <vector>

#include "loom/base/status.h"
#include "loom/taccl/algorithm.h"
#include "loom/taccl/sketch.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

struct RouteOptions {
  double chunk_bytes = kMiB;  // cost model size
  bool use_milp = true;
  int max_milp_binaries = 6000;  // larger node models use the greedy routing (decomposition)
  int max_nodes = 400;           // CBC branch-and-bound nodes per model (determinism)
  double max_seconds = 30;       // CBC wall-clock backstop per model
  bool switch_relay = false;     // relay trees inside switches instead of BFS levels (greedy)
  int switch_depth = 3;
  bool switch_direct_home = false;  // with switch_relay: the origin sends its own chunk to every
                                    // local GPU itself; only relayed (landed) chunks get trees
  int landed_depth = 0;  // > 0: chunks landed from the network get load-balanced trees of at most
                         // this depth over every intra-node link (routing.cc LandedSpreadTree)
                         // instead of BFS-level trees; 0: BFS levels (greedy / MILP)
  int switch_group = 0;  // > 1: two-level trees in blocks of this many GPUs on a switch
                         // (routing.cc SwitchGroupTree), merged per link by all-link contiguity
  bool landed_rebalance = false;  // then move leaves off the heaviest links (load, not time: the
                                  // simulator decides whether it pays)
};

struct Routing {
  // Per chunk: tree link ids, each link's source already holding the chunk (parents first).
  std::vector<std::vector<int>> trees;
  double greedy_load_us = 0;  // heaviest resource load of the greedy routing
  double load_us = 0;         // heaviest resource load of the chosen routing
  double load_bound_us = 0;   // MILP lower bound on the heaviest load (0 if no MILP ran)
  int milp_models = 0, milp_binaries = 0, milp_optimal = 0, nodes_reused = 0;
};

// Routes AllGather (all ranks), AllToAll (one destination per chunk) or Broadcast (from root).
StatusOr<Routing> RouteChunks(const Topology& topo, const Sketch& sketch, Collective coll,
                              int chunkup, int root, const RouteOptions& options);

// The transpose: link u->v becomes v->u (same costs). Reduce-scatter routes are AllGather
// trees on the transpose, followed leaves-to-root.
Topology Transposed(const Topology& topo);

// The sketch for routing reductions on Transposed(topo). There the network links run from the
// sketch's receivers to its senders, so gpus_to_sender_rev_map is re-keyed by receiver: a
// receiver y of sender x may send (in the transpose) the chunks owned by rev_map[x]; after the
// time reversal, x sends y the partial sums of the chunks owned by GPUs rev_map[x] of y's node,
// the mirror of the AllGather rule (TACCL's reverse_links). Several senders of one receiver
// union their sets.
Sketch TransposedSketch(const Sketch& sketch, int gpus_per_node);

// OK when every network transfer of `algo` obeys the sketch's gpus_to_sender_rev_map: a sender
// x forwards (or, reducing, sends partial sums of) only chunks whose owner's local index is in
// rev_map[x] (owner = origin for AllGather / Broadcast / AllToAll, destination for reductions).
// Constructive candidates (ring, direct) are checked with it so the winner honours the sketch.
Status CheckSenderMap(const Algorithm& algo, const Topology& topo, const Sketch& sketch);

// The heaviest resource load (us) of a set of trees, and which resource carries it.
double MaxLoad(const Topology& topo, const std::vector<std::vector<int>>& trees, double chunk_bytes,
               int* resource = nullptr);

}  // namespace loom::taccl
