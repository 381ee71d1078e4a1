#include "loom/fhe/ckks/sampler.h"

#include <sodium.h>

#include <vector>

#include "loom/base/check.h"
#include "loom/base/csprng.h"
#include "loom/fhe/ckks/modarith.h"

namespace loom::ckks {
namespace {

// Writes the signed values v[0..n) as residues into each row.
void SpreadSigned(const Context& ctx, std::span<const size_t> prime_index, const int64_t* v,
                  uint64_t* out) {
  const size_t n = ctx.n();
  for (size_t r = 0; r < prime_index.size(); ++r) {
    const uint64_t q = ctx.primes()[prime_index[r]];
    uint64_t* row = out + r * n;
    for (size_t i = 0; i < n; ++i) row[i] = FromSigned(v[i], q);
  }
}

}  // namespace

Sampler::Sampler() {
  LOOM_CHECK(sodium_init() >= 0) << "libsodium failed to initialise";
  LOOM_CHECK_OK(OsRandomBytes(std::span<uint8_t>(key_, sizeof(key_))));
}

Sampler::~Sampler() {
  sodium_memzero(key_, sizeof(key_));
  sodium_memzero(buf_, sizeof(buf_));
}

void Sampler::Refill() {
  uint8_t nonce[crypto_stream_chacha20_NONCEBYTES] = {};
  for (int b = 0; b < 8; ++b) nonce[b] = static_cast<uint8_t>(nonce_ >> (8 * b));
  ++nonce_;
  LOOM_CHECK(crypto_stream_chacha20(reinterpret_cast<unsigned char*>(buf_), sizeof(buf_), nonce,
                                    key_) == 0);
  pos_ = 0;
}

uint64_t Sampler::NextU64() {
  if (pos_ == 64) Refill();
  return buf_[pos_++];
}

void Sampler::Ternary(const Context& ctx, std::span<const size_t> prime_index, uint64_t* out) {
  std::vector<int64_t> v(ctx.n());
  for (auto& x : v) {
    // floor(r * 3 / 2^64) is in {0, 1, 2}, bias 2^-64; no branch on the value.
    uint64_t t = static_cast<uint64_t>((static_cast<u128>(NextU64()) * 3) >> 64);
    x = static_cast<int64_t>(t) - 1;
  }
  SpreadSigned(ctx, prime_index, v.data(), out);
  sodium_memzero(v.data(), v.size() * sizeof(int64_t));
}

void Sampler::Error(const Context& ctx, std::span<const size_t> prime_index, uint64_t* out) {
  std::vector<int64_t> v(ctx.n());
  constexpr uint64_t kMask = (uint64_t{1} << kErrorBinomialK) - 1;
  for (auto& x : v) {
    uint64_t r = NextU64();
    x = static_cast<int64_t>(__builtin_popcountll(r & kMask)) -
        static_cast<int64_t>(__builtin_popcountll((r >> kErrorBinomialK) & kMask));
  }
  SpreadSigned(ctx, prime_index, v.data(), out);
  sodium_memzero(v.data(), v.size() * sizeof(int64_t));
}

void Sampler::Uniform(const Context& ctx, std::span<const size_t> prime_index, uint64_t* out) {
  const size_t n = ctx.n();
  for (size_t r = 0; r < prime_index.size(); ++r) {
    const uint64_t q = ctx.primes()[prime_index[r]];
    const uint64_t mask = (q >> 1 == 0) ? 1 : (~uint64_t{0} >> __builtin_clzll(q));
    uint64_t* row = out + r * n;
    for (size_t i = 0; i < n; ++i) {
      uint64_t x;
      do x = NextU64() & mask;
      while (x >= q);
      row[i] = x;
    }
  }
}

void Sampler::Flood(const Context& ctx, std::span<const size_t> prime_index, uint64_t bound,
                    uint64_t* out) {
  std::vector<int64_t> v(ctx.n());
  const uint64_t range = 2 * bound + 1;
  for (auto& x : v) {
    uint64_t t = static_cast<uint64_t>((static_cast<u128>(NextU64()) * range) >> 64);
    x = static_cast<int64_t>(t) - static_cast<int64_t>(bound);
  }
  // |x| <= bound < 2^62 may exceed small primes: reduce the magnitude first.
  const size_t n = ctx.n();
  for (size_t r = 0; r < prime_index.size(); ++r) {
    const Modulus& m = ctx.modulus(prime_index[r]);
    uint64_t* row = out + r * n;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t sign = static_cast<uint64_t>(v[i] >> 63);  // all ones when negative
      const uint64_t abs = (static_cast<uint64_t>(v[i]) ^ sign) - sign;
      uint64_t mag = m.Reduce(abs);
      uint64_t neg = NegateMod(mag, m.value);
      uint64_t sel = sign;
      row[i] = (neg & sel) | (mag & ~sel);
    }
  }
}

}  // namespace loom::ckks
