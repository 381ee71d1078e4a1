#include "loom/w2v/combiner.h"

#include <algorithm>
#include <cstring>

#include "loom/base/check.h"
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

void CombineRow(Combiner combiner, const std::vector<const float*>& deltas, int64_t dim, float* out) {
  LOOM_CHECK(combiner != Combiner::kAdasum) << "Adasum is combined by the adasum module's allreduce";
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
