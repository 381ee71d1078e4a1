#include "loom/base/random.h"

#include <cmath>

namespace loom {

double Prng::Normal() {
  // Box-Muller; u1 in (0, 1] so the log is finite.
  double u1 = 1.0 - UniformDouble();
  double u2 = UniformDouble();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace loom
