#include "loom/fhe/ckks/encoder.h"

#include <algorithm>
#include <cmath>

#include "loom/base/strings.h"
#include "loom/fhe/ckks/modarith.h"
#include "loom/fhe/ckks/rns.h"

namespace loom::ckks {
namespace {

void BitReversePermute(std::vector<std::complex<double>>& v) {
  const size_t n = v.size();
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(v[i], v[j]);
  }
}

// Plain (a+bi)(c+di): std::complex's operator* adds C99 Annex G inf/NaN recovery (a libcall
// on the slow path and extra compares on the fast one); every value here is finite.
inline std::complex<double> ComplexMul(std::complex<double> x, std::complex<double> y) {
  return {x.real() * y.real() - x.imag() * y.imag(), x.real() * y.imag() + x.imag() * y.real()};
}

}  // namespace

// The "special FFT" of Cheon et al. (HEAAN): a radix-2 FFT whose twiddles are zeta^(5^j)
// restricted to the current sub-size, so it evaluates at the rotation-group orbit directly.
void Encoder::CoeffsToSlots(std::vector<std::complex<double>>& v) const {
  const size_t n = v.size();
  const uint64_t m = 2 * ctx_->n();
  const auto& roots = ctx_->roots();
  const auto& rg = ctx_->rot_group();
  BitReversePermute(v);
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t lenh = len >> 1, lenq = len << 2, gap = m / lenq;
    for (size_t i = 0; i < n; i += len) {
      for (size_t j = 0; j < lenh; ++j) {
        size_t idx = (rg[j] & (lenq - 1)) * gap;  // lenq is a power of two
        std::complex<double> u = v[i + j];
        std::complex<double> w = ComplexMul(v[i + j + lenh], roots[idx]);
        v[i + j] = u + w;
        v[i + j + lenh] = u - w;
      }
    }
  }
}

void Encoder::SlotsToCoeffs(std::vector<std::complex<double>>& v) const {
  const size_t n = v.size();
  const uint64_t m = 2 * ctx_->n();
  const auto& roots = ctx_->roots();
  const auto& rg = ctx_->rot_group();
  for (size_t len = n; len >= 2; len >>= 1) {
    const size_t lenh = len >> 1, lenq = len << 2, gap = m / lenq;
    for (size_t i = 0; i < n; i += len) {
      for (size_t j = 0; j < lenh; ++j) {
        size_t idx = (lenq - (rg[j] & (lenq - 1))) * gap;
        std::complex<double> u = v[i + j] + v[i + j + lenh];
        std::complex<double> w = ComplexMul(v[i + j] - v[i + j + lenh], roots[idx]);
        v[i + j] = u;
        v[i + j + lenh] = w;
      }
    }
  }
  BitReversePermute(v);
  const double inv = 1.0 / static_cast<double>(n);
  for (auto& x : v) x *= inv;
}

std::vector<Encoder::Two64> Encoder::Two64Table(int level) const {
  std::vector<Two64> t(static_cast<size_t>(level) + 1);
  for (int i = 0; i <= level; ++i) {
    const Modulus& m = ctx_->modulus(i);
    const uint64_t w = m.Reduce(0 - m.value);  // (2^64 - q) mod q = 2^64 mod q
    t[i] = {w, ShoupPrecompute(w, m.value)};
  }
  return t;
}

Status Encoder::PutCoefficient(Plaintext& pt, size_t index, double c,
                               std::span<const Two64> two64) const {
  const double a = std::fabs(c);
  if (!(a < 0x1p126)) return OutOfRangeError(StrCat("encoded coefficient ", c, " is not below 2^126"));
  // Split |c| = hi * 2^64 + lo exactly (c is an integer-valued double).
  const double hi_d = std::floor(a / 0x1p64);
  const uint64_t hi = static_cast<uint64_t>(hi_d);
  const uint64_t lo = static_cast<uint64_t>(a - hi_d * 0x1p64);
  const bool negative = c < 0;
  for (int i = 0; i <= pt.level; ++i) {
    const Modulus& m = ctx_->modulus(i);
    const uint64_t hi_part = MulShoup(m.Reduce(hi), two64[i].w, two64[i].w_shoup, m.value);
    uint64_t r = AddMod(hi_part, m.Reduce(lo), m.value);
    const uint64_t sel = -static_cast<uint64_t>(negative);  // no branch on message data
    pt.limb(i)[index] = (NegateMod(r, m.value) & sel) | (r & ~sel);
  }
  return OkStatus();
}

