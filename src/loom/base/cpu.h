// x86 CPU features that __builtin_cpu_supports cannot name on every compiler loom builds with
// (clang 14 has no "f16c"). Kernels that need them check these at run time.
// Thread-safety: pure functions.
#pragma once

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace loom {

// F16C (vcvtph2ps / vcvtps2ph): CPUID leaf 1, ECX bit 29.
inline bool CpuHasF16c() {
#if defined(__x86_64__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & (1u << 29)) != 0;
#else
  return false;
#endif
}

}  // namespace loom
