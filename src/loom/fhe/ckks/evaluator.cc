#include "loom/fhe/ckks/evaluator.h"

#include <cmath>

#include "loom/base/strings.h"
#include "loom/fhe/ckks/encryptor.h"
#include "loom/fhe/ckks/key_switch.h"
#include "loom/fhe/ckks/modarith.h"

namespace loom::ckks {
namespace {

bool ScalesMatch(double a, double b) { return std::fabs(a / b - 1.0) <= 1e-9; }

Ciphertext Empty(const Context& c, int level, int size, double scale) {
  Ciphertext ct;
  ct.fingerprint = c.fingerprint();
  ct.level = level;
  ct.scale = scale;
  ct.n = c.n();
  ct.size = size;
  ct.data.assign(static_cast<size_t>(size) * ct.limbs() * ct.n, 0);
  return ct;
}

}  // namespace

Status Evaluator::CheckPair(const Ciphertext& a, const Ciphertext& b, const char* op,
                            bool same_scale) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, op));
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, b, op));
  if (a.level != b.level)
    return InvalidArgumentError(StrCat(op, ": level mismatch (", a.level, " vs ", b.level,
                                       "); mod-switch the higher one first"));
  if (same_scale && !ScalesMatch(a.scale, b.scale))
    return InvalidArgumentError(StrCat(op, ": scale mismatch (2^", std::log2(a.scale), " vs 2^",
                                       std::log2(b.scale), ")"));
  return OkStatus();
}

Status Evaluator::CheckProductScale(double scale, int level, const char* op) const {
  if (!(std::log2(scale) < ctx_->log2_q(level) - 1.0))
    return OutOfRangeError(StrCat(op, ": result scale 2^", std::log2(scale),
                                  " does not fit Q at level ", level, " (",
                                  ctx_->log2_q(level), " bits); rescale first"));
  return OkStatus();
}

StatusOr<Ciphertext> Evaluator::Add(const Ciphertext& a, const Ciphertext& b) const {
  LOOM_RETURN_IF_ERROR(CheckPair(a, b, "add", true));
  const Ciphertext& big = a.size >= b.size ? a : b;
  const Ciphertext& small = a.size >= b.size ? b : a;
  Ciphertext r = big;
  const size_t n = r.n;
  for (int comp = 0; comp < small.size; ++comp)
    for (size_t i = 0; i < r.limbs(); ++i) {
      const uint64_t q = ctx_->modulus(i).value;
      uint64_t* x = r.poly(comp, i);
      const uint64_t* y = small.poly(comp, i);
      for (size_t k = 0; k < n; ++k) x[k] = AddMod(x[k], y[k], q);
    }
  return r;
}

StatusOr<Ciphertext> Evaluator::Negate(const Ciphertext& a) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "negate"));
  Ciphertext r = a;
  for (int comp = 0; comp < r.size; ++comp)
    for (size_t i = 0; i < r.limbs(); ++i) {
      const uint64_t q = ctx_->modulus(i).value;
      uint64_t* x = r.poly(comp, i);
      for (size_t k = 0; k < r.n; ++k) x[k] = NegateMod(x[k], q);
    }
  return r;
}

StatusOr<Ciphertext> Evaluator::Sub(const Ciphertext& a, const Ciphertext& b) const {
  LOOM_RETURN_IF_ERROR(CheckPair(a, b, "sub", true));
  LOOM_ASSIGN_OR_RETURN(Ciphertext nb, Negate(b));
  return Add(a, nb);
}

StatusOr<Ciphertext> Evaluator::AddPlain(const Ciphertext& a, const Plaintext& p) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "add_plain"));
  LOOM_RETURN_IF_ERROR(CheckPlaintext(*ctx_, p, "add_plain"));
  if (a.level != p.level)
    return InvalidArgumentError(
        StrCat("add_plain: level mismatch (cipher ", a.level, " vs plain ", p.level, ")"));
  if (!ScalesMatch(a.scale, p.scale))
    return InvalidArgumentError(StrCat("add_plain: scale mismatch (2^", std::log2(a.scale),
                                       " vs 2^", std::log2(p.scale), ")"));
  Ciphertext r = a;
  for (size_t i = 0; i < r.limbs(); ++i) {
    const uint64_t q = ctx_->modulus(i).value;
    uint64_t* x = r.poly(0, i);
    const uint64_t* y = p.limb(i);
    for (size_t k = 0; k < r.n; ++k) x[k] = AddMod(x[k], y[k], q);
  }
  return r;
}

