// Recursive-doubling allreduce for short vectors (Thakur et al. 2005 §4): lg p' rounds in which
// rank v exchanges its whole partial with v XOR 2^k and combines. Non-powers of two fold the
// extra ranks in first and out last, as allreduce_halving_doubling.cc. Cost lg p·(α + nβ + nγ):
// the fewest messages, so it wins while α dominates.
#include <vector>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status AllReduceRecursiveDoubling(Transport& t, int tag, void* buffer, size_t count,
                                  DataType dtype, ReduceOp op) {
  const int p = t.size(), r = t.rank();
  if (p == 1 || count == 0) return OkStatus();
  const size_t bytes = count * DataTypeSize(dtype);
  auto* buf = static_cast<std::byte*>(buffer);
  int pow2 = 1;
  while (pow2 * 2 <= p) pow2 *= 2;
  const int extra = p - pow2;
  std::span<std::byte> scratch = ThreadScratch(bytes);
  int vrank;
  if (r < 2 * extra) {
    if (r % 2 == 0) {
      LOOM_RETURN_IF_ERROR(t.Send(r + 1, tag, {buf, bytes}));
      vrank = -1;
    } else {
      LOOM_RETURN_IF_ERROR(t.Recv(r - 1, tag, scratch));
      ReduceInto(dtype, op, buf, scratch.data(), count);
      vrank = r / 2;
    }
  } else {
    vrank = r - extra;
  }
  if (vrank >= 0) {
    for (int mask = 1; mask < pow2; mask <<= 1) {
      int pv = vrank ^ mask;
      int partner = pv < extra ? 2 * pv + 1 : pv + extra;
      LOOM_RETURN_IF_ERROR(t.SendRecv(partner, {buf, bytes}, partner, scratch, tag + 1));
      // IEEE addition, multiplication, min and max are commutative, so both partners compute
      // the same bits.
      ReduceInto(dtype, op, buf, scratch.data(), count);
    }
  }
  if (r < 2 * extra) {
    if (r % 2 == 1) LOOM_RETURN_IF_ERROR(t.Send(r - 1, tag + 2, {buf, bytes}));
    else LOOM_RETURN_IF_ERROR(t.Recv(r + 1, tag + 2, {buf, bytes}));
  }
  return OkStatus();
}

}  // namespace loom::comm::algo
