// Adasum's per-element kernels: partial dot products and squared norms in double, and the
// scaled add a = ca·a + cb·b. f32/f64 scale in double; f16/bf16 are widened to float per block
// and scaled in float, rounded once. On x86 CPUs with AVX2+FMA (+F16C) a wider build of the same
// source is picked once at run time; other CPUs run the portable build. The lane structure (8
// double lanes, fixed combine order) is part of the source, so both builds sum in the same order
// (they may differ only by fused multiply-add rounding). All ranks get the same result anyway:
// every element is computed by one rank and the coefficients come from summed partials.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>

#include "loom/comm/dtype.h"

namespace loom::adasum::internal {

struct Stats {
  double dot = 0, aa = 0, bb = 0;
};

// a·b, ‖a‖², ‖b‖² over n elements of `t` (f32, f64, f16, bf16; others give zeros).
Stats Dots(comm::DataType t, const std::byte* a, const std::byte* b, size_t n);

// a = ca·a + cb·b over n elements of `t` (f32, f64, f16, bf16; others untouched).
void ScaledAdd(comm::DataType t, std::byte* a, double ca, const std::byte* b, double cb, size_t n);

// Tests only: run every later call on one build (not thread-safe against running reductions).
// Returns false (and changes nothing) when this CPU cannot run it.
enum class KernelBuild { kPortable = 0, kAvx2 = 1 };
bool SetKernelBuild(KernelBuild build);
bool CpuHasAvx2();  // AVX2 + FMA + F16C

}  // namespace loom::adasum::internal
