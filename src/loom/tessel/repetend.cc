#include "loom/tessel/repetend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "loom/base/strings.h"

namespace loom::tessel {
namespace {

bool Integral(double x) { return std::fabs(x - std::round(x)) < 1e-9; }

// Periods longer than this many grid steps fall back to justified slots.
constexpr double kMaxGrid = 64;

double Mod(double x, double lambda) {
  double r = std::fmod(x, lambda);
  if (r < 0) r += lambda;
  if (r > lambda - 1e-9) r = 0;
  return r;
}

class CyclicDfs {
 public:
  // grid > 0: integral inputs; every start on the grid within one period of the release is a
  // candidate, which makes the enumeration complete. grid == 0: justified slots only.
  CyclicDfs(const Placement& p, const Analysis& a, const RepetendOptions& o, double lambda,
            double grid)
      : p_(p), a_(a), o_(o), lambda_(lambda), grid_(grid) {
    offset_.assign(static_cast<size_t>(a.num_blocks), 0.0);
    phases_.resize(static_cast<size_t>(p.num_devices));
    fixed_phase_.assign(static_cast<size_t>(a.num_blocks), -1.0);
    placed_.assign(static_cast<size_t>(a.num_blocks), 0);
    for (int b : a.topo)
      if (p.blocks[static_cast<size_t>(b)].devices.size() > 1) multi_.push_back(b);
  }

  // Returns true when a memory-feasible leaf was found.
  bool Run() {
    PhaseDfs(0);
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

  // Multi-device (TP/SPMD) blocks need one phase free on all their devices at once; greedy
  // placement of the single-device blocks first rarely leaves one (Tessel-fast packs them
  // first for the same reason), so their phases are chosen before the main search.
  void PhaseDfs(size_t i) {
    if (i == multi_.size()) {
      Dfs(0, 0.0);
      return;
    }
    if (++nodes_ > o_.node_budget) return;
    int b = multi_[i];
    const Block& blk = p_.blocks[static_cast<size_t>(b)];
    std::vector<double> cand = {0.0};
    if (b != a_.topo[0]) {
      if (grid_ > 0 && lambda_ / grid_ <= kMaxGrid) {
        for (double ph = grid_; ph < lambda_ - 1e-9; ph += grid_) cand.push_back(ph);
      } else {
        for (size_t k = 0; k < blk.devices.size(); ++k)
          for (const Phase& ph : phases_[static_cast<size_t>(blk.devices[k])]) {
            cand.push_back(Mod(ph.start + ph.dur, lambda_));
            cand.push_back(Mod(ph.start - blk.duration[k], lambda_));
          }
        std::sort(cand.begin(), cand.end());
      }
    }
    double last = -1;
    for (double ph : cand) {
      if (ph - last < 1e-9) continue;
      last = ph;
      bool ok = true;
      for (size_t k = 0; k < blk.devices.size() && ok; ++k)
        ok = !Overlaps(blk.devices[k], ph, blk.duration[k]);
      if (!ok) continue;
      fixed_phase_[static_cast<size_t>(b)] = ph;
      for (size_t k = 0; k < blk.devices.size(); ++k)
        phases_[static_cast<size_t>(blk.devices[k])].push_back({ph, blk.duration[k]});
      PhaseDfs(i + 1);
      for (int d : blk.devices) phases_[static_cast<size_t>(d)].pop_back();
      fixed_phase_[static_cast<size_t>(b)] = -1;
      if (nodes_ > o_.node_budget) return;
    }
  }

  // Forward check: the blocks not yet placed on `device` must still pack into its free gaps
  // modulo the period (first-fit decreasing; a heuristic filter, like the slot set itself).
  // Without it, chronological backtracking is exponential in the device count.
  bool RestFits(int device) {
    std::vector<double> rest;
    for (int b : a_.device_blocks[static_cast<size_t>(device)]) {
      if (placed_[static_cast<size_t>(b)] || fixed_phase_[static_cast<size_t>(b)] >= 0) continue;
      const Block& blk = p_.blocks[static_cast<size_t>(b)];
      rest.push_back(blk.duration[static_cast<size_t>(blk.DeviceSlot(device))]);
    }
    if (rest.empty()) return true;
    std::vector<Phase> ph = phases_[static_cast<size_t>(device)];
    if (ph.empty()) return true;
    std::sort(ph.begin(), ph.end(), [](const Phase& x, const Phase& y) { return x.start < y.start; });
    std::vector<double> gaps;
    for (size_t i = 0; i < ph.size(); ++i) {
      double end = ph[i].start + ph[i].dur;
      double next = i + 1 < ph.size() ? ph[i + 1].start : ph[0].start + lambda_;
      if (next - end > 1e-9) gaps.push_back(next - end);
    }
    std::sort(rest.begin(), rest.end(), std::greater<double>());
    for (double r : rest) {
      bool put = false;
      for (double& g : gaps)
        if (g >= r - 1e-9) {
          g -= r;
          put = true;
          break;
        }
      if (!put) return false;
    }
    return true;
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
    double fixed = fixed_phase_[static_cast<size_t>(b)];
    std::vector<double> cand = {release};
    if (fixed >= 0) {
      cand[0] = release + Mod(fixed - release, lambda_);
      if (depth == 0 && cand[0] != 0) return;  // the first block fixes the time origin at 0
    } else if (depth > 0 && grid_ > 0 && lambda_ / grid_ <= kMaxGrid) {
      for (double dt = grid_; dt < lambda_ - 1e-9; dt += grid_) cand.push_back(release + dt);
    } else if (depth > 0) {
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
      for (size_t k = 0; k < blk.devices.size() && ok && fixed < 0; ++k)
        ok = !Overlaps(blk.devices[k], t, blk.duration[k]);
      if (!ok) continue;
      offset_[static_cast<size_t>(b)] = t;
      if (fixed < 0)
        for (size_t k = 0; k < blk.devices.size(); ++k)
          phases_[static_cast<size_t>(blk.devices[k])].push_back({Mod(t, lambda_), blk.duration[k]});
      placed_[static_cast<size_t>(b)] = 1;
      bool fits = true;
      for (size_t k = 0; k < blk.devices.size() && fits && fixed < 0; ++k)
        fits = RestFits(blk.devices[k]);
      if (fits) Dfs(depth + 1, child_bound);
      placed_[static_cast<size_t>(b)] = 0;
      if (fixed < 0)
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
  double grid_;
  std::vector<double> offset_;
  std::vector<double> fixed_phase_;  // per block: reserved phase of a multi-device block, or -1
  std::vector<int> multi_;
  std::vector<char> placed_;
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
  bool integral = true;
  if (g <= 0) {
    for (const Block& b : p.blocks)
      for (double d : b.duration) integral = integral && Integral(d);
    for (const Edge& e : p.edges) integral = integral && Integral(e.latency);
    g = integral ? 1.0 : a.period_bound / 100.0;
  }
  Repetend best;
  best.period_bound = a.period_bound;
  double lambda = a.period_bound;
  for (int step = 0; step < o.max_periods; ++step, lambda = a.period_bound + step * g) {
    CyclicDfs dfs(p, a, o, lambda, integral && g == 1.0 ? 1.0 : 0.0);
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
