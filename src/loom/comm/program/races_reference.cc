// The race check's slow reference (internal/races.h, CheckRacesReference): the happens-before
// relation of races.cc as an explicit transitive closure (steps² bits, filled in reverse
// topological order), and every pair of accesses to a chunk, at least one a write, tested
// both ways. Tests compare the fast check's racing chunks with it.
#include <algorithm>

#include "loom/comm/program/internal/races.h"

namespace loom::comm::program::internal {

void CheckRacesReference(const Program& p, std::vector<Status>& problems, size_t max_problems) {
  RaceGraph g = BuildRaceGraph(p);
  const size_t events = g.where.size();
  if (events == 0 || g.order.empty() || events > kMaxReferenceRaceCheckSteps) return;
  // reach[e] = the events e happens before.
  const size_t words = (events + 63) / 64;
  std::vector<uint64_t> reach(events * words, 0);
  auto row = [&](size_t e) { return reach.data() + e * words; };
  for (size_t i = events; i-- > 0;) {
    const size_t e = g.order[i];
    uint64_t* re = row(e);
    for (size_t s : g.succ[e]) {
      const uint64_t* rs = row(s);
      for (size_t w = 0; w < words; ++w) re[w] |= rs[w];
      re[s / 64] |= uint64_t{1} << (s % 64);
    }
  }
  auto before = [&](size_t a, size_t b) { return (row(a)[b / 64] >> (b % 64)) & 1; };
  for (const auto& [key, acc] : g.chunks)
    for (size_t i = 0; i < acc.size(); ++i)
      for (size_t j = i + 1; j < acc.size(); ++j) {
        const RaceAccess &x = acc[i], &y = acc[j];
        if (x.event == y.event || (!x.write && !y.write)) continue;
        if (before(x.event, y.event) || before(y.event, x.event)) continue;
        if (problems.size() >= max_problems) return;
        problems.push_back(RaceProblem(g, key, x, y));
      }
}

}  // namespace loom::comm::program::internal
