// Stage 2 as a MILP in CBC (TACCL's ordering MILP in spirit), a polishing step after the greedy
// list scheduling of ordering.h: for FIXED schedule edges (routing and contiguity groups as
// given), the send start times that minimise the makespan in the same model as ScheduleEdges
// (a send of b bytes holds every resource of its link, Topology::ResourcesOf, for alpha + beta *
// b, one send at a time). Variables: a start time per edge, the makespan, and for each pair of
// edges that share a resource and are not already ordered by precedence a binary order variable
// (big-M disjunction, M = the warm start's makespan, which also caps every finish time).
// Warm-started from the greedy schedule; CBC single-threaded with a fixed seed and a node limit,
// the wall-clock limit a backstop; whatever CBC returns is re-timed by left-shifting in its
// start order (so CBC's tolerances never reach the schedule) and kept only if it beats the warm
// start: a time limit returns the greedy schedule, never nothing. With `contiguity`, also a
// binary "sent together" variable per pair of edges of consecutive chunks on one link (TACCL's
// is_together): merged, they start and end together as one message that pays alpha once; each
// edge joins at most one such pair (groups of <= 2 of the given edges; the given edges may
// already be MergeContiguous groups). Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/taccl/algorithm.h"
#include "loom/taccl/ordering.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

struct ScheduleMilpOptions {
  OrderOptions order;       // chunk bytes and enforce_ordering, as for ScheduleEdges
  double max_seconds = 2;   // CBC wall-clock backstop
  int max_nodes = 400;      // CBC branch-and-bound nodes (the deterministic stop)
  int max_binaries = 2000;  // larger models are skipped (solved = false)
  bool contiguity = false;  // also choose which consecutive-chunk pairs go as one message
};

struct ScheduleMilpResult {
  bool solved = false;      // false: skipped, see skipped_why; transfers empty
  std::string skipped_why;
  std::vector<Transfer> transfers;  // by (start, end, edge id)
  double warm_us = 0;       // the greedy schedule's makespan (the warm start)
  double makespan_us = 0;   // <= warm_us
  double bound_us = 0;      // CBC's best bound on the makespan
  bool optimal = false;     // CBC proved makespan_us optimal
  bool improved = false;    // makespan_us < warm_us (else the transfers are the greedy ones)
  int binaries = 0;         // order + merge binaries
  int merges = 0;           // pairs sent together in the result
  int edges = 0;
  double gap() const { return bound_us > 0 ? makespan_us / bound_us - 1 : 0; }
};

// Edges with their `partner` (-1: none; symmetric, partners on one link with consecutive
// chunks) merged into one edge each, the lower chunk leading; predecessors re-pointed and
// de-duplicated, a predecessor inside the pair dropped.
std::vector<ScheduleEdge> MergeEdgePairs(const std::vector<ScheduleEdge>& edges, const std::vector<int>& partner);

StatusOr<ScheduleMilpResult> SolveScheduleMilp(const Topology& topo, const std::vector<ScheduleEdge>& edges,
                                               const ScheduleMilpOptions& options);

}  // namespace loom::taccl