StatusOr<Ciphertext> Evaluator::SubPlain(const Ciphertext& a, const Plaintext& p) const {
  LOOM_RETURN_IF_ERROR(CheckPlaintext(*ctx_, p, "sub_plain"));
  Plaintext neg = p;
  for (size_t i = 0; i <= static_cast<size_t>(neg.level); ++i) {
    const uint64_t q = ctx_->modulus(i).value;
    uint64_t* x = neg.limb(i);
    for (size_t k = 0; k < neg.n; ++k) x[k] = NegateMod(x[k], q);
  }
  return AddPlain(a, neg);
}

StatusOr<std::vector<uint64_t>> Evaluator::ScalarResidues(double value, double scale,
                                                          int level) const {
  double c = std::round(value * scale);
  const double a = std::fabs(c);
  if (!std::isfinite(c) || !(a < 0x1p126))
    return OutOfRangeError(StrCat("scalar ", value, " at scale 2^", std::log2(scale),
                                  " is not below 2^126"));
  const double hi_d = std::floor(a / 0x1p64);
  const uint64_t hi = static_cast<uint64_t>(hi_d);
  const uint64_t lo = static_cast<uint64_t>(a - hi_d * 0x1p64);
  std::vector<uint64_t> r(static_cast<size_t>(level) + 1);
  for (int i = 0; i <= level; ++i) {
    const Modulus& m = ctx_->modulus(i);
    uint64_t v = m.MulAdd(m.Reduce(hi), m.Reduce(0 - m.value), m.Reduce(lo));
    const uint64_t sel = -static_cast<uint64_t>(c < 0);
    r[i] = (NegateMod(v, m.value) & sel) | (v & ~sel);
  }
  return r;
}

StatusOr<Ciphertext> Evaluator::AddScalar(const Ciphertext& a, double value) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "add_scalar"));
  LOOM_ASSIGN_OR_RETURN(auto res, ScalarResidues(value, a.scale, a.level));
  if (std::fabs(value) * a.scale >= 1 &&
      std::log2(std::fabs(value) * a.scale) >= ctx_->log2_q(a.level) - 1.0)
    return OutOfRangeError(StrCat("add_scalar: ", value, " at scale 2^", std::log2(a.scale),
                                  " overflows Q at level ", a.level));
  Ciphertext r = a;
  // A constant polynomial is the same value in every NTT slot.
  for (size_t i = 0; i < r.limbs(); ++i) {
    const uint64_t q = ctx_->modulus(i).value;
    uint64_t* x = r.poly(0, i);
    for (size_t k = 0; k < r.n; ++k) x[k] = AddMod(x[k], res[i], q);
  }
  return r;
}

StatusOr<Ciphertext> Evaluator::Multiply(const Ciphertext& a, const Ciphertext& b) const {
  LOOM_RETURN_IF_ERROR(CheckPair(a, b, "multiply", false));
  if (a.size + b.size - 1 > 3)
    return InvalidArgumentError(StrCat("multiply: operand sizes ", a.size, " and ", b.size,
                                       " give more than 3 components; relinearize first"));
  const double scale = a.scale * b.scale;
  LOOM_RETURN_IF_ERROR(CheckProductScale(scale, a.level, "multiply"));
  Ciphertext r = Empty(*ctx_, a.level, a.size + b.size - 1, scale);
  const size_t n = r.n;
  for (size_t i = 0; i < r.limbs(); ++i) {
    const Modulus& m = ctx_->modulus(i);
    for (int x = 0; x < a.size; ++x)
      for (int y = 0; y < b.size; ++y) {
        uint64_t* out = r.poly(x + y, i);
        const uint64_t* p = a.poly(x, i);
        const uint64_t* q = b.poly(y, i);
        for (size_t k = 0; k < n; ++k) out[k] = m.MulAdd(p[k], q[k], out[k]);
      }
  }
  return r;
}

