// Lowering of a scheduled Algorithm to an MSCCL Program, and the XML writer.
#include <algorithm>
#include <map>
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

class Lowerer {
 public:
  Lowerer(const Algorithm& a, const Topology& t) : a_(a), t_(t), N_(a.nranks), k_(a.chunkup) {}

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
    scratch_.assign(static_cast<size_t>(N_) * C, -1);
    nscratch_.assign(N_, 0);
    prog_ = &p;
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
    for (const Transfer& tr : a_.transfers) {
      int idx = pair_count[{tr.src, tr.dst}]++;
      int chan = idx / kStepsPerChannel;
      p.nchannels = std::max(p.nchannels, chan + 1);
      auto [sbuf, soff] = Loc(tr.chunk, tr.src);
      auto [dbuf, doff] = Loc(tr.chunk, tr.dst);
      // Sender: reads its copy once it was last written.
      Step s;
      s.type = StepType::kSend;
      s.srcbuf = sbuf;
      s.srcoff = soff;
      s.dstbuf = dbuf;
      s.dstoff = doff;
      std::vector<StepRef> sdeps;
      if (last_write_[At(tr.src, tr.chunk)].valid()) sdeps.push_back(last_write_[At(tr.src, tr.chunk)]);
      StepRef sref = Append(tr.src, Tb(tr.src, tr.dst, -1, chan), s, sdeps);
      last_read_[At(tr.src, tr.chunk)] = sref;
      // Receiver: after its previous write (reduction chain) and its last read (the AllReduce
      // phase-1 overwrite of a value it sent in phase 0).
      Step r;
      r.type = tr.reduce ? StepType::kRecvReduceCopy : StepType::kRecv;
      r.srcbuf = tr.reduce ? dbuf : sbuf;
      r.srcoff = tr.reduce ? doff : soff;
      r.dstbuf = dbuf;
      r.dstoff = doff;
      std::vector<StepRef> rdeps;
      if (last_write_[At(tr.dst, tr.chunk)].valid()) rdeps.push_back(last_write_[At(tr.dst, tr.chunk)]);
      if (last_read_[At(tr.dst, tr.chunk)].valid()) rdeps.push_back(last_read_[At(tr.dst, tr.chunk)]);
      StepRef rref = Append(tr.dst, Tb(tr.dst, -1, tr.src, chan), r, rdeps);
      last_write_[At(tr.dst, tr.chunk)] = rref;
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
  size_t At(int r, int c) const { return static_cast<size_t>(r) * a_.num_chunks() + c; }

  // Where chunk c lives on rank r.
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
  Program* prog_ = nullptr;
  std::map<std::tuple<int, int, int, int>, int> tbs_;
  std::vector<StepRef> last_write_, last_read_;
  std::vector<int> scratch_, nscratch_;
};

}  // namespace

StatusOr<Program> Lower(const Algorithm& algo, const Topology& topo) {
  if (algo.nranks != topo.num_ranks())
    return InvalidArgumentError(StrCat("lowering: ", algo.nranks, " ranks on ", topo.num_ranks(), " GPUs"));
  return Lowerer(algo, topo).Run();
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
    out += StrCat(" outofplace=\"", p.inplace ? 0 : 1, "\" minBytes=\"", p.min_bytes,
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
