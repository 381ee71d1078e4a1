// Lowering of a scheduled Algorithm to an MSCCL Program, and the XML writer.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "loom/base/strings.h"
#include "loom/taccl/program.h"

namespace loom::taccl {

const char* StepTypeName(StepType t) {
  switch (t) {
    case StepType::kSend: return "s";
    case StepType::kRecv: return "r";
    case StepType::kRecvCopySend: return "rcs";
    case StepType::kRecvReduceSend: return "rrs";
    case StepType::kRecvReduceCopy: return "rrc";
    case StepType::kRecvReduceCopySend: return "rrcs";
    case StepType::kCopy: return "cpy";
    case StepType::kReduce: return "re";
    case StepType::kNop: return "nop";
  }
  return "?";
}

namespace {

struct StepRef {
  int tb = -1, step = -1;
  bool valid() const { return tb >= 0; }
};

// Steps per TB before a (src, dst) pair moves to the next channel: msccl-executor's default
// MSCCL_MAX_NUM_STEPS is 64 (brief 3.8), and nops need room too.
constexpr int kStepsPerChannel = 48;
// Sends are put on channels by the hop level of the data they carry (0: the sender's own data,
// 1: received once, ...; capped), so a TB forwarding relayed data that has not arrived yet does
// not hold back the sends of data that is ready (head-of-line blocking across loop iterations).
constexpr int kLevelChannels = 3;

class Lowerer {
 public:
  Lowerer(const Algorithm& a, const Topology& t, bool split) : a_(a), t_(t), N_(a.nranks), k_(a.chunkup), split_(split) {}

  StatusOr<Program> Run() {
    Program p;
    p.coll = a_.coll;
    p.root = a_.root;
    p.gpus.assign(N_, {});
    const int C = a_.num_chunks();
    switch (a_.coll) {
      case Collective::kAllGather: p.nchunksperloop = N_ * k_; break;
      case Collective::kReduceScatter: p.nchunksperloop = N_ * k_; break;
      case Collective::kAllReduce: p.nchunksperloop = N_ * k_; break;
      case Collective::kAllToAll: p.nchunksperloop = N_ * k_; p.inplace = false; break;
      case Collective::kBroadcast: p.nchunksperloop = k_; break;
    }
    last_write_.assign(static_cast<size_t>(N_) * C, {});
    last_read_.assign(static_cast<size_t>(N_) * C, {});
    level_.assign(static_cast<size_t>(N_) * C, 0);
    scratch_.assign(static_cast<size_t>(N_) * C, -1);
    nscratch_.assign(N_, 0);
    prog_ = &p;
    // The owner's last reducing receive of each chunk (RS, AR phase 0) writes the output.
    if (a_.coll == Collective::kReduceScatter || a_.coll == Collective::kAllReduce) {
      std::vector<const Transfer*> last(C, nullptr);
      for (const Transfer& t : a_.transfers)
        if (t.reduce && t.dst == t.chunk / k_) last[t.chunk] = &t;
      for (int c = 0; c < C; ++c) {
        if (last[c]) {
          final_.insert(last[c]);
        } else {
          // Nothing arrives (one rank): copy the input into the output.
          int r = c / k_;
          Step s;
          s.type = StepType::kCopy;
          s.srcbuf = 'i';
          s.srcoff = c;
          s.dstbuf = 'o';
          s.dstoff = a_.coll == Collective::kReduceScatter ? c % k_ : c;
          last_write_[At(r, c)] = Append(r, Tb(r, -1, -1, 0), s, {});
        }
      }
    }
    // Origins copy their own input into their output (a no-op when run in place).
    if (a_.coll == Collective::kAllGather || a_.coll == Collective::kBroadcast) {
      for (int c = 0; c < C; ++c) {
        int r = a_.coll == Collective::kBroadcast ? a_.root : c / k_;
        Step s;
        s.type = StepType::kCopy;
        s.srcbuf = 'i';
        s.srcoff = a_.coll == Collective::kBroadcast ? c : c % k_;
        s.dstbuf = 'o';
        s.dstoff = c;
        last_write_[At(r, c)] = Append(r, Tb(r, -1, -1, 0), s, {});
      }
    }
    if (a_.coll == Collective::kAllToAll) {
      for (int r = 0; r < N_; ++r)
        for (int j = 0; j < k_; ++j) {
          int c = (r * N_ + r) * k_ + j;
          Step s;
          s.type = StepType::kCopy;
          s.srcbuf = 'i';
          s.srcoff = r * k_ + j;
          s.dstbuf = 'o';
          s.dstoff = r * k_ + j;
          StepRef ref = Append(r, Tb(r, -1, -1, 0), s, {});
          last_write_[At(r, c)] = ref;
        }
    }
    std::map<std::pair<int, int>, int> pair_count;
    const auto& trs = a_.transfers;
    if (a_.coll == Collective::kAllToAll) StageGroups();
    for (size_t i = 0; i < trs.size();) {
      // A contiguity group: sent as one step when its buffer locations are consecutive on both
      // sides.
      const size_t j = GroupEnd(i);
      std::vector<const Transfer*> members = Members(i, j);
      bool contiguous = true;
      for (size_t x = 1; x < members.size(); ++x) {
        auto ps = SrcLoc(*members[x - 1]), cs = SrcLoc(*members[x]);
        auto pd = DstLoc(*members[x - 1]), cd = DstLoc(*members[x]);
        if (ps.first != cs.first || cs.second != ps.second + 1 || pd.first != cd.first || cd.second != pd.second + 1)
          contiguous = false;
      }
      if (!contiguous) {
        for (const Transfer* m : members) Emit({m}, &p, &pair_count);
      } else {
        Emit(members, &p, &pair_count);
      }
      i = j;
    }
    for (int g = 0; g < N_; ++g) {
      GpuProgram& gp = p.gpus[g];
      switch (a_.coll) {
        case Collective::kAllGather: gp.i_chunks = k_; gp.o_chunks = N_ * k_; break;
        case Collective::kReduceScatter: gp.i_chunks = N_ * k_; gp.o_chunks = k_; break;
        case Collective::kAllReduce: gp.i_chunks = N_ * k_; gp.o_chunks = N_ * k_; break;
        case Collective::kAllToAll: gp.i_chunks = N_ * k_; gp.o_chunks = N_ * k_; break;
        case Collective::kBroadcast: gp.i_chunks = k_; gp.o_chunks = k_; break;
      }
      gp.s_chunks = nscratch_[g];
    }
    return p;
  }

