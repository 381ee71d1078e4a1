// The race check of the validator (validate.h, check_races): a happens-before analysis of one
// slice iteration. Every step is an event; a step happens before another when a chain of
// program order inside a thread block, explicit dependencies, and messages (the i-th send on a
// connection before the i-th receive) leads from one to the other. Flow-control credits are not
// counted as ordering: a program whose correctness needs them would break with other credit
// counts. Two accesses to the same chunk of the same rank (input and output are one buffer in
// place), at least one a write, by steps with no such chain either way are a race: the result
// depends on the interleaving. Slices of different iterations touch disjoint elements, so one
// iteration decides it for all.
//
// Scaling: happens-before is answered by vector clocks over the thread blocks (clock[e][b] =
// how many steps of thread block b happen before or at e; a happens before b iff
// clock[b][block(a)] > step(a)), events × blocks counters instead of events² reachability bits.
// Each chunk's accesses are swept in one topological order: every access must follow the last
// write before it, and a write must also follow every read since that write. If all these hold,
// every write is ordered with every access (by transitivity), so the check is linear in the
// accesses per chunk; each failure is reported as the unordered pair it found.
#include <algorithm>
#include <cstdint>
#include <map>
#include <tuple>

#include "loom/base/strings.h"
#include "loom/comm/program/internal/races.h"

