// comm_nccl's benchmark (`nccl_bench`, `loom comm bench --backend nccl`): loom's NcclCommunicator
// against NCCL called directly, in the same run on the same devices, one thread rank per device
// (as nccl-tests' -g). The anchor is what a user writes without loom: ncclAllReduce & co on a
// blocking communicator of its own, then cudaStreamSynchronize. loom's calls block too
// (validation, enqueue, poll to completion), so anchor time / loom time is what loom costs per
// call. Each point times the anchor, loom in its default mode (kBounded), loom kBlocking, and
// loom kBounded with spin_us = 0 (sleep from the first poll).
//
// Sizes follow nccl-tests: the bytes of the largest buffer (allgather's receive, reduce-scatter's
// send, alltoall's per-rank buffer); fp32, sum. Every loom result is checked against the host
// reference before it is timed, in both modes; values are small integers, so sums are exact.
// Timing: each round runs a batch of back-to-back calls per variant (sized to about 2 ms of the
// anchor), variants in rotated order after a host barrier; a point reports the median over
// rounds of the per-call mean, from rank 0's clock. algbw and busbw (nccl-tests' factors) are
// loom's default mode's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/communicator.h"

namespace loom::comm::nccl {

struct BenchOptions {
  int ranks = 0;  // 0: every visible device, at most 8
  uint64_t min_bytes = 8, max_bytes = uint64_t{1} << 30;
  double factor = 8;
  int rounds = 7;
  std::vector<std::string> collectives;  // from BenchCollectives(); empty: all of them
};

struct BenchSetup {
  int ranks = 0;
  std::string device;  // device 0's name
  int nccl_version = 0;
};

struct BenchRow {
  std::string collective;
  int ranks = 0;
  uint64_t bytes = 0;
  double nccl_us = 0, loom_us = 0, blocking_us = 0, nospin_us = 0;
  double algbw_gbs = 0, busbw_gbs = 0;
};

// allreduce, allgather, reducescatter, alltoall, broadcast.
const std::vector<std::string>& BenchCollectives();

// Thread ranks, one per device: checks the options (InvalidArgument) and the devices
// (FailedPrecondition when there are none or fewer than `ranks`), calls `on_setup` once, then
// `on_row` for each point as it is measured (on rank 0's thread).
Status RunBench(const BenchOptions& options, const std::function<void(const BenchSetup&)>& on_setup,
                const std::function<void(const BenchRow&)>& on_row);

// One rank of a run over any host communicator (e.g. MPI across hosts, one process per GPU):
// this rank uses CUDA device `device`; options.ranks is ignored (the communicator's size is the
// rank count). Collective over `host`: a rank without its device makes every rank return
// FailedPrecondition before NCCL is touched. `on_setup` and `on_row` are called on rank 0 only.
Status RunBenchOnRank(Communicator& host, int device, const BenchOptions& options,
                      const std::function<void(const BenchSetup&)>& on_setup,
                      const std::function<void(const BenchRow&)>& on_row);

}  // namespace loom::comm::nccl