 private:
  // A contiguity group: adjacent transfers with one group id on one link, [i, GroupEnd(i)).
  size_t GroupEnd(size_t i) const {
    const auto& trs = a_.transfers;
    size_t j = i + 1;
    if (trs[i].group >= 0)
      while (j < trs.size() && trs[j].group == trs[i].group && trs[j].link == trs[i].link) ++j;
    return j;
  }
  std::vector<const Transfer*> Members(size_t i, size_t j) const {
    std::vector<const Transfer*> members;
    for (size_t x = i; x < j; ++x) members.push_back(&a_.transfers[x]);
    std::sort(members.begin(), members.end(), [](const Transfer* x, const Transfer* y) { return x->chunk < y->chunk; });
    return members;
  }

  // AllToAll: a group's chunks sit in the input, the output or scratch on either end, never in
  // one contiguous range, so each would be its own message paying the network alpha. Stage them
  // through consecutive scratch slots on both ends instead: chunks relayed through an end are
  // received into (or sent on from) those slots directly; the sender's own chunks are copied
  // into them first and the receiver's own copied out after, on the same TB as the send / recv.
  void StageGroups() {
    const auto& trs = a_.transfers;
    for (size_t i = 0; i < trs.size();) {
      const size_t j = GroupEnd(i);
      std::vector<const Transfer*> ms = Members(i, j);
      i = j;
      if (ms.size() < 2) continue;
      const int src = ms[0]->src, dst = ms[0]->dst;
      bool free = true;  // a chunk already placed at an end (another group) keeps the group as is
      for (const Transfer* m : ms)
        if (scratch_[At(src, m->chunk)] >= 0 || scratch_[At(dst, m->chunk)] >= 0) free = false;
      if (!free) continue;
      const int bs = nscratch_[src], bd = nscratch_[dst];
      nscratch_[src] += static_cast<int>(ms.size());
      nscratch_[dst] += static_cast<int>(ms.size());
      for (size_t x = 0; x < ms.size(); ++x) {
        const int c = ms[x]->chunk, origin = c / k_ / N_, target = (c / k_) % N_;
        if (origin == src) stage_src_[ms[x]] = bs + static_cast<int>(x);
        else scratch_[At(src, c)] = bs + static_cast<int>(x);
        if (target == dst) stage_dst_[ms[x]] = bd + static_cast<int>(x);
        else scratch_[At(dst, c)] = bd + static_cast<int>(x);
      }
    }
  }

