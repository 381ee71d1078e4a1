// Overhead of ParallelFor on the default pool against a serial loop over the same data.
#include <benchmark/benchmark.h>

#include <vector>

#include "loom/base/thread_pool.h"

namespace {

void BM_SerialSum(benchmark::State& state) {
  std::vector<float> v(static_cast<size_t>(state.range(0)), 1.0f);
  for (auto _ : state) {
    double s = 0;
    for (float x : v) s += x;
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SerialSum)->Range(1 << 10, 1 << 22);

void BM_ParallelForSum(benchmark::State& state) {
  std::vector<float> v(static_cast<size_t>(state.range(0)), 1.0f);
  loom::ThreadPool& pool = loom::DefaultThreadPool();
  std::vector<double> partial(256);
  for (auto _ : state) {
    pool.ParallelFor(static_cast<int64_t>(v.size()), 4096, [&](int64_t b, int64_t e) {
      double s = 0;
      for (int64_t i = b; i < e; ++i) s += v[static_cast<size_t>(i)];
      partial[static_cast<size_t>(b / 4096) % partial.size()] = s;
    });
    benchmark::DoNotOptimize(partial.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParallelForSum)->Range(1 << 10, 1 << 22);

}  // namespace
