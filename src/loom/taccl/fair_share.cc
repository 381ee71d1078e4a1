#include "loom/taccl/fair_share.h"

#include <algorithm>

namespace loom::taccl {

// Progressive filling: all unfrozen flows rise together; the resource whose remaining capacity
// divided by its unfrozen flows is smallest saturates first and freezes its flows at that level.
void FairShare::Rates(const std::vector<std::array<int, 2>>& flows, std::vector<double>* rates) {
  const int F = static_cast<int>(flows.size());
  rates->assign(F, -1);
  if (members_.size() < cap_.size()) members_.resize(cap_.size());
  touched_.clear();
  for (int f = 0; f < F; ++f)
    for (int r : flows[f]) {
      if (r < 0) continue;
      if (count_[r] == 0 && members_[r].empty()) {
        touched_.push_back(r);
        cap_[r] = 1;
      }
      ++count_[r];
      members_[r].push_back(f);
    }
  int left = F;
  while (left > 0) {
    double level = 1;  // a flow never exceeds its own link's rate
    int which = -1;
    for (int r : touched_)
      if (count_[r] > 0 && cap_[r] / count_[r] < level) {
        level = cap_[r] / count_[r];
        which = r;
      }
    level = std::max(0.0, level);
    auto freeze = [&](int f) {
      (*rates)[f] = level;
      --left;
      for (int r : flows[f])
        if (r >= 0) {
          cap_[r] -= level;
          --count_[r];
        }
    };
    if (which < 0) {
      for (int f = 0; f < F; ++f)
        if ((*rates)[f] < 0) freeze(f);
      break;
    }
    for (int f : members_[which])
      if ((*rates)[f] < 0) freeze(f);
  }
  for (int r : touched_) {
    count_[r] = 0;
    members_[r].clear();
  }
}

const char* CheckMaxMinFair(int num_resources, const std::vector<std::array<int, 2>>& flows,
                            const std::vector<double>& rates) {
  const double eps = 1e-9;
  std::vector<double> load(num_resources, 0), top(num_resources, 0);
  for (size_t f = 0; f < flows.size(); ++f) {
    if (!(rates[f] >= -eps && rates[f] <= 1 + eps)) return "a rate is outside [0, 1]";
    for (int r : flows[f])
      if (r >= 0) {
        load[r] += rates[f];
        top[r] = std::max(top[r], rates[f]);
      }
  }
  for (int r = 0; r < num_resources; ++r)
    if (load[r] > 1 + eps) return "a resource carries more than its capacity";
  for (size_t f = 0; f < flows.size(); ++f) {
    if (rates[f] >= 1 - eps) continue;
    bool bottleneck = false;
    for (int r : flows[f])
      if (r >= 0 && load[r] >= 1 - eps && rates[f] >= top[r] - eps) bottleneck = true;
    if (!bottleneck) return "a flow below rate 1 has no saturated resource where it is largest";
  }
  return "";
}

}  // namespace loom::taccl
