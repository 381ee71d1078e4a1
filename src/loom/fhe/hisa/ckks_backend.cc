// HISA on loom's RNS-CKKS. Keys (secret, public, relinearization, Galois for exactly the
// requested steps) are generated at construction from the OS CSPRNG.
#include <map>

#include "loom/fhe/ckks/encoder.h"
#include "loom/fhe/ckks/encryptor.h"
#include "loom/fhe/ckks/evaluator.h"
#include "loom/fhe/ckks/keys.h"
#include "loom/fhe/hisa/hisa.h"

namespace loom::hisa {
namespace {

class CkksBackend final : public Backend {
 public:
  CkksBackend(ckks::ContextPtr ctx, BackendOptions options, ckks::GaloisKeys gk,
              std::unique_ptr<ckks::KeyGenerator> kg)
      : Backend(ctx, options),
        kg_(std::move(kg)),
        encoder_(ctx),
        encryptor_(ctx, kg_->CreatePublicKey()),
        decryptor_(ctx, kg_->secret_key()),
        evaluator_(ctx),
        rk_(kg_->CreateRelinKey()),
        gk_(std::move(gk)) {}

  const char* name() const override { return "ckks"; }

 protected:
  Status DoEncode(std::span<const double> v, double scale, int level, uint32_t out) override {
    std::vector<double> slots(ctx().slots());
    for (size_t i = 0; i < slots.size(); ++i) slots[i] = v[i % v.size()];  // replicate vec_size
    LOOM_ASSIGN_OR_RETURN(plains_[out], encoder_.Encode(slots, scale, level));
    return OkStatus();
  }
  StatusOr<std::vector<double>> DoDecode(uint32_t p) override {
    LOOM_ASSIGN_OR_RETURN(auto v, encoder_.DecodeReal(plains_.at(p)));
    v.resize(vec_size());
    return v;
  }
  Status DoEncrypt(uint32_t p, uint32_t out) override {
    LOOM_ASSIGN_OR_RETURN(ciphers_[out], encryptor_.Encrypt(plains_.at(p)));
    return OkStatus();
  }
  Status DoDecrypt(uint32_t c, uint32_t out) override {
    LOOM_ASSIGN_OR_RETURN(plains_[out], decryptor_.Decrypt(ciphers_.at(c)));
    return OkStatus();
  }
  Status DoCopy(uint32_t c, uint32_t out) override {
    ciphers_[out] = ciphers_.at(c);
    return OkStatus();
  }
  void DoFree(uint32_t id) override {
    ciphers_.erase(id);
    plains_.erase(id);
  }
  Status DoRotate(uint32_t c, int64_t k, uint32_t out) override {
    return Put(out, evaluator_.RotateLeft(ciphers_.at(c), k, gk_));
  }
  Status DoAdd(uint32_t a, uint32_t b, bool b_plain, bool subtract, uint32_t out) override {
    const ckks::Ciphertext& x = ciphers_.at(a);
    if (b_plain)
      return Put(out, subtract ? evaluator_.SubPlain(x, plains_.at(b)) : evaluator_.AddPlain(x, plains_.at(b)));
    return Put(out, subtract ? evaluator_.Sub(x, ciphers_.at(b)) : evaluator_.Add(x, ciphers_.at(b)));
  }
  Status DoAddScalar(uint32_t a, double b, uint32_t out) override {
    return Put(out, evaluator_.AddScalar(ciphers_.at(a), b));
  }
  Status DoNegate(uint32_t a, uint32_t out) override { return Put(out, evaluator_.Negate(ciphers_.at(a))); }
  Status DoMul(uint32_t a, uint32_t b, bool b_plain, uint32_t out) override {
    const ckks::Ciphertext& x = ciphers_.at(a);
    if (b_plain) return Put(out, evaluator_.MultiplyPlain(x, plains_.at(b)));
    return Put(out, evaluator_.Multiply(x, ciphers_.at(b)));
  }
  Status DoMulScalar(uint32_t a, double b, double scale, uint32_t out) override {
    return Put(out, evaluator_.MultiplyScalar(ciphers_.at(a), b, scale));
  }
  Status DoRescale(uint32_t c, int primes, uint32_t out) override {
    ckks::Ciphertext x = ciphers_.at(c);
    for (int i = 0; i < primes; ++i) {
      LOOM_ASSIGN_OR_RETURN(x, evaluator_.Rescale(x));
    }
    ciphers_[out] = std::move(x);
    return OkStatus();
  }
  Status DoModSwitch(uint32_t c, int level, uint32_t out) override {
    return Put(out, evaluator_.ModSwitchTo(ciphers_.at(c), level));
  }
  Status DoRelinearize(uint32_t c, uint32_t out) override {
    return Put(out, evaluator_.Relinearize(ciphers_.at(c), rk_));
  }

 private:
  Status Put(uint32_t out, StatusOr<ckks::Ciphertext> r) {
    LOOM_RETURN_IF_ERROR(r.status());
    ciphers_[out] = std::move(r).value();
    return OkStatus();
  }
  std::unique_ptr<ckks::KeyGenerator> kg_;
  ckks::Encoder encoder_;
  ckks::Encryptor encryptor_;
  ckks::Decryptor decryptor_;
  ckks::Evaluator evaluator_;
  ckks::RelinKey rk_;
  ckks::GaloisKeys gk_;
  std::map<uint32_t, ckks::Ciphertext> ciphers_;
  std::map<uint32_t, ckks::Plaintext> plains_;
};

}  // namespace

StatusOr<std::unique_ptr<Backend>> MakeCkksBackend(ckks::ContextPtr ctx, BackendOptions options) {
  auto kg = std::make_unique<ckks::KeyGenerator>(ctx);
  LOOM_ASSIGN_OR_RETURN(ckks::GaloisKeys gk, kg->CreateGaloisKeys(options.rotation_steps, false));
  return std::unique_ptr<Backend>(
      new CkksBackend(std::move(ctx), std::move(options), std::move(gk), std::move(kg)));
}

}  // namespace loom::hisa
