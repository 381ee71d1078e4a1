// Stage 2, ordering (TACCL's heuristic_ordering.py in spirit): greedy list scheduling of the
// routed chunk transfers over the topology's serial resources (links, switch ports, NICs).
// Among transfers whose inputs have arrived, the one that can start earliest goes first; ties go
// to the longest remaining critical path, then to the sketch's enforce_ordering (a sender's own
// chunks first), then to the lowest id. Deterministic; thread-compatible.
#pragma once

#include <vector>

#include "loom/base/status.h"
#include "loom/taccl/algorithm.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

struct ScheduleEdge {
  int chunk = 0;
  int count = 1;              // chunks [chunk, chunk + count) sent together (contiguity stage)
  int link = 0;
  bool reduce = false;
  int phase = 0;
  int origin = -1;            // rank whose chunk this is (enforce_ordering), -1 = none
  std::vector<int> preds;     // edges that must end before this one starts
};

struct OrderOptions {
  double chunk_bytes = 0;
  bool enforce_ordering = false;
};

// Returns the transfers in schedule order (start, end, id), with times. `edge_starts`
// (optional): each edge's start time, by edge id (the schedule MILP's warm start).
StatusOr<std::vector<Transfer>> ScheduleEdges(const Topology& topo,
                                              const std::vector<ScheduleEdge>& edges,
                                              const OrderOptions& options,
                                              std::vector<double>* edge_starts = nullptr);

// The transfers of `edges` taken in `order` (edge ids), edge i timed [start[i], end[i]); a merged
// edge (count > 1) becomes `count` transfers of one group.
std::vector<Transfer> EdgeTransfers(const Topology& topo, const std::vector<ScheduleEdge>& edges,
                                    const std::vector<int>& order, const std::vector<double>& start,
                                    const std::vector<double>& end);

// Stage 3, contiguity (TACCL's scheduler.py, greedy instead of a MILP): on network links, edges
// of consecutive chunks (same phase and kind) become one send of up to `max_contig` chunks (and
// never more than 71: a send is one MSCCL step, cnt < MSCCL_MAX_COUNT),
// cost alpha + k * beta, paying the IB alpha once. `taper` (bits): the first (kTaperFirst) and /
// or the last (kTaperLast) chunk of each run of consecutive chunks goes alone: the first can
// leave before the rest is gathered, the last has the shortest tail to its destinations.
// `all_links`: NVLink and switch links are merged too (their alpha matters once chunks are a few
// KiB: on DGX-2 at 1 MiB alpha is more than half of a 32 KiB switch send). The simulator decides
// whether any of it pays off. `taper & kTaperOwn`: the run's own chunks (AllGather: the sender's;
// reductions: the receiver's, which need no further hop) go as one group, the rest as above: the
// sender's own data leaves at once while the relayed chunks are gathered, and a reduction's last
// message has no tail (2xNDv2 AllGather 4 MiB: 0.894 -> 0.91 of the cut bound).
// `first_n`, `last_n` (both > 0): an explicit plan on network links instead of `taper`: each run's
// first first_n chunks and its last last_n chunks are one message each, the middle is cut into
// groups of max_contig (the alpha-aware floor's shape, taccl README: a small first message starts
// the NIC early, a small last one keeps the spreading tail short).
constexpr int kTaperFirst = 1, kTaperLast = 2, kTaperOwn = 4;
std::vector<ScheduleEdge> MergeContiguous(const Topology& topo, const std::vector<ScheduleEdge>& edges,
                                          int max_contig, int taper = 0, bool all_links = false, int first_n = 0,
                                          int last_n = 0);

// Edges of broadcast-style trees (each link's source holds the chunk once its in-edge ends).
// `trees[c]` are link ids, parents first; `root_ready[c]` (optional) are edge ids every edge
// leaving the chunk's source must wait for.
void AppendTreeEdges(const Topology& topo, const std::vector<std::vector<int>>& trees,
                     const std::vector<int>& sources, int phase,
                     const std::vector<std::vector<int>>* root_ready, std::vector<ScheduleEdge>* out);

// Edges of reduction trees: `trees[c]` are link ids of an AllGather tree on the transposed
// topology (same link ids), followed leaves-to-root with reduce = true. Returns, per chunk, the
// edges arriving at the root (the chunk is final once they end).
std::vector<std::vector<int>> AppendReduceEdges(const Topology& topo,
                                                const std::vector<std::vector<int>>& trees,
                                                std::vector<ScheduleEdge>* out);

}  // namespace loom::taccl
