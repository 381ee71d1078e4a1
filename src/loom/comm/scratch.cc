// Per-thread reusable scratch for the collective algorithms (algorithms.h).
#include <array>
#include <memory>

#include "loom/base/check.h"
#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

std::span<std::byte> ThreadScratch(size_t bytes, int slot) {
  struct Buffer {
    std::unique_ptr<std::byte[]> data;
    size_t size = 0;
  };
  thread_local std::array<Buffer, 4> buffers;
  LOOM_CHECK(slot >= 0 && slot < static_cast<int>(buffers.size())) << "scratch slot " << slot;
  Buffer& b = buffers[static_cast<size_t>(slot)];
  if (b.size < bytes) {
    b.data.reset();                      // free first: the old and new buffers need not coexist
    b.data.reset(new std::byte[bytes]);  // default-initialised: no memset
    b.size = bytes;
  }
  return {b.data.get(), bytes};
}

}  // namespace loom::comm::algo
