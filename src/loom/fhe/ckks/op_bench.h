// Per-operation timings for `loom ckks bench` and bench/ckks_vs_seal.sh: each operation runs
// `reps` times single-threaded and reports the median thread CPU time (SEAL's sealbench also
// reports CPU time). Every timed result is verified first (decrypt and compare with the
// plaintext computation) and the run fails with Internal if a result is wrong.
// Thread-safety: pure function (uses its own keys).
#pragma once

#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/fhe/ckks/context.h"

namespace loom::ckks {

struct OpTiming {
  std::string op;
  double median_us = 0;
};

// Ops: ntt_one_prime (forward, lazy), ntt_all_primes (forward, one polynomial over q_0..q_L),
// encode, decode, encrypt_pk, decrypt, add, mul_plain, mul_no_relin, relinearize, rescale,
// rotate_1. `scale` is the encoding scale (e.g. 2^40).
StatusOr<std::vector<OpTiming>> BenchmarkOps(const ContextPtr& ctx, int reps, double scale);

// Precision in bits (-log2(max|err| / max|ref|)) after a chain of `depth` squarings with
// relinearization and rescale, inputs uniform in [-1, 1] at `scale`.
StatusOr<double> ChainPrecisionBits(const ContextPtr& ctx, int depth, double scale);

}  // namespace loom::ckks
