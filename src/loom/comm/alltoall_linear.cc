// Linear (post-all) alltoall(v) for small blocks: every receive and every send is posted at
// once and then waited for, so the whole exchange costs about one latency instead of the p-1
// sequential rounds of the pairwise exchange; all p-1 flows share the link at the same time,
// which is why kAuto keeps pairwise for large blocks. Sends go to r+1, r+2, ... (mod p) so that
// not every rank starts with rank 0. Cost ≈ α + (p-1)/p·nβ with p-1 concurrent flows.
#include <vector>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

Status AllToAllLinear(Transport& t, int tag, const AllToAllBlocks& b) {
  const int p = t.size(), r = t.rank();
  std::vector<Request> reqs;
  reqs.reserve(2 * static_cast<size_t>(p));
  Status st;
  for (int i = 1; i < p && st.ok(); ++i) {
    auto q = t.Irecv((r - i + p) % p, tag, b.From((r - i + p) % p));
    if (q.ok()) reqs.push_back(*q);
    else st = q.status();
  }
  for (int i = 1; i < p && st.ok(); ++i) {
    auto q = t.Isend((r + i) % p, tag, b.To((r + i) % p));
    if (q.ok()) reqs.push_back(*q);
    else st = q.status();
  }
  if (!st.ok()) {  // cancel what was posted before the buffers go away
    for (Request& q : reqs) t.Cancel(q);
    return st;
  }
  b.CopyOwn(r);  // while the messages are in flight
  return t.WaitAll(reqs);
}

}  // namespace loom::comm::algo
