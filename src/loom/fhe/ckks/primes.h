// NTT-friendly prime generation (q = 1 mod 2N), deterministic: for each requested bit size,
// candidates count down from 2^bits in steps of 2N (the SEAL CoeffModulus::Create order), so
// the same (N, bits) always yields the same chain. Also Miller-Rabin and primitive roots.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "loom/base/status.h"

namespace loom::ckks {

// Deterministic Miller-Rabin, exact for all 64-bit n.
bool IsPrime(uint64_t n);

// Distinct primes q with q = 1 (mod 2N) and bit length bits[i] (bits in [2, 60]), in the
// order of `bits`. Fails (InvalidArgument) naming the bit size when none is left.
StatusOr<std::vector<uint64_t>> GenerateNttPrimes(uint64_t poly_degree, std::span<const int> bits);

// The smallest primitive 2N-th root of unity mod q (q prime, q = 1 mod 2N).
StatusOr<uint64_t> MinimalPrimitiveRoot(uint64_t two_n, uint64_t q);

// Number of significant bits of v.
int BitLength(uint64_t v);

}  // namespace loom::ckks
