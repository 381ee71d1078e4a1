// Binomial-tree reduce, the broadcast tree reversed: relative rank v accumulates the partials
// of v + 2^i for increasing i below its lowest set bit, then sends to v - 2^j. Cost
// ⌈lg p⌉(α + nβ + nγ).
#include <cstring>
#include <vector>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status ReduceBinomial(Transport& t, int tag, const void* send, void* recv, size_t count,
                      DataType dtype, ReduceOp op, int root) {
  const int p = t.size();
  const size_t bytes = count * DataTypeSize(dtype);
  const int v = (t.rank() - root + p) % p;
  if (bytes == 0) return OkStatus();
  std::span<std::byte> acc = ThreadScratch(bytes, 1);
  if (bytes > 0) std::memcpy(acc.data(), send, bytes);
  std::span<std::byte> scratch = ThreadScratch(bytes);
  for (int mask = 1; mask < p; mask <<= 1) {
    if (v & mask) {
      LOOM_RETURN_IF_ERROR(t.Send((v - mask + root) % p, tag, acc));
      return OkStatus();
    }
    if (v + mask < p) {
      LOOM_RETURN_IF_ERROR(t.Recv((v + mask + root) % p, tag, scratch));
      ReduceInto(dtype, op, acc.data(), scratch.data(), count);
    }
  }
  std::memcpy(recv, acc.data(), bytes);  // only the root gets here
  return OkStatus();
}

}  // namespace loom::comm::algo
