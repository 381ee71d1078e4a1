// Picks OpenBLAS's kernels on CPUs its build does not know; see gemm.h.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "loom/tensor/gemm.h"

extern "C" char* openblas_get_corename(void);

namespace loom::tensor {

std::string BlasCoreName() {
  const char* name = openblas_get_corename();
  return name ? name : "";
}

std::string PreferredBlasCore() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return "";  // the user chose
#if defined(__x86_64__)
  const std::string detected = BlasCoreName();
  // The generic fallbacks OpenBLAS 0.3.21 uses for CPUs newer than its tables (Sapphire
  // Rapids reports "Prescott": SSE3 kernels, about 3x slower SGEMM than SkylakeX).
  static const char* kGeneric[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                   "Atom", "Katmai", "Coppermine", "Northwood", "Banias"};
  bool generic = false;
  for (const char* g : kGeneric) generic = generic || detected == g;
  if (!generic) return "";
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return "";
}

void ReexecWithPreferredBlasCore(char** argv) {
  const std::string core = PreferredBlasCore();
  if (core.empty()) return;
  // OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded: set it and start again.
  if (setenv("OPENBLAS_CORETYPE", core.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // execv only returns on failure: carry on with the detected kernels.
}

}  // namespace loom::tensor
