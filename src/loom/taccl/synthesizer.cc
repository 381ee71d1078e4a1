#include "loom/taccl/synthesizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/taccl/baselines.h"
#include "loom/taccl/ordering.h"
#include "loom/taccl/schedule_milp.h"

namespace loom::taccl {
namespace {

std::vector<int> Sources(Collective coll, int N, int k, int root) {
  std::vector<int> s(NumChunks(coll, N, k));
  for (size_t c = 0; c < s.size(); ++c) {
    int ci = static_cast<int>(c);
    s[c] = coll == Collective::kAllToAll ? ci / k / N : coll == Collective::kBroadcast ? root : ci / k;
  }
  return s;
}

Algorithm NewAlgo(const std::string& name, const Topology& t, Collective coll, int k, int root, double cb) {
  Algorithm a;
  a.name = name;
  a.coll = coll;
  a.nranks = t.num_ranks();
  a.chunkup = k;
  a.root = root;
  a.chunk_bytes = cb;
  return a;
}

void SetMakespan(Algorithm* a) {
  a->makespan_us = 0;
  for (const auto& tr : a->transfers) a->makespan_us = std::max(a->makespan_us, tr.end_us);
}

// Routing for one collective (stage 1) as schedule edges; `use_milp` selects MILP or greedy.
StatusOr<std::vector<ScheduleEdge>> RouteEdges(const Topology& t, const Sketch& sk, const SynthOptions& o, int k,
                                               double cb, bool use_milp, Routing* stats, int relay_depth = 0,
                                               int landed_depth = 0, int switch_group = 0) {
  RouteOptions ro;
  ro.switch_group = switch_group;
  ro.landed_depth = std::abs(landed_depth);
  ro.landed_rebalance = landed_depth < 0;
  ro.switch_relay = relay_depth != 0;
  if (relay_depth != 0) ro.switch_depth = std::abs(relay_depth);
  ro.switch_direct_home = relay_depth < 0;
  ro.chunk_bytes = cb;
  ro.use_milp = use_milp;
  ro.max_nodes = o.max_nodes;
  ro.max_seconds = o.time_limit_s;
  const int N = t.num_ranks();
  std::vector<ScheduleEdge> edges;
  Routing r;
  if (o.coll == Collective::kAllGather || o.coll == Collective::kAllToAll || o.coll == Collective::kBroadcast) {
    LOOM_ASSIGN_OR_RETURN(r, RouteChunks(t, sk, o.coll, k, o.root, ro));
    AppendTreeEdges(t, r.trees, Sources(o.coll, N, k, o.root), 0, nullptr, &edges);
  } else {
    // Reductions route AllGather trees on the transpose, with the relay map re-keyed by
    // receiver (TransposedSketch).
    Topology tt = Transposed(t);
    Sketch rsk = TransposedSketch(sk, t.gpus_per_node);
    LOOM_ASSIGN_OR_RETURN(Routing rr, RouteChunks(tt, rsk, Collective::kAllGather, k, 0, ro));
    auto ready = AppendReduceEdges(t, rr.trees, &edges);
    r = rr;
    if (o.coll == Collective::kAllReduce) {
      LOOM_ASSIGN_OR_RETURN(Routing ra, RouteChunks(t, sk, Collective::kAllGather, k, 0, ro));
      AppendTreeEdges(t, ra.trees, Sources(Collective::kAllGather, N, k, 0), 1, &ready, &edges);
      r.milp_models += ra.milp_models;
      r.milp_binaries += ra.milp_binaries;
      r.milp_optimal += ra.milp_optimal;
      r.load_bound_us = std::max(r.load_bound_us, ra.load_bound_us);
    }
  }
  if (stats) *stats = r;
  return edges;
}

// Stages 2 and 3: contiguity merge on network links, then list scheduling.
StatusOr<Algorithm> Schedule(const Topology& t, const Sketch& sk, const SynthOptions& o, int k, double cb,
                             const std::vector<ScheduleEdge>& routed, int max_contig, const std::string& name,
                             int taper = 0, bool all_links = false, int first_n = 0, int last_n = 0,
                             std::vector<ScheduleEdge>* merged_out = nullptr) {
  Algorithm a = NewAlgo(name, t, o.coll, k, o.root, cb);
  OrderOptions oo;
  oo.chunk_bytes = cb;
  oo.enforce_ordering = sk.enforce_ordering;
  std::vector<ScheduleEdge> merged = MergeContiguous(t, routed, max_contig, taper, all_links, first_n, last_n);
  LOOM_ASSIGN_OR_RETURN(a.transfers, ScheduleEdges(t, merged, oo));
  if (merged_out) *merged_out = std::move(merged);
  SetMakespan(&a);
  return a;
}

StatusOr<Algorithm> Routed(const Topology& t, const Sketch& sk, const SynthOptions& o, int k, double cb,
                           bool use_milp, Routing* stats) {
  LOOM_ASSIGN_OR_RETURN(auto edges, RouteEdges(t, sk, o, k, cb, use_milp, stats));
  return Schedule(t, sk, o, k, cb, edges, 1, use_milp ? "taccl-milp" : "taccl-greedy");
}

// An AllGather schedule on the transposed topology, time-reversed: the reduce-scatter whose
// partial sums travel each AllGather transfer backwards (same link ids; the transpose keeps
// indices), appended to `out` as phase 0 (TACCL's reverse_links, brief 3.6). Returns its makespan.
double AppendReversed(const Algorithm& rev, Algorithm* out) {
  const double m = rev.makespan_us;
  for (auto it = rev.transfers.rbegin(); it != rev.transfers.rend(); ++it) {
    Transfer tr = *it;
    std::swap(tr.src, tr.dst);
    tr.reduce = true;
    tr.phase = 0;
    tr.start_us = m - it->end_us;
    tr.end_us = m - it->start_us;
    out->transfers.push_back(tr);
  }
  return m;
}

void SortByStart(Algorithm* a) {
  std::stable_sort(a->transfers.begin(), a->transfers.end(), [](const Transfer& x, const Transfer& y) {
    return x.start_us != y.start_us ? x.start_us < y.start_us : x.end_us < y.end_us;
  });
  SetMakespan(a);
}

// TACCL's AllReduce by inversion: the reversed AllGather, then the AllGather after a barrier.
StatusOr<Algorithm> Inversion(const Topology& t, const Sketch& sk, const SynthOptions& o, int k, double cb) {
  SynthOptions ag = o;
  ag.coll = Collective::kAllGather;
  Topology tt = Transposed(t);
  Sketch rsk = TransposedSketch(sk, t.gpus_per_node);  // as in RouteEdges
  LOOM_ASSIGN_OR_RETURN(Algorithm rev, Routed(tt, rsk, ag, k, cb, o.use_milp, nullptr));
  LOOM_ASSIGN_OR_RETURN(Algorithm fwd, Routed(t, sk, ag, k, cb, o.use_milp, nullptr));
  Algorithm a = NewAlgo("inversion", t, Collective::kAllReduce, k, 0, cb);
  double m = AppendReversed(rev, &a);
  for (Transfer tr : fwd.transfers) {
    tr.phase = 1;
    if (tr.group >= 0) tr.group += 1 << 24;
    tr.start_us += m;
    tr.end_us += m;
    a.transfers.push_back(tr);
  }
  SortByStart(&a);
  return a;
}

// A contiguity variant (stage 3): group size, taper bits (ordering.h) and whether switch and
// NVLink links are merged too.
struct Variant {
  int contig, taper;
  bool all_links;
  int first_n = 0, last_n = 0;  // an explicit network plan (MergeContiguous), 0: none
};

std::string VariantName(const Variant& v) {
  std::string name = v.contig == 1 ? "" : v.contig < (1 << 20) ? StrCat("+contig", v.contig) : "+contig";
  if (v.taper & kTaperOwn) name += "+own";
  if ((v.taper & kTaperFirst) && (v.taper & kTaperLast)) name += "+taper";
  else if (v.taper & kTaperLast) name += "+last";
  if (v.first_n > 0) name += StrCat("+plan", v.first_n, "-", v.last_n);
  if (v.all_links) name += "+alllinks";
  return name;
}

}  // namespace

StatusOr<SynthResult> Synthesize(const Topology& t, const Sketch& sk, const SynthOptions& o, Progress* progress) {
  Stopwatch sw;
  if (sk.nnodes != t.num_nodes)
    return InvalidArgumentError(StrCat(sk.source, ": nnodes ", sk.nnodes, " but the topology has ", t.num_nodes, " nodes"));
  if (o.bytes == 0) return InvalidArgumentError("size must be > 0 bytes");
  LOOM_RETURN_IF_ERROR(CheckSymmetry(t, sk));
  const int N = t.num_ranks();
  const int k0 = o.chunkup > 0 ? o.chunkup : sk.chunkup;
  if (k0 < 1 || k0 > 64) return InvalidArgumentError(StrCat("chunkup ", k0, " is not in 1..64"));
  if (o.root < 0 || o.root >= N) return InvalidArgumentError(StrCat("root ", o.root, " is not a rank"));
  auto loop_chunks = [&](int k) { return o.coll == Collective::kBroadcast ? k : N * k; };
  // Chunk counts tried: the sketch's chunkup, and (when the caller left it to the sketch) its
  // multiples in `chunkup_search` while a chunk at the sketch's chunkup is at most
  // kSearchLoops loop-iteration slots, the multiplied chunks stay >= min_search_chunk_bytes and a
  // loop has <= max_search_loop_chunks of them; only the sketch's chunkup gets the MILP and the
  // switch relay trees (synthesis time).
  // Smaller chunks pipeline the relay hops of a few loop iterations at the price of more alphas
  // (2xNDv2 AllGather 4 MiB: 0.854 of the cut bound at chunkup 1, 0.890 at 4; 64 MiB: 0.949 at
  // 1, 0.969 at 8); larger buffers pipeline over loop iterations anyway. The simulator decides.
  constexpr double kSearchLoops = 4;
  std::vector<int> ks{k0};
  const int max_loop_chunks = t.switches.empty() ? o.max_search_loop_chunks : o.max_search_loop_chunks_switch;
  const double bytes = static_cast<double>(o.bytes);
  if (o.chunkup == 0 && bytes / loop_chunks(k0) <= kSearchLoops * o.sim.chunk_eff_bytes)
    for (int m : o.chunkup_search)
      if (m > 1 && k0 * m <= 64 && loop_chunks(k0 * m) <= max_loop_chunks &&
          bytes / loop_chunks(k0 * m) >= o.min_search_chunk_bytes)
        ks.push_back(k0 * m);
  SynthResult best;
  bool have = false;
  Routing milp_stats;
  // The schedule edges of the best list-scheduled candidate so far, for the schedule MILP
  // (schedule_milp.h) after the search: `version` counts improvements of `best`.
  struct Polish {
    std::vector<ScheduleEdge> edges;
    int k = 0;
    double cb = 0;
    std::string name;
    int version = -1;
  } polish;
  int version = 0;
  std::string ksuffix;
  auto consider = [&](const std::string& base_name, StatusOr<Algorithm> a, const Routing* stats) -> Status {
    if (progress) progress->Add(1);
    const std::string name = base_name + ksuffix;
    Candidate cand{name, 0, 0, ""};
    if (!a.ok()) {
      // An infeasible sketch is the caller's error, reported if nothing else works.
      cand.error = a.status().ToString();
      best.candidates.push_back(cand);
      return OkStatus();
    }
    a->name = name;
    if (Status m = CheckSenderMap(*a, t, sk); !m.ok()) {
      cand.error = m.ToString();  // e.g. a ring through a relay the sketch reserves for others
      best.candidates.push_back(cand);
      return OkStatus();
    }
    Status ok = CheckAlgorithm(*a, t);
    if (!ok.ok()) return InternalError(StrCat("candidate ", name, " failed the schedule oracle: ", ok.ToString()));
    // Lowered with one channel per (pair) and with hop-level channels; the simulator picks.
    for (bool split : {false, true}) {
      LOOM_ASSIGN_OR_RETURN(Program p, Lower(*a, t, split));
      LOOM_ASSIGN_OR_RETURN(SimResult s, Simulate(p, t, o.bytes, o.sim));
      cand.name = split ? name + "+levels" : name;
      cand.sim_us = s.time_us;
      cand.busiest_load_us = s.busiest_load_us;
      best.candidates.push_back(cand);
      if (!have || s.time_us < best.sim.time_us * (1 - 1e-12)) {
        have = true;
        ++version;
        best.algo = *a;
        best.algo.name = cand.name;
        best.program = std::move(p);
        best.sim = s;
        best.method = cand.name;
        if (stats) best.routing = *stats;
        // The candidate count depends on the routings that turn out feasible, so the bar has
        // no total; the best time so far is what a user watching a long solve wants to see.
        if (progress) {
          char us[32];
          std::snprintf(us, sizeof(us), "%.1f", s.time_us);
          progress->SetDetail(StrCat("best ", us, " us (", cand.name, ")"));
        }
      }
    }
    return OkStatus();
  };
  for (int k : ks) {
    const double cb = std::min(bytes / loop_chunks(k), o.sim.chunk_eff_bytes);
    ksuffix = k == k0 ? "" : StrCat("@k", k);
    // Each routing is scheduled without merging and with contiguity groups of 2, 3, 4, 6 (TACCL's
    // max_contig) and any length on network links, each also tapered (first and last chunk of a
    // run alone; tapering one end only won no 2xNDv2 case and is not tried); where an intra-node
    // alpha is >= 10 % of a chunk's send time, also with groups of 2 and any length on every link
    // (AllToAll stages only network groups). The simulator picks.
    bool alpha_heavy = false;
    for (const Link& l : t.links)
      if (l.kind != LinkKind::kNetwork && l.alpha_us >= 0.1 * l.beta_us_per_byte * cb) alpha_heavy = true;
    if (o.coll == Collective::kAllToAll) alpha_heavy = false;
    std::vector<Variant> variants{{1, 0, false}};
    if (t.num_nodes > 1) {
      std::vector<int> sizes{6, 1 << 20};
      if (t.num_ranks() <= 32) sizes = {2, 3, 4, 6, 1 << 20};
      for (int c : sizes) variants.insert(variants.end(), {{c, 0, false}, {c, kTaperFirst | kTaperLast, false}});
      // The own-chunks group (kTaperOwn) before groups of 6 or 8 with the last chunk alone, and
      // of 6 with the first one alone too (2xNDv2 AllGather / RS 1-64 MiB winners; 8 gives 4 MiB
      // AllGather 232.5 instead of 233.7 us).
      variants.insert(variants.end(), {{6, kTaperOwn | kTaperLast, false}, {6, kTaperOwn | kTaperFirst | kTaperLast, false},
                                       {8, kTaperOwn | kTaperLast, false}});
    }
    // Groups of 4 with each run's last chunk alone on every link: a switch in-port then pays one
    // alpha per 4 chunks while the last chunk keeps the forwarding tail short (2xDGX-2 sk2
    // AllGather 64 MiB at chunkup 8: 508.0 us against 516.5 for groups of 2 and 555.9 for 4 untapered).
    if (alpha_heavy) variants.insert(variants.end(), {{2, 0, true}, {1 << 20, 0, true}, {4, kTaperLast, true}});
    // Explicit network plans, the only variants of the landed-spread routings (NVLink nodes):
    // a first message of half, all or twice the sender's own chunks (twice: a reduce-scatter
    // reversed from a transposed sketch, whose relay's own chunks are the run's second block),
    // one middle message or groups of 4k / 5k chunks, the last two chunks: the shape of the
    // alpha-aware floor (taccl README). A last message of one chunk, or merging NVLink sends too
    // (all_links), won no 2xNDv2 size.
    std::vector<Variant> plan_variants;
    if (t.num_nodes > 1 && t.switches.empty())
      for (int f : {std::max(1, k / 2), k, 2 * k})
        for (int c : {1 << 20, 4 * k, 5 * k}) plan_variants.push_back({c, 0, false, f, 2});
    auto scheduled = [&](const std::string& base, const StatusOr<std::vector<ScheduleEdge>>& routed,
                         const Routing* stats, const std::vector<Variant>* vs = nullptr) -> Status {
      for (const Variant& v : vs ? *vs : variants) {
        const std::string name = base + VariantName(v);
        std::vector<ScheduleEdge> merged;
        StatusOr<Algorithm> a = routed.ok() ? Schedule(t, sk, o, k, cb, *routed, v.contig, name, v.taper, v.all_links,
                                                                 v.first_n, v.last_n, &merged)
                                            : StatusOr<Algorithm>(routed.status());
        const int before = version;
        LOOM_RETURN_IF_ERROR(consider(name, std::move(a), stats));
        if (version != before) polish = {std::move(merged), k, cb, name + ksuffix, version};
      }
      return OkStatus();
    };
    // Reduce-scatter also as the time reversal of each AllGather variant on the transpose (the
    // same trees): list scheduling forward feeds the largest network groups first, so a
    // reduction's first message waits for many in-node reductions; reversed, the AllGather's
    // quick first message (own chunks) becomes a last message with no tail and its tapered last
    // chunk a first message with a short head.
    auto reversed = [&](const std::string& base, bool use_milp, int landed_depth,
                        const std::vector<Variant>& vs, int switch_group = 0) -> Status {
      SynthOptions ag = o;
      ag.coll = Collective::kAllGather;
      const Topology tt = Transposed(t);
      const Sketch rsk = TransposedSketch(sk, t.gpus_per_node);
      Routing stats;
      auto routed = RouteEdges(tt, rsk, ag, k, cb, use_milp, &stats, 0, landed_depth, switch_group);
      for (const Variant& v : vs) {
        // The winners at 1-64 MiB (own groups on 2xNDv2, tapered all-link groups on 2xDGX-2);
        // each variant costs a schedule.
        if (!(v.taper & kTaperOwn) && !(v.all_links && (v.taper & kTaperLast)) && v.first_n == 0) continue;
        const std::string name = base + "+reversed" + VariantName(v);
        auto fwd = routed.ok() ? Schedule(tt, rsk, ag, k, cb, *routed, v.contig, name, v.taper, v.all_links, v.first_n, v.last_n)
                               : StatusOr<Algorithm>(routed.status());
        if (!fwd.ok()) {
          LOOM_RETURN_IF_ERROR(consider(name, fwd.status(), &stats));
          continue;
        }
        Algorithm rs = NewAlgo(name, t, Collective::kReduceScatter, k, 0, cb);
        AppendReversed(*fwd, &rs);
        SortByStart(&rs);
        LOOM_RETURN_IF_ERROR(consider(name, std::move(rs), &stats));
      }
      return OkStatus();
    };
    if (o.use_milp && k == k0) LOOM_RETURN_IF_ERROR(scheduled("taccl-milp", RouteEdges(t, sk, o, k, cb, true, &milp_stats), &milp_stats));
    Routing greedy_stats;
    LOOM_RETURN_IF_ERROR(scheduled("taccl-greedy", RouteEdges(t, sk, o, k, cb, false, &greedy_stats), &greedy_stats));
    if (o.coll == Collective::kReduceScatter && t.num_nodes > 1)
      LOOM_RETURN_IF_ERROR(reversed("taccl-greedy", false, 0, variants));
    // Landed chunks spread by load-balanced trees of depth <= 4 and <= 3 (routing.h landed_depth;
    // negative: with the leaf-moving rebalance) on NVLink nodes, with the explicit network plans;
    // reduce-scatter as the time reversal only (no forward spread schedule won a 2xNDv2 size).
    // 2xNDv2 1 MiB: AllGather wins with d3 (64.1 us; d4 64.3), ReduceScatter with d3
    // rebalanced (66.5 us); AllGather skips the rebalance (1 MiB: 64.5 against 64.3 us for d4).
    if (t.switches.empty() && t.num_nodes > 1) {
      for (int depth : {4, 3, -3}) {
        const std::string base = StrCat("taccl-spread-d", std::abs(depth), depth < 0 ? "b" : "");
        if (o.coll == Collective::kAllGather && depth > 0) {
          Routing spread_stats;
          LOOM_RETURN_IF_ERROR(scheduled(base, RouteEdges(t, sk, o, k, cb, false, &spread_stats, 0, depth),
                                         &spread_stats, &plan_variants));
        }
        if (o.coll == Collective::kReduceScatter) LOOM_RETURN_IF_ERROR(reversed(base, false, depth, plan_variants));
      }
    }
    // AllGather on switch nodes also over two-level trees in blocks of 4 GPUs (routing.h
    // switch_group), every link merged: each switch in-port takes a few multi-origin messages
    // instead of one 0.3 us alpha per chunk (2xDGX-2 sk2 1 MiB: 17.4 us against 20.0 for the
    // best per-chunk schedule). Blocks of 2 or 8, and reduce-scatter as their time reversal
    // (23.4 against 21.0 us), won no 2xDGX-2 size.
    if (!t.switches.empty() && t.num_nodes > 1 && o.coll == Collective::kAllGather) {
      const std::vector<Variant> group_variants = {{1 << 20, 0, true}, {1 << 20, kTaperLast, true}};
      Routing gs;
      LOOM_RETURN_IF_ERROR(scheduled("taccl-2d-g4", RouteEdges(t, sk, o, k, cb, false, &gs, 0, 0, 4), &gs, &group_variants));
    }
    if (!t.switches.empty() && k == k0) {  // relay trees at the sketch's chunkup only (cost)
      for (int depth : o.relay_depths) {
        Routing relay_stats;
        std::string name = depth == 3 ? "taccl-relay" : depth > 0 ? StrCat("taccl-relay-d", depth) : StrCat("taccl-relay-landed-d", -depth);
        LOOM_RETURN_IF_ERROR(scheduled(name, RouteEdges(t, sk, o, k, cb, false, &relay_stats, depth), &relay_stats));
      }
    }
    if (o.coll == Collective::kAllReduce) LOOM_RETURN_IF_ERROR(consider("inversion", Inversion(t, sk, o, k, cb), nullptr));
    if (o.include_ring && (o.coll == Collective::kAllGather || o.coll == Collective::kReduceScatter ||
                           o.coll == Collective::kAllReduce)) {
      auto ring = FindRing(t);
      StatusOr<Algorithm> ra = ring.ok() ? RingAlgorithm(t, *ring, o.coll, k, cb) : StatusOr<Algorithm>(ring.status());
      LOOM_RETURN_IF_ERROR(consider("ring", std::move(ra), nullptr));
    }
    if (o.coll != Collective::kAllReduce) {
      auto d = DirectAlgorithm(t, o.coll, k, o.root, cb);
      if (d.ok() || d.status().code() != StatusCode::kNotFound) LOOM_RETURN_IF_ERROR(consider("direct", std::move(d), nullptr));
    }
  }
  // Stage 2 polished by the schedule MILP when the winner is a list-scheduled candidate and its
  // model is small; the re-ordered schedule is one more candidate, so the simulator still decides.
  if (o.order_milp_seconds > 0 && polish.version == version) {
    ScheduleMilpOptions mo;
    mo.order.chunk_bytes = polish.cb;
    mo.order.enforce_ordering = sk.enforce_ordering;
    mo.max_seconds = o.order_milp_seconds;
    mo.max_nodes = o.max_nodes;
    mo.max_binaries = o.order_milp_max_binaries;
    mo.contiguity = true;
    LOOM_ASSIGN_OR_RETURN(ScheduleMilpResult mr, SolveScheduleMilp(t, polish.edges, mo));
    if (mr.improved) {
      const std::string name = polish.name + (mr.merges > 0 ? "+milp-order-contig" : "+milp-order");
      Algorithm a = NewAlgo(name, t, o.coll, polish.k, o.root, polish.cb);
      a.transfers = std::move(mr.transfers);
      SetMakespan(&a);
      ksuffix.clear();
      LOOM_RETURN_IF_ERROR(consider(name, std::move(a), nullptr));
    }
    mr.transfers.clear();
    best.order_milp = std::move(mr);
    best.order_milp_on = polish.name;
  }
  if (!have) {
    std::string why;
    for (const auto& c : best.candidates) why += StrCat("\n  ", c.name, ": ", c.error);
    return InfeasibleError(StrCat("no schedule for ", CollectiveName(o.coll), " on ", t.name, " with ",
                                  sk.source, ":", why));
  }
  if (o.use_milp && best.method != "taccl-milp") best.routing = milp_stats;
  best.algo.name = best.method;
  best.bound = CutBound(t, o.coll, o.bytes, o.root);
  best.gap = best.bound.time_us > 0 ? best.sim.time_us / best.bound.time_us - 1 : 0;
  best.program.name = StrCat("loom-taccl-", CollectiveName(o.coll), "-", best.method);
  best.seconds = sw.ElapsedSeconds();
  return best;
}

namespace {

// NCCL's view of the nodes (network links fully connected, as NCCL picks its own NIC paths) and
// one ring per NIC, as NCCL builds its channels; a single ring on one node.
StatusOr<std::pair<Topology, std::vector<std::vector<int>>>> NcclRings(const NodeProfile& profile, int nodes) {
  Sketch s = DefaultSketch(profile, nodes);
  s.conn_mode = "fully-connected";
  LOOM_ASSIGN_OR_RETURN(Topology t, BuildTopology(profile, s));
  std::vector<std::vector<int>> rings;
  for (int nic = 0; nic < (nodes > 1 ? profile.nics : 1); ++nic) {
    auto ring = FindRing(t, nodes > 1 ? nic : -1);
    if (ring.ok()) rings.push_back(*ring);
  }
  if (rings.empty()) return NotFoundError(StrCat(t.name, ": no ring for the NCCL baseline"));
  return std::make_pair(std::move(t), std::move(rings));
}

StatusOr<SimResult> CheckLowerSimulate(const Algorithm& a, const Topology& t, uint64_t bytes, const SimOptions& sim) {
  LOOM_RETURN_IF_ERROR(CheckAlgorithm(a, t));
  LOOM_ASSIGN_OR_RETURN(Program p, Lower(a, t));
  return Simulate(p, t, bytes, sim);
}

}  // namespace

StatusOr<SimResult> SimulateNcclRing(const NodeProfile& profile, int nodes, Collective coll, uint64_t bytes,
                                     const SimOptions& sim) {
  LOOM_ASSIGN_OR_RETURN(auto tr, NcclRings(profile, nodes));
  const int L = tr.first.num_ranks() * static_cast<int>(tr.second.size());
  double cb = std::min(static_cast<double>(bytes) / L, sim.chunk_eff_bytes);
  LOOM_ASSIGN_OR_RETURN(Algorithm a, MultiRingAlgorithm(tr.first, tr.second, coll, cb));
  return CheckLowerSimulate(a, tr.first, bytes, sim);
}

StatusOr<SimResult> SimulateNcclTree(const NodeProfile& profile, int nodes, Collective coll, uint64_t bytes,
                                     const SimOptions& sim) {
  if (coll != Collective::kAllReduce)
    return InvalidArgumentError(StrCat("NCCL's tree algorithm is AllReduce only, not ", CollectiveName(coll)));
  LOOM_ASSIGN_OR_RETURN(auto tr, NcclRings(profile, nodes));
  const int L = tr.first.num_ranks() * 2 * static_cast<int>(tr.second.size());
  double cb = std::min(static_cast<double>(bytes) / L, sim.chunk_eff_bytes);
  LOOM_ASSIGN_OR_RETURN(Algorithm a, DoubleBinaryTreeAllReduce(tr.first, tr.second, cb));
  return CheckLowerSimulate(a, tr.first, bytes, sim);
}

}  // namespace loom::taccl
