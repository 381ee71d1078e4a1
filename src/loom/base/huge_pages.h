// AdviseHugePages: asks the kernel to back a large, already written region with 2 MiB pages.
// Decode streams every weight once per token; with 4 KiB pages that is one TLB entry per 4 KiB
// and a page walk every few cache lines, and on this machine (THP in `madvise` mode) a 1 GiB
// two-thread read runs ~10-25 % faster on huge pages. Only the 2 MiB-aligned interior of the
// region is advised; MADV_COLLAPSE (Linux >= 6.1) converts the pages already faulted in. A
// refusal (old kernel, THP off, no contiguous memory) leaves the region as it was: this is an
// optimisation, never a correctness matter.
// Thread-safety: any thread; the region must not be unmapped concurrently.
#pragma once

#include <cstddef>

namespace loom {

// Returns the bytes now advised (0 when the region has no whole 2 MiB page or the kernel
// refused).
size_t AdviseHugePages(const void* data, size_t bytes);

}  // namespace loom
