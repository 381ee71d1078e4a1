// AlignedBuffer<T>: an owning, fixed-size array aligned for SIMD (64 bytes by default), with
// value-initialised elements. Move-only. Arena: a bump allocator for many small allocations
// that die together (per-step scratch); Reset() reuses its first block.
// Thread-safety: none (one owner).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "loom/base/check.h"

namespace loom {

inline constexpr size_t kDefaultAlignment = 64;

template <typename T, size_t Alignment = kDefaultAlignment>
class AlignedBuffer {
  static_assert(std::is_trivially_destructible_v<T>, "AlignedBuffer holds trivial types");
  static_assert((Alignment & (Alignment - 1)) == 0 && Alignment >= alignof(T));

 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t size) : size_(size) {
    if (size_ == 0) return;
    size_t bytes = (size_ * sizeof(T) + Alignment - 1) / Alignment * Alignment;
    data_ = static_cast<T*>(std::aligned_alloc(Alignment, bytes));
    LOOM_CHECK(data_ != nullptr) << "out of memory allocating " << bytes << " bytes";
    for (size_t i = 0; i < size_; ++i) new (data_ + i) T();
  }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  std::span<T> span() { return {data_, size_}; }
  std::span<const T> span() const { return {data_, size_}; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

class Arena {
 public:
  explicit Arena(size_t block_size = 1 << 20) : block_size_(block_size) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns `bytes` of uninitialised storage aligned to `alignment` (a power of two).
  void* Allocate(size_t bytes, size_t alignment = kDefaultAlignment);

  // An uninitialised array of n trivially-destructible T.
  template <typename T>
  std::span<T> AllocateArray(size_t n) {
    static_assert(std::is_trivially_destructible_v<T>);
    return {static_cast<T*>(Allocate(n * sizeof(T), alignof(T) > 16 ? alignof(T) : 16)), n};
  }

  // Frees everything allocated so far, keeping the first block for reuse.
  void Reset();

  size_t bytes_allocated() const { return bytes_allocated_; }

 private:
  struct Block {
    std::unique_ptr<uint8_t, decltype(&std::free)> data{nullptr, &std::free};
    size_t size = 0;
  };
  size_t block_size_;
  std::vector<Block> blocks_;
  size_t offset_ = 0;  // into blocks_.back()
  size_t bytes_allocated_ = 0;
};

}  // namespace loom