namespace loom::comm::program::internal {

RaceGraph BuildRaceGraph(const Program& p) {
  RaceGraph g;
  const int n = p.num_ranks;
  std::vector<std::vector<size_t>> first(static_cast<size_t>(n));  // [rank][tb] -> first id
  for (int r = 0; r < n; ++r)
    for (const ThreadBlock& tb : p.gpus[static_cast<size_t>(r)].tbs) {
      first[static_cast<size_t>(r)].push_back(g.where.size());
      for (size_t k = 0; k < tb.steps.size(); ++k) {
        g.where.emplace_back(r, tb.id, static_cast<int>(k));
        g.block_of.push_back(g.blocks);
      }
      ++g.blocks;
    }
  const size_t events = g.where.size();
  auto id = [&](int r, int tb, int step) {
    return first[static_cast<size_t>(r)][static_cast<size_t>(tb)] + static_cast<size_t>(step);
  };
  g.succ.resize(events);
  std::map<std::tuple<int, int, int>, std::vector<size_t>> sends, recvs;  // connection -> steps
  const bool alias = p.out_of_place.has_value() && !*p.out_of_place;  // in place only
  auto buf_of = [&](Buffer b) { return alias && b == Buffer::kOutput ? Buffer::kInput : b; };
  for (int r = 0; r < n; ++r)
    for (const ThreadBlock& tb : p.gpus[static_cast<size_t>(r)].tbs)
      for (size_t k = 0; k < tb.steps.size(); ++k) {
        const Step& st = tb.steps[k];
        const size_t e = id(r, tb.id, static_cast<int>(k));
        if (k > 0) g.succ[e - 1].push_back(e);
        for (const StepRef& d : st.deps) g.succ[id(r, d.tb, d.step)].push_back(e);
        const OpTraits tr = TraitsOf(st.op);
        if (tr.sends) sends[{r, tb.send_peer, tb.channel}].push_back(e);
        if (tr.receives) recvs[{tb.recv_peer, r, tb.channel}].push_back(e);
        auto add = [&](Buffer b, int off, bool write) {
          for (int c = 0; c < st.count; ++c)
            g.chunks[{r, static_cast<int>(buf_of(b)), off + c}].push_back({e, write});
        };
        if (tr.reads_src) add(st.src_buffer, st.src_offset, false);
        if (tr.reads_dst) add(st.dst_buffer, st.dst_offset, false);
        if (tr.writes_dst) add(st.dst_buffer, st.dst_offset, true);
      }
  for (const auto& [conn, s] : sends) {
    auto it = recvs.find(conn);
    if (it == recvs.end()) continue;
    for (size_t i = 0; i < std::min(s.size(), it->second.size()); ++i)
      g.succ[s[i]].push_back(it->second[i]);
  }
  // Topological order (Kahn); a cycle is the deadlock check's business.
  std::vector<int> indeg(events, 0);
  for (const auto& v : g.succ)
    for (size_t e : v) ++indeg[e];
  for (size_t e = 0; e < events; ++e)
    if (indeg[e] == 0) g.order.push_back(e);
  for (size_t i = 0; i < g.order.size(); ++i)
    for (size_t e : g.succ[g.order[i]])
      if (--indeg[e] == 0) g.order.push_back(e);
  if (g.order.size() != events) g.order.clear();
  return g;
}

Status RaceProblem(const RaceGraph& g, const std::tuple<int, int, int>& chunk, RaceAccess x,
                   RaceAccess y) {
  if (y.event < x.event) std::swap(x, y);  // named in event order
  const auto [r, b, c] = chunk;
  auto [xr, xt, xs] = g.where[x.event];
  auto [yr, yt, ys] = g.where[y.event];
  return InvalidArgumentError(StrCat(
      Where(xr, xt, xs), " ", x.write ? "writes" : "reads", " ",
      BufferName(static_cast<Buffer>(b)), "[", c, "] and ", Where(yr, yt, ys), " ",
      y.write ? "writes" : "reads", " it with no dependency or message chain ordering "
      "them: a race (the result depends on the interleaving)"));
}

void CheckRaces(const Program& p, std::vector<Status>& problems, size_t max_problems) {
  RaceGraph g = BuildRaceGraph(p);
  const size_t events = g.where.size(), blocks = g.blocks;
  if (events == 0 || g.order.empty() || events * blocks > kMaxRaceCheckClockEntries) return;
  std::vector<size_t> position(events);
  for (size_t i = 0; i < events; ++i) position[g.order[i]] = i;
  // Vector clocks, pushed along the edges in topological order.
  std::vector<uint32_t> clock(events * blocks, 0);
  auto clock_of = [&](size_t e) { return clock.data() + e * blocks; };
  auto step_of = [&](size_t e) { return static_cast<uint32_t>(std::get<2>(g.where[e])); };
  for (size_t e : g.order) {
    uint32_t* ce = clock_of(e);
    ce[g.block_of[e]] = step_of(e) + 1;
    for (size_t s : g.succ[e]) {
      uint32_t* cs = clock_of(s);
      for (size_t b = 0; b < blocks; ++b) cs[b] = std::max(cs[b], ce[b]);
    }
  }
  auto before = [&](size_t a, size_t b) {
    return a != b && clock_of(b)[g.block_of[a]] > step_of(a);
  };
  for (auto& [key, acc] : g.chunks) {
    // One topological order; a step that reads and writes the chunk counts as its write.
    std::sort(acc.begin(), acc.end(), [&](const RaceAccess& x, const RaceAccess& y) {
      return position[x.event] != position[y.event] ? position[x.event] < position[y.event]
                                                    : x.write > y.write;
    });
    const RaceAccess* last_write = nullptr;
    std::vector<const RaceAccess*> reads;  // since last_write
    for (size_t i = 0; i < acc.size(); ++i) {
      const RaceAccess& y = acc[i];
      if (i > 0 && acc[i - 1].event == y.event) continue;
      if (last_write != nullptr && !before(last_write->event, y.event)) {
        if (problems.size() >= max_problems) return;
        problems.push_back(RaceProblem(g, key, *last_write, y));
      }
      if (!y.write) {
        reads.push_back(&y);
        continue;
      }
      for (const RaceAccess* x : reads)
        if (!before(x->event, y.event)) {
          if (problems.size() >= max_problems) return;
          problems.push_back(RaceProblem(g, key, *x, y));
        }
      reads.clear();
      last_write = &y;
    }
  }
}

}  // namespace loom::comm::program::internal
