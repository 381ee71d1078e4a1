// Sequential double-precision Adasum (reference.h).
#include "loom/adasum/reference.h"

#include <cfloat>
#include <cmath>

namespace loom::adasum {

namespace {

// Adasum's coefficients for operands with these dot product and squared norms (guarded).
void Coefficients(double dot, double aa, double bb, double& ca, double& cb) {
  const double guard = std::sqrt(DBL_MIN);
  ca = aa >= guard ? 1 - dot / (2 * aa) : 1;
  cb = bb >= guard ? 1 - dot / (2 * bb) : 1;
}

// The tree over p leaves (reference.h): pair(x, y) combines two nodes. Nodes are vectors in
// TreeReference and weight vectors in TreeWeights.
template <typename Node, typename Pair>
Node Tree(std::vector<Node> level, const Pair& pair) {
  size_t p = level.size(), pow2 = 1;
  if (p == 0) return Node();
  while (pow2 * 2 <= p) pow2 *= 2;
  for (size_t i = pow2; i < p; ++i) level[i - pow2] = pair(level[i - pow2], level[i]);
  level.resize(pow2);
  while (level.size() > 1) {
    std::vector<Node> next;
    for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(pair(level[i], level[i + 1]));
    level = std::move(next);
  }
  return level[0];
}

}  // namespace

std::vector<double> PairReference(const std::vector<double>& a, const std::vector<double>& b) {
  double dot = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  double ca, cb;
  Coefficients(dot, aa, bb, ca, cb);
  std::vector<double> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = ca * a[i] + cb * b[i];
  return out;
}

std::vector<double> TreeReference(const std::vector<std::vector<double>>& inputs) {
  return Tree(inputs, PairReference);
}

std::vector<double> TreeWeights(const std::vector<std::vector<double>>& gram) {
  const size_t p = gram.size();
  auto dot = [&](const std::vector<double>& u, const std::vector<double>& v) {
    double s = 0;
    for (size_t i = 0; i < p; ++i)
      for (size_t j = 0; j < p; ++j) s += u[i] * gram[i][j] * v[j];
    return s;
  };
  std::vector<std::vector<double>> leaves(p, std::vector<double>(p, 0.0));
  for (size_t q = 0; q < p; ++q) leaves[q][q] = 1;
  return Tree(std::move(leaves), [&](const std::vector<double>& u, const std::vector<double>& v) {
    double ca, cb;
    Coefficients(dot(u, v), dot(u, u), dot(v, v), ca, cb);
    std::vector<double> w(p);
    for (size_t i = 0; i < p; ++i) w[i] = ca * u[i] + cb * v[i];
    return w;
  });
}

}  // namespace loom::adasum
