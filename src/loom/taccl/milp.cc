#include "loom/taccl/milp.h"

#include <coin/Cbc_C_Interface.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "loom/base/strings.h"

namespace loom::taccl {

int Milp::AddVar(double lb, double ub, double objective, bool integer) {
  lb_.push_back(lb);
  ub_.push_back(ub);
  obj_.push_back(objective);
  integer_.push_back(integer);
  return static_cast<int>(lb_.size()) - 1;
}

void Milp::AddRow(std::vector<int> cols, std::vector<double> coeffs, double lb, double ub) {
  row_cols_.push_back(std::move(cols));
  row_coeffs_.push_back(std::move(coeffs));
  row_lb_.push_back(lb);
  row_ub_.push_back(ub);
}

int Milp::num_integers() const { return static_cast<int>(std::count(integer_.begin(), integer_.end(), true)); }

StatusOr<Milp::Result> Milp::Solve(const std::vector<double>& start, int max_nodes,
                                   double max_seconds, bool preprocess) const {
  const int n = num_vars();
  if (!start.empty() && static_cast<int>(start.size()) != n)
    return InternalError(StrCat("MILP warm start has ", start.size(), " values for ", n, " columns"));
  // Column-major matrix for Cbc_loadProblem.
  std::vector<std::vector<std::pair<int, double>>> by_col(n);
  for (size_t r = 0; r < row_cols_.size(); ++r)
    for (size_t i = 0; i < row_cols_[r].size(); ++i)
      by_col[row_cols_[r][i]].push_back({static_cast<int>(r), row_coeffs_[r][i]});
  std::vector<CoinBigIndex> starts{0};
  std::vector<int> index;
  std::vector<double> value;
  for (int c = 0; c < n; ++c) {
    for (auto [r, v] : by_col[c]) {
      index.push_back(r);
      value.push_back(v);
    }
    starts.push_back(static_cast<CoinBigIndex>(index.size()));
  }
  std::unique_ptr<Cbc_Model, void (*)(Cbc_Model*)> model(Cbc_newModel(), Cbc_deleteModel);
  if (!model) return ResourceExhaustedError("CBC: cannot create a model");
  Cbc_loadProblem(model.get(), n, static_cast<int>(row_lb_.size()), starts.data(), index.data(),
                  value.data(), lb_.data(), ub_.data(), obj_.data(), row_lb_.data(), row_ub_.data());
  for (int c = 0; c < n; ++c)
    if (integer_[c]) Cbc_setInteger(model.get(), c);
  Cbc_setLogLevel(model.get(), 0);
  Cbc_setParameter(model.get(), "threads", "0");
  Cbc_setParameter(model.get(), "randomSeed", "1");
  Cbc_setParameter(model.get(), "randomCbcSeed", "1");
  Cbc_setMaximumNodes(model.get(), max_nodes);
  Cbc_setMaximumSeconds(model.get(), max_seconds);
  if (!preprocess) Cbc_setParameter(model.get(), "preprocess", "off");
  if (!start.empty()) {
    std::vector<int> cols(n);
    for (int c = 0; c < n; ++c) cols[c] = c;
    Cbc_setMIPStartI(model.get(), n, cols.data(), start.data());
  }
  Cbc_solve(model.get());
  Result res;
  const double* x = Cbc_getColSolution(model.get());
  double obj = Cbc_getObjValue(model.get());
  res.bound = Cbc_getBestPossibleObjValue(model.get());
  res.optimal = Cbc_isProvenOptimal(model.get()) != 0;
  if (x != nullptr && std::isfinite(obj) && obj < 1e40) {
    res.x.assign(x, x + n);
    // CBC reports a solution vector even without an incumbent; check feasibility ourselves.
    bool feasible = true;
    for (int c = 0; c < n && feasible; ++c) {
      if (res.x[c] < lb_[c] - 1e-6 || res.x[c] > ub_[c] + 1e-6) feasible = false;
      if (integer_[c] && std::fabs(res.x[c] - std::round(res.x[c])) > 1e-6) feasible = false;
    }
    for (size_t r = 0; r < row_lb_.size() && feasible; ++r) {
      double s = 0;
      for (size_t i = 0; i < row_cols_[r].size(); ++i) s += row_coeffs_[r][i] * res.x[row_cols_[r][i]];
      if (s < row_lb_[r] - 1e-6 * (1 + std::fabs(row_lb_[r])) ||
          s > row_ub_[r] + 1e-6 * (1 + std::fabs(row_ub_[r])))
        feasible = false;
    }
    res.has_solution = feasible;
    res.objective = obj;
  }
  if (!std::isfinite(res.bound) || res.bound < -1e40) res.bound = 0;
  return res;
}

}  // namespace loom::taccl
