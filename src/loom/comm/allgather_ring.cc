// Ring allgather: p-1 steps; in step k rank r forwards block r-k to r+1 and receives block
// r-1-k from r-1. Cost (p-1)α + (p-1)/p·nβ.
#include <cstring>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status AllGatherRing(Transport& t, int tag, const void* send, void* recv, size_t count,
                     DataType dtype) {
  const int p = t.size(), r = t.rank();
  const size_t bytes = count * DataTypeSize(dtype);
  auto* out = static_cast<std::byte*>(recv);
  if (bytes > 0 && send != out + static_cast<size_t>(r) * bytes)
    std::memmove(out + static_cast<size_t>(r) * bytes, send, bytes);
  if (p == 1 || bytes == 0) return OkStatus();
  const int next = (r + 1) % p, prev = (r + p - 1) % p;
  for (int k = 0; k < p - 1; ++k) {
    size_t s = static_cast<size_t>((r - k + p) % p), q = static_cast<size_t>((r - 1 - k + 2 * p) % p);
    LOOM_RETURN_IF_ERROR(t.SendRecv(next, {out + s * bytes, bytes}, prev, {out + q * bytes, bytes}, tag));
  }
  return OkStatus();
}

}  // namespace loom::comm::algo
