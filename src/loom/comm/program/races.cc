// The race check of the validator (validate.h, check_races): a happens-before analysis of one
// slice iteration. Every step is an event; a step happens before another when a chain of
// program order inside a thread block, explicit dependencies, and messages (the i-th send on a
// connection before the i-th receive) leads from one to the other. Flow-control credits are not
// counted as ordering: a program whose correctness needs them would break with other credit
// counts. Two accesses to the same chunk of the same rank (input and output are one buffer in
// place), at least one a write, by steps with no such chain either way are a race: the result
// depends on the interleaving. Slices of different iterations touch disjoint elements, so one
// iteration decides it for all.
#include <algorithm>
#include <map>
#include <tuple>

#include "loom/base/strings.h"
#include "loom/comm/program/internal/races.h"

namespace loom::comm::program::internal {
namespace {

struct Access {
  size_t event;
  bool write;
};

}  // namespace

void CheckRaces(const Program& p, std::vector<Status>& problems, size_t max_problems) {
  const int n = p.num_ranks;
  // Event ids: (rank, tb, step) in order.
  std::vector<std::vector<size_t>> first(static_cast<size_t>(n));  // [rank][tb] -> first id
  std::vector<std::tuple<int, int, int>> where;                    // id -> (rank, tb, step)
  for (int r = 0; r < n; ++r)
    for (const ThreadBlock& tb : p.gpus[static_cast<size_t>(r)].tbs) {
      first[static_cast<size_t>(r)].push_back(where.size());
      for (size_t k = 0; k < tb.steps.size(); ++k)
        where.emplace_back(r, tb.id, static_cast<int>(k));
    }
  const size_t events = where.size();
  if (events == 0 || events > kMaxRaceCheckSteps) return;
  auto id = [&](int r, int tb, int step) {
    return first[static_cast<size_t>(r)][static_cast<size_t>(tb)] + static_cast<size_t>(step);
  };
  // Happens-before edges.
  std::vector<std::vector<size_t>> succ(events);
  std::map<std::tuple<int, int, int>, std::vector<size_t>> sends, recvs;  // connection -> steps
  for (int r = 0; r < n; ++r)
    for (const ThreadBlock& tb : p.gpus[static_cast<size_t>(r)].tbs)
      for (size_t k = 0; k < tb.steps.size(); ++k) {
        const size_t e = id(r, tb.id, static_cast<int>(k));
        if (k > 0) succ[e - 1].push_back(e);
        for (const StepRef& d : tb.steps[k].deps) succ[id(r, d.tb, d.step)].push_back(e);
        OpTraits tr = TraitsOf(tb.steps[k].op);
        if (tr.sends) sends[{r, tb.send_peer, tb.channel}].push_back(e);
        if (tr.receives) recvs[{tb.recv_peer, r, tb.channel}].push_back(e);
      }
  for (const auto& [conn, s] : sends) {
    auto it = recvs.find(conn);
    if (it == recvs.end()) continue;
    for (size_t i = 0; i < std::min(s.size(), it->second.size()); ++i)
      succ[s[i]].push_back(it->second[i]);
  }
  // Topological order (Kahn); a cycle is the deadlock check's business.
  std::vector<int> indeg(events, 0);
  for (const auto& v : succ)
    for (size_t e : v) ++indeg[e];
  std::vector<size_t> order;
  order.reserve(events);
  for (size_t e = 0; e < events; ++e)
    if (indeg[e] == 0) order.push_back(e);
  for (size_t i = 0; i < order.size(); ++i)
    for (size_t e : succ[order[i]])
      if (--indeg[e] == 0) order.push_back(e);
  if (order.size() != events) return;
  // reach[e] = the events e happens before, as bit sets, filled in reverse topological order.
  const size_t words = (events + 63) / 64;
  std::vector<uint64_t> reach(events * words, 0);
  auto row = [&](size_t e) { return reach.data() + e * words; };
  for (size_t i = events; i-- > 0;) {
    const size_t e = order[i];
    uint64_t* re = row(e);
    for (size_t s : succ[e]) {
      const uint64_t* rs = row(s);
      for (size_t w = 0; w < words; ++w) re[w] |= rs[w];
      re[s / 64] |= uint64_t{1} << (s % 64);
    }
  }
  auto before = [&](size_t a, size_t b) { return (row(a)[b / 64] >> (b % 64)) & 1; };
  // Accesses per (rank, buffer, chunk).
  const bool alias = p.out_of_place.has_value() && !*p.out_of_place;  // in place only
  auto buf_of = [&](Buffer b) { return alias && b == Buffer::kOutput ? Buffer::kInput : b; };
  std::map<std::tuple<int, int, int>, std::vector<Access>> chunks;
  for (int r = 0; r < n; ++r)
    for (const ThreadBlock& tb : p.gpus[static_cast<size_t>(r)].tbs)
      for (size_t k = 0; k < tb.steps.size(); ++k) {
        const Step& st = tb.steps[k];
        const OpTraits tr = TraitsOf(st.op);
        const size_t e = id(r, tb.id, static_cast<int>(k));
        auto add = [&](Buffer b, int off, bool write) {
          for (int c = 0; c < st.count; ++c)
            chunks[{r, static_cast<int>(buf_of(b)), off + c}].push_back({e, write});
        };
        if (tr.reads_src) add(st.src_buffer, st.src_offset, false);
        if (tr.reads_dst) add(st.dst_buffer, st.dst_offset, false);
        if (tr.writes_dst) add(st.dst_buffer, st.dst_offset, true);
      }
  for (const auto& [key, acc] : chunks) {
    const auto [r, b, c] = key;
    for (size_t i = 0; i < acc.size(); ++i)
      for (size_t j = i + 1; j < acc.size(); ++j) {
        const Access &x = acc[i], &y = acc[j];
        if (x.event == y.event || (!x.write && !y.write)) continue;
        if (before(x.event, y.event) || before(y.event, x.event)) continue;
        if (problems.size() >= max_problems) return;
        auto [xr, xt, xs] = where[x.event];
        auto [yr, yt, ys] = where[y.event];
        problems.push_back(InvalidArgumentError(StrCat(
            Where(xr, xt, xs), " ", x.write ? "writes" : "reads", " ",
            BufferName(static_cast<Buffer>(b)), "[", c, "] and ", Where(yr, yt, ys), " ",
            y.write ? "writes" : "reads", " it with no dependency or message chain ordering "
            "them: a race (the result depends on the interleaving)")));
      }
  }
}

}  // namespace loom::comm::program::internal