StatusOr<Ciphertext> Evaluator::MultiplyPlain(const Ciphertext& a, const Plaintext& p) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "multiply_plain"));
  LOOM_RETURN_IF_ERROR(CheckPlaintext(*ctx_, p, "multiply_plain"));
  if (a.level != p.level)
    return InvalidArgumentError(
        StrCat("multiply_plain: level mismatch (cipher ", a.level, " vs plain ", p.level, ")"));
  const double scale = a.scale * p.scale;
  LOOM_RETURN_IF_ERROR(CheckProductScale(scale, a.level, "multiply_plain"));
  Ciphertext r = a;
  r.scale = scale;
  for (int comp = 0; comp < r.size; ++comp)
    for (size_t i = 0; i < r.limbs(); ++i) {
      const Modulus& m = ctx_->modulus(i);
      uint64_t* x = r.poly(comp, i);
      const uint64_t* y = p.limb(i);
      for (size_t k = 0; k < r.n; ++k) x[k] = m.Mul(x[k], y[k]);
    }
  return r;
}

StatusOr<Ciphertext> Evaluator::MultiplyScalar(const Ciphertext& a, double value,
                                               double scale) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "multiply_scalar"));
  if (!(scale >= 1.0) || !std::isfinite(scale))
    return InvalidArgumentError(StrCat("multiply_scalar: scale ", scale, " must be >= 1"));
  LOOM_RETURN_IF_ERROR(CheckProductScale(a.scale * scale, a.level, "multiply_scalar"));
  LOOM_ASSIGN_OR_RETURN(auto res, ScalarResidues(value, scale, a.level));
  Ciphertext r = a;
  r.scale = a.scale * scale;
  for (int comp = 0; comp < r.size; ++comp)
    for (size_t i = 0; i < r.limbs(); ++i) {
      const uint64_t q = ctx_->modulus(i).value;
      const uint64_t w = res[i], ws = ShoupPrecompute(w, q);
      uint64_t* x = r.poly(comp, i);
      for (size_t k = 0; k < r.n; ++k) x[k] = MulShoup(x[k], w, ws, q);
    }
  return r;
}

StatusOr<Ciphertext> Evaluator::Relinearize(const Ciphertext& a, const RelinKey& rk) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "relinearize"));
  if (rk.key.fingerprint != ctx_->fingerprint())
    return FailedPreconditionError("relinearize: relinearization key belongs to another context");
  if (a.size == 2) return a;
  // (c0, c1) += KeySwitch(c2): copy the first two components, then accumulate in place.
  Ciphertext r;
  r.fingerprint = a.fingerprint;
  r.level = a.level;
  r.scale = a.scale;
  r.n = a.n;
  r.size = 2;
  r.data.assign(a.data.begin(), a.data.begin() + 2 * a.limbs() * a.n);
  KeySwitchAdd(*ctx_, a.level, a.poly(2, 0), rk.key, r.poly(0, 0), r.poly(1, 0));
  return r;
}

StatusOr<Ciphertext> Evaluator::Rescale(const Ciphertext& a) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "rescale"));
  if (a.level == 0) return OutOfRangeError("rescale: ciphertext is at level 0 (no prime left to drop)");
  const int l = a.level;
  const uint64_t ql = ctx_->primes()[l];
  const uint64_t half = ql >> 1;
  Ciphertext r = Empty(*ctx_, l - 1, a.size, a.scale / static_cast<double>(ql));
  const size_t n = a.n;
  std::vector<uint64_t> last(n), tmp(n);
  for (int comp = 0; comp < a.size; ++comp) {
    const uint64_t* src = a.poly(comp, static_cast<size_t>(l));
    std::copy(src, src + n, last.begin());
    ctx_->ntt(static_cast<size_t>(l)).Inverse(last.data());
    // Rounding: (c - [c]_ql) / ql with [c]_ql centered = floor(c / ql + 1/2).
    for (size_t k = 0; k < n; ++k) last[k] = AddMod(last[k], half, ql);
    for (int i = 0; i < l; ++i) {
      const Modulus& m = ctx_->modulus(static_cast<size_t>(i));
      const uint64_t q = m.value, two_q = 2 * q;
      // [last - half]_{q_i}, lazily: [0, 2q) + (2q - half_i) stays below the NTT's 4q bound.
      const uint64_t offset = two_q - m.Reduce(half);
      for (size_t k = 0; k < n; ++k) tmp[k] = m.ReduceLazy(last[k]) + offset;
      ctx_->ntt(static_cast<size_t>(i)).ForwardLazy(tmp.data());
      const uint64_t inv = ctx_->inv_q_last(l, static_cast<size_t>(i));
      const uint64_t inv_s = ctx_->inv_q_last_shoup(l, static_cast<size_t>(i));
      const uint64_t* x = a.poly(comp, static_cast<size_t>(i));
      uint64_t* y = r.poly(comp, static_cast<size_t>(i));
      // x in [0, q), tmp in [0, 4q) -> [0, 2q): x + 2q - tmp in (0, 3q), one Shoup product.
      for (size_t k = 0; k < n; ++k)
        y[k] = MulShoup(x[k] + two_q - ReduceOnce(tmp[k], two_q), inv, inv_s, q);
    }
  }
  return r;
}

