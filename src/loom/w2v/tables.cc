#include "loom/w2v/tables.h"

#include <cmath>

#include "loom/base/check.h"

namespace loom::w2v {

SigmoidTable::SigmoidTable() {
  for (int i = 0; i < kExpTableSize; ++i) {
    // Float operands then exp in double, stored to float: word2vec.c's expression.
    float x = (static_cast<float>(i) / static_cast<float>(kExpTableSize) * 2 - 1) * kMaxExp;
    float e = static_cast<float>(std::exp(static_cast<double>(x)));
    table_[i] = e / (e + 1);
  }
  table_[kExpTableSize] = table_[kExpTableSize - 1];  // never read for |f| < 6
}

NoiseSampler::NoiseSampler(const Vocabulary& vocab, int64_t table_size)
    : table_size_(table_size), vocab_size_(static_cast<int32_t>(vocab.size())) {
  const double power = 0.75;
  double total = 0;
  for (int64_t a = 0; a < vocab.size(); ++a) total += std::pow(static_cast<double>(vocab.count(a)), power);
  // word2vec.c: for a in [0, T): table[a] = i; if a/T > d1 then i++, d1 += share(i).
  // So word k occupies [first_k, b_k] where b_k is the first a > b_{k-1} with a/T > d1_k.
  last_.assign(static_cast<size_t>(vocab_size_), table_size - 1);
  double d1 = std::pow(static_cast<double>(vocab.count(0)), power) / total;
  int64_t prev = -1;
  const double t = static_cast<double>(table_size);
  for (int32_t k = 0; k < vocab_size_ - 1; ++k) {
    int64_t a = std::max<int64_t>(prev + 1, static_cast<int64_t>(std::floor(d1 * t)) - 1);
    while (a < table_size && !(static_cast<double>(a) / t > d1)) ++a;
    if (a >= table_size) break;  // the remaining words never appear (rounding at the end)
    last_[static_cast<size_t>(k)] = a;
    prev = a;
    d1 += std::pow(static_cast<double>(vocab.count(k + 1)), power) / total;
  }
  // Words after a break keep last_ = T-1 but start after T-1: Entry never returns them.
  bucket_shift_ = 0;
  while ((table_size >> bucket_shift_) > (1 << 16)) ++bucket_shift_;
  int64_t buckets = (table_size >> bucket_shift_) + 1;
  bucket_first_.resize(static_cast<size_t>(buckets) + 1);
  int32_t k = 0;
  for (int64_t b = 0; b < buckets; ++b) {
    int64_t start = b << bucket_shift_;
    while (k < vocab_size_ - 1 && last_[static_cast<size_t>(k)] < start) ++k;
    bucket_first_[static_cast<size_t>(b)] = k;
  }
  bucket_first_[static_cast<size_t>(buckets)] = vocab_size_ - 1;
}

int32_t NoiseSampler::Entry(int64_t i) const {
  // The answer lies in [lo, hi]: lo holds the bucket's first index, hi the next bucket's first
  // (or is the last word, whose range ends the table), and last_ is non-decreasing over k.
  const size_t b = static_cast<size_t>(i >> bucket_shift_);
  const int32_t lo = bucket_first_[b];
  const int32_t hi = bucket_first_[b + 1];
  if (lo == hi) return lo;
  const int64_t* first = last_.data() + lo;
  size_t len = static_cast<size_t>(hi - lo) + 1;
  while (len > 1) {  // invariant: the answer is in first[0 .. len)
    const size_t half = len / 2;
    first = first[half - 1] < i ? first + half : first;
    len -= half;
  }
  return static_cast<int32_t>(first - last_.data());
}

std::vector<int32_t> NoiseSampler::Materialize(const Vocabulary& vocab, int64_t table_size) {
  std::vector<int32_t> table(static_cast<size_t>(table_size));
  double total = 0, power = 0.75;
  int64_t v = vocab.size();
  for (int64_t a = 0; a < v; ++a) total += std::pow(static_cast<double>(vocab.count(a)), power);
  int64_t i = 0;
  double d1 = std::pow(static_cast<double>(vocab.count(i)), power) / total;
  for (int64_t a = 0; a < table_size; ++a) {
    table[static_cast<size_t>(a)] = static_cast<int32_t>(i);
    if (a / static_cast<double>(table_size) > d1) {
      ++i;
      if (i < v) d1 += std::pow(static_cast<double>(vocab.count(i)), power) / total;
    }
    if (i >= v) i = v - 1;
  }
  return table;
}

std::vector<float> SubsampleThresholds(const Vocabulary& vocab, float sample) {
  std::vector<float> out;
  if (sample <= 0) return out;
  out.resize(static_cast<size_t>(vocab.size()));
  float st = sample * static_cast<float>(vocab.train_words());
  for (int64_t w = 0; w < vocab.size(); ++w) {
    float cn = static_cast<float>(vocab.count(w));
    // word2vec.c: (sqrt(cn / (sample * train_words)) + 1) * (sample * train_words) / cn;
    // the inner quotient in float, the rest in double (the last cn as an integer), to float.
    out[static_cast<size_t>(w)] =
        static_cast<float>((std::sqrt(static_cast<double>(cn / st)) + 1) * st /
                           static_cast<double>(vocab.count(w)));
  }
  return out;
}

HuffmanCodes BuildHuffman(const Vocabulary& vocab) {
  const int64_t v = vocab.size();
  LOOM_CHECK(v >= 2);
  std::vector<int64_t> count(static_cast<size_t>(2 * v + 1), static_cast<int64_t>(1e15));
  std::vector<int64_t> parent(static_cast<size_t>(2 * v + 1), 0);
  std::vector<uint8_t> binary(static_cast<size_t>(2 * v + 1), 0);
  for (int64_t a = 0; a < v; ++a) count[static_cast<size_t>(a)] = vocab.count(a);
  int64_t pos1 = v - 1, pos2 = v;
  auto pick = [&]() {
    int64_t m;
    if (pos1 >= 0 && count[static_cast<size_t>(pos1)] < count[static_cast<size_t>(pos2)]) {
      m = pos1--;
    } else {
      m = pos2++;
    }
    return m;
  };
  for (int64_t a = 0; a < v - 1; ++a) {
    int64_t m1 = pick();
    int64_t m2 = pick();
    count[static_cast<size_t>(v + a)] = count[static_cast<size_t>(m1)] + count[static_cast<size_t>(m2)];
    parent[static_cast<size_t>(m1)] = v + a;
    parent[static_cast<size_t>(m2)] = v + a;
    binary[static_cast<size_t>(m2)] = 1;
  }
  HuffmanCodes h;
  h.code.resize(static_cast<size_t>(v));
  h.point.resize(static_cast<size_t>(v));
  for (int64_t a = 0; a < v; ++a) {
    std::vector<uint8_t> code;
    std::vector<int64_t> point;
    int64_t b = a;
    while (true) {
      code.push_back(binary[static_cast<size_t>(b)]);
      point.push_back(b);
      b = parent[static_cast<size_t>(b)];
      if (b == 2 * v - 2) break;
    }
    size_t n = code.size();
    auto& c = h.code[static_cast<size_t>(a)];
    auto& p = h.point[static_cast<size_t>(a)];
    c.resize(n);
    p.resize(n);
    // word2vec.c: point[0] = root (V-2); code[n-1-b] = code[b]; point[n-b] = point[b] - V.
    p[0] = static_cast<int32_t>(v - 2);
    for (size_t i = 0; i < n; ++i) {
      c[n - i - 1] = code[i];
      if (i > 0) p[n - i] = static_cast<int32_t>(point[i] - v);
    }
  }
  return h;
}

}  // namespace loom::w2v
