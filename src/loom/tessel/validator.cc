#include "loom/tessel/validator.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

#include "loom/base/strings.h"

namespace loom::tessel {
namespace {

// Relative tolerance: schedules are sums of user durations, not exact.
double Tol(double t) { return 1e-9 * std::max(1.0, std::fabs(t)); }

}  // namespace

Status ValidateSchedule(const Placement& p, const Schedule& s) {
  const size_t nb = p.blocks.size();
  if (s.num_devices != p.num_devices)
    return FailedPreconditionError(StrCat("schedule has ", s.num_devices,
                                          " devices, placement '", p.name, "' has ",
                                          p.num_devices));
  if (s.num_micro < 0) return FailedPreconditionError("negative micro-batch count");
  const size_t m = static_cast<size_t>(s.num_micro);
  std::vector<int> index(nb * m, -1);
  for (size_t i = 0; i < s.ops.size(); ++i) {
    const Op& op = s.ops[i];
    if (op.block < 0 || static_cast<size_t>(op.block) >= nb)
      return FailedPreconditionError(StrCat("op ", i, ": block id ", op.block, " not in placement"));
    const std::string& name = p.blocks[static_cast<size_t>(op.block)].name;
    if (op.mid < 0 || static_cast<size_t>(op.mid) >= m)
      return FailedPreconditionError(StrCat("op ", i, ": block '", name, "' micro-batch ", op.mid,
                                            " outside [0, ", m, ")"));
    if (!std::isfinite(op.start))
      return FailedPreconditionError(StrCat("block '", name, "' micro-batch ", op.mid,
                                            ": start is not finite"));
    int& slot = index[static_cast<size_t>(op.mid) * nb + static_cast<size_t>(op.block)];
    if (slot >= 0)
      return FailedPreconditionError(StrCat("block '", name, "' micro-batch ", op.mid,
                                            " scheduled twice"));
    slot = static_cast<int>(i);
  }
  for (size_t mid = 0; mid < m; ++mid)
    for (size_t b = 0; b < nb; ++b)
      if (index[mid * nb + b] < 0)
        return FailedPreconditionError(StrCat("block '", p.blocks[b].name, "' micro-batch ", mid,
                                              " is missing"));
  // Dependencies, per micro-batch, from the placement's edges.
  for (size_t mid = 0; mid < m; ++mid)
    for (const Edge& e : p.edges) {
      const Op& a = s.ops[static_cast<size_t>(index[mid * nb + static_cast<size_t>(e.from)])];
      const Op& b = s.ops[static_cast<size_t>(index[mid * nb + static_cast<size_t>(e.to)])];
      double ready = a.start + p.blocks[static_cast<size_t>(e.from)].Span() + e.latency;
      if (b.start + Tol(ready) < ready)
        return FailedPreconditionError(
            StrCat("dependency '", p.blocks[static_cast<size_t>(e.from)].name, "' -> '",
                   p.blocks[static_cast<size_t>(e.to)].name, "' violated in micro-batch ", mid,
                   ": starts at ", b.start, " before ", ready));
    }
  // Exclusivity and memory per device.
  struct Interval {
    double start, end, mem;
    int op;
  };
  std::vector<std::vector<Interval>> dev(static_cast<size_t>(p.num_devices));
  for (size_t i = 0; i < s.ops.size(); ++i) {
    const Op& op = s.ops[i];
    const Block& b = p.blocks[static_cast<size_t>(op.block)];
    for (size_t k = 0; k < b.devices.size(); ++k)
      dev[static_cast<size_t>(b.devices[k])].push_back(
          {op.start, op.start + b.duration[k], b.memory[k], static_cast<int>(i)});
  }
  for (size_t d = 0; d < dev.size(); ++d) {
    auto& iv = dev[d];
    std::sort(iv.begin(), iv.end(), [](const Interval& a, const Interval& b) {
      return std::tie(a.start, a.end) < std::tie(b.start, b.end);
    });
    double mem = 0;
    double cap = p.Cap(static_cast<int>(d));
    for (size_t i = 0; i < iv.size(); ++i) {
      const Op& cur = s.ops[static_cast<size_t>(iv[i].op)];
      if (i > 0 && iv[i].start + Tol(iv[i - 1].end) < iv[i - 1].end) {
        const Op& prev = s.ops[static_cast<size_t>(iv[i - 1].op)];
        return FailedPreconditionError(StrCat(
            "device ", d, ": block '", p.blocks[static_cast<size_t>(cur.block)].name,
            "' micro-batch ", cur.mid, " starts at ", iv[i].start, " while '",
            p.blocks[static_cast<size_t>(prev.block)].name, "' micro-batch ", prev.mid,
            " runs until ", iv[i - 1].end));
      }
      mem += iv[i].mem;
      if (mem > cap + Tol(cap))
        return FailedPreconditionError(StrCat("device ", d, ": memory ", mem, " exceeds cap ",
                                              cap, " when block '",
                                              p.blocks[static_cast<size_t>(cur.block)].name,
                                              "' micro-batch ", cur.mid, " starts at ",
                                              iv[i].start));
    }
  }
  return OkStatus();
}

}  // namespace loom::tessel
