// IEEE binary16 (fp16) and bfloat16 storage types with exact conversions to and from float.
// float -> half/bfloat16 rounds to nearest, ties to even; NaN stays NaN, overflow gives inf.
// Portable bit manipulation (no F16C dependency); hot kernels may vectorise their own.
// Thread-safety: values.
#pragma once

#include <bit>
#include <cstdint>

namespace loom {

struct Half {
  uint16_t bits = 0;
};
struct BFloat16 {
  uint16_t bits = 0;
};

inline float HalfToFloat(Half h) {
  uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
  uint32_t exp = (h.bits >> 10) & 0x1fu;
  uint32_t mant = h.bits & 0x3ffu;
  uint32_t out;
  if (exp == 0x1f) {
    out = sign | 0x7f800000u | (mant << 13);  // inf / NaN (payload kept)
  } else if (exp != 0) {
    out = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    out = sign;
  } else {
    // Subnormal half: value = mant * 2^-24, exactly representable as a normal float.
    float f = static_cast<float>(mant) * 0x1p-24f;
    out = sign | std::bit_cast<uint32_t>(f);
  }
  return std::bit_cast<float>(out);
}

inline Half FloatToHalf(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN
    uint16_t nan_bit = abs > 0x7f800000u ? static_cast<uint16_t>(0x200u | ((abs >> 13) & 0x3ffu)) : 0;
    return Half{static_cast<uint16_t>(sign | 0x7c00u | nan_bit)};
  }
  if (abs >= 0x477ff000u) return Half{static_cast<uint16_t>(sign | 0x7c00u)};  // rounds to inf
  if (abs < 0x38800000u) {
    // Result is subnormal (or zero): round abs * 2^24 to an integer, ties to even.
    float scaled = std::bit_cast<float>(abs) * 0x1p24f;  // exact: at most 24 significant bits
    uint32_t q = static_cast<uint32_t>(scaled);
    float rem = scaled - static_cast<float>(q);
    if (rem > 0.5f || (rem == 0.5f && (q & 1u))) ++q;
    return Half{static_cast<uint16_t>(sign | q)};
  }
  // Normal: re-bias the exponent, round the 13 dropped mantissa bits to nearest even.
  uint32_t rebased = abs - 0x38000000u;  // exponent 127 -> 15
  uint32_t round = 0xfffu + ((rebased >> 13) & 1u);
  return Half{static_cast<uint16_t>(sign | ((rebased + round) >> 13))};
}

inline float BFloat16ToFloat(BFloat16 b) { return std::bit_cast<float>(static_cast<uint32_t>(b.bits) << 16); }

inline BFloat16 FloatToBFloat16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return BFloat16{static_cast<uint16_t>((x >> 16) | 0x40u)};  // quiet NaN
  uint32_t round = 0x7fffu + ((x >> 16) & 1u);
  return BFloat16{static_cast<uint16_t>((x + round) >> 16)};
}

}  // namespace loom
