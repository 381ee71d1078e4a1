// Copies that bypass the cache, for the shared-memory collectives' large blocks.
//
// A block copy whose ranks' buffers together exceed the last-level cache streams from memory
// to memory: every ordinary store first reads its destination line (read-for-ownership) only to
// overwrite it, and evicts a line somebody still needs. Non-temporal stores skip both, so a
// memory-bound copy moves 2 bytes of traffic per byte instead of 3. Below that size the data
// would have stayed in the cache for its next reader, and ordinary stores win (2-rank allgather
// with 4 MiB blocks: 0.62 ms streamed against 0.51 ms; docs/benchmarks.md).
//
// Thread-safety: pure functions (LastLevelCacheBytes reads sysfs once, thread-safely).
#pragma once

#include <cstddef>

namespace loom::comm {

// memcpy with non-temporal stores for the 64-byte-aligned body of `dst` (x86-64; memcpy
// elsewhere), then a store fence, so the bytes are visible to whoever synchronises with this
// thread afterwards. `dst` and `src` must not overlap.
void StreamingCopy(void* dst, const void* src, size_t bytes);

// The size of the last-level cache this CPU shares with its neighbours (Linux sysfs, the
// highest cache level of cpu0; 32 MiB where it cannot be read). sysconf's LEVEL3_CACHE_SIZE
// is no substitute: on AMD EPYC guests it reports the whole package (320 MiB) instead of the
// 32 MiB one core sees.
size_t LastLevelCacheBytes();

}  // namespace loom::comm
