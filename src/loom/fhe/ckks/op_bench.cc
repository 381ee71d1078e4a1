#include "loom/fhe/ckks/op_bench.h"

#include <time.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "loom/base/strings.h"
#include "loom/fhe/ckks/encoder.h"
#include "loom/fhe/ckks/encryptor.h"
#include "loom/fhe/ckks/evaluator.h"
#include "loom/fhe/ckks/keys.h"

namespace loom::ckks {
namespace {

double ThreadCpuUs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) * 1e-3;
}

double Median(const std::function<void()>& fn, int reps) {
  std::vector<double> t;
  fn();  // warm-up
  for (int i = 0; i < reps; ++i) {
    double s = ThreadCpuUs();
    fn();
    t.push_back(ThreadCpuUs() - s);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<std::complex<double>> RandomSlots(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);  // test data only, never keys
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<std::complex<double>> v(n);
  for (auto& x : v) x = {u(rng), u(rng)};
  return v;
}

Status Verify(const Encoder& enc, const Decryptor& dec, const Ciphertext& ct,
              const std::vector<std::complex<double>>& want, double tol, const char* op) {
  LOOM_ASSIGN_OR_RETURN(Plaintext pt, dec.Decrypt(ct));
  LOOM_ASSIGN_OR_RETURN(auto got, enc.Decode(pt));
  double err = 0;
  for (size_t i = 0; i < want.size(); ++i) err = std::max(err, std::abs(got[i] - want[i]));
  if (!(err <= tol))
    return InternalError(StrCat("bench: ", op, " result is wrong (max error ", err, ")"));
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<OpTiming>> BenchmarkOps(const ContextPtr& ctx, int reps, double scale) {
  if (reps < 1) return InvalidArgumentError("bench: reps must be >= 1");
  if (ctx->max_level() < 1) return InvalidArgumentError("bench: needs at least 2 data primes");
  const int top = ctx->max_level();
  KeyGenerator kg(ctx);
  Encoder enc(ctx);
  Encryptor encryptor(ctx, kg.CreatePublicKey());
  Decryptor dec(ctx, kg.secret_key());
  Evaluator ev(ctx);
  RelinKey rk = kg.CreateRelinKey();
  std::vector<int64_t> steps = {1};
  LOOM_ASSIGN_OR_RETURN(GaloisKeys gk, kg.CreateGaloisKeys(steps, false));
  auto a = RandomSlots(ctx->slots(), 1), b = RandomSlots(ctx->slots(), 2);
  LOOM_ASSIGN_OR_RETURN(Plaintext pa, enc.Encode(a, scale, top));
  LOOM_ASSIGN_OR_RETURN(Plaintext pb, enc.Encode(b, scale, top));
  LOOM_ASSIGN_OR_RETURN(Ciphertext ca, encryptor.Encrypt(pa));
  LOOM_ASSIGN_OR_RETURN(Ciphertext cb, encryptor.Encrypt(pb));
  std::vector<std::complex<double>> sum(a.size()), prod(a.size()), rot(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    sum[i] = a[i] + b[i];
    prod[i] = a[i] * b[i];
    rot[i] = a[(i + 1) % a.size()];
  }
  const double tol = 1e-2;
  // Verify every op once before timing it.
  LOOM_RETURN_IF_ERROR(Verify(enc, dec, ca, a, tol, "encrypt"));
  LOOM_ASSIGN_OR_RETURN(Ciphertext c_add, ev.Add(ca, cb));
  LOOM_RETURN_IF_ERROR(Verify(enc, dec, c_add, sum, tol, "add"));
  LOOM_ASSIGN_OR_RETURN(Ciphertext c_mulp, ev.MultiplyPlain(ca, pb));
  LOOM_RETURN_IF_ERROR(Verify(enc, dec, c_mulp, prod, tol, "mul_plain"));
  LOOM_ASSIGN_OR_RETURN(Ciphertext c_mul, ev.Multiply(ca, cb));
  LOOM_RETURN_IF_ERROR(Verify(enc, dec, c_mul, prod, tol, "mul_no_relin"));
  LOOM_ASSIGN_OR_RETURN(Ciphertext c_rel, ev.Relinearize(c_mul, rk));
  LOOM_RETURN_IF_ERROR(Verify(enc, dec, c_rel, prod, tol, "relinearize"));
  LOOM_ASSIGN_OR_RETURN(Ciphertext c_rs, ev.Rescale(c_rel));
  LOOM_RETURN_IF_ERROR(Verify(enc, dec, c_rs, prod, tol, "rescale"));
  LOOM_ASSIGN_OR_RETURN(Ciphertext c_rot, ev.RotateLeft(ca, 1, gk));
  LOOM_RETURN_IF_ERROR(Verify(enc, dec, c_rot, rot, tol, "rotate"));

  std::vector<OpTiming> out;
  std::vector<uint64_t> poly(ctx->n() * ctx->num_data_primes());
  for (size_t i = 0; i < poly.size(); ++i) poly[i] = i % ctx->primes()[0];
  out.push_back({"ntt_one_prime", Median([&] { ctx->ntt(0).ForwardLazy(poly.data()); }, reps)});
  for (size_t i = 0; i < poly.size(); ++i) poly[i] = i % ctx->primes()[0];
  out.push_back({"ntt_all_primes", Median([&] {
                   for (int l = 0; l <= top; ++l) ctx->ntt(l).Forward(poly.data() + l * ctx->n());
                 }, reps)});
  out.push_back({"encode", Median([&] { (void)enc.Encode(a, scale, top); }, reps)});
  out.push_back({"decode", Median([&] { (void)enc.Decode(pa); }, reps)});
  out.push_back({"encrypt_pk", Median([&] { (void)encryptor.Encrypt(pa); }, reps)});
  out.push_back({"decrypt", Median([&] { (void)dec.Decrypt(ca); }, reps)});
  out.push_back({"add", Median([&] { (void)ev.Add(ca, cb); }, reps)});
  out.push_back({"mul_plain", Median([&] { (void)ev.MultiplyPlain(ca, pb); }, reps)});
  out.push_back({"mul_no_relin", Median([&] { (void)ev.Multiply(ca, cb); }, reps)});
  out.push_back({"relinearize", Median([&] { (void)ev.Relinearize(c_mul, rk); }, reps)});
  out.push_back({"rescale", Median([&] { (void)ev.Rescale(c_rel); }, reps)});
  out.push_back({"rotate_1", Median([&] { (void)ev.RotateLeft(ca, 1, gk); }, reps)});
  return out;
}

StatusOr<double> ChainPrecisionBits(const ContextPtr& ctx, int depth, double scale) {
  if (depth < 1 || depth > ctx->max_level())
    return InvalidArgumentError(StrCat("precision chain: depth ", depth, " needs ", depth + 1,
                                       " data primes; the chain has ", ctx->max_level() + 1));
  KeyGenerator kg(ctx);
  Encoder enc(ctx);
  Encryptor encryptor(ctx, kg.CreatePublicKey());
  Decryptor dec(ctx, kg.secret_key());
  Evaluator ev(ctx);
  RelinKey rk = kg.CreateRelinKey();
  auto v = RandomSlots(ctx->slots(), 3);
  for (auto& x : v) x = {x.real(), 0.0};
  LOOM_ASSIGN_OR_RETURN(Plaintext p, enc.Encode(v, scale, ctx->max_level()));
  LOOM_ASSIGN_OR_RETURN(Ciphertext c, encryptor.Encrypt(p));
  auto want = v;
  for (int d = 0; d < depth; ++d) {
    LOOM_ASSIGN_OR_RETURN(Ciphertext sq, ev.Square(c));
    LOOM_ASSIGN_OR_RETURN(Ciphertext rl, ev.Relinearize(sq, rk));
    LOOM_ASSIGN_OR_RETURN(c, ev.Rescale(rl));
    for (auto& x : want) x *= x;
  }
  LOOM_ASSIGN_OR_RETURN(Plaintext out, dec.Decrypt(c));
  LOOM_ASSIGN_OR_RETURN(auto got, enc.Decode(out));
  double err = 0, mag = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    err = std::max(err, std::abs(got[i] - want[i]));
    mag = std::max(mag, std::abs(want[i]));
  }
  return -std::log2(err / mag);
}

}  // namespace loom::ckks
