// Recursive-doubling allgather for p = 2^k ranks: in the step with distance d, rank r and
// r XOR d swap the d blocks each has gathered (the aligned group of d ranks containing it),
// straight into their places in the output. Cost lg p·α + (p−1)/p·nβ, no local rotation.
// Other rank counts: InvalidArgument (kAuto picks Bruck there); nothing is substituted silently.
#include <cstring>

#include "loom/base/strings.h"
#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status AllGatherRecursiveDoubling(Transport& t, int tag, const void* send, void* recv,
                                  size_t count, DataType dtype) {
  const int p = t.size(), r = t.rank();
  if ((p & (p - 1)) != 0)
    return InvalidArgumentError(StrCat("allgather recursive_doubling needs a power-of-two rank "
                                       "count, got ", p, " (use bruck or ring)"));
  const size_t bytes = count * DataTypeSize(dtype);
  auto* out = static_cast<std::byte*>(recv);
  if (bytes == 0) return OkStatus();
  if (send != out + static_cast<size_t>(r) * bytes)
    std::memmove(out + static_cast<size_t>(r) * bytes, send, bytes);
  for (int d = 1; d < p; d *= 2) {
    const int partner = r ^ d;
    const size_t mine = static_cast<size_t>(r / d * d) * bytes;
    const size_t theirs = static_cast<size_t>(partner / d * d) * bytes;
    const size_t n = static_cast<size_t>(d) * bytes;
    LOOM_RETURN_IF_ERROR(t.SendRecv(partner, {out + mine, n}, partner, {out + theirs, n}, tag));
  }
  return OkStatus();
}

}  // namespace loom::comm::algo
