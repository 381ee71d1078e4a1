#include "loom/w2v/combiner.h"

#include <algorithm>
#include <cstring>

#include "loom/base/strings.h"

namespace loom::w2v {

StatusOr<Combiner> ParseCombiner(std::string_view name) {
  if (name == "sum") return Combiner::kSum;
  if (name == "average" || name == "avg") return Combiner::kAverage;
  if (name == "adasum") return Combiner::kAdasum;
  return InvalidArgumentError(StrCat("combiner '", name, "': expected sum, average or adasum"));
}

std::string_view CombinerName(Combiner c) {
  switch (c) {
    case Combiner::kSum: return "sum";
    case Combiner::kAverage: return "average";
    case Combiner::kAdasum: return "adasum";
  }
  return "?";
}

namespace {

// Adasum of a and b into a (both dim long, in double for the dot products).
void AdasumPair(std::vector<double>* a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a->size(); ++i) {
    ab += (*a)[i] * b[i];
    aa += (*a)[i] * (*a)[i];
    bb += b[i] * b[i];
  }
  if (bb == 0) return;
  if (aa == 0) {
    *a = b;
    return;
  }
  double ca = 1 - ab / (2 * aa), cb = 1 - ab / (2 * bb);
  for (size_t i = 0; i < a->size(); ++i) (*a)[i] = ca * (*a)[i] + cb * b[i];
}

std::vector<double> AdasumTree(const std::vector<const float*>& d, size_t lo, size_t hi, int64_t dim) {
  if (hi - lo == 1) {
    std::vector<double> v(static_cast<size_t>(dim), 0.0);
    if (d[lo] != nullptr)
      for (int64_t i = 0; i < dim; ++i) v[static_cast<size_t>(i)] = d[lo][i];
    return v;
  }
  size_t mid = lo + (hi - lo + 1) / 2;
  std::vector<double> left = AdasumTree(d, lo, mid, dim);
  AdasumPair(&left, AdasumTree(d, mid, hi, dim));
  return left;
}

}  // namespace

void CombineRow(Combiner combiner, const std::vector<const float*>& deltas, int64_t dim, float* out) {
  if (combiner == Combiner::kAdasum) {
    std::vector<double> r = AdasumTree(deltas, 0, deltas.size(), dim);
    for (int64_t i = 0; i < dim; ++i) out[i] = static_cast<float>(r[static_cast<size_t>(i)]);
    return;
  }
  std::fill(out, out + dim, 0.0f);
  for (const float* d : deltas)
    if (d != nullptr)
      for (int64_t i = 0; i < dim; ++i) out[i] += d[i];
  if (combiner == Combiner::kAverage) {
    const float p = static_cast<float>(deltas.size());
    for (int64_t i = 0; i < dim; ++i) out[i] /= p;
  }
}

}  // namespace loom::w2v
