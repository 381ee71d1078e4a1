// Q4_0 decode matmul (up to 4 tokens) with AVX-512 VNNI; see internal/q4_matvec_avx512.h.
//
// Why groups of four blocks: a register of 64 nibble bytes holds four blocks (one per 128-bit
// lane), and its int32 dot lanes 4b..4b+3 all belong to block b. Four rows' dot vectors are
// then summed down to one vector whose lane 4b+i is (row i, block b) by two rounds of unpack +
// add, so the int32 -> fp32 conversion and the scale FMA run once per 4 rows x 4 blocks, and
// the 16 weight scales come from one two-source word permute per row pair (the 72-byte group
// of each row is read by one 64-byte load). The earlier kernel spread each row's two block
// scales over the lanes with scalar loads and a permute and converted every row's dot
// separately: about 17 instructions per 64 weights of a row, which held one core to 12-14 GB/s
// of Q4_0 even from L2 (Q8_0: 27 GB/s), at or below its share of the memory bandwidth; this
// one reads 21-24 GB/s from L2 (1024 x 2560, one core).
#include "loom/phi/internal/q4_matvec_avx512.h"

#include <algorithm>
#include <cstring>

#include "loom/base/half.h"
#include "loom/phi/internal/avx512.h"
#include "loom/phi/quant.h"

namespace loom::phi::internal {

namespace {
constexpr int64_t kBlocks = kQ4Group / kQBlock;       // 4
constexpr size_t kGroupBytes = kBlocks * kQ4_0Bytes;  // 72
}  // namespace

void PrepareQ4Token(const uint8_t* q8_row, int64_t n, uint8_t* q, float* scale, int32_t* corr) {
  const int64_t blocks = n / kQBlock, groups = (n + kQ4Group - 1) / kQ4Group;
  std::memset(q, 0, static_cast<size_t>(groups * kQ4Group));
  std::memset(scale, 0, static_cast<size_t>(groups * 16) * sizeof(float));
  std::memset(corr, 0, static_cast<size_t>(groups * 16) * sizeof(int32_t));
  for (int64_t k = 0; k < blocks; ++k) {
    const uint8_t* blk = q8_row + k * kQ8_0Bytes;
    const int64_t g = k / kBlocks, b = k % kBlocks;
    uint8_t* dst = q + g * kQ4Group;
    std::memcpy(dst + 16 * b, blk + 2, 16);
    std::memcpy(dst + 64 + 16 * b, blk + 18, 16);
    int32_t s = 0;
    for (int e = 0; e < kQBlock; ++e) s += static_cast<int8_t>(blk[2 + e]);
    corr[g * 16 + 4 * b] = -8 * s;
    Half h;
    std::memcpy(&h.bits, blk, 2);
    const float d = HalfToFloat(h);
    for (int i = 0; i < 4; ++i) scale[g * 16 + 4 * b + i] = d;
  }
}

#if defined(__x86_64__)

namespace {

// Row i's group as nibble bytes (lo: elements 0..15 of block b in lane b, hi: 16..31) and its
// first 64 bytes, whose words 0, 9, 18, 27 are the four block scales. kHalf: only blocks 0-1
// exist (a row of n % 128 == 64), and nothing past them is read.
template <bool kHalf>
LOOM_PHI_VNNI inline void LoadGroup(const uint8_t* p, __m512i& lo, __m512i& hi, __m512i& head) {
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  __m512i v;
  if constexpr (kHalf) {
    head = _mm512_maskz_loadu_epi16(0x3FFFF, p);  // the two blocks' 36 bytes
    v = _mm512_inserti32x4(
        _mm512_zextsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 20)), 1);
  } else {
    head = _mm512_loadu_si512(p);
    v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2)));
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 20)), 1);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 38)), 2);
    v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 56)), 3);
  }
  lo = _mm512_and_si512(v, low4);
  hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
}

// Four rows' int32 dot vectors (lanes 4b..4b+3: block b) -> lane 4b+i = row i's block b.
LOOM_PHI_VNNI inline __m512i SumRows(const __m512i v[4]) {
  const __m512i t01 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(v[0], v[1]), _mm512_unpackhi_epi32(v[0], v[1]));
  const __m512i t23 =
      _mm512_add_epi32(_mm512_unpacklo_epi32(v[2], v[3]), _mm512_unpackhi_epi32(v[2], v[3]));
  return _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
}

