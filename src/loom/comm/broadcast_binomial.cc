// Binomial-tree broadcast: relative rank v = rank - root; v receives from v - 2^j where 2^j is
// its lowest set bit, then sends to v + 2^i for the smaller powers. Cost ⌈lg p⌉(α + nβ).
#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status BroadcastBinomial(Transport& t, int tag, void* buffer, size_t bytes, int root) {
  const int p = t.size();
  if (p == 1 || bytes == 0) return OkStatus();
  const int v = (t.rank() - root + p) % p;
  std::span<std::byte> buf(static_cast<std::byte*>(buffer), bytes);
  int mask = 1;
  while (mask < p) {
    if (v & mask) {
      LOOM_RETURN_IF_ERROR(t.Recv((v - mask + root) % p, tag, buf));
      break;
    }
    mask <<= 1;
  }
  for (mask >>= 1; mask > 0; mask >>= 1)
    if (v + mask < p) LOOM_RETURN_IF_ERROR(t.Send((v + mask + root) % p, tag, buf));
  return OkStatus();
}

}  // namespace loom::comm::algo
