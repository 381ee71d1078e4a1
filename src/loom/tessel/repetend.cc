#include "loom/tessel/repetend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "loom/base/strings.h"

namespace loom::tessel {
namespace {

bool Integral(double x) { return std::fabs(x - std::round(x)) < 1e-9; }

double Mod(double x, double lambda) {
  double r = std::fmod(x, lambda);
  if (r < 0) r += lambda;
  if (r > lambda - 1e-9) r = 0;
  return r;
}

class CyclicDfs {
 public:
  CyclicDfs(const Placement& p, const Analysis& a, const RepetendOptions& o, double lambda)
      : p_(p), a_(a), o_(o), lambda_(lambda) {
    offset_.assign(static_cast<size_t>(a.num_blocks), 0.0);
    phases_.resize(static_cast<size_t>(p.num_devices));
  }

  // Returns true when a memory-feasible leaf was found.
  bool Run() {
    Dfs(0, 0.0);
    return found_;
  }
  bool exhausted() const { return nodes_ < o_.node_budget; }
  int64_t nodes() const { return nodes_; }
  double best_span() const { return best_span_; }
  const std::vector<double>& best_offset() const { return best_offset_; }

 private:
  struct Phase {
    double start;
    double dur;
  };

  bool Overlaps(int device, double t, double dur) const {
    for (const Phase& ph : phases_[static_cast<size_t>(device)]) {
      double x = Mod(t - ph.start, lambda_);  // where t falls after ph's start
      if (x < ph.dur - 1e-9 || x > lambda_ - dur + 1e-9) return true;
    }
    return false;
  }

  void Dfs(size_t depth, double bound) {
    if (++nodes_ > o_.node_budget) return;
    if (depth == a_.topo.size()) {
      Leaf();
      return;
    }
    int b = a_.topo[depth];
    const Block& blk = p_.blocks[static_cast<size_t>(b)];
    double release = 0;
    for (const InEdge& e : a_.preds[static_cast<size_t>(b)])
      release = std::max(release, offset_[static_cast<size_t>(e.from)] +
                                      p_.blocks[static_cast<size_t>(e.from)].Span() + e.latency);
    std::vector<double> cand = {release};
    if (depth > 0) {  // the first block fixes the time origin at 0
      // Left-justified slots (right after a placed interval) and right-justified ones (ending
      // where a placed interval starts): the latter delay forwards, which is what lowers the
      // number of micro-batches in flight when a memory cap binds.
      for (size_t k = 0; k < blk.devices.size(); ++k)
        for (const Phase& ph : phases_[static_cast<size_t>(blk.devices[k])]) {
          cand.push_back(release + Mod(ph.start + ph.dur - release, lambda_));
          cand.push_back(release + Mod(ph.start - blk.duration[k] - release, lambda_));
        }
    }
    std::sort(cand.begin(), cand.end());
    double last = -1;
    for (double t : cand) {
      if (t - last < 1e-9) continue;
      last = t;
      double child_bound = std::max(bound, t + a_.tail[static_cast<size_t>(b)]);
      if (found_ && child_bound >= best_span_ - 1e-9) break;  // later slots only grow
      bool ok = true;
      for (size_t k = 0; k < blk.devices.size() && ok; ++k)
        ok = !Overlaps(blk.devices[k], t, blk.duration[k]);
      if (!ok) continue;
      offset_[static_cast<size_t>(b)] = t;
      for (size_t k = 0; k < blk.devices.size(); ++k)
        phases_[static_cast<size_t>(blk.devices[k])].push_back({Mod(t, lambda_), blk.duration[k]});
      Dfs(depth + 1, child_bound);
      for (int d : blk.devices) phases_[static_cast<size_t>(d)].pop_back();
      if (nodes_ > o_.node_budget) return;
    }
  }

  void Leaf() {
    double span = 0;
    for (int b = 0; b < a_.num_blocks; ++b)
      span = std::max(span, offset_[static_cast<size_t>(b)] + p_.blocks[static_cast<size_t>(b)].Span());
    if (found_ && span >= best_span_ - 1e-9) return;
    Repetend r;
    r.period = lambda_;
    r.offset = offset_;
    r.span = span;
    std::vector<double> peaks = UnrolledPeaks(p_, r, o_.num_micro);
    for (int d = 0; d < p_.num_devices; ++d)
      if (peaks[static_cast<size_t>(d)] > p_.Cap(d) + 1e-9) return;
    found_ = true;
    best_span_ = span;
    best_offset_ = offset_;
  }

