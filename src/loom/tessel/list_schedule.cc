#include "loom/tessel/list_schedule.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>
#include <vector>

#include "loom/base/strings.h"

namespace loom::tessel {
namespace {

int TypeRank(BlockType t) {
  switch (t) {
    case BlockType::kBackward: return 0;
    case BlockType::kWeight: return 2;
    default: return 1;
  }
}

}  // namespace

StatusOr<Schedule> ListSchedule(const Placement& p, const Analysis& a, int num_micro) {
  if (num_micro < 1 || num_micro > 100000)
    return InvalidArgumentError(StrCat("micro-batches ", num_micro, " must be in [1, 100000]"));
  const int nb = a.num_blocks;
  const int nd = a.num_devices;
  std::vector<int> topo_pos(static_cast<size_t>(nb));
  for (int i = 0; i < nb; ++i) topo_pos[static_cast<size_t>(a.topo[static_cast<size_t>(i)])] = i;
  auto idx = [nb](int block, int mid) { return static_cast<size_t>(mid) * nb + block; };
  const size_t total = static_cast<size_t>(nb) * static_cast<size_t>(num_micro);
  std::vector<int> waiting(total);   // unscheduled predecessors
  std::vector<double> release(total, 0);  // earliest start from scheduled predecessors
  std::vector<double> end(total, 0);
  // Per device: released ops in priority order (type rank, micro, topological position).
  using Key = std::tuple<int, int, int>;
  std::vector<std::set<Key>> ready(static_cast<size_t>(nd));
  auto push = [&](int block, int mid) {
    const Block& b = p.blocks[static_cast<size_t>(block)];
    Key k{TypeRank(b.type), mid, topo_pos[static_cast<size_t>(block)]};
    for (int d : b.devices) ready[static_cast<size_t>(d)].insert(k);
  };
  for (int mid = 0; mid < num_micro; ++mid)
    for (int b = 0; b < nb; ++b) {
      waiting[idx(b, mid)] = static_cast<int>(a.preds[static_cast<size_t>(b)].size());
      if (waiting[idx(b, mid)] == 0) push(b, mid);
    }
  std::vector<double> free_at(static_cast<size_t>(nd), 0), mem(static_cast<size_t>(nd), 0);
  Schedule s;
  s.num_devices = nd;
  s.num_micro = num_micro;
  s.ops.reserve(total);
  double t = 0;
  while (s.ops.size() < total) {
    bool started = true;
    while (started) {
      started = false;
      for (int d = 0; d < nd; ++d) {
        if (free_at[static_cast<size_t>(d)] > t + kTimeEps) continue;
        for (const Key& k : ready[static_cast<size_t>(d)]) {
          int block = a.topo[static_cast<size_t>(std::get<2>(k))], mid = std::get<1>(k);
          const Block& b = p.blocks[static_cast<size_t>(block)];
          if (release[idx(block, mid)] > t + kTimeEps) continue;
          bool fits = true;
          for (size_t j = 0; j < b.devices.size() && fits; ++j) {
            size_t dj = static_cast<size_t>(b.devices[j]);
            fits = free_at[dj] <= t + kTimeEps &&
                   mem[dj] + b.memory[j] <= p.Cap(b.devices[j]) + kTimeEps;
          }
          if (!fits) continue;
          for (size_t j = 0; j < b.devices.size(); ++j) {
            size_t dj = static_cast<size_t>(b.devices[j]);
            free_at[dj] = t + b.duration[j];
            mem[dj] += b.memory[j];
            if (b.devices[j] != d) ready[dj].erase(k);
          }
          end[idx(block, mid)] = t + b.Span();
          s.ops.push_back({block, mid, t});
          for (const InEdge& e : a.succs[static_cast<size_t>(block)]) {
            size_t si = idx(e.from, mid);
            release[si] = std::max(release[si], end[idx(block, mid)] + e.latency);
            if (--waiting[si] == 0) push(e.from, mid);
          }
          ready[static_cast<size_t>(d)].erase(k);  // invalidates k: leave the loop now
          started = true;
          break;
        }
      }
    }
    if (s.ops.size() == total) break;
    // Next event: a device becoming free or an op's release, whichever comes first after t.
    double next = std::numeric_limits<double>::infinity();
    for (double f : free_at)
      if (f > t + kTimeEps) next = std::min(next, f);
    for (int d = 0; d < nd; ++d)
      for (const Key& k : ready[static_cast<size_t>(d)]) {
        double r = release[idx(a.topo[static_cast<size_t>(std::get<2>(k))], std::get<1>(k))];
        if (r > t + kTimeEps) next = std::min(next, r);
      }
    if (next == std::numeric_limits<double>::infinity())
      return FailedPreconditionError(StrCat("list schedule stalled at time ", t, " with ",
                                            total - s.ops.size(),
                                            " ops left: every ready op exceeds a memory cap"));
    t = next;
  }
  Normalize(s);
  return s;
}

}  // namespace loom::tessel
