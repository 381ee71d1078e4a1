// Pairwise-exchange alltoall(v): p-1 rounds; in round i rank r exchanges with r XOR i when p is
// a power of two, else sends to r+i and receives from r-i (mod p). Cost (p-1)α + (p-1)/p·nβ.
#include <cstring>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status AllToAllPairwise(Transport& t, int tag, const AllToAllBlocks& b) {
  const int p = t.size(), r = t.rank();
  b.CopyOwn(r);
  const bool pow2 = (p & (p - 1)) == 0;
  for (int i = 1; i < p; ++i) {
    int dst = pow2 ? (r ^ i) : (r + i) % p;
    int src = pow2 ? (r ^ i) : (r - i + p) % p;
    LOOM_RETURN_IF_ERROR(t.SendRecv(dst, b.To(dst), src, b.From(src), tag));
  }
  return OkStatus();
}

void AllToAllBlocks::CopyOwn(int rank) const {
  std::span<const std::byte> from = To(rank);
  std::span<std::byte> to = From(rank);
  if (!to.empty()) std::memmove(to.data(), from.data(), to.size());
}

}  // namespace loom::comm::algo
