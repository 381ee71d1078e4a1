// Lower bounds on a collective's time on a topology (ForestColl-style cut bound, brief 3.9):
// for every candidate cut S (each GPU, each node, and their complements) the bytes that must
// cross into S (or out of S) divided by the bandwidth of the resources on S's side of the cut,
// plus the smallest alpha of a crossing link (some message must cross, and messages occupy their
// resource for alpha + beta * bytes);
// plus a latency bound (the alpha-only shortest path between the farthest pair that must talk).
// The bound is max of the two. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>

#include "loom/taccl/algorithm.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

struct Bound {
  double time_us = 0;       // max(bandwidth_us, latency_us)
  double bandwidth_us = 0;  // the cut bound: bytes / rate of the binding cut plus one crossing alpha
  // The same maximum without the alpha (pure bandwidth; <= bandwidth_us). The cut bound counts
  // one message's alpha only: a schedule that sends m messages through the binding cut's
  // resources needs m alphas there (simulator.h), so at alpha-heavy sizes neither is tight.
  double pure_bandwidth_us = 0;
  double latency_us = 0;
  double algbw_gbs = 0;     // bytes / time_us
  std::string cut;          // which cut binds
};

// `bytes` as for Simulate. AllReduce is bounded as reduce-scatter + allgather (valid for the
// RS-then-AG algorithms loom builds; said so in reports).
Bound CutBound(const Topology& topo, Collective coll, uint64_t bytes, int root = 0);

}  // namespace loom::taccl
