// HISA: the instruction interface of CHET (arXiv:1810.00845 §3), with handle-based values.
// The abstract Backend owns the handle tables and every legality check, so all backends accept
// and refuse exactly the same programs; a backend only implements the Do* payload hooks.
// Thread-safety: a Backend is single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "loom/base/status.h"
#include "loom/fhe/ckks/context.h"

namespace loom::hisa {

struct Cipher {
  uint32_t id = 0;
};
struct Plain {
  uint32_t id = 0;
};

// What both backends track for every value.
struct Meta {
  bool is_cipher = false;
  int level = 0;
  double scale = 1.0;
  int size = 2;  // ciphertext components (2, or 3 before relinearization)
};

struct BackendOptions {
  size_t vec_size = 0;                // 0 = N/2
  std::vector<int64_t> rotation_steps;  // left steps with keys (negative = right)
};

class Backend {
 public:
  Backend(ckks::ContextPtr ctx, BackendOptions options);
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  virtual const char* name() const = 0;
  const ckks::ContextPtr& context() const { return ctx_; }
  size_t vec_size() const { return vec_size_; }
  int max_level() const { return ctx_->max_level(); }

  // Encryption profile.
  StatusOr<Cipher> Encrypt(Plain p);
  StatusOr<Plain> Decrypt(Cipher c);
  StatusOr<Cipher> Copy(Cipher c);
  Status Free(Cipher c);
  Status Free(Plain p);

  // Integer profile. `values` has vec_size entries (fewer are zero-padded).
  StatusOr<Plain> Encode(std::span<const double> values, double scale, int level);
  StatusOr<std::vector<double>> Decode(Plain p);  // vec_size values
  StatusOr<Cipher> RotLeft(Cipher c, int64_t k);
  StatusOr<Cipher> RotRight(Cipher c, int64_t k) { return RotLeft(c, -k); }
  StatusOr<Cipher> Add(Cipher a, Cipher b);
  StatusOr<Cipher> Add(Cipher a, Plain b);
  StatusOr<Cipher> Add(Cipher a, double b);
  StatusOr<Cipher> Sub(Cipher a, Cipher b);
  StatusOr<Cipher> Sub(Cipher a, Plain b);
  StatusOr<Cipher> Sub(Cipher a, double b) { return Add(a, -b); }
  StatusOr<Cipher> Negate(Cipher a);
  StatusOr<Cipher> Mul(Cipher a, Cipher b);
  StatusOr<Cipher> Mul(Cipher a, Plain b);
  // b encoded as round(b * scale): the result scale is a.scale * scale.
  StatusOr<Cipher> Mul(Cipher a, double b, double scale);

  // Division profile: divisor must be exactly a product q_l q_(l-1) ... of the next primes.
  StatusOr<Cipher> Rescale(Cipher c, double divisor);
  // The largest such product <= upper_bound (1.0 when not even q_l fits or c is at level 0).
  StatusOr<double> MaxRescale(Cipher c, double upper_bound);
  // Drops the top prime(s) without dividing (scale unchanged).
  StatusOr<Cipher> ModSwitch(Cipher c);
  StatusOr<Cipher> ModSwitchTo(Cipher c, int level);

  // Relinearization profile.
  StatusOr<Cipher> Relinearize(Cipher c);

  StatusOr<Meta> MetaOf(Cipher c) const { return Lookup(c.id, true); }
  StatusOr<Meta> MetaOf(Plain p) const { return Lookup(p.id, false); }
  size_t live_values() const { return meta_.size(); }

 protected:
  // Payload hooks: operands are valid, legality is checked, `out` is a fresh id.
  virtual Status DoEncode(std::span<const double> slots, double scale, int level, uint32_t out) = 0;
  virtual StatusOr<std::vector<double>> DoDecode(uint32_t p) = 0;  // vec_size values
  virtual Status DoEncrypt(uint32_t p, uint32_t out) = 0;
  virtual Status DoDecrypt(uint32_t c, uint32_t out) = 0;
  virtual Status DoCopy(uint32_t c, uint32_t out) = 0;
  virtual void DoFree(uint32_t id) = 0;
  virtual Status DoRotate(uint32_t c, int64_t k, uint32_t out) = 0;
  virtual Status DoAdd(uint32_t a, uint32_t b, bool b_plain, bool subtract, uint32_t out) = 0;
  virtual Status DoAddScalar(uint32_t a, double b, uint32_t out) = 0;
  virtual Status DoNegate(uint32_t a, uint32_t out) = 0;
  virtual Status DoMul(uint32_t a, uint32_t b, bool b_plain, uint32_t out) = 0;
  virtual Status DoMulScalar(uint32_t a, double b, double scale, uint32_t out) = 0;
  virtual Status DoRescale(uint32_t c, int primes, uint32_t out) = 0;  // divide by `primes` primes
  virtual Status DoModSwitch(uint32_t c, int level, uint32_t out) = 0;
  virtual Status DoRelinearize(uint32_t c, uint32_t out) = 0;

  // The real bound of slot values the backend holds (for encode headroom checks).
  const ckks::Context& ctx() const { return *ctx_; }

 private:
  StatusOr<Meta> Lookup(uint32_t id, bool cipher) const;
  uint32_t NewId(const Meta& m);
  Status CheckProductScale(double scale, int level, const char* op) const;
  Status CheckSameLevelScale(const Meta& a, const Meta& b, const char* op) const;
  StatusOr<Cipher> Finish(Status s, uint32_t id);

  ckks::ContextPtr ctx_;
  size_t vec_size_;
  std::vector<int64_t> steps_;
  std::unordered_map<uint32_t, Meta> meta_;
  uint32_t next_id_ = 1;
};

// The backends.
StatusOr<std::unique_ptr<Backend>> MakeCkksBackend(ckks::ContextPtr ctx, BackendOptions options);
std::unique_ptr<Backend> MakePlainBackend(ckks::ContextPtr ctx, BackendOptions options);

}  // namespace loom::hisa
