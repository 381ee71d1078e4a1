#include "loom/fhe/ckks/encryptor.h"

#include <sodium.h>

#include <cmath>
#include <numeric>

#include "loom/base/strings.h"
#include "loom/fhe/ckks/modarith.h"
#include "loom/fhe/ckks/sampler.h"

namespace loom::ckks {

Status CheckCiphertext(const Context& ctx, const Ciphertext& ct, const char* op) {
  if (ct.fingerprint != ctx.fingerprint())
    return FailedPreconditionError(StrCat(op, ": ciphertext belongs to a different CKKS context"));
  if (ct.level < 0 || ct.level > ctx.max_level() || ct.n != ctx.n() || ct.size < 2 ||
      ct.size > 3 || ct.data.size() != static_cast<size_t>(ct.size) * ct.limbs() * ct.n)
    return InvalidArgumentError(StrCat(op, ": malformed ciphertext (level ", ct.level, ", size ",
                                       ct.size, ")"));
  if (!(ct.scale > 0) || !std::isfinite(ct.scale))
    return InvalidArgumentError(StrCat(op, ": ciphertext scale ", ct.scale, " is not positive"));
  return OkStatus();
}

Status CheckPlaintext(const Context& ctx, const Plaintext& pt, const char* op) {
  if (pt.fingerprint != ctx.fingerprint())
    return FailedPreconditionError(StrCat(op, ": plaintext belongs to a different CKKS context"));
  if (pt.level < 0 || pt.level > ctx.max_level() || pt.n != ctx.n() ||
      pt.data.size() != static_cast<size_t>(pt.level + 1) * pt.n)
    return InvalidArgumentError(StrCat(op, ": malformed plaintext (level ", pt.level, ")"));
  if (!(pt.scale > 0) || !std::isfinite(pt.scale))
    return InvalidArgumentError(StrCat(op, ": plaintext scale ", pt.scale, " is not positive"));
  return OkStatus();
}

Encryptor::Encryptor(ContextPtr ctx, const SecretKey& sk) : ctx_(std::move(ctx)) {
  const size_t rows = ctx_->num_data_primes() * ctx_->n();
  sk_.assign(sk.data.begin(), sk.data.begin() + static_cast<ptrdiff_t>(rows));
}

Encryptor::~Encryptor() {
  if (!sk_.empty()) sodium_memzero(sk_.data(), sk_.size() * sizeof(uint64_t));
}

StatusOr<Ciphertext> Encryptor::Encrypt(const Plaintext& pt) const {
  const Context& c = *ctx_;
  LOOM_RETURN_IF_ERROR(CheckPlaintext(c, pt, "encrypt"));
  if (pk_ && pk_->fingerprint != c.fingerprint())
    return FailedPreconditionError("encrypt: public key belongs to a different CKKS context");
  const size_t n = c.n(), limbs = static_cast<size_t>(pt.level) + 1;
  std::vector<size_t> rows(limbs);
  std::iota(rows.begin(), rows.end(), 0);
  Sampler sampler;
  Ciphertext ct;
  ct.fingerprint = c.fingerprint();
  ct.level = pt.level;
  ct.scale = pt.scale;
  ct.n = n;
  ct.size = 2;
  ct.data.assign(2 * limbs * n, 0);
  uint64_t* c0 = ct.poly(0, 0);
  uint64_t* c1 = ct.poly(1, 0);
  if (pk_) {
    std::vector<uint64_t> u(limbs * n);
    sampler.Ternary(c, rows, u.data());
    sampler.Error(c, rows, c0);
    sampler.Error(c, rows, c1);
    const size_t l1 = c.num_data_primes();
    for (size_t i = 0; i < limbs; ++i) {
      const Modulus& m = c.modulus(i);
      c.ntt(i).Forward(u.data() + i * n);
      c.ntt(i).Forward(c0 + i * n);
      c.ntt(i).Forward(c1 + i * n);
      const uint64_t* b = pk_->data.data() + i * n;
      const uint64_t* a = pk_->data.data() + (l1 + i) * n;
      const uint64_t* ui = u.data() + i * n;
      const uint64_t* mi = pt.limb(i);
      uint64_t* x0 = c0 + i * n;
      uint64_t* x1 = c1 + i * n;
      for (size_t k = 0; k < n; ++k) {
        x0[k] = AddMod(m.MulAdd(b[k], ui[k], x0[k]), mi[k], m.value);
        x1[k] = m.MulAdd(a[k], ui[k], x1[k]);
      }
    }
    sodium_memzero(u.data(), u.size() * sizeof(uint64_t));
  } else {
    sampler.Uniform(c, rows, c1);
    sampler.Error(c, rows, c0);
    for (size_t i = 0; i < limbs; ++i) {
      const Modulus& m = c.modulus(i);
      c.ntt(i).Forward(c0 + i * n);
      const uint64_t* s = sk_.data() + i * n;
      const uint64_t* mi = pt.limb(i);
      uint64_t* x0 = c0 + i * n;
      const uint64_t* x1 = c1 + i * n;
      for (size_t k = 0; k < n; ++k)
        x0[k] = AddMod(SubMod(x0[k], m.Mul(x1[k], s[k]), m.value), mi[k], m.value);
    }
  }
  return ct;
}

Decryptor::Decryptor(ContextPtr ctx, const SecretKey& sk) : ctx_(std::move(ctx)) {
  const size_t rows = ctx_->num_data_primes() * ctx_->n();
  sk_.assign(sk.data.begin(), sk.data.begin() + static_cast<ptrdiff_t>(rows));
}

Decryptor::~Decryptor() { sodium_memzero(sk_.data(), sk_.size() * sizeof(uint64_t)); }

StatusOr<Plaintext> Decryptor::Decrypt(const Ciphertext& ct, const DecryptOptions& options) const {
  const Context& c = *ctx_;
  LOOM_RETURN_IF_ERROR(CheckCiphertext(c, ct, "decrypt"));
  if (options.flood_bits < 0 || options.flood_bits > 61)
    return InvalidArgumentError(StrCat("decrypt: flood_bits ", options.flood_bits, " not in [0, 61]"));
  const size_t n = c.n(), limbs = ct.limbs();
  Plaintext pt;
  pt.fingerprint = c.fingerprint();
  pt.level = ct.level;
  pt.scale = ct.scale;
  pt.n = n;
  pt.data.assign(limbs * n, 0);
  for (size_t i = 0; i < limbs; ++i) {
    const Modulus& m = c.modulus(i);
    const uint64_t* s = sk_.data() + i * n;
    uint64_t* out = pt.limb(i);
    // Horner: ((c_{k-1} s + c_{k-2}) s + ...) + c_0.
    const uint64_t* top = ct.poly(ct.size - 1, i);
    std::copy(top, top + n, out);
    for (int comp = ct.size - 2; comp >= 0; --comp) {
      const uint64_t* ck = ct.poly(comp, i);
      for (size_t k = 0; k < n; ++k) out[k] = m.MulAdd(out[k], s[k], ck[k]);
    }
  }
  if (options.flood_bits > 0) {
    std::vector<size_t> rows(limbs);
    std::iota(rows.begin(), rows.end(), 0);
    std::vector<uint64_t> noise(limbs * n);
    Sampler sampler;
    sampler.Flood(c, rows, uint64_t{1} << options.flood_bits, noise.data());
    for (size_t i = 0; i < limbs; ++i) {
      c.ntt(i).Forward(noise.data() + i * n);
      const uint64_t q = c.modulus(i).value;
      uint64_t* out = pt.limb(i);
      for (size_t k = 0; k < n; ++k) out[k] = AddMod(out[k], noise[i * n + k], q);
    }
  }
  return pt;
}

}  // namespace loom::ckks
