// Binomial-tree gather and scatter. Relative rank v = (rank − root) mod p; v's subtree is the
// ranks [v, v + lowbit(v)) clipped to p (the root's is all of them). Gather: a node receives its
// children's subtrees (child v + m for m = 1, 2, … below lowbit(v)) after its own block, then
// sends the whole subtree to its parent v − lowbit(v) in one message. Scatter is the reverse.
// Blocks travel in relative order, so the root rotates by `root` blocks once.
// Cost ⌈lg p⌉α + (p−1)/p·nβ at the root; inner nodes forward their subtree.
#include <algorithm>
#include <cstring>
#include <vector>

#include "loom/comm/algorithms.h"

namespace loom::comm::algo {

namespace {

// lowbit(v) for v > 0; for the root (v = 0) the smallest power of two ≥ p.
int SubtreeSpan(int v, int p) {
  if (v != 0) return v & -v;
  int m = 1;
  while (m < p) m *= 2;
  return m;
}

}  // namespace

Status GatherBinomial(Transport& t, int tag, const void* send, void* recv, size_t bytes, int root) {
  const int p = t.size(), r = t.rank();
  if (bytes == 0) return OkStatus();
  const int v = (r - root + p) % p;
  const int span = SubtreeSpan(v, p);
  const size_t blocks = static_cast<size_t>(std::min(span, p - v));
  // The root gathers straight into recv (then rotates); others into a subtree buffer.
  std::vector<std::byte> local;
  std::byte* buf = static_cast<std::byte*>(recv);
  if (v != 0) {
    local.resize(blocks * bytes);
    buf = local.data();
  }
  if (send != buf) std::memmove(buf, send, bytes);
  for (int m = 1; m < span && v + m < p; m *= 2) {
    const size_t n = static_cast<size_t>(std::min(m, p - v - m)) * bytes;
    LOOM_RETURN_IF_ERROR(t.Recv((v + m + root) % p, tag, {buf + static_cast<size_t>(m) * bytes, n}));
  }
  if (v != 0) return t.Send((v - span + root) % p, tag, {buf, blocks * bytes});
  const size_t pc = static_cast<size_t>(p);
  std::rotate(buf, buf + (pc - static_cast<size_t>(root)) % pc * bytes, buf + pc * bytes);
  return OkStatus();
}

Status ScatterBinomial(Transport& t, int tag, const void* send, void* recv, size_t bytes, int root) {
  const int p = t.size(), r = t.rank();
  if (bytes == 0) return OkStatus();
  const int v = (r - root + p) % p;
  const int span = SubtreeSpan(v, p);
  const size_t blocks = static_cast<size_t>(std::min(span, p - v)), pc = static_cast<size_t>(p);
  std::vector<std::byte> buf(blocks * bytes);
  if (v == 0) {
    // Relative order: slot i is rank (root + i) mod p's block.
    const auto* in = static_cast<const std::byte*>(send);
    const size_t head = (pc - static_cast<size_t>(root)) * bytes;
    std::memcpy(buf.data(), in + static_cast<size_t>(root) * bytes, head);
    std::memcpy(buf.data() + head, in, static_cast<size_t>(root) * bytes);
  } else {
    LOOM_RETURN_IF_ERROR(t.Recv((v - span + root) % p, tag, {buf.data(), blocks * bytes}));
  }
  for (int m = span / 2; m >= 1; m /= 2) {
    if (v + m >= p) continue;
    const size_t n = static_cast<size_t>(std::min(m, p - v - m)) * bytes;
    LOOM_RETURN_IF_ERROR(t.Send((v + m + root) % p, tag, {buf.data() + static_cast<size_t>(m) * bytes, n}));
  }
  std::memmove(recv, buf.data(), bytes);
  return OkStatus();
}

}  // namespace loom::comm::algo
