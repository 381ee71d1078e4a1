// The HomomorphicEncryption.org standard's limits (Albrecht et al. 2018, tables for a
// uniform ternary secret and error sigma = 3.2): the largest total log2 Q, special primes
// included, for each ring degree N and security level. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "loom/base/status.h"

namespace loom::ckks {

enum class SecurityLevel {
  kClassical128,
  kClassical192,
  kClassical256,
  kQuantum128,
  kQuantum192,
  kQuantum256,
};

std::string SecurityLevelName(SecurityLevel level);  // e.g. "128-bit classical"
StatusOr<SecurityLevel> ParseSecurityLevel(const std::string& text);  // "128", "192q", ...

// Max total bits of Q*P for (N, level); 0 when N is outside 1024..32768.
int MaxLogQ(uint64_t poly_degree, SecurityLevel level);

// OK if `total_bits` fits; otherwise InvalidArgument naming N, the level and the limit.
Status CheckSecurity(uint64_t poly_degree, int total_bits, SecurityLevel level);

}  // namespace loom::ckks
