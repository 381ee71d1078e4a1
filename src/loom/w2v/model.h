// Model: the three word2vec matrices, row-major V x d float: syn0 (input vectors, what the
// vector file holds), syn1 (hierarchical-softmax inner nodes, V-1 used rows, when hs) and
// syn1neg (negative-sampling output vectors, when negative > 0).
// Thread-safety: trainers update rows lock-free (Hogwild), as word2vec.c does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "loom/base/status.h"

namespace loom::w2v {

struct Model {
  int64_t vocab_size = 0;
  int64_t dim = 0;
  std::vector<float> syn0, syn1, syn1neg;

  float* row0(int64_t w) { return syn0.data() + w * dim; }
  const float* row0(int64_t w) const { return syn0.data() + w * dim; }
};

// word2vec.c's InitNet: syn0[v][j] = ((next & 0xFFFF)/65536 - 0.5)/d with the LCG
// next = next * 25214903917 + 11 started at `seed` (word2vec.c: 1), row-major; syn1 and
// syn1neg zero (allocated only when used).
Model InitModel(int64_t vocab_size, int64_t dim, bool hs, bool negative, uint64_t seed);

// OK when every value of the three matrices is finite. Otherwise an InvalidArgument error
// naming the matrix, row and column of the first non-finite value and `when` (e.g. "after
// epoch 2"): training diverged, -alpha is too large for the setup (or a combiner overshoots).
Status CheckFinite(const Model& m, std::string_view when);

inline uint64_t NextRandom(uint64_t x) { return x * 25214903917ull + 11; }

// Thread t's LCG start: word2vec.c seeds thread t with t; other seeds shift it.
inline uint64_t ThreadSeed(uint64_t seed, int thread) {
  return (seed - 1) * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(thread);
}

}  // namespace loom::w2v
