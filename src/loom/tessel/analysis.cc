#include "loom/tessel/analysis.h"

#include <algorithm>

namespace loom::tessel {

StatusOr<Analysis> Analyze(const Placement& p) {
  LOOM_RETURN_IF_ERROR(ValidatePlacement(p));
  Analysis a;
  const int n = static_cast<int>(p.blocks.size());
  a.num_blocks = n;
  a.num_devices = p.num_devices;
  a.preds.resize(static_cast<size_t>(n));
  a.succs.resize(static_cast<size_t>(n));
  std::vector<int> indeg(static_cast<size_t>(n), 0);
  for (const Edge& e : p.edges) {
    a.preds[static_cast<size_t>(e.to)].push_back({e.from, e.latency});
    a.succs[static_cast<size_t>(e.from)].push_back({e.to, e.latency});
    ++indeg[static_cast<size_t>(e.to)];
  }
  // Kahn with the lowest id first: deterministic and close to the declared order.
  std::vector<int> ready;
  for (int i = n - 1; i >= 0; --i)
    if (indeg[static_cast<size_t>(i)] == 0) ready.push_back(i);
  while (!ready.empty()) {
    std::sort(ready.begin(), ready.end(), std::greater<int>());
    int b = ready.back();
    ready.pop_back();
    a.topo.push_back(b);
    for (const InEdge& s : a.succs[static_cast<size_t>(b)])
      if (--indeg[static_cast<size_t>(s.from)] == 0) ready.push_back(s.from);
  }
  a.device_blocks.resize(static_cast<size_t>(p.num_devices));
  a.work.assign(static_cast<size_t>(p.num_devices), 0.0);
  for (int b = 0; b < n; ++b) {
    const Block& blk = p.blocks[static_cast<size_t>(b)];
    for (size_t k = 0; k < blk.devices.size(); ++k) {
      a.device_blocks[static_cast<size_t>(blk.devices[k])].push_back(b);
      a.work[static_cast<size_t>(blk.devices[k])] += blk.duration[k];
    }
  }
  a.head.assign(static_cast<size_t>(n), 0.0);
  for (int b : a.topo)
    for (const InEdge& e : a.preds[static_cast<size_t>(b)])
      a.head[static_cast<size_t>(b)] =
          std::max(a.head[static_cast<size_t>(b)],
                   a.head[static_cast<size_t>(e.from)] +
                       p.blocks[static_cast<size_t>(e.from)].Span() + e.latency);
  a.tail.assign(static_cast<size_t>(n), 0.0);
  for (auto it = a.topo.rbegin(); it != a.topo.rend(); ++it) {
    int b = *it;
    double after = 0;
    for (const InEdge& s : a.succs[static_cast<size_t>(b)])
      after = std::max(after, s.latency + a.tail[static_cast<size_t>(s.from)]);
    a.tail[static_cast<size_t>(b)] = p.blocks[static_cast<size_t>(b)].Span() + after;
  }
  for (int b = 0; b < n; ++b)
    a.critical_path = std::max(a.critical_path, a.head[static_cast<size_t>(b)] +
                                                    a.tail[static_cast<size_t>(b)]);
  for (double w : a.work) a.period_bound = std::max(a.period_bound, w);
  return a;
}

namespace {

// One-machine bound with heads and tails, per device: for every threshold pair (R, Q), the
// blocks with head >= R and after-tail >= Q run M times each between R and C − Q, so
// C >= R + M·Σ duration + Q. R = Q = min gives the plain per-device bound. `dur(b, k)` is block
// b's time on its k-th device, `span(b)` when its successors may start, `lat(e)` edge latency.
template <typename DurFn, typename SpanFn, typename LatFn>
double HeadWorkTailBound(const Placement& p, const Analysis& a, int num_micro, DurFn dur,
                         SpanFn span, LatFn lat) {
  const size_t n = static_cast<size_t>(a.num_blocks);
  std::vector<double> head(n, 0.0), tail(n, 0.0);
  for (int b : a.topo)
    for (const InEdge& e : a.preds[static_cast<size_t>(b)])
      head[static_cast<size_t>(b)] = std::max(
          head[static_cast<size_t>(b)], head[static_cast<size_t>(e.from)] + span(e.from) + lat(e));
  double bound = 0;
  for (auto it = a.topo.rbegin(); it != a.topo.rend(); ++it) {
    size_t b = static_cast<size_t>(*it);
    double after = 0;
    for (const InEdge& s : a.succs[b]) after = std::max(after, lat(s) + tail[static_cast<size_t>(s.from)]);
    tail[b] = span(*it) + after;
    bound = std::max(bound, head[b] + tail[b]);  // critical path
  }
  for (int d = 0; d < a.num_devices; ++d) {
    const auto& bs = a.device_blocks[static_cast<size_t>(d)];
    std::vector<double> r, q, w;
    for (int b : bs) {
      double here = dur(b, p.blocks[static_cast<size_t>(b)].DeviceSlot(d));
      r.push_back(head[static_cast<size_t>(b)]);
      // After this block ends on the device, its remaining path (successors wait for the span).
      q.push_back(tail[static_cast<size_t>(b)] - here);
      w.push_back(here);
    }
    for (double rr : r)
      for (double qq : q) {
        double work_sum = 0;
        for (size_t i = 0; i < bs.size(); ++i)
          if (r[i] >= rr && q[i] >= qq) work_sum += w[i];
        if (work_sum > 0) bound = std::max(bound, rr + num_micro * work_sum + qq);
      }
  }
  return bound;
}

}  // namespace

double Analysis::MakespanBound(const Placement& p, int num_micro) const {
  auto dur = [&](int b, int k) {
    return p.blocks[static_cast<size_t>(b)].duration[static_cast<size_t>(k)];
  };
  auto span = [&](int b) { return p.blocks[static_cast<size_t>(b)].Span(); };
  double bound = HeadWorkTailBound(p, *this, num_micro, dur, span,
                                   [](const InEdge& e) { return e.latency; });
  // Exclusive time of all-device blocks: while one runs for its shortest per-device duration
  // g_b, nothing else runs anywhere, so these intervals are disjoint from every other block's
  // busy time and from each other, M·Σ g_b in total. Cutting them out of any schedule leaves a
  // schedule of the placement with g_b taken off each all-device block's durations and zero
  // latencies (a latency wait may overlap them), which the bound above applies to. This is
  // what makes M/NN-shape bounds tight: their TP blocks stall the whole pipeline.
  std::vector<double> exclusive(static_cast<size_t>(num_blocks), 0.0);
  double exclusive_sum = 0;
  for (int b = 0; b < num_blocks; ++b) {
    const Block& blk = p.blocks[static_cast<size_t>(b)];
    if (static_cast<int>(blk.devices.size()) != num_devices) continue;
    exclusive[static_cast<size_t>(b)] = *std::min_element(blk.duration.begin(), blk.duration.end());
    exclusive_sum += exclusive[static_cast<size_t>(b)];
  }
  if (exclusive_sum > 0) {
    auto rest = [&](int b, int k) { return dur(b, k) - exclusive[static_cast<size_t>(b)]; };
    auto rest_span = [&](int b) { return span(b) - exclusive[static_cast<size_t>(b)]; };
    bound = std::max(bound, num_micro * exclusive_sum +
                                HeadWorkTailBound(p, *this, num_micro, rest, rest_span,
                                                  [](const InEdge&) { return 0.0; }));
  }
  return bound;
}

}  // namespace loom::tessel
