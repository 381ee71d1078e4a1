#include "loom/tessel/baselines.h"

#include <algorithm>

#include "loom/base/strings.h"
#include "loom/tessel/analysis.h"
#include "loom/tessel/list_schedule.h"
#include "loom/tessel/simulator.h"

namespace loom::tessel {
namespace {

using Orders = std::vector<std::vector<OrderItem>>;

int Id(const Placement& p, const std::string& name) { return p.FindBlock(name); }

Orders GpipeOrders(const Placement& p, int n, int m) {
  Orders o(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < m; ++k) o[static_cast<size_t>(i)].push_back({Id(p, StrCat("f", i)), k});
    for (int k = 0; k < m; ++k) o[static_cast<size_t>(i)].push_back({Id(p, StrCat("b", i)), k});
  }
  return o;
}

// One forward-then-backward order per stage: `warm(i)` forwards, then alternating F and B,
// then the remaining backwards. With the split placement (W blocks present) each B is followed
// by the W that is `defer(i)` micro-batches older, and the deferred W's close the order.
// 1F1B: warm = n − i − 1, no W. ZB-H1 (ZB paper's hand-built schedule): the same warm-up, W
// deferred by i, so stage i's deferred W's fill its cool-down waits. ZB-H2: warm-up
// 2(n − i) − 2 (in flight 2(n − i) − 1), W deferred by 2i (the "parallelogram").
template <typename WarmFn, typename DeferFn>
Orders WarmupSteadyOrders(const Placement& p, int n, int m, WarmFn warm_of, DeferFn defer_of) {
  Orders o(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& q = o[static_cast<size_t>(i)];
    int f = Id(p, StrCat("f", i)), b = Id(p, StrCat("b", i)), w = Id(p, StrCat("w", i));
    int warm = std::min(warm_of(i), m);
    int defer = defer_of(i);
    int next_w = 0;
    for (int k = 0; k < warm; ++k) q.push_back({f, k});
    for (int k = 0; k < m; ++k) {
      if (warm + k < m) q.push_back({f, warm + k});
      q.push_back({b, k});
      if (w >= 0 && k - next_w >= defer) q.push_back({w, next_w++});
    }
    while (w >= 0 && next_w < m) q.push_back({w, next_w++});
  }
  return o;
}

// Megatron-LM's interleaved order (schedules.py, forward_backward_pipelining_with_interleaving):
// virtual micro-batch k of a rank maps to chunk (k / p) % v and micro-batch
// (k / (p v)) p + k % p; rank r warms up with 2(p − r − 1) + (v − 1) p forwards.
Orders InterleavedOrders(const Placement& p, int n, int v, int m) {
  Orders o(static_cast<size_t>(n));
  int total = m * v;
  for (int r = 0; r < n; ++r) {
    auto& q = o[static_cast<size_t>(r)];
    auto fwd = [&](int k) {
      int chunk = (k / n) % v;
      int mb = (k / (n * v)) * n + k % n;
      return OrderItem{Id(p, StrCat("f", chunk * n + r)), mb};
    };
    auto bwd = [&](int k) {
      int chunk = v - 1 - (k / n) % v;
      int mb = (k / (n * v)) * n + k % n;
      return OrderItem{Id(p, StrCat("b", chunk * n + r)), mb};
    };
    int warm = std::min(2 * (n - r - 1) + (v - 1) * n, total);
    for (int k = 0; k < warm; ++k) q.push_back(fwd(k));
    for (int k = 0; k < total - warm; ++k) {
      q.push_back(fwd(warm + k));
      q.push_back(bwd(k));
    }
    for (int k = total - warm; k < total; ++k) q.push_back(bwd(k));
  }
  return o;
}

// Chimera (arXiv 2107.06925): two pipelines in opposite directions over the same devices, the
// "down" one with stage s on device s (xshape's v chain), the "up" one with stage s on device
// D − 1 − s (its x chain); micro-plan k carries down micro-batch k and up micro-batch k. Each
// direction runs 1F1B over its N/2 micro-batches; device i interleaves its two stages' ops in
// the order of their start times in that isolated 1F1B (`iso`, stage s of a p-stage
// pipeline), ties to the op deeper in its pipeline (a forward on the later stage, a backward on
// the earlier). For N = D that is the paper's basic unit; for N > D the two 1F1B streams overlap
// where the paper concatenates units. The merge is deadlock-free for any F, B: every dependency
// goes to a strictly later isolated start and the device orders never go backwards.
Orders ChimeraOrders(const Placement& p, const Placement& iso_p, const Schedule& iso, int n) {
  struct Keyed {
    double start;
    int tie;
    OrderItem item;
  };
  std::vector<std::vector<Keyed>> keyed(static_cast<size_t>(n));
  for (const Op& op : iso.ops) {
    const Block& blk = iso_p.blocks[static_cast<size_t>(op.block)];
    int stage = blk.devices[0];
    bool fwd = blk.type == BlockType::kForward;
    std::string suffix = StrCat(stage);
    for (int dir = 0; dir < 2; ++dir) {
      int device = dir == 0 ? stage : n - 1 - stage;
      std::string name = StrCat(fwd ? "f" : "b", dir == 0 ? "v" : "x", suffix);
      keyed[static_cast<size_t>(device)].push_back(
          {op.start, fwd ? -stage : stage, OrderItem{Id(p, name), op.mid}});
    }
  }
  Orders o(static_cast<size_t>(n));
  for (int d = 0; d < n; ++d) {
    auto& k = keyed[static_cast<size_t>(d)];
    std::stable_sort(k.begin(), k.end(), [](const Keyed& a, const Keyed& b) {
      return a.start != b.start ? a.start < b.start : a.tie < b.tie;
    });
    for (const Keyed& e : k) o[static_cast<size_t>(d)].push_back(e.item);
  }
  return o;
}

}  // namespace

