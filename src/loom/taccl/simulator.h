// Event-driven alpha-beta simulator of an MSCCL Program on a Topology.
//
// Model: the buffer is cut into nchunksperloop chunks of at most chunk_eff bytes and processed in
// loop iterations; every TB runs its steps for iteration 0, then 1, ..., so later iterations
// overlap earlier ones (MSCCL's implicit slice pipelining). A send needs alpha + beta * bytes of
// time on each resource of its link (the NVLink; switch out- and in-port; NIC egress and
// ingress, shared by every GPU on that NIC). PortModel::kShared (default) splits a resource
// max-min fairly among the sends in flight on it, as packet-switched NVLink / NVSwitch / IB
// ports do with the concurrent transfers of different thread blocks; kExclusive grants each
// resource to one send at a time, first-come first-served (TACCL's scheduling model). A receive
// completes when its TB reaches it, its dependency is done and the matching send (FIFO per
// (src, dst, channel)) has delivered. Local copies and reductions cost bytes * local_beta.
// Deterministic; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/taccl/program.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

enum class PortModel { kShared, kExclusive };

struct SimOptions {
  PortModel ports = PortModel::kShared;
  double chunk_eff_bytes = 2 * kMiB;          // Simple protocol: NCCL_STEPS/2 buffer steps
  double local_beta_us_per_byte = 1.0 / 1e6;  // ~1 TB/s HBM for cpy / reductions
  bool record_sends = false;                  // fill SimResult::sends (diagnostics)
};

// One simulated send (SimOptions::record_sends): when it entered its resources and delivered.
struct SimSend {
  int src = 0, dst = 0, link = 0, iteration = 0, cnt = 0;
  double start_us = 0, end_us = 0;
};

struct SimResult {
  double time_us = 0;
  double algbw_gbs = 0;  // bytes / time
  double busbw_gbs = 0;  // algbw * nccl-tests factor
  int iterations = 0;
  double chunk_bytes = 0;  // per chunk per full iteration
  int64_t events = 0;
  // The resource with the most send time (alpha + beta * bytes summed over its sends) and that
  // time: time_us / busiest_load_us - 1 is the idle share the schedule leaves on it.
  double busiest_load_us = 0;
  std::string busiest;
  std::vector<SimSend> sends;  // in delivery order, with SimOptions::record_sends only
};

// `bytes`: AG output size, RS input size, AR / Broadcast buffer, A2A per-rank buffer.
StatusOr<SimResult> Simulate(const Program& program, const Topology& topo, uint64_t bytes,
                             const SimOptions& options = {});

// nccl-tests busbw factor: AR 2(n-1)/n; AG, RS, A2A (n-1)/n; Broadcast 1.
double BusBwFactor(Collective coll, int n);

}  // namespace loom::taccl
