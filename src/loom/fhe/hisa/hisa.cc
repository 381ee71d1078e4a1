#include "loom/fhe/hisa/hisa.h"

#include <algorithm>
#include <cmath>

#include "loom/base/strings.h"

namespace loom::hisa {
namespace {

bool ScalesMatch(double a, double b) { return std::fabs(a / b - 1.0) <= 1e-9; }

}  // namespace

Backend::Backend(ckks::ContextPtr ctx, BackendOptions options)
    : ctx_(std::move(ctx)),
      vec_size_(options.vec_size == 0 ? ctx_->slots() : options.vec_size),
      steps_(std::move(options.rotation_steps)) {}

StatusOr<Meta> Backend::Lookup(uint32_t id, bool cipher) const {
  auto it = meta_.find(id);
  if (it == meta_.end() || it->second.is_cipher != cipher)
    return NotFoundError(StrCat("hisa: unknown or freed ", cipher ? "cipher" : "plain", " handle ", id));
  return it->second;
}

uint32_t Backend::NewId(const Meta& m) {
  uint32_t id = next_id_++;
  meta_[id] = m;
  return id;
}

StatusOr<Cipher> Backend::Finish(Status s, uint32_t id) {
  if (!s.ok()) {
    meta_.erase(id);
    DoFree(id);
    return s;
  }
  return Cipher{id};
}

Status Backend::CheckProductScale(double scale, int level, const char* op) const {
  if (!(std::log2(scale) < ctx_->log2_q(level) - 1.0))
    return OutOfRangeError(StrCat("hisa ", op, ": scale 2^", std::log2(scale),
                                  " does not fit Q at level ", level, " (", ctx_->log2_q(level),
                                  " bits)"));
  return OkStatus();
}

Status Backend::CheckSameLevelScale(const Meta& a, const Meta& b, const char* op) const {
  if (a.level != b.level)
    return InvalidArgumentError(StrCat("hisa ", op, ": level mismatch (", a.level, " vs ", b.level, ")"));
  if (!ScalesMatch(a.scale, b.scale))
    return InvalidArgumentError(StrCat("hisa ", op, ": scale mismatch (2^", std::log2(a.scale),
                                       " vs 2^", std::log2(b.scale), ")"));
  return OkStatus();
}

StatusOr<Plain> Backend::Encode(std::span<const double> values, double scale, int level) {
  if (vec_size_ == 0 || (vec_size_ & (vec_size_ - 1)) != 0 || ctx_->slots() % vec_size_ != 0)
    return InvalidArgumentError(StrCat("hisa encode: vec_size ", vec_size_,
                                       " must be a power of two dividing N/2 = ", ctx_->slots()));
  if (values.size() > vec_size_)
    return InvalidArgumentError(StrCat("hisa encode: ", values.size(), " values > vec_size ", vec_size_));
  if (level < 0 || level > ctx_->max_level())
    return OutOfRangeError(StrCat("hisa encode: level ", level, " outside [0, ", ctx_->max_level(), "]"));
  if (!(scale >= 1.0) || !std::isfinite(scale))
    return InvalidArgumentError(StrCat("hisa encode: scale ", scale, " must be finite and >= 1"));
  std::vector<double> v(vec_size_, 0.0);
  double max_abs = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) return InvalidArgumentError(StrCat("hisa encode: value #", i, " is not finite"));
    v[i] = values[i];
    max_abs = std::max(max_abs, std::fabs(values[i]));
  }
  // Coefficients of the encoding are bounded by the largest slot, so this also bounds them.
  if (max_abs * scale >= 1.0) LOOM_RETURN_IF_ERROR(CheckProductScale(max_abs * scale, level, "encode"));
  uint32_t id = NewId({false, level, scale, 1});
  Status s = DoEncode(v, scale, level, id);
  if (!s.ok()) {
    meta_.erase(id);
    DoFree(id);
    return s;
  }
  return Plain{id};
}

StatusOr<std::vector<double>> Backend::Decode(Plain p) {
  LOOM_RETURN_IF_ERROR(Lookup(p.id, false).status());
  return DoDecode(p.id);
}

StatusOr<Cipher> Backend::Encrypt(Plain p) {
  LOOM_ASSIGN_OR_RETURN(Meta m, Lookup(p.id, false));
  m.is_cipher = true;
  m.size = 2;
  uint32_t id = NewId(m);
  return Finish(DoEncrypt(p.id, id), id);
}

StatusOr<Plain> Backend::Decrypt(Cipher c) {
  LOOM_ASSIGN_OR_RETURN(Meta m, Lookup(c.id, true));
  m.is_cipher = false;
  m.size = 1;
  uint32_t id = NewId(m);
  Status s = DoDecrypt(c.id, id);
  if (!s.ok()) {
    meta_.erase(id);
    DoFree(id);
    return s;
  }
  return Plain{id};
}

