// Halving-doubling allreduce (Rabenseifner; Thakur et al. 2005 §4): with p' = 2^⌊lg p⌋ and
// r = p - p', ranks 2i and 2i+1 (i < r) first fold: the even one sends its whole vector and
// sits out. The p' remaining ranks run a recursive-halving reduce-scatter (distance p'/2 down
// to 1, each keeping the half its bit selects) and a recursive-doubling allgather in reverse;
// finally the folded ranks receive the result. Cost 2 lg p'·α + 2(p'-1)/p'·nβ + (p'-1)/p'·nγ,
// plus (α + nβ + nγ) + (α + nβ) when p is not a power of two.
#include <vector>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status AllReduceHalvingDoubling(Transport& t, int tag, void* buffer, size_t count, DataType dtype,
                                ReduceOp op) {
  const int p = t.size(), r = t.rank();
  if (p == 1 || count == 0) return OkStatus();
  const size_t es = DataTypeSize(dtype);
  auto* buf = static_cast<std::byte*>(buffer);
  int pow2 = 1;
  while (pow2 * 2 <= p) pow2 *= 2;
  const int extra = p - pow2;
  std::span<std::byte> scratch = ThreadScratch(count * es);
  // Fold: in the first 2·extra ranks, evens hand their vector to the odd neighbour.
  int vrank;  // rank among the pow2 participants, -1 for folded-out ranks
  if (r < 2 * extra) {
    if (r % 2 == 0) {
      LOOM_RETURN_IF_ERROR(t.Send(r + 1, tag, {buf, count * es}));
      vrank = -1;
    } else {
      LOOM_RETURN_IF_ERROR(t.Recv(r - 1, tag, {scratch.data(), count * es}));
      ReduceInto(dtype, op, buf, scratch.data(), count);
      vrank = r / 2;
    }
  } else {
    vrank = r - extra;
  }
  auto real = [&](int v) { return v < extra ? 2 * v + 1 : v + extra; };
  if (vrank >= 0) {
    // Reduce-scatter by recursive halving; remember the segments to replay them.
    struct Seg { size_t lo, hi; };
    std::vector<Seg> kept;
    size_t lo = 0, hi = count;
    for (int mask = pow2 / 2; mask >= 1; mask /= 2) {
      int partner = real(vrank ^ mask);
      size_t mid = lo + (hi - lo) / 2;
      bool lower = (vrank & mask) == 0;
      size_t keep_lo = lower ? lo : mid, keep_hi = lower ? mid : hi;
      size_t send_lo = lower ? mid : lo, send_hi = lower ? hi : mid;
      LOOM_RETURN_IF_ERROR(t.SendRecv(partner, {buf + send_lo * es, (send_hi - send_lo) * es},
                                      partner, {scratch.data(), (keep_hi - keep_lo) * es},
                                      tag + 1));
      ReduceInto(dtype, op, buf + keep_lo * es, scratch.data(), keep_hi - keep_lo);
      kept.push_back({lo, hi});
      lo = keep_lo;
      hi = keep_hi;
    }
    // Allgather by recursive doubling: undo the halvings in reverse.
    for (int i = static_cast<int>(kept.size()) - 1, mask = 1; i >= 0; --i, mask *= 2) {
      int partner = real(vrank ^ mask);
      Seg whole = kept[static_cast<size_t>(i)];
      size_t mid = whole.lo + (whole.hi - whole.lo) / 2;
      bool lower = (vrank & mask) == 0;
      size_t other_lo = lower ? mid : whole.lo, other_hi = lower ? whole.hi : mid;
      LOOM_RETURN_IF_ERROR(t.SendRecv(partner, {buf + lo * es, (hi - lo) * es}, partner,
                                      {buf + other_lo * es, (other_hi - other_lo) * es}, tag + 2));
      lo = whole.lo;
      hi = whole.hi;
    }
  }
  // Unfold: odd ranks return the result to their even neighbour.
  if (r < 2 * extra) {
    if (r % 2 == 1) LOOM_RETURN_IF_ERROR(t.Send(r - 1, tag + 3, {buf, count * es}));
    else LOOM_RETURN_IF_ERROR(t.Recv(r + 1, tag + 3, {buf, count * es}));
  }
  return OkStatus();
}

}  // namespace loom::comm::algo
