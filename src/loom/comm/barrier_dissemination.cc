// Dissemination barrier (Hensgen, Finkel, Manber 1988): ⌈lg p⌉ rounds; in round k rank r
// signals r + 2^k and waits for r - 2^k. No rank leaves before every rank has entered.
#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status BarrierDissemination(Transport& t, int tag) {
  const int p = t.size(), r = t.rank();
  std::byte token{1}, got{0};
  for (int d = 1; d < p; d <<= 1)
    LOOM_RETURN_IF_ERROR(t.SendRecv((r + d) % p, {&token, 1}, (r - d + p) % p, {&got, 1}, tag));
  return OkStatus();
}

}  // namespace loom::comm::algo
