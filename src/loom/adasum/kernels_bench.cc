// Adasum's per-element kernels (internal/kernels.h) against the sum reduce that the plain
// allreduce runs over the same halves, f32, both kernel builds: the dot/norm pass and the scaled
// add must cost about what ReduceInto does for Adasum to stay near the sum (G8).
// `build/release/src/loom/adasum/adasum_kernels_bench --benchmark_filter=...`
#include <cstddef>
#include <vector>

#include <benchmark/benchmark.h>

#include "loom/adasum/internal/kernels.h"
#include "loom/comm/dtype.h"

namespace {

using loom::adasum::internal::KernelBuild;

struct Halves {
  std::vector<float> a, b;
  explicit Halves(int64_t n) : a(static_cast<size_t>(n), 1.0f), b(static_cast<size_t>(n), 0.5f) {}
  std::byte* A() { return reinterpret_cast<std::byte*>(a.data()); }
  const std::byte* B() const { return reinterpret_cast<const std::byte*>(b.data()); }
};

bool UseBuild(benchmark::State& state) {
  const auto build = static_cast<KernelBuild>(state.range(1));
  if (!loom::adasum::internal::SetKernelBuild(build)) {
    state.SkipWithError("this CPU cannot run the AVX2 build");
    return false;
  }
  return true;
}

void BM_DotsF32(benchmark::State& state) {
  if (!UseBuild(state)) return;
  Halves h(state.range(0));
  for (auto _ : state) {
    auto s = loom::adasum::internal::Dots(loom::comm::DataType::kF32, h.A(), h.B(), h.a.size());
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0) * 8);
}

void BM_ScaledAddF32(benchmark::State& state) {
  if (!UseBuild(state)) return;
  Halves h(state.range(0));
  for (auto _ : state) {
    loom::adasum::internal::ScaledAdd(loom::comm::DataType::kF32, h.A(), 0.5, h.B(), 0.75,
                                      h.a.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0) * 8);
}

void BM_SumReduceF32(benchmark::State& state) {
  Halves h(state.range(0));
  for (auto _ : state) {
    loom::comm::ReduceInto(loom::comm::DataType::kF32, loom::comm::ReduceOp::kSum, h.a.data(),
                           h.b.data(), h.a.size());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * state.range(0) * 8);
}

// 32K-4M floats per half (128 KiB: L2; 16 MiB: memory), portable (0) and AVX2 (1) builds.
void Args(benchmark::internal::Benchmark* b) {
  for (int64_t n : {int64_t{32} << 10, int64_t{128} << 10, int64_t{1} << 20, int64_t{4} << 20})
    for (int build : {0, 1}) b->Args({n, build});
}
BENCHMARK(BM_DotsF32)->Apply(Args);
BENCHMARK(BM_ScaledAddF32)->Apply(Args);
BENCHMARK(BM_SumReduceF32)
    ->Args({32 << 10, 0})
    ->Args({128 << 10, 0})
    ->Args({1 << 20, 0})
    ->Args({4 << 20, 0});

}  // namespace
