#include "loom/taccl/algorithm.h"

#include <algorithm>

#include "loom/base/strings.h"

namespace loom::taccl {

const char* CollectiveName(Collective c) {
  switch (c) {
    case Collective::kAllGather: return "allgather";
    case Collective::kReduceScatter: return "reduce_scatter";
    case Collective::kAllReduce: return "allreduce";
    case Collective::kAllToAll: return "alltoall";
    case Collective::kBroadcast: return "broadcast";
  }
  return "?";
}

StatusOr<Collective> ParseCollective(std::string_view name) {
  if (name == "allgather") return Collective::kAllGather;
  if (name == "reduce_scatter" || name == "reducescatter") return Collective::kReduceScatter;
  if (name == "allreduce") return Collective::kAllReduce;
  if (name == "alltoall") return Collective::kAllToAll;
  if (name == "broadcast") return Collective::kBroadcast;
  return InvalidArgumentError(StrCat("collective '", name, "' is not allgather, reduce_scatter, ",
                                     "allreduce, alltoall or broadcast"));
}

int NumChunks(Collective c, int nranks, int chunkup) {
  switch (c) {
    case Collective::kAllToAll: return nranks * nranks * chunkup;
    case Collective::kBroadcast: return chunkup;
    default: return nranks * chunkup;
  }
}

namespace {

// A set of contributing ranks, as bits.
using Bits = std::vector<uint64_t>;

bool Empty(const Bits& b) {
  return std::all_of(b.begin(), b.end(), [](uint64_t w) { return w == 0; });
}
bool Disjoint(const Bits& a, const Bits& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] & b[i]) return false;
  return true;
}

}  // namespace

Status CheckAlgorithm(const Algorithm& a, const Topology& topo) {
  const int N = a.nranks;
  if (N != topo.num_ranks())
    return InvalidArgumentError(StrCat(a.name, ": ", N, " ranks on a ", topo.num_ranks(), "-GPU topology"));
  const int C = a.num_chunks();
  const size_t words = (N + 63) / 64;
  Bits full(words, 0);
  for (int r = 0; r < N; ++r) full[r / 64] |= 1ull << (r % 64);
  std::vector<Bits> held(static_cast<size_t>(N) * C, Bits(words, 0));
  std::vector<double> ready(static_cast<size_t>(N) * C, 0.0);
  auto at = [&](int r, int c) -> size_t { return static_cast<size_t>(r) * C + c; };
  const bool reducing = a.coll == Collective::kReduceScatter || a.coll == Collective::kAllReduce;
  for (int c = 0; c < C; ++c) {
    if (reducing) {
      for (int r = 0; r < N; ++r) held[at(r, c)][r / 64] |= 1ull << (r % 64);
    } else if (a.coll == Collective::kAllToAll) {
      held[at(c / a.chunkup / N, c)] = full;
    } else if (a.coll == Collective::kBroadcast) {
      held[at(a.root, c)] = full;
    } else {
      held[at(c / a.chunkup, c)] = full;
    }
  }
  const double eps = 1e-6;
  for (size_t i = 0; i < a.transfers.size(); ++i) {
    const Transfer& t = a.transfers[i];
    std::string where = StrCat(a.name, ": transfer ", i, " (chunk ", t.chunk, " ", t.src, "->", t.dst, ")");
    if (t.chunk < 0 || t.chunk >= C) return InternalError(where + ": chunk out of range");
    if (t.link < 0 || t.link >= static_cast<int>(topo.links.size()) ||
        topo.links[t.link].src != t.src || topo.links[t.link].dst != t.dst)
      return InternalError(where + ": not on its link");
    Bits& from = held[at(t.src, t.chunk)];
    Bits& to = held[at(t.dst, t.chunk)];
    if (Empty(from)) return InternalError(where + ": sender does not hold the chunk");
    if (t.start_us + eps < ready[at(t.src, t.chunk)])
      return InternalError(StrCat(where, ": starts at ", t.start_us, " before the chunk arrives at ",
                                  ready[at(t.src, t.chunk)]));
    double cost = topo.links[t.link].Cost(a.chunk_bytes);
    if (t.end_us + eps < t.start_us + cost) return InternalError(where + ": shorter than the link cost");
    if (t.reduce) {
      if (!Disjoint(from, to)) return InternalError(where + ": a contribution would be counted twice");
      for (size_t w = 0; w < words; ++w) to[w] |= from[w];
    } else {
      if (reducing && from != full) return InternalError(where + ": copies a partial sum");
      to = from;
    }
    ready[at(t.dst, t.chunk)] = std::max(ready[at(t.dst, t.chunk)], t.end_us);
  }
  for (int c = 0; c < C; ++c) {
    std::vector<int> want;
    if (a.coll == Collective::kReduceScatter) want = {c / a.chunkup};
    else if (a.coll == Collective::kAllToAll) want = {(c / a.chunkup) % N};
    else for (int r = 0; r < N; ++r) want.push_back(r);
    for (int r : want)
      if (held[at(r, c)] != full)
        return InternalError(StrCat(a.name, ": rank ", r, " ends without the complete chunk ", c));
  }
  return OkStatus();
}

}  // namespace loom::taccl
