// Encryption (public or secret key) and decryption (with optional noise flooding).
// Fresh ciphertexts are (c0, c1) over q_0..q_level of the plaintext, in NTT form:
//   public key: c0 = b u + e0 + m, c1 = a u + e1   (u ternary, e0, e1 centered binomial)
//   secret key: c0 = -a s + e + m, c1 = a           (a uniform)
// Decryption computes m' = sum_k c_k s^k without branches on s. Noise flooding adds uniform
// noise in [-2^flood_bits, 2^flood_bits] to every coefficient; it is REQUIRED whenever a
// decryption is shared with another party (Li-Micciancio key recovery from exact CKKS
// decryptions). Choose flood_bits well above the ciphertext noise (e.g. 30-40 at scale 2^40+).
// Thread-safety: Encryptor/Decryptor are const after construction; each call makes its own
// Sampler, so concurrent calls are safe.
#pragma once

#include <optional>

#include "loom/base/status.h"
#include "loom/fhe/ckks/ciphertext.h"
#include "loom/fhe/ckks/context.h"
#include "loom/fhe/ckks/keys.h"

namespace loom::ckks {

class Encryptor {
 public:
  Encryptor(ContextPtr ctx, PublicKey pk) : ctx_(std::move(ctx)), pk_(std::move(pk)) {}
  // Secret-key encryptor (smaller noise; for the key owner only).
  Encryptor(ContextPtr ctx, const SecretKey& sk);
  ~Encryptor();  // wipes a copied secret key
  Encryptor(const Encryptor&) = delete;
  Encryptor& operator=(const Encryptor&) = delete;

  StatusOr<Ciphertext> Encrypt(const Plaintext& pt) const;

 private:
  ContextPtr ctx_;
  std::optional<PublicKey> pk_;
  std::vector<uint64_t> sk_;  // NTT form over data primes (secret-key mode only)
};

struct DecryptOptions {
  int flood_bits = 0;  // 0 = no flooding
};

class Decryptor {
 public:
  Decryptor(ContextPtr ctx, const SecretKey& sk);
  ~Decryptor();
  Decryptor(const Decryptor&) = delete;
  Decryptor& operator=(const Decryptor&) = delete;
  StatusOr<Plaintext> Decrypt(const Ciphertext& ct, const DecryptOptions& options = {}) const;

 private:
  ContextPtr ctx_;
  std::vector<uint64_t> sk_;
};

// Checks shape and context of a ciphertext/plaintext (used by every operation).
Status CheckCiphertext(const Context& ctx, const Ciphertext& ct, const char* op);
Status CheckPlaintext(const Context& ctx, const Plaintext& pt, const char* op);

}  // namespace loom::ckks