StatusOr<Plaintext> Encoder::Encode(std::span<const std::complex<double>> values, double scale,
                                    int level) const {
  const size_t slots = ctx_->slots();
  if (values.size() > slots)
    return InvalidArgumentError(StrCat("encode: ", values.size(), " values exceed ", slots, " slots"));
  if (level < 0 || level > ctx_->max_level())
    return OutOfRangeError(StrCat("encode: level ", level, " outside [0, ", ctx_->max_level(), "]"));
  if (!(scale >= 1.0) || !std::isfinite(scale))
    return InvalidArgumentError(StrCat("encode: scale ", scale, " must be finite and >= 1"));
  std::vector<std::complex<double>> v(slots, 0.0);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i].real()) || !std::isfinite(values[i].imag()))
      return InvalidArgumentError(StrCat("encode: value #", i, " is not finite"));
    v[i] = values[i];
  }
  SlotsToCoeffs(v);
  double max_coeff = 0;
  for (const auto& x : v)
    max_coeff = std::max({max_coeff, std::fabs(x.real()), std::fabs(x.imag())});
  // The rounded coefficients must stay below Q_level / 2 or decoding wraps around.
  if (max_coeff * scale >= 1.0 &&
      std::log2(max_coeff * scale) + 1.0 >= ctx_->log2_q(level))
    return OutOfRangeError(StrCat("encode: scale 2^", std::log2(scale), " times coefficient size ",
                                  max_coeff, " overflows Q at level ", level, " (",
                                  ctx_->log2_q(level), " bits)"));
  Plaintext pt;
  pt.fingerprint = ctx_->fingerprint();
  pt.level = level;
  pt.scale = scale;
  pt.n = ctx_->n();
  pt.data.assign(static_cast<size_t>(level + 1) * pt.n, 0);
  const auto two64 = Two64Table(level);
  for (size_t j = 0; j < slots; ++j) {
    LOOM_RETURN_IF_ERROR(PutCoefficient(pt, j, std::round(v[j].real() * scale), two64));
    LOOM_RETURN_IF_ERROR(PutCoefficient(pt, j + slots, std::round(v[j].imag() * scale), two64));
  }
  for (int i = 0; i <= level; ++i) ctx_->ntt(i).Forward(pt.limb(i));
  return pt;
}

StatusOr<Plaintext> Encoder::Encode(std::span<const double> values, double scale, int level) const {
  std::vector<std::complex<double>> c(values.begin(), values.end());
  return Encode(c, scale, level);
}

StatusOr<Plaintext> Encoder::EncodeConstant(double value, double scale, int level) const {
  if (level < 0 || level > ctx_->max_level())
    return OutOfRangeError(StrCat("encode: level ", level, " outside [0, ", ctx_->max_level(), "]"));
  if (!std::isfinite(value) || !(scale >= 1.0) || !std::isfinite(scale))
    return InvalidArgumentError(StrCat("encode: constant ", value, " at scale ", scale));
  double c = std::round(value * scale);
  if (std::fabs(c) >= 1.0 && std::log2(std::fabs(c)) + 1.0 >= ctx_->log2_q(level))
    return OutOfRangeError(StrCat("encode: constant ", value, " at scale 2^", std::log2(scale),
                                  " overflows Q at level ", level));
  Plaintext pt;
  pt.fingerprint = ctx_->fingerprint();
  pt.level = level;
  pt.scale = scale;
  pt.n = ctx_->n();
  pt.data.assign(static_cast<size_t>(level + 1) * pt.n, 0);
  LOOM_RETURN_IF_ERROR(PutCoefficient(pt, 0, c, Two64Table(level)));
  for (int i = 0; i <= level; ++i) ctx_->ntt(i).Forward(pt.limb(i));
  return pt;
}

StatusOr<std::vector<std::complex<double>>> Encoder::Decode(const Plaintext& pt) const {
  if (pt.fingerprint != ctx_->fingerprint())
    return FailedPreconditionError("decode: plaintext belongs to a different CKKS context");
  if (pt.level < 0 || pt.level > ctx_->max_level() || pt.n != ctx_->n() ||
      pt.data.size() != static_cast<size_t>(pt.level + 1) * pt.n)
    return InvalidArgumentError(StrCat("decode: malformed plaintext at level ", pt.level));
  const size_t n = ctx_->n(), slots = ctx_->slots();
  const size_t limbs = static_cast<size_t>(pt.level) + 1;
  std::vector<uint64_t> coeff(pt.data);
  for (size_t i = 0; i < limbs; ++i) ctx_->ntt(i).Inverse(coeff.data() + i * n);
  std::vector<uint64_t> residues(limbs);
  std::vector<double> real(n);
  CrtScratch scratch;
  for (size_t j = 0; j < n; ++j) {
    for (size_t i = 0; i < limbs; ++i) residues[i] = coeff[i * n + j];
    real[j] = CrtComposeCentered(*ctx_, pt.level, residues, scratch);
  }
  std::vector<std::complex<double>> v(slots);
  const double inv = 1.0 / pt.scale;
  for (size_t j = 0; j < slots; ++j) v[j] = {real[j] * inv, real[j + slots] * inv};
  CoeffsToSlots(v);
  return v;
}

StatusOr<std::vector<double>> Encoder::DecodeReal(const Plaintext& pt) const {
  LOOM_ASSIGN_OR_RETURN(auto v, Decode(pt));
  std::vector<double> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = v[i].real();
  return out;
}

}  // namespace loom::ckks
