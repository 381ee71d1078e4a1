#include "loom/tessel/cbc_verify.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/tessel/validator.h"

#ifdef LOOM_TESSEL_HAVE_CBC
#include <coin/Cbc_C_Interface.h>
#endif

namespace loom::tessel {

std::string CbcResult::ToString() const {
  if (optimal) return StrCat("CBC: optimal makespan ", makespan, " (", vars, " vars, ", rows,
                             " rows, ", seconds, " s)");
  return StrCat("CBC: best ", makespan, ", lower bound ", lower_bound, " (limit reached; ", vars,
                " vars, ", rows, " rows, ", seconds, " s)");
}

#ifdef LOOM_TESSEL_HAVE_CBC

bool HaveCbc() { return true; }

namespace {

bool Integral(double x) { return std::isfinite(x) && x == std::floor(x); }

// Longest-path heads and tails by plain relaxation (n rounds), independent of analysis.h so
// that the certificate does not inherit a bug from the search's bounds.
void HeadsAndTails(const Placement& p, std::vector<int>& head, std::vector<int>& tail) {
  const size_t n = p.blocks.size();
  head.assign(n, 0);
  tail.assign(n, 0);
  for (size_t b = 0; b < n; ++b) tail[b] = static_cast<int>(std::lround(p.blocks[b].Span()));
  for (size_t round = 0; round < n; ++round)
    for (const Edge& e : p.edges) {
      int lag = static_cast<int>(std::lround(p.blocks[static_cast<size_t>(e.from)].Span() + e.latency));
      head[static_cast<size_t>(e.to)] =
          std::max(head[static_cast<size_t>(e.to)], head[static_cast<size_t>(e.from)] + lag);
      tail[static_cast<size_t>(e.from)] =
          std::max(tail[static_cast<size_t>(e.from)], lag + tail[static_cast<size_t>(e.to)]);
    }
}

// Rows are collected as (terms, sense, rhs) and handed to CBC at once.
struct Row {
  std::vector<int> cols;
  std::vector<double> coefs;
  void Add(int c, double v) {
    cols.push_back(c);
    coefs.push_back(v);
  }
};

}  // namespace

StatusOr<CbcResult> SolveWithCbc(const Placement& p, int m, double upper_bound,
                                 const Schedule* warm, const CbcOptions& o) {
  LOOM_RETURN_IF_ERROR(ValidatePlacement(p));
  if (m < 1) return InvalidArgumentError(StrCat("CBC: micro-batches ", m, " must be >= 1"));
  for (const Block& b : p.blocks)
    for (double d : b.duration)
      if (!Integral(d))
        return InvalidArgumentError(StrCat("CBC: block '", b.name, "' duration ", d,
                                           " is not an integer (the model is time-indexed)"));
  for (const Edge& e : p.edges)
    if (!Integral(e.latency))
      return InvalidArgumentError(StrCat("CBC: edge latency ", e.latency, " is not an integer"));
  if (!Integral(upper_bound) || upper_bound < 1 || upper_bound > 1e6)
    return InvalidArgumentError(StrCat("CBC: upper bound ", upper_bound,
                                       " must be an integer in [1, 1e6]"));
  if (warm != nullptr) {
    LOOM_RETURN_IF_ERROR(ValidateSchedule(p, *warm).WithContext("CBC incumbent"));
    if (warm->num_micro != m)
      return InvalidArgumentError("CBC: incumbent has a different micro-batch count");
    double wm = ComputeMetrics(p, *warm).makespan;
    if (!Integral(wm) || wm > upper_bound)
      return InvalidArgumentError(StrCat("CBC: incumbent makespan ", wm,
                                         " is not an integer within the bound ", upper_bound));
    upper_bound = wm;
  }
  Stopwatch sw;
  const int nb = static_cast<int>(p.blocks.size());
  // With a warm start of makespan <= upper_bound, only strictly shorter schedules are
  // interesting: the horizon shrinks by one step (tighter windows), and infeasibility then
  // proves the warm start optimal.
  const int horizon = static_cast<int>(upper_bound) - (warm != nullptr ? 1 : 0);
  std::vector<int> head, tail;
  HeadsAndTails(p, head, tail);
  // Columns: x[o][t] for t in [head, H − tail]; o = mid·nb + block.
  std::vector<int> first_col(static_cast<size_t>(nb) * static_cast<size_t>(m));
  int64_t total = 0;
  for (int b = 0; b < nb; ++b) {
    int width = horizon - tail[static_cast<size_t>(b)] - head[static_cast<size_t>(b)] + 1;
    if (width < 1) {
      if (warm != nullptr) {  // even one micro-batch needs the full bound: the warm start is optimal
        CbcResult res;
        res.optimal = res.has_schedule = true;
        res.schedule = *warm;
        res.makespan = res.lower_bound = ComputeMetrics(p, *warm).makespan;
        res.seconds = sw.ElapsedSeconds();
        return res;
      }
      return InfeasibleError(StrCat("CBC: block '", p.blocks[static_cast<size_t>(b)].name,
                                    "' cannot finish within ", horizon, " steps"));
    }
    total += static_cast<int64_t>(width) * m;
  }
  if (total > o.max_vars)
    return InvalidArgumentError(StrCat("CBC: ", total, " time-indexed variables exceed the limit of ",
                                       o.max_vars, " (fewer micro-batches or a tighter bound)"));
  auto est = [&](int b) { return head[static_cast<size_t>(b)]; };
  auto lst = [&](int b) { return horizon - tail[static_cast<size_t>(b)]; };
  int next = 0;
  for (int j = 0; j < m; ++j)
    for (int b = 0; b < nb; ++b) {
      first_col[static_cast<size_t>(j * nb + b)] = next;
      next += lst(b) - est(b) + 1;
    }
  const int cmax = next;  // the makespan column
  auto X = [&](int b, int j, int t) { return first_col[static_cast<size_t>(j * nb + b)] + t - est(b); };
  // Adds coef · Σ_{t' ≤ t} x[b,j][t'] to `row`; returns the constant part moved to the rhs
  // (coef when the whole window lies at or before t).
  auto add_prefix = [&](Row& row, int b, int j, int t, double coef) {
    if (t >= lst(b)) return coef;
    for (int u = est(b); u <= t; ++u) row.Add(X(b, j, u), coef);
    return 0.0;
  };

  std::vector<Row> rows;
  std::vector<char> sense;
  std::vector<double> rhs;
  auto push = [&](Row&& r, char s, double v) {
    if (r.cols.empty()) return;
    rows.push_back(std::move(r));
    sense.push_back(s);
    rhs.push_back(v);
  };
  for (int j = 0; j < m; ++j)
    for (int b = 0; b < nb; ++b) {
      Row r;
      for (int t = est(b); t <= lst(b); ++t) r.Add(X(b, j, t), 1);
      push(std::move(r), 'E', 1);
    }
  for (int j = 0; j < m; ++j)
    for (const Edge& e : p.edges) {
      int lag = static_cast<int>(std::lround(p.blocks[static_cast<size_t>(e.from)].Span() + e.latency));
      for (int t = est(e.to); t < lst(e.to); ++t) {
        Row r;
        double c = add_prefix(r, e.to, j, t, 1);
        c += add_prefix(r, e.from, j, t - lag, -1);
        push(std::move(r), 'L', -c);
      }
    }
  if (o.mid_order)
    for (int j = 0; j + 1 < m; ++j)
      for (int b = 0; b < nb; ++b)
        for (int t = est(b); t < lst(b); ++t) {
          Row r;
          double c = add_prefix(r, b, j + 1, t, 1);
          c += add_prefix(r, b, j, t - 1, -1);
          push(std::move(r), 'L', -c);
        }
  for (int d = 0; d < p.num_devices; ++d) {
    std::vector<std::pair<int, int>> on;  // (block, duration on d)
    std::vector<double> mem;
    for (int b = 0; b < nb; ++b) {
      int k = p.blocks[static_cast<size_t>(b)].DeviceSlot(d);
      if (k < 0) continue;
      on.push_back({b, static_cast<int>(std::lround(p.blocks[static_cast<size_t>(b)].duration[static_cast<size_t>(k)]))});
      mem.push_back(p.blocks[static_cast<size_t>(b)].memory[static_cast<size_t>(k)]);
    }
    for (int tau = 0; tau < horizon; ++tau) {
      Row r;
      for (const auto& [b, dur] : on)
        for (int j = 0; j < m; ++j)
          for (int t = std::max(est(b), tau - dur + 1); t <= std::min(lst(b), tau); ++t)
            r.Add(X(b, j, t), 1);
      if (r.cols.size() > 1) push(std::move(r), 'L', 1);
    }
    double cap = p.Cap(d);
    if (cap == kNoCap) continue;
    double all_positive = 0;
    for (double x : mem) all_positive += std::max(0.0, x) * m;
    if (all_positive <= cap) continue;  // never binding
    for (int tau = 0; tau < horizon; ++tau) {
      // The running total peaks at starts of positive deltas; other steps are dominated.
      bool peak_here = false;
      for (size_t i = 0; i < on.size(); ++i)
        peak_here = peak_here || (mem[i] > 0 && est(on[i].first) <= tau && tau <= lst(on[i].first));
      if (!peak_here) continue;
      Row r;
      double c = 0;
      for (size_t i = 0; i < on.size(); ++i)
        if (mem[i] != 0)
          for (int j = 0; j < m; ++j) c += add_prefix(r, on[i].first, j, tau, mem[i]);
      push(std::move(r), 'L', cap - c);
    }
  }
  std::vector<bool> has_succ(static_cast<size_t>(nb), false);
  for (const Edge& e : p.edges) has_succ[static_cast<size_t>(e.from)] = true;
  for (int j = 0; j < m; ++j)
    for (int b = 0; b < nb; ++b) {
      if (has_succ[static_cast<size_t>(b)]) continue;
      int span = static_cast<int>(std::lround(p.blocks[static_cast<size_t>(b)].Span()));
      Row r;
      for (int t = est(b); t <= lst(b); ++t) r.Add(X(b, j, t), t + span);
      r.Add(cmax, -1);
      push(std::move(r), 'L', 0);
    }

  std::unique_ptr<Cbc_Model, void (*)(Cbc_Model*)> model(Cbc_newModel(), Cbc_deleteModel);
  if (!model) return ResourceExhaustedError("CBC: cannot create a model");
  Cbc_Model* mdl = model.get();
  // Column-major load: CBC's incremental addRow re-allocates per row.
  std::vector<std::vector<std::pair<int, double>>> by_col(static_cast<size_t>(cmax) + 1);
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t i = 0; i < rows[r].cols.size(); ++i)
      by_col[static_cast<size_t>(rows[r].cols[i])].push_back({static_cast<int>(r), rows[r].coefs[i]});
  std::vector<CoinBigIndex> starts = {0};
  std::vector<int> index;
  std::vector<double> value;
  for (const auto& col : by_col) {
    for (const auto& [r, v] : col) {
      index.push_back(r);
      value.push_back(v);
    }
    starts.push_back(static_cast<CoinBigIndex>(index.size()));
  }
  const int ncols = cmax + 1;
  std::vector<double> col_lb(static_cast<size_t>(ncols), 0.0), col_ub(static_cast<size_t>(ncols), 1.0),
      obj(static_cast<size_t>(ncols), 0.0), row_lb(rows.size()), row_ub(rows.size());
  col_ub[static_cast<size_t>(cmax)] = horizon;
  obj[static_cast<size_t>(cmax)] = 1;
  for (size_t r = 0; r < rows.size(); ++r) {
    row_lb[r] = sense[r] == 'E' ? rhs[r] : -std::numeric_limits<double>::infinity();
    row_ub[r] = rhs[r];
  }
  Cbc_loadProblem(mdl, ncols, static_cast<int>(rows.size()), starts.data(), index.data(),
                  value.data(), col_lb.data(), col_ub.data(), obj.data(), row_lb.data(),
                  row_ub.data());
  for (int c = 0; c < cmax; ++c) Cbc_setInteger(mdl, c);
  Cbc_setLogLevel(mdl, 0);
  Cbc_setParameter(mdl, "threads", "0");
  Cbc_setParameter(mdl, "randomCbcSeed", "1");
  Cbc_setMaximumNodes(mdl, o.max_nodes);
  Cbc_setMaximumSeconds(mdl, o.seconds);
  Cbc_setAllowableGap(mdl, 0.999);  // the makespan is an integer
  Cbc_solve(mdl);

