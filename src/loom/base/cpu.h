// x86 CPU features that __builtin_cpu_supports cannot name on every compiler loom builds with
// (clang 14 has no "f16c"). Kernels that need them check these at run time. Also the busy-wait
// hint spinning loops use.
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

// Busy-wait hint for a spinning poll (x86 `pause`): eases the sibling hyper-thread and the
// memory pipeline while a loop waits on another thread's store; a no-op elsewhere.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace loom
