// Ring allreduce: a ring reduce-scatter (p-1 steps; in step k rank r sends block r-1-k to r+1
// and adds block r-2-k from r-1) followed by a ring allgather (p-1 steps; rank r sends block
// r-k). Cost 2(p-1)α + 2(p-1)/p·nβ + (p-1)/p·nγ (Thakur et al. 2005).
#include <vector>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Block BlockOf(size_t count, int parts, int index) {
  size_t p = static_cast<size_t>(parts), i = static_cast<size_t>(index);
  size_t base = count / p, extra = count % p;
  return {i * base + std::min(i, extra), base + (i < extra ? 1 : 0)};
}

namespace {
int Mod(int a, int p) { return ((a % p) + p) % p; }
}  // namespace

Status AllReduceRing(Transport& t, int tag, void* buffer, size_t count, DataType dtype,
                     ReduceOp op) {
  const int p = t.size(), r = t.rank();
  if (p == 1 || count == 0) return OkStatus();
  const size_t es = DataTypeSize(dtype);
  auto* buf = static_cast<std::byte*>(buffer);
  std::span<std::byte> scratch = ThreadScratch(BlockOf(count, p, 0).size * es);
  const int next = Mod(r + 1, p), prev = Mod(r - 1, p);
  for (int k = 0; k < p - 1; ++k) {
    Block s = BlockOf(count, p, Mod(r - 1 - k, p));
    Block q = BlockOf(count, p, Mod(r - 2 - k, p));
    LOOM_RETURN_IF_ERROR(t.SendRecv(next, {buf + s.offset * es, s.size * es}, prev,
                                    {scratch.data(), q.size * es}, tag));
    ReduceInto(dtype, op, buf + q.offset * es, scratch.data(), q.size);
  }
  // Rank r now owns block r fully reduced.
  for (int k = 0; k < p - 1; ++k) {
    Block s = BlockOf(count, p, Mod(r - k, p));
    Block q = BlockOf(count, p, Mod(r - 1 - k, p));
    LOOM_RETURN_IF_ERROR(t.SendRecv(next, {buf + s.offset * es, s.size * es}, prev,
                                    {buf + q.offset * es, q.size * es}, tag + 1));
  }
  return OkStatus();
}

}  // namespace loom::comm::algo
