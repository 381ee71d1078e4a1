// The synthesizer: topology + sketch + collective + size -> the best schedule found, as an
// Algorithm and its lowered MSCCL Program, with the simulated time, the cut bound and the gap.
//
// Pipeline: check the sketch's symmetry offsets; route (routing.h: relay choice, per-node tree
// MILPs in CBC, warm-started from greedy, identical nodes solved once); order (ordering.h: list
// scheduling); then every candidate (MILP routing, greedy routing, ring, direct; for AllReduce
// RS+AG with per-chunk overlap and TACCL's inversion) is checked by the set-semantics oracle,
// lowered and simulated at the requested size, and the fastest wins (ties: first listed). A
// list-scheduled winner is then re-ordered by the schedule MILP (schedule_milp.h) when its model
// is small, as one more candidate.
// Deterministic for a given input. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loom/base/progress.h"
#include "loom/base/status.h"
#include "loom/taccl/algorithm.h"
#include "loom/taccl/bounds.h"
#include "loom/taccl/program.h"
#include "loom/taccl/routing.h"
#include "loom/taccl/schedule_milp.h"
#include "loom/taccl/simulator.h"
#include "loom/taccl/sketch.h"

namespace loom::taccl {

struct SynthOptions {
  Collective coll = Collective::kAllGather;
  uint64_t bytes = 1 << 20;
  int chunkup = 0;  // 0: the sketch's input_chunkup
  int root = 0;     // Broadcast
  bool use_milp = true;
  int max_nodes = 400;         // CBC nodes per model (deterministic stop)
  double time_limit_s = 60;    // CBC wall-clock backstop per model; best-so-far is kept
  bool include_ring = true;
  // Depths of the switch relay-tree candidates (switch topologies only). Depth 2 (root plus one
  // forwarding level) shortens the reduction chains of reduce-scatter on 2xDGX-2; depth 3
  // spreads AllGather forwarding further. -d: depth-d trees for chunks landed from the network
  // only, each origin sending its own chunk directly. All are tried; the simulator picks.
  std::vector<int> relay_depths = {3, 2, -2};
  // With chunkup 0, the sketch's chunkup times each of these is tried (the MILP and relay-tree
  // routings only at x1) on buffers of a few loop iterations, while chunks stay >=
  // min_search_chunk_bytes and a loop holds <= max_search_loop_chunks chunks.
  std::vector<int> chunkup_search = {1, 2, 4, 8};
  double min_search_chunk_bytes = 16384;
  int max_search_loop_chunks = 128;
  // On switch topologies (DGX-2) loops of up to this many chunks: every switch in-port takes one
  // 0.3 us alpha per message, so smaller chunks pay only when several are merged into one send
  // (all-link groups of 4, the last alone); 2xDGX-2 sk2 AllGather 64 MiB wins at chunkup 8
  // (256 chunks per loop): 0.893 -> 0.908 of the cut bound.
  int max_search_loop_chunks_switch = 256;
  // The schedule MILP (schedule_milp.h) re-orders the best list-scheduled candidate's edges
  // (its routing and contiguity groups fixed) within this CBC time (0: off), on models of at most
  // order_milp_max_binaries order variables; its schedule is one more simulated candidate.
  // 0.5 s: the models that gain solve in milliseconds (1xNDv2, 30 binaries) and 2xNDv2 1 MiB
  // proves greedy optimal within it (1684 binaries); 2 s only added ~3 s of synthesis at
  // 64-256 KiB (805 binaries, no gain, the bound not closed). docs/benchmarks.md.
  double order_milp_seconds = 0.5;
  int order_milp_max_binaries = 2000;
  SimOptions sim;
};

struct Candidate {
  std::string name;
  double sim_us = 0;
  double busiest_load_us = 0;  // SimResult::busiest_load_us: routing balance, not scheduling
  std::string error;  // why the candidate was not available
};

struct SynthResult {
  Algorithm algo;
  Program program;
  SimResult sim;
  Bound bound;
  double gap = 0;            // sim time / bound - 1
  double seconds = 0;        // synthesis wall time
  std::string method;        // winning candidate
  Routing routing;           // stats of the MILP routing
  std::vector<Candidate> candidates;
  // The schedule MILP on the best list-scheduled candidate (`order_milp_on`; empty: not run):
  // greedy and MILP makespans in the ordering model, CBC's bound and gap (transfers cleared).
  ScheduleMilpResult order_milp;
  std::string order_milp_on;
};

StatusOr<SynthResult> Synthesize(const Topology& topo, const Sketch& sketch,
                                 const SynthOptions& options, Progress* progress = nullptr);

// The NCCL ring baseline on the same physical nodes (network links rebuilt fully connected, as
// NCCL picks its own NIC paths; one ring per NIC, data split evenly over them, as NCCL's
// channels), simulated at `bytes`. NotFound when no ring exists.
StatusOr<SimResult> SimulateNcclRing(const NodeProfile& profile, int nodes, Collective coll,
                                     uint64_t bytes, const SimOptions& sim = {});

// NCCL's tree baseline (double binary trees, DoubleBinaryTreeAllReduce) on the same physical
// nodes as SimulateNcclRing, two trees per NIC ring. NCCL runs its tree for AllReduce only, so
// other collectives get InvalidArgument.
StatusOr<SimResult> SimulateNcclTree(const NodeProfile& profile, int nodes, Collective coll, uint64_t bytes,
                                     const SimOptions& sim = {});

}  // namespace loom::taccl
