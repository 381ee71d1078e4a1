// Anchor side of bench/ckks_vs_seal.sh: times SEAL 4.4's CKKS operations exactly the way
// src/loom/fhe/ckks/op_bench.cc times loom's (same ops, same parameters by bit size, encoding
// of random complex slots in [-1,1], median thread CPU time after one warm-up, every result
// verified by decryption first). Built by the script against a SEAL install prefix; never part
// of the loom build. Usage: seal_ops N BITS(comma list|default) REPS SCALE_BITS
#include <seal/seal.h>
#include <seal/util/ntt.h>
#include <time.h>

#include <algorithm>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace seal;

static double CpuUs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static double Median(const std::function<void()>& fn, int reps) {
  std::vector<double> t;
  fn();
  for (int i = 0; i < reps; ++i) {
    double s = CpuUs();
    fn();
    t.push_back(CpuUs() - s);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s N BITS|default REPS SCALE_BITS\n", argv[0]);
    return 2;
  }
  size_t n = std::strtoul(argv[1], nullptr, 10);
  std::string bits_arg = argv[2];
  int reps = std::atoi(argv[3]);
  double scale = std::pow(2.0, std::atof(argv[4]));
  EncryptionParameters parms(scheme_type::ckks);
  parms.set_poly_modulus_degree(n);
  if (bits_arg == "default") {
    parms.set_coeff_modulus(CoeffModulus::BFVDefault(n));
  } else {
    std::vector<int> bits;
    std::stringstream ss(bits_arg);
    for (std::string part; std::getline(ss, part, ',');) bits.push_back(std::stoi(part));
    parms.set_coeff_modulus(CoeffModulus::Create(n, bits));
  }
  SEALContext context(parms);
  if (!context.parameters_set()) {
    std::fprintf(stderr, "SEAL rejected the parameters: %s\n", context.parameter_error_message());
    return 1;
  }
  KeyGenerator keygen(context);
  PublicKey pk;
  keygen.create_public_key(pk);
  RelinKeys rk;
  keygen.create_relin_keys(rk);
  GaloisKeys gk;
  keygen.create_galois_keys(std::vector<int>{1}, gk);
  CKKSEncoder encoder(context);
  Encryptor encryptor(context, pk);
  Decryptor decryptor(context, keygen.secret_key());
  Evaluator ev(context);
  const size_t slots = encoder.slot_count();
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<std::complex<double>> a(slots), b(slots), prod(slots), rot(slots);
  for (size_t i = 0; i < slots; ++i) a[i] = {u(rng), u(rng)};
  for (size_t i = 0; i < slots; ++i) b[i] = {u(rng), u(rng)};
  for (size_t i = 0; i < slots; ++i) {
    prod[i] = a[i] * b[i];
    rot[i] = a[(i + 1) % slots];
  }
  Plaintext pa, pb;
  encoder.encode(a, scale, pa);
  encoder.encode(b, scale, pb);
  Ciphertext ca, cb, c_mul, c_rel, tmp;
  encryptor.encrypt(pa, ca);
  encryptor.encrypt(pb, cb);
  ev.multiply(ca, cb, c_mul);
  ev.relinearize(c_mul, rk, c_rel);
  auto verify = [&](const Ciphertext& ct, const std::vector<std::complex<double>>& want,
                    const char* op) {
    Plaintext p;
    decryptor.decrypt(ct, p);
    std::vector<std::complex<double>> got;
    encoder.decode(p, got);
    double err = 0;
    for (size_t i = 0; i < want.size(); ++i) err = std::max(err, std::abs(got[i] - want[i]));
    if (!(err <= 1e-2)) {
      std::fprintf(stderr, "SEAL %s result wrong (max error %g)\n", op, err);
      std::exit(1);
    }
  };
  verify(c_rel, prod, "relinearize");
  ev.rescale_to_next(c_rel, tmp);
  verify(tmp, prod, "rescale");
  ev.rotate_vector(ca, 1, gk, tmp);
  verify(tmp, rot, "rotate");

  auto ctx_data = context.first_context_data();
  const auto* ntt = ctx_data->small_ntt_tables();
  const size_t limbs = ctx_data->parms().coeff_modulus().size();
  std::vector<uint64_t> poly(n * limbs);
  for (size_t i = 0; i < poly.size(); ++i) poly[i] = i % ctx_data->parms().coeff_modulus()[0].value();
  std::printf("{\"anchor\":\"SEAL %d.%d.%d\",\"median_cpu_us\":{", SEAL_VERSION_MAJOR,
              SEAL_VERSION_MINOR, SEAL_VERSION_PATCH);
  auto emit = [first = true](const char* op, double us) mutable {
    std::printf("%s\"%s\":%.2f", first ? "" : ",", op, us);
    first = false;
  };
  emit("ntt_one_prime", Median([&] { util::ntt_negacyclic_harvey_lazy(poly.data(), ntt[0]); }, reps));
  for (size_t i = 0; i < poly.size(); ++i) poly[i] = i % ctx_data->parms().coeff_modulus()[0].value();
  emit("ntt_all_primes", Median([&] {
         for (size_t l = 0; l < limbs; ++l) util::ntt_negacyclic_harvey(poly.data() + l * n, ntt[l]);
       }, reps));
  Plaintext pt;
  std::vector<std::complex<double>> out;
  emit("encode", Median([&] { encoder.encode(a, scale, pt); }, reps));
  emit("decode", Median([&] { encoder.decode(pa, out); }, reps));
  emit("encrypt_pk", Median([&] { encryptor.encrypt(pa, tmp); }, reps));
  emit("decrypt", Median([&] { decryptor.decrypt(ca, pt); }, reps));
  emit("add", Median([&] { ev.add(ca, cb, tmp); }, reps));
  emit("mul_plain", Median([&] { ev.multiply_plain(ca, pb, tmp); }, reps));
  emit("mul_no_relin", Median([&] { ev.multiply(ca, cb, tmp); }, reps));
  emit("relinearize", Median([&] { ev.relinearize(c_mul, rk, tmp); }, reps));
  emit("rescale", Median([&] { ev.rescale_to_next(c_rel, tmp); }, reps));
  emit("rotate_1", Median([&] { ev.rotate_vector(ca, 1, gk, tmp); }, reps));
  std::printf("},\"limbs\":%zu}\n", limbs);
  return 0;
}
