#include "loom/taccl/bounds.h"

#include <algorithm>
#include <map>
#include <queue>

#include "loom/base/strings.h"

namespace loom::taccl {
namespace {

// Bytes per microsecond that can cross into (ingress) or out of S, bounded per resource on S's
// side: an NVLink by itself, a switch port by its port rate, a NIC by its rate.
double CutRate(const Topology& t, const std::vector<bool>& in_s, bool ingress, double* min_alpha) {
  *min_alpha = 1e300;
  std::map<int, double> sum;  // resource -> sum of link rates through it
  std::map<int, double> cap;
  std::vector<int> res;
  for (size_t li = 0; li < t.links.size(); ++li) {
    const Link& l = t.links[li];
    bool crosses = ingress ? (!in_s[l.src] && in_s[l.dst]) : (in_s[l.src] && !in_s[l.dst]);
    if (!crosses) continue;
    *min_alpha = std::min(*min_alpha, l.alpha_us);
    t.ResourcesOf(static_cast<int>(li), &res);
    // Resource on S's side: for two-resource links, index 1 is the receiver's, 0 the sender's.
    int r = res.size() == 1 ? res[0] : (ingress ? res[1] : res[0]);
    double rate = 1.0 / l.beta_us_per_byte;
    sum[r] += rate;
    double c = l.kind == LinkKind::kNetwork ? 1.0 / t.nic_beta_us_per_byte : rate;
    cap[r] = std::max(cap[r], c);
  }
  double total = 0;
  for (auto& [r, s] : sum) total += std::min(s, cap[r]);
  return total;
}

std::vector<double> AlphaDistances(const Topology& t, int src) {
  std::vector<double> d(t.num_ranks(), 1e300);
  using E = std::pair<double, int>;
  std::priority_queue<E, std::vector<E>, std::greater<E>> q;
  d[src] = 0;
  q.push({0, src});
  while (!q.empty()) {
    auto [du, u] = q.top();
    q.pop();
    if (du > d[u]) continue;
    for (int li : t.out_links[u]) {
      const Link& l = t.links[li];
      if (du + l.alpha_us < d[l.dst]) {
        d[l.dst] = du + l.alpha_us;
        q.push({d[l.dst], l.dst});
      }
    }
  }
  return d;
}

}  // namespace

Bound CutBound(const Topology& t, Collective coll, uint64_t bytes_u, int root) {
  const int N = t.num_ranks(), G = t.gpus_per_node;
  const double bytes = static_cast<double>(bytes_u);
  Bound b;
  std::vector<std::pair<std::vector<bool>, std::string>> cuts;
  for (int v = 0; v < N; ++v) {
    std::vector<bool> s(N, false);
    s[v] = true;
    cuts.push_back({s, StrCat("GPU ", v)});
    s.flip();
    cuts.push_back({s, StrCat("all but GPU ", v)});
  }
  for (int n = 0; t.num_nodes > 1 && n < t.num_nodes; ++n) {
    std::vector<bool> s(N, false);
    for (int g = 0; g < G; ++g) s[n * G + g] = true;
    cuts.push_back({s, StrCat("node ", n)});
    s.flip();
    cuts.push_back({s, StrCat("all but node ", n)});
  }
  auto need = [&](Collective c, const std::vector<bool>& s, bool ingress) {
    double k = static_cast<double>(std::count(s.begin(), s.end(), true));
    double rest = N - k;
    switch (c) {
      case Collective::kAllGather: return (ingress ? rest : k) / N * bytes;
      case Collective::kReduceScatter: return (ingress ? k : rest) / N * bytes;
      case Collective::kAllToAll: return k * rest * bytes / N;
      case Collective::kBroadcast: return (ingress != static_cast<bool>(s[root])) ? bytes : 0.0;
      default: return 0.0;
    }
  };
  auto bw_bound = [&](Collective c, std::string* which, double* pure) {
    double best = 0;
    *pure = 0;
    for (const auto& [s, name] : cuts)
      for (bool ingress : {true, false}) {
        double need_bytes = need(c, s, ingress);
        if (need_bytes <= 0) continue;
        // Every message occupies its resource for alpha + beta * bytes (the simulator's and
        // TACCL's model), and at least one message crosses: T >= min alpha + bytes / rate.
        double alpha = 0;
        double rate = CutRate(t, s, ingress, &alpha);
        double tb = rate > 0 ? alpha + need_bytes / rate : 1e300;
        *pure = std::max(*pure, rate > 0 ? need_bytes / rate : 1e300);
        if (tb > best) {
          best = tb;
          *which = StrCat(name, ingress ? " ingress" : " egress");
        }
      }
    return best;
  };
  double lat = 0;
  for (int s = 0; s < N; ++s) {
    if (coll == Collective::kBroadcast && s != root) continue;
    auto d = AlphaDistances(t, s);
    for (int v = 0; v < N; ++v) lat = std::max(lat, d[v] < 1e299 ? d[v] : 0.0);
  }
  if (coll == Collective::kAllReduce) {
    std::string w1, w2;
    double p1 = 0, p2 = 0;
    b.bandwidth_us = bw_bound(Collective::kReduceScatter, &w1, &p1) + bw_bound(Collective::kAllGather, &w2, &p2);
    b.pure_bandwidth_us = p1 + p2;
    b.cut = StrCat("RS ", w1, " + AG ", w2);
    lat *= 2;
  } else {
    b.bandwidth_us = bw_bound(coll, &b.cut, &b.pure_bandwidth_us);
  }
  b.latency_us = lat;
  b.time_us = std::max(b.bandwidth_us, b.latency_us);
  if (b.latency_us > b.bandwidth_us) b.cut = "latency (alpha path)";
  b.algbw_gbs = b.time_us > 0 ? bytes / b.time_us / 1e3 : 0;
  return b;
}

}  // namespace loom::taccl