  // A copy step between the chunk's home location on `r` and its staging slot, on TB `tb`.
  StepRef StageCopy(int r, int tb, int chunk, int slot, bool into_scratch, const std::vector<StepRef>& deps) {
    auto home = Loc(chunk, r);
    Step s;
    s.type = StepType::kCopy;
    s.srcbuf = into_scratch ? home.first : 's';
    s.srcoff = into_scratch ? home.second : slot;
    s.dstbuf = into_scratch ? 's' : home.first;
    s.dstoff = into_scratch ? slot : home.second;
    return Append(r, tb, s, deps);
  }

  // One send step on the source and one receive step on the destination for `ms` (one chunk,
  // or a contiguous group sent with cnt > 1).
  void Emit(const std::vector<const Transfer*>& ms, Program* p, std::map<std::pair<int, int>, int>* pair_count) {
    const Transfer& tr = *ms.front();
    int level = 0;
    for (const Transfer* m : ms) level = std::max(level, level_[At(tr.src, m->chunk)]);
    for (const Transfer* m : ms) level_[At(tr.dst, m->chunk)] = std::max(level_[At(tr.dst, m->chunk)], level + 1);
    const int cls = split_ ? std::min(level, kLevelChannels - 1) : 0;
    int idx = (*pair_count)[{tr.src, tr.dst * kLevelChannels + cls}]++;
    int chan = split_ ? idx / kStepsPerChannel * kLevelChannels + cls : idx / kStepsPerChannel;
    p->nchannels = std::max(p->nchannels, chan + 1);
    auto [sbuf, soff] = SrcLoc(tr);
    auto [dbuf, doff] = DstLoc(tr);
    const int cnt = static_cast<int>(ms.size());
    Step s;
    s.type = StepType::kSend;
    s.srcbuf = sbuf;
    s.srcoff = soff;
    s.dstbuf = dbuf;
    s.dstoff = doff;
    s.cnt = cnt;
    const int stb = Tb(tr.src, tr.dst, -1, chan);
    for (const Transfer* m : ms)
      if (auto it = stage_src_.find(m); it != stage_src_.end()) {
        std::vector<StepRef> cdeps;
        AddDep(&cdeps, last_write_[At(tr.src, m->chunk)]);
        last_write_[At(tr.src, m->chunk)] = StageCopy(tr.src, stb, m->chunk, it->second, true, cdeps);
      }
    std::vector<StepRef> sdeps;
    for (const Transfer* m : ms) AddDep(&sdeps, last_write_[At(tr.src, m->chunk)]);
    std::erase_if(sdeps, [&](const StepRef& d) { return d.tb == stb; });  // the TB runs in order
    StepRef sref = Append(tr.src, stb, s, sdeps);
    for (const Transfer* m : ms) last_read_[At(tr.src, m->chunk)] = sref;
    // Receiver: after its previous write (reduction chain) and its last read (the AllReduce
    // phase-1 overwrite of a value it sent in phase 0).
    Step r;
    r.type = tr.reduce ? StepType::kRecvReduceCopy : StepType::kRecv;
    // A reducing receive adds the local partial sum (the chunk's input slot) to what arrives.
    auto [pbuf, poff] = tr.reduce ? PartialLoc(tr.chunk, tr.dst) : std::pair<char, int>{sbuf, soff};
    r.srcbuf = pbuf;
    r.srcoff = poff;
    r.dstbuf = dbuf;
    r.dstoff = doff;
    r.cnt = cnt;
    std::vector<StepRef> rdeps;
    for (const Transfer* m : ms) {
      AddDep(&rdeps, last_write_[At(tr.dst, m->chunk)]);
      AddDep(&rdeps, last_read_[At(tr.dst, m->chunk)]);
    }
    const int rtb = Tb(tr.dst, -1, tr.src, chan);
    StepRef rref = Append(tr.dst, rtb, r, rdeps);
    for (const Transfer* m : ms) {
      last_write_[At(tr.dst, m->chunk)] = rref;
      if (auto it = stage_dst_.find(m); it != stage_dst_.end())
        last_write_[At(tr.dst, m->chunk)] = StageCopy(tr.dst, rtb, m->chunk, it->second, false, {});
    }
  }

