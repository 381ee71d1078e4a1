// Tutorial 01: CKKS basics with loom::ckks.
//
// CKKS encrypts vectors of real (or complex) numbers and computes on them approximately.
// This program walks through the whole life cycle and checks every result against the
// same computation in plain doubles; it exits non-zero if any check fails.
#include <cmath>
#include <cstdio>
#include <vector>

#include "loom/fhe/ckks/encoder.h"
#include "loom/fhe/ckks/encryptor.h"
#include "loom/fhe/ckks/evaluator.h"
#include "loom/fhe/ckks/keys.h"
#include "loom/fhe/ckks/serialization.h"

using namespace loom;

// Unwraps a StatusOr or exits with its message (tutorial brevity; libraries propagate).
template <typename T>
T Must(StatusOr<T> v) {
  if (!v.ok()) {
    std::fprintf(stderr, "error: %s\n", v.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(v).value();
}

int main() {
  // 1. Parameters. N = 8192 gives 4096 slots. The chain {60, 40, 40, 60} has three data
  //    primes (60 for the final precision, two 40-bit primes that each absorb one rescale)
  //    and one 60-bit special prime for key switching. Context::Create checks the total
  //    (200 bits) against the HE standard's 218-bit limit for 128-bit security and refuses
  //    anything larger.
  ckks::Parameters params;
  params.poly_degree = 8192;
  params.prime_bits = {60, 40, 40, 60};
  ckks::ContextPtr ctx = Must(ckks::Context::Create(params));
  std::printf("1. context: %s\n", ctx->Describe().c_str());

  // 2. Keys, all drawn from the operating system's CSPRNG. Galois keys exist only for the
  //    rotation steps you ask for.
  ckks::KeyGenerator keygen(ctx);
  ckks::PublicKey pk = keygen.CreatePublicKey();
  ckks::RelinKey rk = keygen.CreateRelinKey();
  std::vector<int64_t> steps = {1};
  ckks::GaloisKeys gk = Must(keygen.CreateGaloisKeys(steps, /*conjugation=*/false));

  // 3. Encode at scale 2^40 (about 12 decimal digits after the binary point survive), then
  //    encrypt with the public key.
  ckks::Encoder encoder(ctx);
  ckks::Encryptor encryptor(ctx, pk);
  ckks::Decryptor decryptor(ctx, keygen.secret_key());
  ckks::Evaluator eval(ctx);
  std::vector<double> x(ctx->slots());
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::cos(0.001 * static_cast<double>(i));
  const double scale = std::pow(2.0, 40);
  ckks::Ciphertext cx = Must(encryptor.Encrypt(Must(encoder.Encode(x, scale, ctx->max_level()))));
  std::printf("2-3. encrypted %zu values at level %d, scale 2^40\n", x.size(), cx.level);

  // 4. Compute y = x^2 + 0.5 x, then rotate left by one slot.
  //    x*x has three components and scale 2^80: relinearize back to two, then rescale,
  //    which divides by the last prime (~2^40) and drops one level.
  ckks::Ciphertext sq = Must(eval.Rescale(Must(eval.Relinearize(Must(eval.Square(cx)), rk))));
  //    0.5 x: multiply by a scalar encoded at 2^40, rescale too. Both terms now sit at
  //    level 1 with the same exact scale 2^80 / q_2, so they can be added.
  ckks::Ciphertext half = Must(eval.Rescale(Must(eval.MultiplyScalar(cx, 0.5, scale))));
  ckks::Ciphertext y = Must(eval.Add(sq, half));
  ckks::Ciphertext rotated = Must(eval.RotateLeft(y, 1, gk));
  std::printf("4. computed at level %d, scale 2^%.3f\n", rotated.level, std::log2(rotated.scale));

  // 5. Mismatches are errors, not silent garbage: adding a level-2 ciphertext to a level-1
  //    one is refused with a message naming both levels.
  auto bad = eval.Add(cx, y);
  std::printf("5. add across levels -> %s\n", bad.status().ToString().c_str());
  if (bad.ok()) return 1;

  // 6. Ciphertexts serialize to a versioned, checksummed binary blob.
  std::string blob = ckks::Serialize(rotated);
  ckks::Ciphertext back = Must(ckks::DeserializeCiphertext(*ctx, blob));
  std::printf("6. serialized ciphertext: %zu bytes\n", blob.size());

  // 7. Decrypt and decode; compare with plain doubles. When a decryption is shared with
  //    someone else, pass DecryptOptions{.flood_bits = ...} to add noise flooding.
  std::vector<double> got = Must(encoder.DecodeReal(Must(decryptor.Decrypt(back))));
  double err = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double xi = x[(i + 1) % x.size()];
    err = std::max(err, std::fabs(got[i] - (xi * xi + 0.5 * xi)));
  }
  std::printf("7. max error %.3g (%.1f bits of precision)\n", err, -std::log2(err / 1.5));
  return err < 1e-5 ? 0 : 1;
}
