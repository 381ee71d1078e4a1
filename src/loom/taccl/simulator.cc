#include "loom/taccl/simulator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <tuple>

#include "loom/base/strings.h"
#include "loom/taccl/fair_share.h"

namespace loom::taccl {

double BusBwFactor(Collective coll, int n) {
  if (n <= 1) return 1;
  switch (coll) {
    case Collective::kAllReduce: return 2.0 * (n - 1) / n;
    case Collective::kBroadcast: return 1;
    default: return static_cast<double>(n - 1) / n;
  }
}

namespace {

bool IsRecv(StepType t) {
  return t == StepType::kRecv || t == StepType::kRecvCopySend || t == StepType::kRecvReduceSend ||
         t == StepType::kRecvReduceCopy || t == StepType::kRecvReduceCopySend;
}
bool IsSend(StepType t) {
  return t == StepType::kSend || t == StepType::kRecvCopySend || t == StepType::kRecvReduceSend ||
         t == StepType::kRecvReduceCopySend;
}
bool Computes(StepType t) {
  return t == StepType::kRecvReduceSend || t == StepType::kRecvReduceCopy ||
         t == StepType::kRecvReduceCopySend || t == StepType::kCopy || t == StepType::kReduce;
}

}  // namespace

StatusOr<SimResult> Simulate(const Program& p, const Topology& topo, uint64_t bytes,
                             const SimOptions& opt) {
  const int N = p.ngpus();
  if (N != topo.num_ranks())
    return InvalidArgumentError(StrCat("simulate: program has ", N, " GPUs, topology ", topo.num_ranks()));
  if (p.nchunksperloop < 1) return InvalidArgumentError("simulate: nchunksperloop < 1");
  if (bytes == 0) return InvalidArgumentError("simulate: size must be > 0 bytes");
  const double L = p.nchunksperloop;
  const double per_loop = L * opt.chunk_eff_bytes;
  const int iters = static_cast<int>(std::ceil(static_cast<double>(bytes) / per_loop));
  if (iters > 1000000) return InvalidArgumentError("simulate: more than 1e6 loop iterations");
  auto chunk_bytes = [&](int it) {
    double left = static_cast<double>(bytes) - it * per_loop;
    return std::min(opt.chunk_eff_bytes, left / L);
  };
  // Global step ids and FIFO matching.
  struct TbInfo { int gpu, tb, nsteps; int64_t base; };
  std::vector<TbInfo> tbs;
  std::vector<std::vector<int>> tb_index(N);
  int64_t total = 0;
  for (int g = 0; g < N; ++g)
    for (size_t t = 0; t < p.gpus[g].tbs.size(); ++t) {
      int ns = static_cast<int>(p.gpus[g].tbs[t].steps.size());
      tb_index[g].push_back(static_cast<int>(tbs.size()));
      tbs.push_back({g, static_cast<int>(t), ns, total});
      total += static_cast<int64_t>(ns) * iters;
    }
  if (total > 50'000'000) return ResourceExhaustedError("simulate: more than 5e7 step events");
  std::vector<int64_t> match(total, -1);
  std::vector<int> link_of(total, -1);
  {
    std::map<std::tuple<int, int, int>, std::vector<int64_t>> sends, recvs;
    std::map<std::tuple<int, int, int, bool>, int> owner;  // (gpu, peer, chan, is_send) -> tb
    for (size_t x = 0; x < tbs.size(); ++x) {
      const ThreadBlock& tb = p.gpus[tbs[x].gpu].tbs[tbs[x].tb];
      for (int it = 0; it < iters; ++it)
        for (int s = 0; s < tbs[x].nsteps; ++s) {
          const Step& st = tb.steps[s];
          int64_t id = tbs[x].base + static_cast<int64_t>(it) * tbs[x].nsteps + s;
          std::string where = StrCat("gpu ", tbs[x].gpu, " tb ", tbs[x].tb, " step ", s);
          if (IsSend(st.type)) {
            if (tb.send < 0 || tb.send >= N) return InvalidArgumentError(where + ": send without a valid send peer");
            int li = topo.FindLink(tbs[x].gpu, tb.send);
            if (li < 0)
              return InvalidArgumentError(StrCat(where, ": sends to GPU ", tb.send, " but the topology has no link ",
                                                 tbs[x].gpu, "->", tb.send));
            link_of[id] = li;
            sends[{tbs[x].gpu, tb.send, tb.chan}].push_back(id);
            auto [it2, fresh] = owner.insert({{tbs[x].gpu, tb.send, tb.chan, true}, tbs[x].tb});
            if (!fresh && it2->second != tbs[x].tb)
              return InvalidArgumentError(where + ": two TBs send on the same (peer, channel)");
          }
          if (IsRecv(st.type)) {
            if (tb.recv < 0 || tb.recv >= N) return InvalidArgumentError(where + ": receive without a valid recv peer");
            recvs[{tb.recv, tbs[x].gpu, tb.chan}].push_back(id);
            auto [it2, fresh] = owner.insert({{tbs[x].gpu, tb.recv, tb.chan, false}, tbs[x].tb});
            if (!fresh && it2->second != tbs[x].tb)
              return InvalidArgumentError(where + ": two TBs receive on the same (peer, channel)");
          }
        }
    }
    for (auto& [key, rs] : recvs) {
      auto it = sends.find(key);
      size_t ns = it == sends.end() ? 0 : it->second.size();
      if (ns != rs.size())
        return InvalidArgumentError(StrCat("connection ", std::get<0>(key), "->", std::get<1>(key), " channel ",
                                           std::get<2>(key), ": ", ns, " sends but ", rs.size(), " receives"));
      for (size_t i = 0; i < rs.size(); ++i) match[rs[i]] = it->second[i];
    }
    for (auto& [key, ss] : sends)
      if (!recvs.count(key))
        return InvalidArgumentError(StrCat("connection ", std::get<0>(key), "->", std::get<1>(key),
                                           ": sends that nobody receives"));
  }
  std::vector<double> done(total, -1);
  std::vector<double> recv_done(total, -1);  // recv part of rcs-type steps
  std::vector<int64_t> pos(tbs.size(), 0);
  std::vector<double> tb_time(tbs.size(), 0);
  std::vector<bool> queued(total, false);
  std::vector<std::vector<int>> waiters(total);  // step id -> TB indices waiting for it
  std::vector<double> res_free(topo.num_resources(), 0);
  using Ev = std::pair<double, int64_t>;
  std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> heap;
  std::vector<int> work;
  std::vector<int> res;
  SimResult out;
  auto advance = [&](int x) -> Status {
    const TbInfo& ti = tbs[x];
    const ThreadBlock& tb = p.gpus[ti.gpu].tbs[ti.tb];
    while (pos[x] < static_cast<int64_t>(ti.nsteps) * iters) {
      int it = static_cast<int>(pos[x] / ti.nsteps);
      int s = static_cast<int>(pos[x] % ti.nsteps);
      int64_t id = ti.base + pos[x];
      const Step& st = tb.steps[s];
      double start = tb_time[x];
      if (st.depid >= 0) {
        if (st.depid >= static_cast<int>(tb_index[ti.gpu].size()))
          return InvalidArgumentError(StrCat("gpu ", ti.gpu, " tb ", ti.tb, " step ", s, ": depid ", st.depid, " is not a TB"));
        const TbInfo& dt = tbs[tb_index[ti.gpu][st.depid]];
        if (st.deps < 0 || st.deps >= dt.nsteps)
          return InvalidArgumentError(StrCat("gpu ", ti.gpu, " tb ", ti.tb, " step ", s, ": deps ", st.deps, " is not a step"));
        int64_t did = dt.base + static_cast<int64_t>(it) * dt.nsteps + st.deps;
        if (done[did] < 0) {
          waiters[did].push_back(x);
          return OkStatus();
        }
        start = std::max(start, done[did]);
      }
      double b = std::max(0, st.cnt) * chunk_bytes(it);
      if (IsRecv(st.type)) {
        int64_t sid = match[id];
        if (done[sid] < 0) {
          waiters[sid].push_back(x);
          return OkStatus();
        }
        start = std::max(start, done[sid]);
      }
      if (Computes(st.type)) start += b * opt.local_beta_us_per_byte;
      if (IsSend(st.type)) {
        if (!queued[id]) {
          queued[id] = true;
          heap.push({start, id});
        }
        return OkStatus();
      }
      done[id] = start;
      tb_time[x] = start;
      ++pos[x];
      ++out.events;
      for (int w : waiters[id]) work.push_back(w);
      waiters[id].clear();
    }
    return OkStatus();
  };
  auto drain = [&]() -> Status {
    while (!work.empty()) {
      int x = work.back();
      work.pop_back();
      LOOM_RETURN_IF_ERROR(advance(x));
    }
    return OkStatus();
  };
  // Map a step id back to its TB (ids are contiguous per TB).
  auto tb_of = [&](int64_t id) {
    size_t lo = 0, hi = tbs.size();
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (tbs[mid].base <= id) lo = mid; else hi = mid;
    }
    return static_cast<int>(lo);
  };
  auto send_bytes = [&](int64_t id, int x) {
    int it = static_cast<int>((id - tbs[x].base) / tbs[x].nsteps);
    const Step& st = p.gpus[tbs[x].gpu].tbs[tbs[x].tb].steps[(id - tbs[x].base) % tbs[x].nsteps];
    return std::max(0, st.cnt) * chunk_bytes(it);
  };
  // A send has delivered at `end`: its TB moves on and whoever waited on it runs.
  std::vector<double> load(topo.num_resources(), 0);
  std::vector<double> send_start(opt.record_sends ? total : 0, 0);
  auto finish = [&](int64_t id, int x, double end) -> Status {
    if (opt.record_sends) {
      const int64_t local = id - tbs[x].base;
      const Step& st = p.gpus[tbs[x].gpu].tbs[tbs[x].tb].steps[local % tbs[x].nsteps];
      out.sends.push_back({tbs[x].gpu, topo.links[link_of[id]].dst, link_of[id],
                           static_cast<int>(local / tbs[x].nsteps), st.cnt, send_start[id], end});
    }
    topo.ResourcesOf(link_of[id], &res);
    for (int r : res) load[r] += topo.links[link_of[id]].Cost(send_bytes(id, x));
    done[id] = end;
    tb_time[x] = end;
    ++pos[x];
    ++out.events;
    for (int w : waiters[id]) work.push_back(w);
    waiters[id].clear();
    work.push_back(x);
    return drain();
  };
  for (size_t x = 0; x < tbs.size(); ++x) work.push_back(static_cast<int>(x));
  LOOM_RETURN_IF_ERROR(drain());
  if (opt.ports == PortModel::kExclusive) {
    while (!heap.empty()) {
      auto [t0, id] = heap.top();
      heap.pop();
      topo.ResourcesOf(link_of[id], &res);
      double t = t0;
      for (int r : res) t = std::max(t, res_free[r]);
      if (t > t0 + 1e-12) {
        heap.push({t, id});
        continue;
      }
      int x = tb_of(id);
      double end = t + topo.links[link_of[id]].Cost(send_bytes(id, x));
      for (int r : res) res_free[r] = end;
      if (opt.record_sends) send_start[id] = t;
      LOOM_RETURN_IF_ERROR(finish(id, x, end));
    }
  } else {
    // Fluid model: between events every send in flight progresses at its max-min fair share of
    // its resources; `left` is the send's remaining time at full rate (alpha + beta * bytes in all).
    struct Flow { int64_t id; int tb; double work, left; };
    std::vector<Flow> flows;
    std::vector<std::array<int, 2>> flow_res;
    std::vector<double> rates;
    FairShare share(topo.num_resources());
    std::vector<std::pair<int64_t, int>> finished;
    double now = 0;
    const double inf = std::numeric_limits<double>::infinity();
    while (!heap.empty() || !flows.empty()) {
      double t = heap.empty() ? inf : heap.top().first;
      for (size_t f = 0; f < flows.size(); ++f)
        if (rates[f] > 0) t = std::min(t, now + flows[f].left / rates[f]);
      if (!(t < inf)) return InternalError("simulate: sends in flight make no progress");
      t = std::max(t, now);
      finished.clear();
      size_t keep = 0;
      for (size_t f = 0; f < flows.size(); ++f) {
        Flow fl = flows[f];
        fl.left -= rates[f] * (t - now);
        bool over = fl.left <= 1e-9 * fl.work + 1e-12 || (rates[f] > 0 && fl.left / rates[f] <= 1e-12 * std::max(1.0, t));
        if (over) {
          finished.push_back({fl.id, fl.tb});
        } else {
          flow_res[keep] = flow_res[f];
          flows[keep++] = fl;
        }
      }
      flows.resize(keep);
      flow_res.resize(keep);
      now = t;
      for (auto [id, x] : finished) LOOM_RETURN_IF_ERROR(finish(id, x, now));
      while (!heap.empty() && heap.top().first <= now + 1e-12 * std::max(1.0, now)) {
        int64_t id = heap.top().second;
        heap.pop();
        int x = tb_of(id);
        double w = topo.links[link_of[id]].Cost(send_bytes(id, x));
        topo.ResourcesOf(link_of[id], &res);
        flows.push_back({id, x, w, w});
        if (opt.record_sends) send_start[id] = now;
        flow_res.push_back({res[0], res.size() > 1 ? res[1] : -1});
      }
      share.Rates(flow_res, &rates);
    }
  }
  for (size_t x = 0; x < tbs.size(); ++x)
    if (pos[x] < static_cast<int64_t>(tbs[x].nsteps) * iters)
      return InvalidArgumentError(StrCat("simulate: deadlock; gpu ", tbs[x].gpu, " tb ", tbs[x].tb, " stuck at step ",
                                         pos[x] % tbs[x].nsteps, " of iteration ", pos[x] / tbs[x].nsteps));
  for (double d : done) out.time_us = std::max(out.time_us, d);
  for (size_t r = 0; r < load.size(); ++r)
    if (load[r] > out.busiest_load_us * (1 + 1e-12)) {
      out.busiest_load_us = load[r];
      out.busiest = topo.ResourceName(static_cast<int>(r));
    }
  if (out.time_us <= 0) out.time_us = 1e-9;
  out.iterations = iters;
  out.chunk_bytes = chunk_bytes(0);
  out.algbw_gbs = static_cast<double>(bytes) / out.time_us / 1e3;
  out.busbw_gbs = out.algbw_gbs * BusBwFactor(p.coll, N);
  return out;
}

}  // namespace loom::taccl
