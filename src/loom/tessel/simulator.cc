#include "loom/tessel/simulator.h"

#include <algorithm>

#include "loom/base/strings.h"

namespace loom::tessel {

StatusOr<Schedule> ExecuteOrders(const Placement& p, const Analysis& a, int num_micro,
                                 const std::vector<std::vector<OrderItem>>& orders) {
  const size_t nb = p.blocks.size();
  const size_t m = static_cast<size_t>(num_micro);
  if (orders.size() != static_cast<size_t>(p.num_devices))
    return InvalidArgumentError(StrCat("orders for ", orders.size(), " devices, placement has ",
                                       p.num_devices));
  // How many device orders each op must be at the head of, and how many it appears in.
  std::vector<int> seen(nb * m, 0);
  for (size_t d = 0; d < orders.size(); ++d)
    for (const OrderItem& it : orders[d]) {
      if (it.block < 0 || static_cast<size_t>(it.block) >= nb || it.mid < 0 ||
          static_cast<size_t>(it.mid) >= m)
        return InvalidArgumentError(StrCat("device ", d, ": order names block ", it.block,
                                           " micro-batch ", it.mid, " outside the placement"));
      if (p.blocks[static_cast<size_t>(it.block)].DeviceSlot(static_cast<int>(d)) < 0)
        return InvalidArgumentError(StrCat("device ", d, ": block '",
                                           p.blocks[static_cast<size_t>(it.block)].name,
                                           "' does not run on this device"));
      ++seen[static_cast<size_t>(it.mid) * nb + static_cast<size_t>(it.block)];
    }
  for (size_t mid = 0; mid < m; ++mid)
    for (size_t b = 0; b < nb; ++b)
      if (seen[mid * nb + b] != static_cast<int>(p.blocks[b].devices.size()))
        return InvalidArgumentError(StrCat("block '", p.blocks[b].name, "' micro-batch ", mid,
                                           " appears in ", seen[mid * nb + b],
                                           " device orders, expected ",
                                           p.blocks[b].devices.size()));
  std::vector<size_t> pos(orders.size(), 0);
  std::vector<double> free_at(orders.size(), 0.0);
  std::vector<double> end(nb * m, -1.0);
  std::vector<int> at_head(nb * m, 0);
  Schedule s;
  s.num_devices = p.num_devices;
  s.num_micro = num_micro;
  s.ops.reserve(nb * m);
  size_t done = 0;
  bool progress = true;
  while (done < nb * m && progress) {
    progress = false;
    for (size_t d = 0; d < orders.size(); ++d) {
      while (pos[d] < orders[d].size()) {
        const OrderItem& it = orders[d][pos[d]];
        size_t key = static_cast<size_t>(it.mid) * nb + static_cast<size_t>(it.block);
        const Block& blk = p.blocks[static_cast<size_t>(it.block)];
        // Ready when it heads every one of its devices' orders and its predecessors ended.
        bool ready = true;
        double start = 0;
        for (int dd : blk.devices) {
          size_t du = static_cast<size_t>(dd);
          if (pos[du] >= orders[du].size() || orders[du][pos[du]].block != it.block ||
              orders[du][pos[du]].mid != it.mid) {
            ready = false;
            break;
          }
          start = std::max(start, free_at[du]);
        }
        if (!ready) break;
        for (const InEdge& e : a.preds[static_cast<size_t>(it.block)]) {
          double pe = end[static_cast<size_t>(it.mid) * nb + static_cast<size_t>(e.from)];
          if (pe < 0) {
            ready = false;
            break;
          }
          start = std::max(start, pe + e.latency);
        }
        if (!ready) break;
        for (size_t k = 0; k < blk.devices.size(); ++k) {
          size_t du = static_cast<size_t>(blk.devices[k]);
          free_at[du] = start + blk.duration[k];
          ++pos[du];
        }
        end[key] = start + blk.Span();
        s.ops.push_back({it.block, it.mid, start});
        ++done;
        progress = true;
      }
    }
  }
  if (done < nb * m) {
    std::string stuck;
    for (size_t d = 0; d < orders.size() && stuck.size() < 200; ++d)
      if (pos[d] < orders[d].size())
        stuck += StrCat(stuck.empty() ? "" : ", ", "device ", d, " waits on '",
                        p.blocks[static_cast<size_t>(orders[d][pos[d]].block)].name, "' mb ",
                        orders[d][pos[d]].mid);
    return FailedPreconditionError(StrCat("orders deadlock: ", stuck));
  }
  return s;
}

StatusOr<Schedule> Tighten(const Placement& p, const Analysis& a, const Schedule& s) {
  auto idx = DeviceOrders(p, s);
  std::vector<std::vector<OrderItem>> orders(idx.size());
  for (size_t d = 0; d < idx.size(); ++d)
    for (int i : idx[d]) orders[d].push_back({s.ops[static_cast<size_t>(i)].block,
                                              s.ops[static_cast<size_t>(i)].mid});
  LOOM_ASSIGN_OR_RETURN(Schedule t, ExecuteOrders(p, a, s.num_micro, orders));
  t.period = s.period;
  t.window_begin = s.window_begin;
  t.window_end = s.window_end;
  return t;
}

}  // namespace loom::tessel
