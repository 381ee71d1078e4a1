// Ring reduce-scatter: p-1 steps; in step k rank r sends its partial of block r-1-k to r+1 and
// adds the partial of block r-2-k from r-1, so it ends owning block r. Cost (p-1)α +
// (p-1)/p·n(β+γ).
#include <cstring>
#include <vector>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status ReduceScatterRing(Transport& t, int tag, const void* send, void* recv, size_t count,
                         DataType dtype, ReduceOp op) {
  const int p = t.size(), r = t.rank();
  const size_t es = DataTypeSize(dtype), bytes = count * es;
  if (bytes == 0) return OkStatus();
  if (p == 1) {
    if (recv != send) std::memmove(recv, send, bytes);
    return OkStatus();
  }
  // Work on a copy: the caller's send buffer is const and may alias recv.
  std::span<std::byte> work = ThreadScratch(bytes * static_cast<size_t>(p), 1);
  if (bytes > 0) std::memcpy(work.data(), send, work.size());
  std::span<std::byte> scratch = ThreadScratch(bytes);
  const int next = (r + 1) % p, prev = (r + p - 1) % p;
  for (int k = 0; k < p - 1; ++k) {
    size_t s = static_cast<size_t>(((r - 1 - k) % p + p) % p);
    size_t q = static_cast<size_t>(((r - 2 - k) % p + p) % p);
    LOOM_RETURN_IF_ERROR(t.SendRecv(next, {work.data() + s * bytes, bytes}, prev,
                                    {scratch.data(), bytes}, tag));
    ReduceInto(dtype, op, work.data() + q * bytes, scratch.data(), count);
  }
  std::memcpy(recv, work.data() + static_cast<size_t>(r) * bytes, bytes);
  return OkStatus();
}

}  // namespace loom::comm::algo
