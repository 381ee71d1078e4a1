// Sequential double-precision Adasum (reference.h).
#include "loom/adasum/reference.h"

#include <cfloat>
#include <cmath>

namespace loom::adasum {

std::vector<double> PairReference(const std::vector<double>& a, const std::vector<double>& b) {
  double dot = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  const double guard = std::sqrt(DBL_MIN);
  double ca = aa >= guard ? 1 - dot / (2 * aa) : 1;
  double cb = bb >= guard ? 1 - dot / (2 * bb) : 1;
  std::vector<double> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = ca * a[i] + cb * b[i];
  return out;
}

std::vector<double> TreeReference(const std::vector<std::vector<double>>& inputs) {
  size_t p = inputs.size(), pow2 = 1;
  while (pow2 * 2 <= p) pow2 *= 2;
  std::vector<std::vector<double>> level(inputs.begin(), inputs.begin() + static_cast<long>(pow2));
  for (size_t i = pow2; i < p; ++i) level[i - pow2] = PairReference(level[i - pow2], inputs[i]);
  while (level.size() > 1) {
    std::vector<std::vector<double>> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(PairReference(level[i], level[i + 1]));
    level = std::move(next);
  }
  return level.empty() ? std::vector<double>() : level[0];
}

}  // namespace loom::adasum
