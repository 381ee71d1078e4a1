#include "loom/fhe/ckks/security.h"

#include "loom/base/strings.h"

namespace loom::ckks {
namespace {

// Rows N = 1024 .. 32768; columns 128/192/256 classical, 128/192/256 quantum.
constexpr int kTable[6][6] = {
    {27, 19, 14, 25, 17, 13},       {54, 37, 29, 51, 35, 27},
    {109, 75, 58, 101, 70, 54},     {218, 152, 118, 202, 141, 109},
    {438, 305, 237, 411, 284, 220}, {881, 611, 476, 827, 571, 443},
};

}  // namespace

std::string SecurityLevelName(SecurityLevel level) {
  switch (level) {
    case SecurityLevel::kClassical128: return "128-bit classical";
    case SecurityLevel::kClassical192: return "192-bit classical";
    case SecurityLevel::kClassical256: return "256-bit classical";
    case SecurityLevel::kQuantum128: return "128-bit quantum";
    case SecurityLevel::kQuantum192: return "192-bit quantum";
    case SecurityLevel::kQuantum256: return "256-bit quantum";
  }
  return "unknown";
}

StatusOr<SecurityLevel> ParseSecurityLevel(const std::string& text) {
  if (text == "128") return SecurityLevel::kClassical128;
  if (text == "192") return SecurityLevel::kClassical192;
  if (text == "256") return SecurityLevel::kClassical256;
  if (text == "128q") return SecurityLevel::kQuantum128;
  if (text == "192q") return SecurityLevel::kQuantum192;
  if (text == "256q") return SecurityLevel::kQuantum256;
  return InvalidArgumentError(
      StrCat("security level '", text, "' is not one of 128, 192, 256, 128q, 192q, 256q"));
}

int MaxLogQ(uint64_t poly_degree, SecurityLevel level) {
  int row = -1;
  for (int r = 0; r < 6; ++r)
    if (poly_degree == (uint64_t{1024} << r)) row = r;
  if (row < 0) return 0;
  return kTable[row][static_cast<int>(level)];
}

Status CheckSecurity(uint64_t poly_degree, int total_bits, SecurityLevel level) {
  int limit = MaxLogQ(poly_degree, level);
  if (limit == 0)
    return InvalidArgumentError(StrCat("N=", poly_degree,
                                       " has no HE-standard entry (supported: 1024..32768)"));
  if (total_bits > limit)
    return InvalidArgumentError(StrCat("insecure parameters: total log2(Q*P) = ", total_bits,
                                       " bits exceeds the HE-standard limit of ", limit,
                                       " bits for N=", poly_degree, " at ",
                                       SecurityLevelName(level)));
  return OkStatus();
}

}  // namespace loom::ckks
