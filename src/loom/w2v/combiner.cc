#include "loom/w2v/combiner.h"

#include <algorithm>
#include <cstring>

#include "loom/base/check.h"
#include "loom/base/strings.h"

namespace loom::w2v {

StatusOr<Combiner> ParseCombiner(std::string_view name) {
  if (name == "sum") return Combiner::kSum;
  if (name == "average" || name == "avg") return Combiner::kAverage;
  if (name == "touched-average") return Combiner::kTouchedAverage;
  if (name == "adasum") return Combiner::kAdasum;
  return InvalidArgumentError(StrCat("combiner '", name, "': expected sum, average, touched-average or adasum"));
}

std::string_view CombinerName(Combiner c) {
  switch (c) {
    case Combiner::kSum: return "sum";
    case Combiner::kAverage: return "average";
    case Combiner::kTouchedAverage: return "touched-average";
    case Combiner::kAdasum: return "adasum";
  }
  return "?";
}

void CombineRow(Combiner combiner, const std::vector<const float*>& deltas, int64_t dim, float* out) {
  LOOM_CHECK(combiner != Combiner::kAdasum) << "Adasum is combined by the adasum module's allreduce";
  std::fill(out, out + dim, 0.0f);
  size_t touched = 0;
  for (const float* d : deltas) {
    if (d == nullptr) continue;
    ++touched;
    for (int64_t i = 0; i < dim; ++i) out[i] += d[i];
  }
  size_t divisor = 1;
  if (combiner == Combiner::kAverage) divisor = deltas.size();
  if (combiner == Combiner::kTouchedAverage) divisor = std::max<size_t>(touched, 1);
  if (divisor > 1) {
    const float k = static_cast<float>(divisor);
    for (int64_t i = 0; i < dim; ++i) out[i] /= k;
  }
}

}  // namespace loom::w2v