  static void AddDep(std::vector<StepRef>* deps, StepRef ref) {
    if (!ref.valid()) return;
    for (const StepRef& d : *deps)
      if (d.tb == ref.tb && d.step == ref.step) return;
    // Within one TB a later step implies the earlier ones: keep only the latest per TB.
    for (StepRef& d : *deps)
      if (d.tb == ref.tb) {
        d.step = std::max(d.step, ref.step);
        return;
      }
    deps->push_back(ref);
  }

  size_t At(int r, int c) const { return static_cast<size_t>(r) * a_.num_chunks() + c; }

  // Where a transfer reads on its source and writes on its destination. Programs run in place
  // and out of place: origins read the input, everything received lands in the output (or
  // scratch), and reductions accumulate in the input slot (a private copy in the runtimes)
  // until the owner's last reducing receive, which writes the output.
  std::pair<char, int> SrcLoc(const Transfer& t) {
    switch (a_.coll) {
      case Collective::kAllGather:
      case Collective::kBroadcast:
        // Origins send from their output after the local copy, so a contiguity group mixing an
        // origin's own chunk with relayed ones stays one contiguous range.
        return {'o', t.chunk};
      case Collective::kReduceScatter: return {'i', t.chunk};
      case Collective::kAllReduce: return t.phase == 0 ? std::pair<char, int>{'i', t.chunk} : std::pair<char, int>{'o', t.chunk};
      case Collective::kAllToAll: {
        auto it = stage_src_.find(&t);
        return it != stage_src_.end() ? std::pair<char, int>{'s', it->second} : Loc(t.chunk, t.src);
      }
    }
    return {'i', t.chunk};
  }
  std::pair<char, int> DstLoc(const Transfer& t) {
    const int j = t.chunk % k_;
    switch (a_.coll) {
      case Collective::kAllGather:
      case Collective::kBroadcast: return {'o', t.chunk};
      case Collective::kReduceScatter:
        return final_.count(&t) ? std::pair<char, int>{'o', j} : std::pair<char, int>{'i', t.chunk};
      case Collective::kAllReduce:
        return t.phase == 1 || final_.count(&t) ? std::pair<char, int>{'o', t.chunk} : std::pair<char, int>{'i', t.chunk};
      case Collective::kAllToAll: {
        auto it = stage_dst_.find(&t);
        return it != stage_dst_.end() ? std::pair<char, int>{'s', it->second} : Loc(t.chunk, t.dst);
      }
    }
    return {'o', t.chunk};
  }
  std::pair<char, int> PartialLoc(int c, int r) { return {'i', c}; }

  // AllToAll: where chunk c lives on rank r.
  std::pair<char, int> Loc(int c, int r) {
    switch (a_.coll) {
      case Collective::kAllGather:
      case Collective::kBroadcast: return {'o', c};
      case Collective::kReduceScatter:
      case Collective::kAllReduce: return {'i', c};
      case Collective::kAllToAll: {
        int j = c % k_, s = c / k_ / N_, d = (c / k_) % N_;
        if (r == s) return {'i', d * k_ + j};
        if (r == d) return {'o', s * k_ + j};
        int& slot = scratch_[At(r, c)];
        if (slot < 0) slot = nscratch_[r]++;
        return {'s', slot};
      }
    }
    return {'i', c};
  }

  int Tb(int gpu, int send, int recv, int chan) {
    auto key = std::make_tuple(gpu, send, recv, chan);
    auto it = tbs_.find(key);
    if (it != tbs_.end()) return it->second;
    auto& list = prog_->gpus[gpu].tbs;
    ThreadBlock tb;
    tb.send = send;
    tb.recv = recv;
    tb.chan = chan;
    list.push_back(tb);
    int id = static_cast<int>(list.size()) - 1;
    tbs_[key] = id;
    return id;
  }

