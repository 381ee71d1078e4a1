// Linear gather and scatter: the root posts all p-1 transfers at once and waits for them.
// Cost (p-1)α + (p-1)/p·nβ at the root.
#include <cstring>
#include <vector>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status GatherLinear(Transport& t, int tag, const void* send, void* recv, size_t bytes, int root) {
  const int p = t.size(), r = t.rank();
  if (bytes == 0) return OkStatus();
  if (r != root) return t.Send(root, tag, {static_cast<const std::byte*>(send), bytes});
  auto* out = static_cast<std::byte*>(recv);
  if (send != out + static_cast<size_t>(r) * bytes)
    std::memmove(out + static_cast<size_t>(r) * bytes, send, bytes);
  std::vector<Request> reqs;
  for (int q = 0; q < p; ++q) {
    if (q == r) continue;
    auto req = t.Irecv(q, tag, {out + static_cast<size_t>(q) * bytes, bytes});
    if (!req.ok()) {
      for (Request& x : reqs) t.Cancel(x);
      return req.status();
    }
    reqs.push_back(*req);
  }
  return t.WaitAll(reqs);
}

Status ScatterLinear(Transport& t, int tag, const void* send, void* recv, size_t bytes, int root) {
  const int p = t.size(), r = t.rank();
  if (bytes == 0) return OkStatus();
  if (r != root) return t.Recv(root, tag, {static_cast<std::byte*>(recv), bytes});
  auto* in = static_cast<const std::byte*>(send);
  std::vector<Request> reqs;
  for (int q = 0; q < p; ++q) {
    if (q == r) continue;
    auto req = t.Isend(q, tag, {in + static_cast<size_t>(q) * bytes, bytes});
    if (!req.ok()) {
      for (Request& x : reqs) t.Cancel(x);
      return req.status();
    }
    reqs.push_back(*req);
  }
  if (recv != in + static_cast<size_t>(r) * bytes)
    std::memmove(recv, in + static_cast<size_t>(r) * bytes, bytes);
  return t.WaitAll(reqs);
}

}  // namespace loom::comm::algo
