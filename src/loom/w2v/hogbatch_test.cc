#include <gtest/gtest.h>

#include <cmath>

#include "loom/base/random.h"
#include "loom/w2v/hogbatch.h"

namespace loom::w2v {
namespace {

// One minibatch in double precision from the same snapshot: the oracle of HogBatchUpdate.
void ReferenceUpdate(const std::vector<int32_t>& in, const std::vector<int32_t>& out,
                     const std::vector<float>& mult, double alpha, int64_t d,
                     const SigmoidTable& sig, std::vector<double>* syn0, std::vector<double>* syn1) {
  std::vector<double> s0 = *syn0, s1 = *syn1;  // snapshot
  for (size_t j = 0; j < out.size(); ++j) {
    for (size_t i = 0; i < in.size(); ++i) {
      double f = 0;
      for (int64_t k = 0; k < d; ++k) f += s1[out[j] * d + k] * s0[in[i] * d + k];
      double label = j == 0 ? 1 : 0;
      double e = f > 6 ? label - 1 : f < -6 ? label : label - sig(static_cast<float>(f));
      double g = e * alpha * mult[j];
      for (int64_t k = 0; k < d; ++k) {
        (*syn1)[out[j] * d + k] += g * s0[in[i] * d + k];
        (*syn0)[in[i] * d + k] += g * s1[out[j] * d + k];
      }
    }
  }
}

TEST(HogBatch, EqualsDoublePrecisionReferenceFromOneSnapshot) {
  const int64_t v = 20, d = 100;
  Prng rng(5);
  SigmoidTable sig;
  std::vector<float> syn0(v * d), syn1(v * d);
  for (auto& x : syn0) x = static_cast<float>(rng.Normal() * 0.3);
  for (auto& x : syn1) x = static_cast<float>(rng.Normal() * 0.3);
  // Inputs repeat a word (3 twice) and include the positive output (7); a negative has
  // multiplicity 2 (a duplicate draw).
  std::vector<int32_t> in = {3, 5, 3, 7, 11, 2};
  std::vector<int32_t> out = {7, 4, 9, 13};
  std::vector<float> mult = {1, 2, 1, 1};
  std::vector<double> r0(syn0.begin(), syn0.end()), r1(syn1.begin(), syn1.end());
  ReferenceUpdate(in, out, mult, 0.025, d, sig, &r0, &r1);
  HogBatchScratch scratch;
  HogBatchUpdate(in.data(), static_cast<int>(in.size()), out.data(), mult.data(),
                 static_cast<int>(out.size()), 0.025f, d, sig, syn0.data(), syn1.data(), &scratch);
  double max_rel = 0;
  for (size_t i = 0; i < syn0.size(); ++i) {
    max_rel = std::max(max_rel, std::fabs(syn0[i] - r0[i]) / std::max(1e-3, std::fabs(r0[i])));
    max_rel = std::max(max_rel, std::fabs(syn1[i] - r1[i]) / std::max(1e-3, std::fabs(r1[i])));
  }
  EXPECT_LT(max_rel, 1e-6);
  // Rows not in the batch are untouched.
  for (int64_t k = 0; k < d; ++k) EXPECT_EQ(static_cast<double>(syn0[0 * d + k]), r0[0 * d + k]);
}

}  // namespace
}  // namespace loom::w2v
