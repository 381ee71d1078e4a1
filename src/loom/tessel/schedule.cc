#include "loom/tessel/schedule.h"

#include <algorithm>
#include <limits>
#include <map>

namespace loom::tessel {

double OpEnd(const Placement& p, const Op& op) {
  return op.start + p.blocks[static_cast<size_t>(op.block)].Span();
}

std::vector<std::vector<int>> DeviceOrders(const Placement& p, const Schedule& s) {
  std::vector<std::vector<int>> order(static_cast<size_t>(p.num_devices));
  for (size_t i = 0; i < s.ops.size(); ++i)
    for (int d : p.blocks[static_cast<size_t>(s.ops[i].block)].devices)
      order[static_cast<size_t>(d)].push_back(static_cast<int>(i));
  for (auto& o : order)
    std::sort(o.begin(), o.end(), [&](int a, int b) {
      const Op& x = s.ops[static_cast<size_t>(a)];
      const Op& y = s.ops[static_cast<size_t>(b)];
      if (x.start != y.start) return x.start < y.start;
      if (x.mid != y.mid) return x.mid < y.mid;
      return x.block < y.block;
    });
  return order;
}

std::vector<std::vector<std::pair<double, double>>> MemoryCurves(const Placement& p,
                                                                 const Schedule& s) {
  std::vector<std::map<double, double>> delta(static_cast<size_t>(p.num_devices));
  for (const Op& op : s.ops) {
    const Block& b = p.blocks[static_cast<size_t>(op.block)];
    for (size_t k = 0; k < b.devices.size(); ++k)
      delta[static_cast<size_t>(b.devices[k])][op.start] += b.memory[k];
  }
  std::vector<std::vector<std::pair<double, double>>> curves(delta.size());
  for (size_t d = 0; d < delta.size(); ++d) {
    double m = 0;
    curves[d].push_back({0.0, 0.0});
    for (const auto& [t, dm] : delta[d]) {
      m += dm;
      curves[d].push_back({t, m});
    }
  }
  return curves;
}

ScheduleMetrics ComputeMetrics(const Placement& p, const Schedule& s) {
  ScheduleMetrics m;
  const size_t n = static_cast<size_t>(p.num_devices);
  m.busy.assign(n, 0.0);
  m.window_idle.assign(n, 0.0);
  std::vector<double> first(n, std::numeric_limits<double>::infinity());
  std::vector<double> last(n, -std::numeric_limits<double>::infinity());
  double t0 = std::numeric_limits<double>::infinity();
  double t1 = 0;
  std::vector<double> micro_done(static_cast<size_t>(std::max(s.num_micro, 1)), 0.0);
  for (const Op& op : s.ops) {
    const Block& b = p.blocks[static_cast<size_t>(op.block)];
    t0 = std::min(t0, op.start);
    t1 = std::max(t1, op.start + b.Span());
    if (op.mid >= 0 && op.mid < s.num_micro)
      micro_done[static_cast<size_t>(op.mid)] =
          std::max(micro_done[static_cast<size_t>(op.mid)], op.start + b.Span());
    for (size_t k = 0; k < b.devices.size(); ++k) {
      size_t d = static_cast<size_t>(b.devices[k]);
      m.busy[d] += b.duration[k];
      first[d] = std::min(first[d], op.start);
      last[d] = std::max(last[d], op.start + b.duration[k]);
    }
  }
  if (s.ops.empty()) t0 = 0;
  m.makespan = t1 - t0;
  double total = 0;
  for (size_t d = 0; d < n; ++d) {
    total += m.busy[d];
    if (last[d] >= first[d]) m.window_idle[d] = (last[d] - first[d]) - m.busy[d];
  }
  m.bubble_ratio = m.makespan > 0 ? 1.0 - total / (static_cast<double>(n) * m.makespan) : 0.0;
  auto curves = MemoryCurves(p, s);
  m.peak_memory.assign(n, 0.0);
  for (size_t d = 0; d < n; ++d)
    for (const auto& pt : curves[d]) m.peak_memory[d] = std::max(m.peak_memory[d], pt.second);
  if (s.num_micro > 0) {
    m.first_micro_done = micro_done[0] - t0;
    m.last_micro_done = micro_done[static_cast<size_t>(s.num_micro - 1)] - t0;
  }
  return m;
}

void Normalize(Schedule& s) {
  if (s.ops.empty()) return;
  double t0 = s.ops[0].start;
  for (const Op& op : s.ops) t0 = std::min(t0, op.start);
  for (Op& op : s.ops) op.start -= t0;
  s.window_begin -= t0;
  s.window_end -= t0;
  std::sort(s.ops.begin(), s.ops.end(), [](const Op& a, const Op& b) {
    if (a.start != b.start) return a.start < b.start;
    if (a.block != b.block) return a.block < b.block;
    return a.mid < b.mid;
  });
}

}  // namespace loom::tessel
