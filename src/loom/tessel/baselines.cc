#include "loom/tessel/baselines.h"

#include <algorithm>
#include <limits>

#include "loom/base/strings.h"
#include "loom/tessel/analysis.h"
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

Orders OneFOneBOrders(const Placement& p, int n, int m) {
  Orders o(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& q = o[static_cast<size_t>(i)];
    int f = Id(p, StrCat("f", i)), b = Id(p, StrCat("b", i));
    int warm = std::min(n - i - 1, m);
    for (int k = 0; k < warm; ++k) q.push_back({f, k});
    for (int k = 0; k < m - warm; ++k) {
      q.push_back({f, warm + k});
      q.push_back({b, k});
    }
    for (int k = m - warm; k < m; ++k) q.push_back({b, k});
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

// Greedy zero-bubble list policy on the split V placement: each device, when free, runs a ready
// B, else a ready F if fewer than limit[i] micro-batches are in flight (F started, W not),
// else a ready W; ops of one kind run in micro-batch order.
StatusOr<Schedule> ZbGreedy(const Placement& p, int n, int m, const std::vector<int>& limit) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<int> f(static_cast<size_t>(n)), b(f), w(f);
  for (int i = 0; i < n; ++i) {
    f[static_cast<size_t>(i)] = Id(p, StrCat("f", i));
    b[static_cast<size_t>(i)] = Id(p, StrCat("b", i));
    w[static_cast<size_t>(i)] = Id(p, StrCat("w", i));
  }
  auto at = [](std::vector<std::vector<double>>& v, int i, int k) -> double& {
    return v[static_cast<size_t>(i)][static_cast<size_t>(k)];
  };
  std::vector<std::vector<double>> fe(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(m), inf));
  auto be = fe;
  std::vector<int> nf(static_cast<size_t>(n), 0), nb(nf), nw(nf);
  std::vector<double> free_at(static_cast<size_t>(n), 0.0);
  Schedule s;
  s.num_devices = n;
  s.num_micro = m;
  const double F = p.blocks[static_cast<size_t>(f[0])].Span();
  const double B = p.blocks[static_cast<size_t>(b[0])].Span();
  const double W = p.blocks[static_cast<size_t>(w[0])].Span();
  // Discrete events: the device with the earliest free time that has a ready op runs it; when
  // none of the earliest devices can run anything, they wait for the next known readiness or
  // the next device to become free, whichever comes first.
  auto ready_times = [&](int d, double* fr, double* br, double* wr) {
    size_t du = static_cast<size_t>(d);
    *fr = nf[du] < m && nf[du] - nw[du] < limit[du] ? (d == 0 ? 0.0 : at(fe, d - 1, nf[du])) : inf;
    *br = nb[du] < nf[du] ? (d == n - 1 ? at(fe, d, nb[du]) : at(be, d + 1, nb[du])) : inf;
    *wr = nw[du] < nb[du] ? at(be, d, nw[du]) : inf;
  };
  for (int guard = 0; guard < 8 * 3 * n * m + 100; ++guard) {
    double t = inf;
    for (int i = 0; i < n; ++i)
      if (nw[static_cast<size_t>(i)] < m) t = std::min(t, free_at[static_cast<size_t>(i)]);
    if (t == inf) return s;
    int d = -1;
    double fr = inf, br = inf, wr = inf;
    for (int i = 0; i < n && d < 0; ++i) {
      size_t iu = static_cast<size_t>(i);
      if (nw[iu] == m || free_at[iu] != t) continue;
      ready_times(i, &fr, &br, &wr);
      if (std::min({fr, br, wr}) <= t) d = i;
    }
    if (d < 0) {
      double later = inf;
      for (int i = 0; i < n; ++i) {
        size_t iu = static_cast<size_t>(i);
        if (nw[iu] == m) continue;
        if (free_at[iu] > t) later = std::min(later, free_at[iu]);
        ready_times(i, &fr, &br, &wr);
        for (double x : {fr, br, wr})
          if (x > t) later = std::min(later, x);
      }
      if (later == inf) return InternalError("zb greedy policy deadlocked");
      for (int i = 0; i < n; ++i)
        if (free_at[static_cast<size_t>(i)] == t) free_at[static_cast<size_t>(i)] = later;
      continue;
    }
    size_t du = static_cast<size_t>(d);
    if (br <= t) {
      s.ops.push_back({b[du], nb[du], t});
      at(be, d, nb[du]++) = t + B;
      free_at[du] = t + B;
    } else if (fr <= t) {
      s.ops.push_back({f[du], nf[du], t});
      at(fe, d, nf[du]++) = t + F;
      free_at[du] = t + F;
    } else {
      s.ops.push_back({w[du], nw[du], t});
      ++nw[du];
      free_at[du] = t + W;
    }
  }
  return InternalError("zb greedy policy did not finish");
}

}  // namespace

std::vector<std::string> BaselineNames() { return {"gpipe", "1f1b", "interleaved", "zbh1", "zbh2"}; }

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
    orders = name == "gpipe" ? GpipeOrders(r.placement, n, m) : OneFOneBOrders(r.placement, n, m);
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
    std::vector<int> limit(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
      limit[static_cast<size_t>(i)] = name == "zbh1" ? n - i : 2 * (n - i) - 1;
    LOOM_ASSIGN_OR_RETURN(r.schedule, ZbGreedy(r.placement, n, m, limit));
    Normalize(r.schedule);
    return r;
  } else {
    return InvalidArgumentError(StrCat("unknown baseline '", name,
                                       "' (gpipe, 1f1b, interleaved, zbh1, zbh2)"));
  }
  LOOM_ASSIGN_OR_RETURN(Analysis a, Analyze(r.placement));
  LOOM_ASSIGN_OR_RETURN(r.schedule, ExecuteOrders(r.placement, a, m, orders));
  Normalize(r.schedule);
  return r;
}

}  // namespace loom::tessel
