// AdviseHugePages (huge_pages.h).
#include "loom/base/huge_pages.h"

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace loom {

size_t AdviseHugePages(const void* data, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHuge - 1);
  if (data == nullptr || end <= begin) return 0;
  void* p = reinterpret_cast<void*>(begin);
  if (madvise(p, end - begin, MADV_HUGEPAGE) != 0) return 0;
#if defined(MADV_COLLAPSE)
  constexpr int kCollapse = MADV_COLLAPSE;
#else
  constexpr int kCollapse = 25;  // the Linux 6.1 value, for older libc headers
#endif
  // Pages already present are collapsed now; a failure (EAGAIN, no free huge page) still
  // leaves the MADV_HUGEPAGE hint for khugepaged.
  (void)madvise(p, end - begin, kCollapse);
  return end - begin;
#else
  (void)data;
  (void)bytes;
  return 0;
#endif
}

}  // namespace loom
