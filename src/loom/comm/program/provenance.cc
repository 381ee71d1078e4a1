// The provenance check of the validator (validate.h, check_postcondition): runs one slice
// iteration in the same greedy order as the deadlock check, with every chunk a bit set of the
// (rank, input chunk) pairs it is the reduction of, and compares the outputs with what the
// collective defines (allreduce, allgather, reduce-scatter, alltoall, broadcast).
#include <array>
#include <deque>
#include <map>
#include <tuple>

#include "loom/base/strings.h"
#include "loom/comm/program/internal/provenance.h"

namespace loom::comm::program::internal {
namespace {

using Bits = std::vector<uint64_t>;

struct Sim {
  const Program& p;
  std::vector<Status>& problems;
  size_t max_problems;
  size_t words;
  int in_per_rank;  // bit index = rank * in_per_rank + input chunk
  // [rank][buffer][chunk] -> bits; empty vector = never written.
  std::vector<std::array<std::vector<Bits>, 3>> mem;
  std::map<std::tuple<int, int, int>, std::deque<std::vector<Bits>>> wires;

  template <typename... A>
  void Problem(const A&... a) {
    if (problems.size() < max_problems) problems.push_back(InvalidArgumentError(StrCat(a...)));
  }
  Bits Single(int rank, int chunk) const {
    Bits b(words, 0);
    size_t bit = static_cast<size_t>(rank) * static_cast<size_t>(in_per_rank) + static_cast<size_t>(chunk);
    b[bit / 64] |= uint64_t{1} << (bit % 64);
    return b;
  }
  std::vector<Bits>& Buf(int rank, Buffer b) { return mem[static_cast<size_t>(rank)][static_cast<size_t>(b)]; }
  bool Read(int rank, int tb, int step, Buffer b, int off, int cnt, std::vector<Bits>& out) {
    auto& buf = Buf(rank, b);
    for (int c = 0; c < cnt; ++c) {
      const Bits& v = buf[static_cast<size_t>(off + c)];
      if (v.empty()) {
        Problem(Where(rank, tb, step), ": reads ", BufferName(b), "[", off + c,
                "] before anything wrote it");
        return false;
      }
      out.push_back(v);
    }
    return true;
  }
  bool Union(int rank, int tb, int step, std::vector<Bits>& acc, const std::vector<Bits>& add) {
    for (size_t c = 0; c < acc.size(); ++c)
      for (size_t w = 0; w < words; ++w) {
        if (acc[c][w] & add[c][w]) {
          Problem(Where(rank, tb, step), ": reduces a contribution twice (an input chunk would "
                  "be counted two times)");
          return false;
        }
        acc[c][w] |= add[c][w];
      }
    return true;
  }
};

std::string Describe(const Bits& b, int in_per_rank) {
  std::string s;
  int shown = 0;
  for (size_t w = 0; w < b.size(); ++w)
    for (int k = 0; k < 64; ++k)
      if (b[w] >> k & 1) {
        size_t bit = w * 64 + static_cast<size_t>(k);
        if (shown++ < 6)
          s += StrCat(s.empty() ? "" : " ", "r", bit / static_cast<size_t>(in_per_rank), ".i",
                      bit % static_cast<size_t>(in_per_rank));
      }
  if (shown > 6) s += StrCat(" ... (", shown, " in all)");
  return s.empty() ? "nothing" : s;
}

}  // namespace

void CheckProvenance(const Program& p, std::vector<Status>& problems, size_t max_problems) {
  const Collective c = p.collective;
  if (c != Collective::kAllReduce && c != Collective::kAllGather &&
      c != Collective::kReduceScatter && c != Collective::kAllToAll && c != Collective::kBroadcast)
    return;
  const int n = p.num_ranks;
  int in_per_rank = 0;
  for (const GpuProgram& g : p.gpus) in_per_rank = std::max(in_per_rank, g.input_chunks);
  if (in_per_rank == 0) return;
  // Bound the bit sets (ranks x input chunks bits per chunk, for every chunk of every buffer).
  size_t total_chunks = 0;
  for (const GpuProgram& g : p.gpus)
    total_chunks += static_cast<size_t>(g.input_chunks + g.output_chunks + g.scratch_chunks);
  if (static_cast<double>(n) * in_per_rank * static_cast<double>(total_chunks) > 5e8) return;
  Sim sim{p, problems, max_problems, (static_cast<size_t>(n) * static_cast<size_t>(in_per_rank) + 63) / 64, in_per_rank, {}, {}};
  sim.mem.resize(static_cast<size_t>(n));
  const bool alias = p.out_of_place.has_value() && !*p.out_of_place;  // in place only
  for (int r = 0; r < n; ++r) {
    const GpuProgram& g = p.gpus[static_cast<size_t>(r)];
    auto& in = sim.Buf(r, Buffer::kInput);
    for (int k = 0; k < g.input_chunks; ++k) in.push_back(sim.Single(r, k));
    sim.Buf(r, Buffer::kOutput).assign(static_cast<size_t>(g.output_chunks), Bits());
    sim.Buf(r, Buffer::kScratch).assign(static_cast<size_t>(g.scratch_chunks), Bits());
  }
  const size_t before = problems.size();
  std::vector<std::vector<size_t>> pc(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) pc[static_cast<size_t>(r)].assign(p.gpus[static_cast<size_t>(r)].tbs.size(), 0);
  auto dst_buf = [&](Buffer b) { return alias && b == Buffer::kOutput ? Buffer::kInput : b; };
  bool progress = true;
  while (progress && problems.size() == before) {
    progress = false;
    for (int r = 0; r < n && problems.size() == before; ++r) {
      const GpuProgram& g = p.gpus[static_cast<size_t>(r)];
      for (size_t t = 0; t < g.tbs.size() && problems.size() == before; ++t) {
        const ThreadBlock& tb = g.tbs[t];
        while (pc[static_cast<size_t>(r)][t] < tb.steps.size() && problems.size() == before) {
          const size_t k = pc[static_cast<size_t>(r)][t];
          const Step& st = tb.steps[k];
          bool ready = true;
          for (const StepRef& d : st.deps)
            if (pc[static_cast<size_t>(r)][static_cast<size_t>(d.tb)] <= static_cast<size_t>(d.step)) ready = false;
          OpTraits tr = TraitsOf(st.op);
          auto in_key = std::make_tuple(tb.recv_peer, r, tb.channel);
          if (tr.receives && sim.wires[in_key].empty()) ready = false;
          if (!ready) break;
          const int s = static_cast<int>(k), id = tb.id;
          std::vector<Bits> val;
          if (tr.receives) {
            val = std::move(sim.wires[in_key].front());
            sim.wires[in_key].pop_front();
          }
          if (tr.reads_src && st.op != OpType::kReduce) {
            std::vector<Bits> src;
            if (!sim.Read(r, id, s, dst_buf(st.src_buffer), st.src_offset, st.count, src)) break;
            if (tr.receives) {
              if (!sim.Union(r, id, s, val, src)) break;
            } else {
              val = std::move(src);
            }
          }
          if (st.op == OpType::kReduce) {
            std::vector<Bits> src, dst;
            if (!sim.Read(r, id, s, dst_buf(st.src_buffer), st.src_offset, st.count, src)) break;
            if (!sim.Read(r, id, s, dst_buf(st.dst_buffer), st.dst_offset, st.count, dst)) break;
            if (!sim.Union(r, id, s, dst, src)) break;
            val = std::move(dst);
          }
          if (tr.writes_dst) {
            auto& buf = sim.Buf(r, dst_buf(st.dst_buffer));
            for (int cc = 0; cc < st.count; ++cc) buf[static_cast<size_t>(st.dst_offset + cc)] = val[static_cast<size_t>(cc)];
          }
          if (tr.sends) sim.wires[std::make_tuple(r, tb.send_peer, tb.channel)].push_back(val);
          ++pc[static_cast<size_t>(r)][t];
          progress = true;
        }
      }
    }
  }
  if (problems.size() != before) return;
  // Postconditions.
  // Broadcast: MSCCL XML names no root, so the root is the rank whose input chunk 0 ended in
  // rank 0's output chunk 0; every output chunk k of every rank must then be exactly that
  // rank's input chunk k.
  int root = -1;
  if (c == Collective::kBroadcast && p.gpus[0].output_chunks > 0) {
    const Bits& first = sim.Buf(0, dst_buf(Buffer::kOutput))[0];
    for (int q = 0; q < n && root < 0; ++q)
      if (first == sim.Single(q, 0)) root = q;
    if (root < 0) {
      sim.Problem(Where(0), ": output chunk 0 ends as ", Describe(first, in_per_rank),
                  " but broadcast needs one rank's (the root's) input chunk 0 alone");
      return;
    }
  }
  for (int r = 0; r < n; ++r) {
    const GpuProgram& g = p.gpus[static_cast<size_t>(r)];
    const auto& out = sim.Buf(r, dst_buf(Buffer::kOutput));
    for (int k = 0; k < g.output_chunks; ++k) {
      Bits want(sim.words, 0);
      auto add = [&](int rank, int chunk) {
        Bits b = sim.Single(rank, chunk);
        for (size_t w = 0; w < sim.words; ++w) want[w] |= b[w];
      };
      switch (c) {
        case Collective::kAllReduce:
          for (int q = 0; q < n; ++q) add(q, k);
          break;
        case Collective::kReduceScatter:
          for (int q = 0; q < n; ++q) add(q, r * g.output_chunks + k);
          break;
        case Collective::kAllGather: {
          int per = std::max(1, g.output_chunks / n);
          add(k / per, k % per);
          break;
        }
        case Collective::kAllToAll: {
          int per = std::max(1, g.output_chunks / n);
          add(k / per, r * per + k % per);
          break;
        }
        case Collective::kBroadcast:
          add(root, k);
          break;
        default:
          break;
      }
      const Bits& got = out[static_cast<size_t>(k)];
      if (got != want) {
        sim.Problem(Where(r), ": output chunk ", k, " ends as ", Describe(got, in_per_rank),
                    " but ", CollectiveDisplayName(c), " needs ", Describe(want, in_per_rank));
      }
    }
  }
}

}  // namespace loom::comm::program::internal