  CbcResult res;
  res.vars = ncols;
  res.rows = static_cast<int64_t>(rows.size());
  const double* x = Cbc_getColSolution(mdl);
  Schedule s;
  s.num_devices = p.num_devices;
  s.num_micro = m;
  bool decoded = x != nullptr && Cbc_getNumCols(mdl) == ncols;
  for (int j = 0; j < m && decoded; ++j)
    for (int b = 0; b < nb && decoded; ++b) {
      int at = -1;
      for (int t = est(b); t <= lst(b); ++t)
        if (x[X(b, j, t)] > 0.5) at = at < 0 ? t : -2;
      if (at < 0) decoded = false;
      s.ops.push_back({b, j, static_cast<double>(at)});
    }
  // CBC's vector is trusted only when the independent validator accepts it.
  if (decoded && ValidateSchedule(p, s).ok()) {
    Normalize(s);
    res.has_schedule = true;
    res.makespan = ComputeMetrics(p, s).makespan;
    res.schedule = std::move(s);
  }
  if (warm != nullptr) {
    double wm = ComputeMetrics(p, *warm).makespan;
    if (!res.has_schedule || wm <= res.makespan) {
      res.schedule = *warm;
      res.makespan = wm;
      res.has_schedule = true;
    }
  }
  double bound = Cbc_getBestPossibleObjValue(mdl);
  res.lower_bound = std::isfinite(bound) && bound > 0 ? std::ceil(bound - 1e-6) : 0;
  if (Cbc_isProvenInfeasible(mdl)) {
    // Nothing fits the horizon: with an incumbent (one step longer) that proves it optimal.
    if (!res.has_schedule)
      return InfeasibleError(StrCat("CBC: no schedule of ", m, " micro-batches within ", horizon,
                                    " steps"));
    res.lower_bound = res.makespan;
  }
  res.optimal = res.has_schedule && (Cbc_isProvenOptimal(mdl) != 0 ||
                                     res.lower_bound >= res.makespan - 1e-9);
  if (res.optimal) res.lower_bound = res.makespan;
  if (!res.has_schedule) res.makespan = upper_bound;
  res.lower_bound = std::min(res.lower_bound, res.makespan);
  res.seconds = sw.ElapsedSeconds();
  return res;
}

#else

bool HaveCbc() { return false; }

StatusOr<CbcResult> SolveWithCbc(const Placement&, int, double, const Schedule*, const CbcOptions&) {
  return UnavailableError("loom was built without CBC (install coinor-libcbc-dev and reconfigure)");
}

#endif

}  // namespace loom::tessel
