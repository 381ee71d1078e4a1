#include "loom/base/aligned_buffer.h"

#include <algorithm>

namespace loom {

void* Arena::Allocate(size_t bytes, size_t alignment) {
  LOOM_CHECK((alignment & (alignment - 1)) == 0) << "alignment " << alignment;
  if (!blocks_.empty()) {
    Block& b = blocks_.back();
    uintptr_t base = reinterpret_cast<uintptr_t>(b.data.get());
    size_t aligned = ((base + offset_ + alignment - 1) & ~(alignment - 1)) - base;
    if (aligned + bytes <= b.size) {
      offset_ = aligned + bytes;
      bytes_allocated_ += bytes;
      return b.data.get() + aligned;
    }
  }
  size_t size = std::max(block_size_, bytes + alignment);
  size = (size + kDefaultAlignment - 1) / kDefaultAlignment * kDefaultAlignment;
  Block block;
  block.data.reset(static_cast<uint8_t*>(std::aligned_alloc(kDefaultAlignment, size)));
  LOOM_CHECK(block.data != nullptr) << "out of memory allocating arena block of " << size;
  block.size = size;
  blocks_.push_back(std::move(block));
  offset_ = 0;
  return Allocate(bytes, alignment);
}

void Arena::Reset() {
  if (blocks_.size() > 1) blocks_.resize(1);
  offset_ = 0;
  bytes_allocated_ = 0;
}

}  // namespace loom