  StepRef Append(int gpu, int tb, Step step, const std::vector<StepRef>& deps) {
    auto& tbs = prog_->gpus[gpu].tbs;
    for (size_t i = 0; i + 1 < deps.size(); ++i) {
      Step nop;
      nop.type = StepType::kNop;
      nop.cnt = 0;
      nop.depid = deps[i].tb;
      nop.deps = deps[i].step;
      tbs[deps[i].tb].steps[deps[i].step].hasdep = true;
      tbs[tb].steps.push_back(nop);
    }
    if (!deps.empty()) {
      step.depid = deps.back().tb;
      step.deps = deps.back().step;
      tbs[deps.back().tb].steps[deps.back().step].hasdep = true;
    }
    tbs[tb].steps.push_back(step);
    return {tb, static_cast<int>(tbs[tb].steps.size()) - 1};
  }

  const Algorithm& a_;
  const Topology& t_;
  const int N_, k_;
  const bool split_;
  Program* prog_ = nullptr;
  std::map<std::tuple<int, int, int, int>, int> tbs_;
  std::vector<StepRef> last_write_, last_read_;
  std::vector<int> scratch_, nscratch_;
  std::vector<int> level_;  // per (rank, chunk): hops the data there has travelled
  std::map<const Transfer*, int> stage_src_, stage_dst_;  // AllToAll staging slots (StageGroups)
  std::set<const Transfer*> final_;
};

}  // namespace

StatusOr<Program> Lower(const Algorithm& algo, const Topology& topo, bool split_levels) {
  if (algo.nranks != topo.num_ranks())
    return InvalidArgumentError(StrCat("lowering: ", algo.nranks, " ranks on ", topo.num_ranks(), " GPUs"));
  return Lowerer(algo, topo, split_levels).Run();
}

StatusOr<Dialect> ParseDialect(const std::string& name) {
  if (name == "original" || name == "msccl") return Dialect::kOriginal;
  if (name == "executor") return Dialect::kExecutor;
  return InvalidArgumentError(StrCat("dialect '", name, "' is not original or executor"));
}

std::string WriteXml(const Program& p, Dialect dialect) {
  std::string coll = CollectiveName(p.coll);
  if (p.coll == Collective::kReduceScatter && dialect == Dialect::kExecutor) coll = "reducescatter";
  std::string out = StrCat("<algo name=\"", p.name, "\" proto=\"", p.proto, "\" nchannels=\"",
                           p.nchannels, "\" nchunksperloop=\"", p.nchunksperloop, "\" ngpus=\"",
                           p.ngpus(), "\" coll=\"", coll, "\" inplace=\"", p.inplace ? 1 : 0, "\"");
  if (dialect == Dialect::kExecutor)
    out += StrCat(" outofplace=\"1\" minBytes=\"", p.min_bytes,
                  "\" maxBytes=\"", p.max_bytes, "\"");
  out += ">\n";
  for (int g = 0; g < p.ngpus(); ++g) {
    const GpuProgram& gp = p.gpus[g];
    out += StrCat("  <gpu id=\"", g, "\" i_chunks=\"", gp.i_chunks, "\" o_chunks=\"", gp.o_chunks,
                  "\" s_chunks=\"", gp.s_chunks, "\">\n");
    for (size_t t = 0; t < gp.tbs.size(); ++t) {
      const ThreadBlock& tb = gp.tbs[t];
      out += StrCat("    <tb id=\"", t, "\" send=\"", tb.send, "\" recv=\"", tb.recv, "\" chan=\"",
                    tb.chan, "\">\n");
      for (size_t s = 0; s < tb.steps.size(); ++s) {
        const Step& st = tb.steps[s];
        out += StrCat("      <step s=\"", s, "\" type=\"", StepTypeName(st.type), "\" srcbuf=\"",
                      std::string(1, st.srcbuf), "\" srcoff=\"", st.srcoff, "\" dstbuf=\"",
                      std::string(1, st.dstbuf), "\" dstoff=\"", st.dstoff, "\" cnt=\"", st.cnt,
                      "\" depid=\"", st.depid, "\" deps=\"", st.deps, "\" hasdep=\"",
                      st.hasdep ? 1 : 0, "\"/>\n");
      }
      out += "    </tb>\n";
    }
    out += "  </gpu>\n";
  }
  out += "</algo>\n";
  return out;
}

}  // namespace loom::taccl