StatusOr<Cipher> Backend::Copy(Cipher c) {
  LOOM_ASSIGN_OR_RETURN(Meta m, Lookup(c.id, true));
  uint32_t id = NewId(m);
  return Finish(DoCopy(c.id, id), id);
}

Status Backend::Free(Cipher c) {
  LOOM_RETURN_IF_ERROR(Lookup(c.id, true).status());
  meta_.erase(c.id);
  DoFree(c.id);
  return OkStatus();
}

Status Backend::Free(Plain p) {
  LOOM_RETURN_IF_ERROR(Lookup(p.id, false).status());
  meta_.erase(p.id);
  DoFree(p.id);
  return OkStatus();
}

StatusOr<Cipher> Backend::RotLeft(Cipher c, int64_t k) {
  LOOM_ASSIGN_OR_RETURN(Meta m, Lookup(c.id, true));
  if (m.size != 2)
    return InvalidArgumentError("hisa rotate: ciphertext has 3 components; relinearize first");
  const int64_t vs = static_cast<int64_t>(vec_size_);
  if (((k % vs) + vs) % vs == 0) return Copy(c);
  const uint64_t g = ctx_->GaloisElementForStep(k);
  bool keyed = std::any_of(steps_.begin(), steps_.end(),
                           [&](int64_t s) { return ctx_->GaloisElementForStep(s) == g; });
  if (!keyed)
    return NotFoundError(StrCat("hisa rotate: no rotation key for step ", k,
                                " (add it to BackendOptions::rotation_steps)"));
  uint32_t id = NewId(m);
  return Finish(DoRotate(c.id, k, id), id);
}

StatusOr<Cipher> Backend::Add(Cipher a, Cipher b) {
  LOOM_ASSIGN_OR_RETURN(Meta ma, Lookup(a.id, true));
  LOOM_ASSIGN_OR_RETURN(Meta mb, Lookup(b.id, true));
  LOOM_RETURN_IF_ERROR(CheckSameLevelScale(ma, mb, "add"));
  ma.size = std::max(ma.size, mb.size);
  uint32_t id = NewId(ma);
  return Finish(DoAdd(a.id, b.id, false, false, id), id);
}

StatusOr<Cipher> Backend::Sub(Cipher a, Cipher b) {
  LOOM_ASSIGN_OR_RETURN(Meta ma, Lookup(a.id, true));
  LOOM_ASSIGN_OR_RETURN(Meta mb, Lookup(b.id, true));
  LOOM_RETURN_IF_ERROR(CheckSameLevelScale(ma, mb, "sub"));
  ma.size = std::max(ma.size, mb.size);
  uint32_t id = NewId(ma);
  return Finish(DoAdd(a.id, b.id, false, true, id), id);
}

StatusOr<Cipher> Backend::Add(Cipher a, Plain b) {
  LOOM_ASSIGN_OR_RETURN(Meta ma, Lookup(a.id, true));
  LOOM_ASSIGN_OR_RETURN(Meta mb, Lookup(b.id, false));
  LOOM_RETURN_IF_ERROR(CheckSameLevelScale(ma, mb, "add_plain"));
  uint32_t id = NewId(ma);
  return Finish(DoAdd(a.id, b.id, true, false, id), id);
}

StatusOr<Cipher> Backend::Sub(Cipher a, Plain b) {
  LOOM_ASSIGN_OR_RETURN(Meta ma, Lookup(a.id, true));
  LOOM_ASSIGN_OR_RETURN(Meta mb, Lookup(b.id, false));
  LOOM_RETURN_IF_ERROR(CheckSameLevelScale(ma, mb, "sub_plain"));
  uint32_t id = NewId(ma);
  return Finish(DoAdd(a.id, b.id, true, true, id), id);
}

StatusOr<Cipher> Backend::Add(Cipher a, double b) {
  LOOM_ASSIGN_OR_RETURN(Meta ma, Lookup(a.id, true));
  if (!std::isfinite(b)) return InvalidArgumentError("hisa add_scalar: value is not finite");
  if (std::fabs(b) * ma.scale >= 1.0)
    LOOM_RETURN_IF_ERROR(CheckProductScale(std::fabs(b) * ma.scale, ma.level, "add_scalar"));
  uint32_t id = NewId(ma);
  return Finish(DoAddScalar(a.id, b, id), id);
}

StatusOr<Cipher> Backend::Negate(Cipher a) {
  LOOM_ASSIGN_OR_RETURN(Meta ma, Lookup(a.id, true));
  uint32_t id = NewId(ma);
  return Finish(DoNegate(a.id, id), id);
}

