// Structural facts about a validated placement that the search, bounds and exports share:
// topological order, predecessor/successor lists, per-device work, head and tail path lengths,
// and the lower bounds on period and makespan (docs: src/loom/tessel/README.md).
// Thread-safety: immutable after Analyze; safe to share across threads.
#pragma once

#include <vector>

#include "loom/base/status.h"
#include "loom/tessel/model.h"

namespace loom::tessel {

struct InEdge {
  int from;
  double latency;
};

struct Analysis {
  int num_blocks = 0;
  int num_devices = 0;
  std::vector<int> topo;                         // topological order of block ids
  std::vector<std::vector<InEdge>> preds;        // per block
  std::vector<std::vector<InEdge>> succs;        // per block (from = successor id)
  std::vector<std::vector<int>> device_blocks;   // per device: blocks using it
  std::vector<double> work;                      // per device: busy time per micro-batch
  std::vector<double> head;                      // per block: earliest start in one micro-batch
  std::vector<double> tail;                      // per block: longest path start -> micro end
  double critical_path = 0;                      // one micro-batch alone
  double period_bound = 0;                       // λ* = max_d work[d]

  // max_d(min head on d + M·work[d] + min (tail − span) after d's last block), and the critical
  // path; plus the same bound on the time left after all-device blocks' exclusive time (see
  // analysis.cc): no schedule of M micro-batches is shorter (README "lower bounds").
  double MakespanBound(const Placement& p, int num_micro) const;
};

StatusOr<Analysis> Analyze(const Placement& p);  // validates first

}  // namespace loom::tessel