std::vector<std::string> BaselineNames() {
  return {"gpipe", "1f1b", "interleaved", "zbh1", "zbh2", "chimera", "zbv"};
}

StatusOr<Baseline> MakeBaseline(const std::string& name, const PlacementOptions& o0, int m) {
  if (m < 1 || m > 100000)
    return InvalidArgumentError(StrCat("baseline ", name, ": micro-batches ", m,
                                       " must be in [1, 100000]"));
  PlacementOptions o = o0;
  o.train = true;
  const int n = o.devices;
  Baseline r;
  Orders orders;
  if (name == "gpipe" || name == "1f1b") {
    o.split_w = false;
    LOOM_ASSIGN_OR_RETURN(r.placement, MakePlacement("vshape", o));
    orders = name == "gpipe" ? GpipeOrders(r.placement, n, m)
                             : WarmupSteadyOrders(r.placement, n, m, [n](int i) { return n - i - 1; },
                                                  [](int) { return 0; });
  } else if (name == "interleaved") {
    o.split_w = false;
    if (m % n != 0)
      return InvalidArgumentError(StrCat("baseline interleaved: micro-batches ", m,
                                         " must be a multiple of devices ", n));
    LOOM_ASSIGN_OR_RETURN(r.placement, MakePlacement("interleaved", o));
    orders = InterleavedOrders(r.placement, n, o.chunks, m);
  } else if (name == "zbh1" || name == "zbh2") {
    o.split_w = true;
    LOOM_ASSIGN_OR_RETURN(r.placement, MakePlacement("vshape", o));
    if (name == "zbh1")
      orders = WarmupSteadyOrders(r.placement, n, m, [n](int i) { return n - i - 1; },
                                  [](int i) { return i; });
    else
      orders = WarmupSteadyOrders(r.placement, n, m, [n](int i) { return 2 * (n - i) - 2; },
                                  [](int i) { return 2 * i; });
  } else if (name == "chimera") {
    o.split_w = false;
    if (n % 2 != 0 || m % 2 != 0)
      return InvalidArgumentError(StrCat("baseline chimera: devices ", n, " and micro-batches ",
                                         m, " must both be even"));
    // m pipeline micro-batches = m / 2 xshape micro-plans (one per direction each).
    m /= 2;
    LOOM_ASSIGN_OR_RETURN(Baseline iso, MakeBaseline("1f1b", o, m));
    LOOM_ASSIGN_OR_RETURN(r.placement, MakePlacement("xshape", o));
    orders = ChimeraOrders(r.placement, iso.placement, iso.schedule, n);
  } else if (name == "zbv") {
    // ZB-V: two chunks per device in a V, B/W split, 1F1B's activation memory (p stages' worth
    // = 2p chunk activations on every device); orders from the list-scheduling rule.
    o.split_w = true;
    o.chunks = 2;
    o.cap = 2.0 * n;
    LOOM_ASSIGN_OR_RETURN(r.placement, MakePlacement("zbv", o));
    LOOM_ASSIGN_OR_RETURN(Analysis a, Analyze(r.placement));
    LOOM_ASSIGN_OR_RETURN(Schedule greedy, ListSchedule(r.placement, a, m));
    orders.assign(static_cast<size_t>(n), {});
    std::vector<std::vector<int>> dev_order = DeviceOrders(r.placement, greedy);
    for (int d = 0; d < n; ++d)
      for (int i : dev_order[static_cast<size_t>(d)])
        orders[static_cast<size_t>(d)].push_back(
            {greedy.ops[static_cast<size_t>(i)].block, greedy.ops[static_cast<size_t>(i)].mid});
  } else {
    return InvalidArgumentError(StrCat("unknown baseline '", name,
                                       "' (gpipe, 1f1b, interleaved, zbh1, zbh2, chimera, zbv)"));
  }
  LOOM_ASSIGN_OR_RETURN(Analysis a, Analyze(r.placement));
  LOOM_ASSIGN_OR_RETURN(r.schedule, ExecuteOrders(r.placement, a, m, orders));
  Normalize(r.schedule);
  return r;
}

}  // namespace loom::tessel
