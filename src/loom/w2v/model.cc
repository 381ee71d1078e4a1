#include "loom/w2v/model.h"

namespace loom::w2v {

Model InitModel(int64_t vocab_size, int64_t dim, bool hs, bool negative, uint64_t seed) {
  Model m;
  m.vocab_size = vocab_size;
  m.dim = dim;
  size_t n = static_cast<size_t>(vocab_size * dim);
  m.syn0.resize(n);
  if (hs) m.syn1.assign(n, 0.0f);
  if (negative) m.syn1neg.assign(n, 0.0f);
  uint64_t next = seed;
  for (size_t i = 0; i < n; ++i) {
    next = NextRandom(next);
    // float quotient, then double (0.5 is a double in C), stored to float.
    float u = static_cast<float>(next & 0xFFFF) / 65536.0f;
    m.syn0[i] = static_cast<float>((u - 0.5) / static_cast<double>(dim));
  }
  return m;
}

}  // namespace loom::w2v