  const Placement& p_;
  const Analysis& a_;
  const RepetendOptions& o_;
  double lambda_;
  std::vector<double> offset_;
  std::vector<std::vector<Phase>> phases_;
  int64_t nodes_ = 0;
  bool found_ = false;
  double best_span_ = std::numeric_limits<double>::infinity();
  std::vector<double> best_offset_;
};

}  // namespace

std::vector<double> UnrolledPeaks(const Placement& p, const Repetend& r, int num_micro) {
  // Enough copies for the middle one to see the full steady state.
  int inflight = static_cast<int>(std::ceil(r.span / r.period)) + 1;
  int m = std::max(1, std::min(num_micro, 2 * inflight + 1));
  std::vector<std::map<double, double>> ev(static_cast<size_t>(p.num_devices));
  for (int j = 0; j < m; ++j)
    for (size_t b = 0; b < p.blocks.size(); ++b) {
      const Block& blk = p.blocks[b];
      double t = r.offset[b] + j * r.period;
      for (size_t k = 0; k < blk.devices.size(); ++k)
        if (blk.memory[k] != 0) ev[static_cast<size_t>(blk.devices[k])][t] += blk.memory[k];
    }
  std::vector<double> peak(static_cast<size_t>(p.num_devices), 0.0);
  for (size_t d = 0; d < ev.size(); ++d) {
    double mem = 0;
    for (const auto& [t, dm] : ev[d]) {
      mem += dm;
      peak[d] = std::max(peak[d], mem);
    }
  }
  return peak;
}

Schedule UnrollRepetend(const Placement& p, const Repetend& r, int num_micro) {
  Schedule s;
  s.num_devices = p.num_devices;
  s.num_micro = num_micro;
  for (int j = 0; j < num_micro; ++j)
    for (size_t b = 0; b < p.blocks.size(); ++b)
      s.ops.push_back({static_cast<int>(b), j, r.offset[b] + j * r.period});
  s.period = r.period;
  // One repetend copy: the period-long window in the middle of the steady state.
  int mid = std::max(0, (num_micro - 1) / 2);
  s.window_begin = mid * r.period;
  s.window_end = s.window_begin + r.period;
  Normalize(s);
  return s;
}

StatusOr<Repetend> SearchRepetend(const Placement& p, const Analysis& a,
                                  const RepetendOptions& o) {
  double g = o.granularity;
  if (g <= 0) {
    bool integral = true;
    for (const Block& b : p.blocks)
      for (double d : b.duration) integral = integral && Integral(d);
    for (const Edge& e : p.edges) integral = integral && Integral(e.latency);
    g = integral ? 1.0 : a.period_bound / 100.0;
  }
  Repetend best;
  best.period_bound = a.period_bound;
  double lambda = a.period_bound;
  for (int step = 0; step < o.max_periods; ++step, lambda = a.period_bound + step * g) {
    CyclicDfs dfs(p, a, o, lambda);
    bool found = dfs.Run();
    best.nodes += dfs.nodes();
    best.periods_tried = step + 1;
    if (found) {
      bool better = best.offset.empty() ||
                    (o.minimize_latency && dfs.best_span() < best.span - 1e-9);
      if (better) {
        best.period = lambda;
        // Proven only at λ*: the slot set of the DFS is a heuristic restriction, so an
        // exhausted DFS at a smaller period is not a proof of infeasibility.
        best.period_proven = lambda <= a.period_bound + 1e-9;
        best.offset = dfs.best_offset();
        best.span = dfs.best_span();
        best.span_proven = dfs.exhausted();
      }
      // Throughput: the first feasible period wins. Latency: stop once the span reaches the
      // critical path, which no period can beat.
      if (!o.minimize_latency || best.span <= a.critical_path + 1e-9) return best;
    }
  }
  if (!best.offset.empty()) return best;
  return InfeasibleError(StrCat("placement '", p.name, "': no repetend within ", o.max_periods,
                                " periods from ", a.period_bound,
                                " fits the memory caps (try a larger cap or node budget)"));
}

}  // namespace loom::tessel
