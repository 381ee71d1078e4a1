// The x86 preamble shared by phi's AVX-512 kernel files (kernels_avx512.cc, gemm_avx512.cc,
// qgemm_avx512.cc): <immintrin.h>, the function target attributes the kernels are compiled
// with (the build itself stays generic x86-64; callers check HaveAvx512Kernels() first), and
// the lane mask every masked tail uses. Include it only from .cc files: the pragmas apply to
// the rest of the including file.
#pragma once

#if defined(__x86_64__)
// GCC 12's AVX-512 headers build some intrinsics on a deliberately undefined vector, which
// -Wuninitialized flags once inlined; the warnings are about the headers, not loom's code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <cstdint>

#include <immintrin.h>

// AVX-512 F/BW/VL/DQ with F16C and FMA: the fp32 and fp16 kernels.
#define LOOM_PHI_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))
// The same plus AVX512-VNNI (vpdpbusd): the int8 kernels.
#define LOOM_PHI_VNNI \
  __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

namespace loom::phi::internal {

// Lanes [0, n) of 16: all for n >= 16, none for n <= 0.
LOOM_PHI_AVX512 inline __mmask16 LaneMask(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

}  // namespace loom::phi::internal

#endif
