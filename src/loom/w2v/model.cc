#include "loom/w2v/model.h"

#include <cmath>

#include "loom/base/huge_pages.h"
#include "loom/base/strings.h"

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
  // Training reads and writes ~15 random rows per word: on 4 KiB pages most are a TLB miss.
  for (const auto* v : {&m.syn0, &m.syn1, &m.syn1neg}) AdviseHugePages(v->data(), v->size() * sizeof(float));
  return m;
}

Status CheckFinite(const Model& m, std::string_view when) {
  for (auto [name, v] : {std::pair{"syn0", &m.syn0}, std::pair{"syn1", &m.syn1}, std::pair{"syn1neg", &m.syn1neg}}) {
    for (size_t i = 0; i < v->size(); ++i) {
      if (std::isfinite((*v)[i])) continue;
      const size_t d = static_cast<size_t>(m.dim);
      return InvalidArgumentError(StrCat("training diverged ", when, ": ", name, " row ", i / d, " column ", i % d,
                                         " is ", (*v)[i], "; lower -alpha (or use another combiner)"));
    }
  }
  return OkStatus();
}

}  // namespace loom::w2v
