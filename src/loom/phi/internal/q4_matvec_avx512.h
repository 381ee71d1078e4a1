// The Q4_0 decode kernel of kernels_avx512.h (q4_matvec_avx512.cc): weight rows in groups of
// four 18-byte blocks (128 weights, 72 bytes) against Q8_0 activations prepared per group.
//
// Activation layout per token and group g (zero-padded past n):
//   q     [128 bytes]: bytes 16b..16b+15 = elements 0..15 of block b, 64+16b.. = elements
//                      16..31 (the lanes the weights' low / high nibbles land in);
//   scale [16 floats]: lane 4b+i = d_x of block b (i = 0..3: one lane per weight row);
//   corr  [16 int32]:  lane 4b = -8 * sum(x of block b) (Q4_0's nibble offset), 0 elsewhere.
// Thread-safety: pure functions over caller memory.
#pragma once

#include <cstddef>
#include <cstdint>

namespace loom::phi::internal {

inline constexpr int64_t kQ4Group = 128;  // weights per group

// One token's Q8_0 row (n / 32 blocks of 34 bytes, n a multiple of 64) into the layout above
// (ceil(n / 128) groups).
void PrepareQ4Token(const uint8_t* q8_row, int64_t n, uint8_t* q, float* scale, int32_t* corr);

// y[j * ldy + r] = dot(Q4_0 row r, token j) for rows [r0, r1) and tokens [0, tokens); act_q /
// act_scale / act_corr hold the tokens' groups one token after another.
void Q4MatVecAvx512(const uint8_t* w, int64_t n, int64_t r0, int64_t r1, const uint8_t* act_q,
                    const float* act_scale, const int32_t* act_corr, int64_t tokens, float* y,
                    int64_t ldy);

}  // namespace loom::phi::internal
