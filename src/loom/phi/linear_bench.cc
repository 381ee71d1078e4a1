// Prefill and decode matmuls of one phi-2-shaped projection (fc1: 10240 x 2560) through
// LinearForward for every weight type, beside OpenBLAS's SGEMM on the same F32 matrix (the
// path F32 prefill took before gemm_avx512.h). Run with --threads via LOOM_BENCH_THREADS
// (default 1: per-core throughput; the rates use the thread's CPU time, steadier on a shared
// machine than wall time; with more threads read the wall-clock column). Counters: GFLOP/s.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <vector>

#include "loom/base/random.h"
#include "loom/base/thread_pool.h"
#include "loom/phi/ops.h"
#include "loom/phi/weights.h"
#include "loom/tensor/gemm.h"

namespace loom::phi {
namespace {

constexpr int64_t kOut = 10240, kIn = 2560;

int Threads() {
  const char* s = std::getenv("LOOM_BENCH_THREADS");
  return s ? std::atoi(s) : 1;
}

const Linear& Layer(WeightType t) {
  static std::vector<PhiWeights>* cache = [] {
    SetDefaultThreadCount(Threads());
    tensor::SetBlasThreads(Threads());
    Prng rng(1);
    Linear l{kOut, kIn, std::vector<float>(kOut * kIn), {}, WeightType::kF32, {}};
    for (float& v : l.w) v = static_cast<float>(rng.Normal() * 0.02);
    auto* all = new std::vector<PhiWeights>(4);
    for (int i = 0; i < 4; ++i) {
      (*all)[i].lm_head = l;
      LOOM_CHECK_OK(QuantizeWeights((*all)[i], static_cast<WeightType>(i)));
      AdviseWeightHugePages((*all)[i]);  // as PhiModel's first Forward does
    }
    return all;
  }();
  return (*cache)[static_cast<int>(t)].lm_head;
}

void BM_Linear(benchmark::State& state) {
  const auto t = static_cast<WeightType>(state.range(0));
  const int64_t tokens = state.range(1);
  const Linear& l = Layer(t);
  std::vector<float> x(tokens * kIn, 0.5f), y(tokens * kOut);
  for (auto _ : state) {
    LinearForward(l, x.data(), tokens, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(WeightTypeName(t)));
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * tokens * kOut * kIn * state.iterations(),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Linear)->ArgsProduct({{0, 1, 2, 3}, {1, 64}})->MinTime(0.5);

void BM_OpenBlasF32(benchmark::State& state) {
  const int64_t tokens = state.range(0);
  const Linear& l = Layer(WeightType::kF32);
  std::vector<float> x(tokens * kIn, 0.5f), y(tokens * kOut);
  for (auto _ : state) {
    tensor::Gemm(tensor::Transpose::kNo, tensor::Transpose::kYes, tokens, kOut, kIn, 1.0f,
                 x.data(), kIn, l.w.data(), kIn, 0.0f, y.data(), kOut);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * tokens * kOut * kIn * state.iterations(),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_OpenBlasF32)->Arg(64)->MinTime(0.5);

}  // namespace
}  // namespace loom::phi