// One group of 4 rows x RN tokens: acc[j] lane 4b+i += row i . token j over block b.
template <int RN, bool kHalf>
LOOM_PHI_VNNI inline void Group(const uint8_t* const row[4], size_t next_tile, size_t off,
                                const uint8_t* xq, const float* xs, const int32_t* xc,
                                size_t token_groups, __m512 acc[RN]) {
  // Lane 4b+i <- word 9b (the scale of block b) of row i; rows 0/2 are the first source,
  // 1/3 the second.
  const __m512i idx = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                       59, 27, 59, 27, 50, 18, 50, 18, 41, 9, 41, 9, 32, 0, 32, 0);
  __m512i lo[4], hi[4], head[4];
  for (int i = 0; i < 4; ++i) {
    // The next tile's rows at the same offset into L1, and the tile 4 further on into L2,
    // both lines the group touches: 4 short row streams per thread leave the hardware
    // prefetcher behind. (The L2 prefetch: one core streamed 10.6 -> 11.8 GB/s of 2560-wide
    // rows from memory; no change on 10240-wide rows.)
    const uint8_t* next = row[i] + next_tile + off;
    _mm_prefetch(reinterpret_cast<const char*>(next), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(next + kGroupBytes - 1), _MM_HINT_T0);
    const uint8_t* far = next + 3 * next_tile;
    _mm_prefetch(reinterpret_cast<const char*>(far), _MM_HINT_T1);
    _mm_prefetch(reinterpret_cast<const char*>(far + kGroupBytes - 1), _MM_HINT_T1);
    LoadGroup<kHalf>(row[i] + off, lo[i], hi[i], head[i]);
  }
  const __m512i d01 = _mm512_permutex2var_epi16(head[0], idx, head[1]);
  const __m512i d =
      _mm512_mask_mov_epi16(d01, 0xCCCC, _mm512_permutex2var_epi16(head[2], idx, head[3]));
  const __m512 dw = _mm512_cvtph_ps(_mm512_castsi512_si256(d));
  for (int j = 0; j < RN; ++j) {
    const size_t t = j * token_groups;
    const __m512i xlo = _mm512_loadu_si512(xq + t * kQ4Group);
    const __m512i xhi = _mm512_loadu_si512(xq + t * kQ4Group + 64);
    const __m512i c = _mm512_loadu_si512(xc + t * 16);
    __m512i v[4];
    for (int i = 0; i < 4; ++i)
      v[i] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(c, lo[i], xlo), hi[i], xhi);
    acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(SumRows(v)),
                             _mm512_mul_ps(dw, _mm512_loadu_ps(xs + t * 16)), acc[j]);
  }
}

// Rows [r, r + rows) (rows <= 4; missing rows repeat the last one and are not stored) x
// tokens [j0, j0 + RN).
template <int RN>
LOOM_PHI_VNNI void Tile(const uint8_t* w, size_t row_bytes, int64_t n, int64_t r, int64_t rows,
                        int64_t j0, const uint8_t* act_q, const float* act_scale,
                        const int32_t* act_corr, float* y, int64_t ldy) {
  const int64_t full = n / kQ4Group, groups = (n + kQ4Group - 1) / kQ4Group;
  const uint8_t* row[4];
  for (int i = 0; i < 4; ++i) row[i] = w + (r + std::min<int64_t>(i, rows - 1)) * row_bytes;
  const size_t next_tile = 4 * row_bytes;
  __m512 acc[RN];
  for (int j = 0; j < RN; ++j) acc[j] = _mm512_setzero_ps();
  const uint8_t* xq = act_q + j0 * groups * kQ4Group;
  const float* xs = act_scale + j0 * groups * 16;
  const int32_t* xc = act_corr + j0 * groups * 16;
  int64_t g = 0;
  for (; g < full; ++g)
    Group<RN, false>(row, next_tile, g * kGroupBytes, xq + g * kQ4Group, xs + g * 16, xc + g * 16,
                     groups, acc);
  if (g < groups)
    Group<RN, true>(row, next_tile, g * kGroupBytes, xq + g * kQ4Group, xs + g * 16, xc + g * 16,
                    groups, acc);
  const __mmask8 store = static_cast<__mmask8>((1u << rows) - 1);
  for (int j = 0; j < RN; ++j) {
    // Lane 4b+i -> row i: add the four 128-bit lanes.
    const __m256 h =
        _mm256_add_ps(_mm512_castps512_ps256(acc[j]), _mm512_extractf32x8_ps(acc[j], 1));
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    _mm_mask_storeu_ps(y + (j0 + j) * ldy + r, store, s);
  }
}

}  // namespace

LOOM_PHI_VNNI void Q4MatVecAvx512(const uint8_t* w, int64_t n, int64_t r0, int64_t r1,
                                  const uint8_t* act_q, const float* act_scale,
                                  const int32_t* act_corr, int64_t tokens, float* y, int64_t ldy) {
  const size_t row_bytes = RowBytes(WeightType::kQ4_0, n);
  for (int64_t r = r0; r < r1; r += 4) {
    const int64_t rows = std::min<int64_t>(4, r1 - r);
    int64_t j = 0;
    for (; j + 4 <= tokens; j += 4)
      Tile<4>(w, row_bytes, n, r, rows, j, act_q, act_scale, act_corr, y, ldy);
    for (; j < tokens; ++j)
      Tile<1>(w, row_bytes, n, r, rows, j, act_q, act_scale, act_corr, y, ldy);
  }
}

#else  // not x86-64: never called (HaveAvx512Kernels() is false).

void Q4MatVecAvx512(const uint8_t*, int64_t, int64_t, int64_t, const uint8_t*, const float*,
                    const int32_t*, int64_t, float*, int64_t) {}

#endif

}  // namespace loom::phi::internal
