// `loom ckks params|bench` and the ckks/hisa stage of `loom demo`.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/fhe/ckks/context.h"
#include "loom/fhe/ckks/op_bench.h"
#include "loom/fhe/ckks/primes.h"
#include "loom/fhe/ckks/security.h"
#include "loom/fhe/hisa/hisa.h"
#include "table.h"

namespace loom::cli {
namespace {

struct ParamOptions {
  uint64_t n = 8192;
  std::string primes = "60,40,40,60";
  int special = 1;
  std::string security = "128";
};

// "default" = SEAL 4.4's default chain for N (BFVDefault bit sizes, last = special prime).
StatusOr<std::vector<int>> ParsePrimeBits(const std::string& text, uint64_t n) {
  if (text == "default") {
    if (n == 4096) return std::vector<int>{36, 36, 37};
    if (n == 8192) return std::vector<int>{43, 43, 44, 44, 44};
    if (n == 16384) return std::vector<int>{48, 48, 48, 49, 49, 49, 49, 49, 49};
    if (n == 32768) {
      std::vector<int> v(15, 55);
      v.push_back(56);
      return v;
    }
    return InvalidArgumentError(StrCat("--primes default: no SEAL default chain for N=", n));
  }
  std::vector<int> bits;
  for (const auto& part : StrSplit(text, ',')) {
    LOOM_ASSIGN_OR_RETURN(int64_t b, ParseInt(part, "--primes"));
    bits.push_back(static_cast<int>(b));
  }
  return bits;
}

StatusOr<ckks::ContextPtr> MakeContext(const ParamOptions& o) {
  ckks::Parameters p;
  p.poly_degree = o.n;
  LOOM_ASSIGN_OR_RETURN(p.prime_bits, ParsePrimeBits(o.primes, o.n));
  p.special_primes = o.special;
  LOOM_ASSIGN_OR_RETURN(p.security, ckks::ParseSecurityLevel(o.security));
  return ckks::Context::Create(p);
}

void AddParamOptions(CLI::App* app, ParamOptions& o) {
  app->add_option("--n", o.n, "Ring degree N (1024..32768)");
  app->add_option("--primes", o.primes,
                  "Prime bit sizes, data primes then special (e.g. 60,40,40,60), or 'default'");
  app->add_option("--special", o.special, "Number of special primes (= primes per key-switch digit)");
  app->add_option("--security", o.security, "128, 192, 256 (classical) or 128q, 192q, 256q");
}

Status Params(Context& cli, const ParamOptions& o) {
  LOOM_ASSIGN_OR_RETURN(ckks::ContextPtr ctx, MakeContext(o));
  const auto& c = *ctx;
  Json primes = Json::array();
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < c.num_primes(); ++i) {
    bool special = i >= c.num_data_primes();
    primes.push_back({{"value", c.primes()[i]}, {"bits", ckks::BitLength(c.primes()[i])},
                      {"special", special}});
    rows.push_back({StrCat(i), special ? "special" : StrCat("data (level ", i, ")"),
                    StrCat(c.primes()[i]), StrCat(ckks::BitLength(c.primes()[i]))});
  }
  Json levels = Json::object();
  std::string verdicts;
  for (int s = 0; s < 6; ++s) {
    auto level = static_cast<ckks::SecurityLevel>(s);
    int limit = ckks::MaxLogQ(c.n(), level);
    bool ok = limit > 0 && c.total_bits() <= limit;
    levels[ckks::SecurityLevelName(level)] = {{"max_log_q", limit}, {"ok", ok}};
    verdicts += StrCat("  ", ckks::SecurityLevelName(level), ": limit ", limit, " bits -> ",
                       ok ? "ok" : "NOT met", "\n");
  }
  const size_t digits = (c.num_data_primes() + c.num_special_primes() - 1) / c.num_special_primes();
  const double key_bytes = static_cast<double>(digits * 2 * c.num_primes() * c.n() * 8);
  Json record = {{"n", c.n()}, {"slots", c.slots()}, {"primes", primes},
                 {"total_bits", c.total_bits()}, {"max_level", c.max_level()},
                 {"special_primes", c.num_special_primes()}, {"key_switch_digits", digits},
                 {"relin_key_bytes", key_bytes}, {"galois_key_bytes_each", key_bytes},
                 {"requested_security", ckks::SecurityLevelName(c.parameters().security)},
                 {"security", levels}};
  std::string human = StrCat(c.Describe(), ", ", c.slots(), " slots, max level ", c.max_level(),
                             ", ", digits, " key-switch digits\n",
                             FormatTable({"#", "role", "prime", "bits"}, rows),
                             "security (HE standard, ternary secret, sigma 3.2):\n", verdicts,
                             "relinearization key / each Galois key: ", FormatBytes(static_cast<uint64_t>(key_bytes)),
                             "\nvalid at ", ckks::SecurityLevelName(c.parameters().security));
  cli.Emit(record, human);
  return OkStatus();
}

struct BenchOptions {
  ParamOptions params;
  int reps = 9;
  double scale_bits = 0;  // 0 = bits of the second prime (the middle primes' size)
};

Status Bench(Context& cli, const BenchOptions& o) {
  LOOM_ASSIGN_OR_RETURN(ckks::ContextPtr ctx, MakeContext(o.params));
  double scale_bits = o.scale_bits > 0 ? o.scale_bits
                                       : static_cast<double>(ckks::BitLength(ctx->primes()[1]));
  double scale = std::pow(2.0, scale_bits);
  LOOM_ASSIGN_OR_RETURN(auto timings, ckks::BenchmarkOps(ctx, o.reps, scale));
  int depth = std::min(3, ctx->max_level());
  LOOM_ASSIGN_OR_RETURN(double bits, ckks::ChainPrecisionBits(ctx, depth, scale));
  std::vector<std::vector<std::string>> rows;
  Json ops = Json::object();
  for (const auto& t : timings) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", t.median_us);
    rows.push_back({t.op, buf});
    ops[t.op] = t.median_us;
  }
  Json record = {{"params", ctx->Describe()}, {"reps", o.reps}, {"scale_bits", scale_bits},
                 {"median_cpu_us", ops}, {"precision_depth", depth},
                 {"precision_bits", bits}, {"verified", true}};
  char prec[96];
  std::snprintf(prec, sizeof(prec), "precision after a depth-%d squaring chain: %.1f bits", depth, bits);
  cli.Emit(record, StrCat(ctx->Describe(), ", scale 2^", scale_bits, ", median thread CPU time of ",
                          o.reps, " runs (every result verified first)\n",
                          FormatTable({"op", "us"}, rows), prec));
  return OkStatus();
}

