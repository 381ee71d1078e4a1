// Bruck allgather (Bruck et al. 1997), any rank count: ⌈lg p⌉ steps. The blocks are kept in
// "rotated" order, slot i holding rank (r + i) mod p's block; in the step with distance d a rank
// sends its first min(d, p − d) slots to r − d and appends as many from r + d. A final rotation
// by r blocks puts them in rank order. Cost ⌈lg p⌉α + (p−1)/p·nβ + one local pass of n.
#include <algorithm>
#include <cstring>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status AllGatherBruck(Transport& t, int tag, const void* send, void* recv, size_t count,
                      DataType dtype) {
  const int p = t.size(), r = t.rank();
  const size_t bytes = count * DataTypeSize(dtype), pc = static_cast<size_t>(p);
  auto* out = static_cast<std::byte*>(recv);
  if (bytes == 0) return OkStatus();
  // Slot 0 is this rank's block (memmove: in place, send is recv's block r).
  if (send != out) std::memmove(out, send, bytes);
  for (int d = 1; d < p; d *= 2) {
    const size_t n = static_cast<size_t>(std::min(d, p - d)) * bytes;
    LOOM_RETURN_IF_ERROR(t.SendRecv((r - d + p) % p, {out, n}, (r + d) % p,
                                    {out + static_cast<size_t>(d) * bytes, n}, tag));
  }
  // Slot i -> block (r + i) mod p: a right rotation by r blocks.
  std::rotate(out, out + (pc - static_cast<size_t>(r)) % pc * bytes, out + pc * bytes);
  return OkStatus();
}

}  // namespace loom::comm::algo
