// A small MILP builder over CBC's C interface (Debian coinor-libcbc-dev). One model per solve;
// not thread-safe (one model per thread). CBC runs single-threaded with a node limit, so results
// are deterministic for a given model; the wall-clock limit is a backstop only.
#pragma once

#include <string>
#include <vector>

#include "loom/base/status.h"

namespace loom::taccl {

class Milp {
 public:
  // Returns the column index.
  int AddVar(double lb, double ub, double objective, bool integer);
  // lb <= sum coeffs[i] * x[cols[i]] <= ub.
  void AddRow(std::vector<int> cols, std::vector<double> coeffs, double lb, double ub);
  int num_vars() const { return static_cast<int>(lb_.size()); }
  int num_integers() const;
  int num_rows() const { return static_cast<int>(row_lb_.size()); }

  struct Result {
    bool has_solution = false;
    bool optimal = false;
    double objective = 0;
    double bound = 0;  // best possible objective (LP / branch-and-bound bound)
    std::vector<double> x;
  };
  // `start`: a feasible warm start (one value per column) or empty.
  // `preprocess` false turns CBC's CglPreProcess off: CBC 2.10 can crash in
  // CglPreProcess::postProcess when the time limit ends a solve that preprocessing reduced
  // (seen with the schedule MILP's short limits on a loaded machine).
  StatusOr<Result> Solve(const std::vector<double>& start, int max_nodes, double max_seconds,
                         bool preprocess = true) const;

 private:
  std::vector<double> lb_, ub_, obj_;
  std::vector<bool> integer_;
  std::vector<std::vector<int>> row_cols_;
  std::vector<std::vector<double>> row_coeffs_;
  std::vector<double> row_lb_, row_ub_;
};

}  // namespace loom::taccl
