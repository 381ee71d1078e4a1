// Pairwise-exchange alltoall(v): p-1 rounds; in round i rank r exchanges with r XOR i when p is
// a power of two, else sends to r+i and receives from r-i (mod p). Cost (p-1)α + (p-1)/p·nβ.
#include <cstring>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status AllToAllPairwise(Transport& t, int tag, const void* send, std::span<const size_t> send_counts,
                        std::span<const size_t> send_displs, void* recv,
                        std::span<const size_t> recv_counts, std::span<const size_t> recv_displs,
                        DataType dtype) {
  const int p = t.size(), r = t.rank();
  const size_t es = DataTypeSize(dtype);
  auto* in = static_cast<const std::byte*>(send);
  auto* out = static_cast<std::byte*>(recv);
  const size_t me = static_cast<size_t>(r);
  if (recv_counts[me] > 0)
    std::memmove(out + recv_displs[me] * es, in + send_displs[me] * es, recv_counts[me] * es);
  const bool pow2 = (p & (p - 1)) == 0;
  for (int i = 1; i < p; ++i) {
    int dst = pow2 ? (r ^ i) : (r + i) % p;
    int src = pow2 ? (r ^ i) : (r - i + p) % p;
    size_t d = static_cast<size_t>(dst), s = static_cast<size_t>(src);
    LOOM_RETURN_IF_ERROR(t.SendRecv(dst, {in + send_displs[d] * es, send_counts[d] * es}, src,
                                    {out + recv_displs[s] * es, recv_counts[s] * es}, tag));
  }
  return OkStatus();
}

}  // namespace loom::comm::algo