StatusOr<Cipher> Backend::Mul(Cipher a, Cipher b) {
  LOOM_ASSIGN_OR_RETURN(Meta ma, Lookup(a.id, true));
  LOOM_ASSIGN_OR_RETURN(Meta mb, Lookup(b.id, true));
  if (ma.level != mb.level)
    return InvalidArgumentError(StrCat("hisa mul: level mismatch (", ma.level, " vs ", mb.level, ")"));
  if (ma.size + mb.size - 1 > 3)
    return InvalidArgumentError("hisa mul: result would have more than 3 components; relinearize first");
  Meta r = ma;
  r.scale = ma.scale * mb.scale;
  r.size = ma.size + mb.size - 1;
  LOOM_RETURN_IF_ERROR(CheckProductScale(r.scale, r.level, "mul"));
  uint32_t id = NewId(r);
  return Finish(DoMul(a.id, b.id, false, id), id);
}

StatusOr<Cipher> Backend::Mul(Cipher a, Plain b) {
  LOOM_ASSIGN_OR_RETURN(Meta ma, Lookup(a.id, true));
  LOOM_ASSIGN_OR_RETURN(Meta mb, Lookup(b.id, false));
  if (ma.level != mb.level)
    return InvalidArgumentError(StrCat("hisa mul_plain: level mismatch (", ma.level, " vs ", mb.level, ")"));
  Meta r = ma;
  r.scale = ma.scale * mb.scale;
  LOOM_RETURN_IF_ERROR(CheckProductScale(r.scale, r.level, "mul_plain"));
  uint32_t id = NewId(r);
  return Finish(DoMul(a.id, b.id, true, id), id);
}

StatusOr<Cipher> Backend::Mul(Cipher a, double b, double scale) {
  LOOM_ASSIGN_OR_RETURN(Meta ma, Lookup(a.id, true));
  if (!std::isfinite(b) || !(scale >= 1.0) || !std::isfinite(scale))
    return InvalidArgumentError(StrCat("hisa mul_scalar: value ", b, " at scale ", scale));
  Meta r = ma;
  r.scale = ma.scale * scale;
  LOOM_RETURN_IF_ERROR(CheckProductScale(r.scale, r.level, "mul_scalar"));
  if (std::fabs(b) * scale >= 0x1p126)
    return OutOfRangeError(StrCat("hisa mul_scalar: ", b, " at scale 2^", std::log2(scale), " is too large"));
  uint32_t id = NewId(r);
  return Finish(DoMulScalar(a.id, b, scale, id), id);
}

StatusOr<double> Backend::MaxRescale(Cipher c, double upper_bound) {
  LOOM_ASSIGN_OR_RETURN(Meta m, Lookup(c.id, true));
  double prod = 1.0;
  for (int l = m.level; l >= 1; --l) {
    double q = static_cast<double>(ctx_->primes()[l]);
    if (prod * q > upper_bound) break;
    prod *= q;
  }
  return prod;
}

StatusOr<Cipher> Backend::Rescale(Cipher c, double divisor) {
  LOOM_ASSIGN_OR_RETURN(Meta m, Lookup(c.id, true));
  double prod = 1.0;
  int primes = 0;
  Meta r = m;
  for (int l = m.level; l >= 1 && !(std::fabs(prod / divisor - 1.0) <= 1e-12); --l) {
    double q = static_cast<double>(ctx_->primes()[l]);
    prod *= q;
    r.scale /= q;  // the same sequence of divisions the CKKS rescale performs
    r.level = l - 1;
    ++primes;
  }
  if (primes == 0 || !(std::fabs(prod / divisor - 1.0) <= 1e-12))
    return InvalidArgumentError(StrCat("hisa rescale: divisor ", divisor, " is not a product of the ",
                                       "next primes at level ", m.level, " (use MaxRescale)"));
  if (!(r.scale >= 1.0))
    return OutOfRangeError(StrCat("hisa rescale: scale 2^", std::log2(m.scale), " / divisor 2^",
                                  std::log2(divisor), " drops below 1"));
  uint32_t id = NewId(r);
  return Finish(DoRescale(c.id, primes, id), id);
}

StatusOr<Cipher> Backend::ModSwitch(Cipher c) {
  LOOM_ASSIGN_OR_RETURN(Meta m, Lookup(c.id, true));
  return ModSwitchTo(c, m.level - 1);
}

StatusOr<Cipher> Backend::ModSwitchTo(Cipher c, int level) {
  LOOM_ASSIGN_OR_RETURN(Meta m, Lookup(c.id, true));
  if (level < 0 || level > m.level)
    return OutOfRangeError(StrCat("hisa mod_switch: target level ", level, " not in [0, ", m.level, "]"));
  Meta r = m;
  r.level = level;
  uint32_t id = NewId(r);
  return Finish(DoModSwitch(c.id, level, id), id);
}

StatusOr<Cipher> Backend::Relinearize(Cipher c) {
  LOOM_ASSIGN_OR_RETURN(Meta m, Lookup(c.id, true));
  Meta r = m;
  r.size = 2;
  uint32_t id = NewId(r);
  return Finish(DoRelinearize(c.id, id), id);
}

}  // namespace loom::hisa