// Demo: p(x) = 0.5 x^3 - 1.2 x^2 + 0.3 x + 0.1 by Horner through HISA on both backends.
StatusOr<DemoResult> CkksDemo(Context& cli) {
  ckks::Parameters p;
  p.poly_degree = 16384;
  p.prime_bits = {60, 40, 40, 40, 60};
  LOOM_ASSIGN_OR_RETURN(ckks::ContextPtr ctx, ckks::Context::Create(p));
  hisa::BackendOptions opts;
  opts.vec_size = 4096;
  opts.rotation_steps = {1};
  LOOM_ASSIGN_OR_RETURN(auto enc, hisa::MakeCkksBackend(ctx, opts));
  auto ref = hisa::MakePlainBackend(ctx, opts);
  std::vector<double> x(opts.vec_size);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.01 * static_cast<double>(i));
  const double kScale = 0x1p40;
  const double coeffs[] = {0.5, -1.2, 0.3, 0.1};  // a3, a2, a1, a0
  int ops = 0;
  auto eval = [&](hisa::Backend& b) -> StatusOr<std::vector<double>> {
    LOOM_ASSIGN_OR_RETURN(hisa::Plain px, b.Encode(x, kScale, ctx->max_level()));
    LOOM_ASSIGN_OR_RETURN(hisa::Cipher cx, b.Encrypt(px));
    LOOM_ASSIGN_OR_RETURN(hisa::Cipher t, b.Mul(cx, coeffs[0], kScale));
    ops = 1;
    for (int k = 1; k <= 3; ++k) {
      LOOM_ASSIGN_OR_RETURN(double d, b.MaxRescale(t, 0x1p41));
      LOOM_ASSIGN_OR_RETURN(t, b.Rescale(t, d));
      LOOM_ASSIGN_OR_RETURN(t, b.Add(t, coeffs[k]));
      ops += 2;
      if (k == 3) break;
      LOOM_ASSIGN_OR_RETURN(hisa::Meta m, b.MetaOf(t));
      LOOM_ASSIGN_OR_RETURN(hisa::Cipher xl, b.ModSwitchTo(cx, m.level));
      LOOM_ASSIGN_OR_RETURN(t, b.Mul(t, xl));
      LOOM_ASSIGN_OR_RETURN(t, b.Relinearize(t));
      ops += 3;
    }
    LOOM_ASSIGN_OR_RETURN(t, b.RotLeft(t, 1));
    ++ops;
    LOOM_ASSIGN_OR_RETURN(hisa::Plain out, b.Decrypt(t));
    return b.Decode(out);
  };
  Stopwatch sw;
  LOOM_ASSIGN_OR_RETURN(auto got, eval(*enc));
  double ckks_seconds = sw.ElapsedSeconds();
  Stopwatch sw2;
  LOOM_ASSIGN_OR_RETURN(auto want, eval(*ref));
  double ref_seconds = sw2.ElapsedSeconds();
  double err = 0, mag = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double xi = x[(i + 1) % x.size()];
    double direct = ((0.5 * xi - 1.2) * xi + 0.3) * xi + 0.1;
    if (std::fabs(direct - want[i]) > 1e-12) return InternalError("plaintext backend disagrees with direct evaluation");
    err = std::max(err, std::fabs(got[i] - want[i]));
    mag = std::max(mag, std::fabs(want[i]));
  }
  double bits = -std::log2(err / mag);
  if (!(bits > 16)) return InternalError(StrCat("ckks demo precision only ", bits, " bits"));
  const int total_ops = ops + 4;  // + encode, encrypt, decrypt, decode
  double per_op_ms = ckks_seconds * 1e3 / total_ops;
  char line[220];
  std::snprintf(line, sizeof(line),
                "p(x)=0.5x^3-1.2x^2+0.3x+0.1 then rotate via HISA, N=16384: %.1f bits precision, "
                "CKKS %.2f ms/op over %d ops (wall), plaintext backend %.3f ms total",
                bits, per_op_ms, total_ops, ref_seconds * 1e3);
  if (!cli.globals.json) std::cout << "  " << line << "\n";
  DemoResult r;
  r.headline = line;
  r.verified = true;
  r.metrics = {{"precision_bits", bits}, {"ckks_ms_per_op", per_op_ms}, {"ops", total_ops},
               {"ckks_seconds", ckks_seconds}, {"plain_seconds", ref_seconds}};
  return r;
}

}  // namespace

LOOM_REGISTER_COMMANDS(ckks, "RNS-CKKS homomorphic encryption: parameters and benchmarks",
                       [](CLI::App& app, Context& ctx) {
                         auto po = std::make_shared<ParamOptions>();
                         CLI::App* params = app.add_subcommand(
                             "params", "Validate CKKS parameters and print their security");
                         AddParamOptions(params, *po);
                         ctx.SetVerb(params, [&ctx, po] { return Params(ctx, *po); });
                         auto bo = std::make_shared<BenchOptions>();
                         CLI::App* bench = app.add_subcommand(
                             "bench", "Time every CKKS operation (verified first)");
                         AddParamOptions(bench, bo->params);
                         bench->add_option("--reps", bo->reps, "Repetitions per op (median)");
                         bench->add_option("--scale-bits", bo->scale_bits,
                                           "Encoding scale bits (default: second prime's bits)");
                         ctx.SetVerb(bench, [&ctx, bo] { return Bench(ctx, *bo); });
                       });

LOOM_REGISTER_DEMO_STAGE(ckks, 60, CkksDemo);

}  // namespace loom::cli
