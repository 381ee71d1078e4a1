#include "loom/comm/streaming_copy.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace loom::comm {

void StreamingCopy(void* dst, const void* src, size_t bytes) {
  auto* d = static_cast<char*>(dst);
  const auto* s = static_cast<const char*>(src);
#if defined(__x86_64__)
  // Head up to the first 64-byte boundary of dst with ordinary stores (movntdq needs aligned
  // destinations, and whole lines leave the write-combining buffers full; sources are loaded
  // unaligned).
  const size_t head = std::min(bytes, (64 - reinterpret_cast<uintptr_t>(d) % 64) % 64);
  std::memcpy(d, s, head);
  d += head;
  s += head;
  bytes -= head;
  // Four stores per iteration: one whole 64-byte line.
  for (; bytes >= 64; bytes -= 64, d += 64, s += 64) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 32));
    const __m128i e = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(d), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(d + 48), e);
  }
  std::memcpy(d, s, bytes);
  // Non-temporal stores are weakly ordered: fence them before the caller's release store
  // (a barrier arrival) announces the data.
  _mm_sfence();
#else
  std::memcpy(d, s, bytes);
#endif
}

namespace {

size_t ReadLastLevelCacheBytes() {
  size_t best_level = 0, best_bytes = 0;
  for (int index = 0; index < 8; ++index) {
    const std::string dir =
        "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    unsigned level = 0;
    char unit = 0;
    unsigned long long size = 0;
    FILE* f = std::fopen((dir + "level").c_str(), "r");
    if (f == nullptr) break;
    const bool got_level = std::fscanf(f, "%u", &level) == 1;
    std::fclose(f);
    f = std::fopen((dir + "size").c_str(), "r");
    if (f == nullptr) continue;
    const int got = std::fscanf(f, "%llu%c", &size, &unit);
    std::fclose(f);
    if (!got_level || got < 1) continue;
    if (got == 2 && (unit == 'K' || unit == 'k')) size <<= 10;
    if (got == 2 && (unit == 'M' || unit == 'm')) size <<= 20;
    if (level > best_level) {
      best_level = level;
      best_bytes = static_cast<size_t>(size);
    }
  }
  return best_bytes > 0 ? best_bytes : size_t{32} << 20;
}

}  // namespace

size_t LastLevelCacheBytes() {
  static const size_t bytes = ReadLastLevelCacheBytes();
  return bytes;
}

}  // namespace loom::comm