StatusOr<Ciphertext> Evaluator::ModSwitchTo(const Ciphertext& a, int level) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "mod_switch"));
  if (level < 0 || level > a.level)
    return OutOfRangeError(StrCat("mod_switch: target level ", level, " is not in [0, ", a.level, "]"));
  Ciphertext r = Empty(*ctx_, level, a.size, a.scale);
  for (int comp = 0; comp < a.size; ++comp)
    for (size_t i = 0; i < r.limbs(); ++i) std::copy(a.poly(comp, i), a.poly(comp, i) + a.n, r.poly(comp, i));
  return r;
}

StatusOr<Plaintext> Evaluator::ModSwitchTo(const Plaintext& p, int level) const {
  LOOM_RETURN_IF_ERROR(CheckPlaintext(*ctx_, p, "mod_switch"));
  if (level < 0 || level > p.level)
    return OutOfRangeError(StrCat("mod_switch: target level ", level, " is not in [0, ", p.level, "]"));
  Plaintext r = p;
  r.level = level;
  r.data.resize(static_cast<size_t>(level + 1) * p.n);
  return r;
}

StatusOr<Ciphertext> Evaluator::ApplyGalois(const Ciphertext& a, uint64_t g,
                                            const GaloisKeys& gk) const {
  LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "rotate"));
  if (a.size != 2)
    return InvalidArgumentError("rotate: ciphertext has 3 components; relinearize first");
  if (gk.fingerprint != ctx_->fingerprint())
    return FailedPreconditionError("rotate: Galois keys belong to another context");
  auto it = gk.keys.find(g);
  if (it == gk.keys.end())
    return NotFoundError(StrCat("rotate: no Galois key for element ", g,
                                " (generate keys for this exact step)"));
  const size_t n = a.n;
  auto perm = GaloisPermutation(g, ctx_->log_n());
  // (sigma(c0), 0) + KeySwitch(sigma(c1)): sigma(c1) goes to a scratch row set (the switch's
  // input), sigma(c0) straight into the result, whose second component starts at zero.
  Ciphertext rotated = Empty(*ctx_, a.level, 2, a.scale);
  std::vector<uint64_t> c1(a.limbs() * n);
  for (size_t i = 0; i < a.limbs(); ++i) {
    const uint64_t* x0 = a.poly(0, i);
    const uint64_t* x1 = a.poly(1, i);
    uint64_t* y0 = rotated.poly(0, i);
    uint64_t* y1 = c1.data() + i * n;
    for (size_t k = 0; k < n; ++k) {
      y0[k] = x0[perm[k]];
      y1[k] = x1[perm[k]];
    }
  }
  KeySwitchAdd(*ctx_, a.level, c1.data(), it->second, rotated.poly(0, 0), rotated.poly(1, 0));
  return rotated;
}

StatusOr<Ciphertext> Evaluator::RotateLeft(const Ciphertext& a, int64_t steps,
                                           const GaloisKeys& gk) const {
  const int64_t slots = static_cast<int64_t>(ctx_->slots());
  if (steps % slots == 0) {
    LOOM_RETURN_IF_ERROR(CheckCiphertext(*ctx_, a, "rotate"));
    return a;
  }
  return ApplyGalois(a, ctx_->GaloisElementForStep(steps), gk);
}

StatusOr<Ciphertext> Evaluator::Conjugate(const Ciphertext& a, const GaloisKeys& gk) const {
  return ApplyGalois(a, ctx_->ConjugationElement(), gk);
}

}  // namespace loom::ckks
