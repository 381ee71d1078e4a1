// A schedule: start times of every (block, micro-batch) pair of a placement, plus the optional
// repetend annotation (steady-state period and the window it occupies), and the metrics every
// report and export uses (makespan, busy time, bubble ratio, per-device memory peaks/curves).
// Thread-safety: plain values; const functions are safe to call concurrently.
#pragma once

#include <utility>
#include <vector>

#include "loom/tessel/model.h"

namespace loom::tessel {

struct Op {
  int block = 0;
  int mid = 0;       // micro-batch
  double start = 0;
};

struct Schedule {
  int num_devices = 0;
  int num_micro = 0;
  std::vector<Op> ops;
  // Steady state, when the schedule came from a repetend: one micro-batch every `period`;
  // [window_begin, window_end) is one repetend copy (it may be longer than the period).
  double period = 0;
  double window_begin = 0;
  double window_end = 0;
};

// Device d's busy interval of an op: [start, start + duration on d).
double OpEnd(const Placement& p, const Op& op);  // start + span

struct ScheduleMetrics {
  double makespan = 0;
  double bubble_ratio = 0;              // 1 − Σ busy / (N · makespan)
  std::vector<double> busy;             // per device
  std::vector<double> peak_memory;      // per device, prefix-sum at block starts
  std::vector<double> window_idle;      // per device: idle between its first start and last end
  double first_micro_done = 0;          // completion of micro-batch 0 (inference latency)
  double last_micro_done = 0;
};

ScheduleMetrics ComputeMetrics(const Placement& p, const Schedule& s);

// Per-device memory as a step function: (time, memory after the changes at that time).
std::vector<std::vector<std::pair<double, double>>> MemoryCurves(const Placement& p,
                                                                 const Schedule& s);

// Per-device run order: ops sorted by start (ties by block, mid); index into s.ops.
std::vector<std::vector<int>> DeviceOrders(const Placement& p, const Schedule& s);

// Shifts every start so the earliest is 0 and sorts ops by (start, block, mid).
void Normalize(Schedule& s);

}  // namespace loom::tessel
