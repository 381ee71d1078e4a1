#include "loom/taccl/comm_bridge.h"

#include "loom/base/strings.h"
#include "loom/comm/program/validate.h"

namespace loom::taccl {
namespace {

namespace cp = comm::program;

cp::Buffer BufferOf(char b) {
  return b == 'i' ? cp::Buffer::kInput : b == 'o' ? cp::Buffer::kOutput : cp::Buffer::kScratch;
}

cp::OpType OpOf(StepType t) {
  switch (t) {
    case StepType::kSend: return cp::OpType::kSend;
    case StepType::kRecv: return cp::OpType::kRecv;
    case StepType::kRecvCopySend: return cp::OpType::kRecvCopySend;
    case StepType::kRecvReduceSend: return cp::OpType::kRecvReduceSend;
    case StepType::kRecvReduceCopy: return cp::OpType::kRecvReduceCopy;
    case StepType::kRecvReduceCopySend: return cp::OpType::kRecvReduceCopySend;
    case StepType::kCopy: return cp::OpType::kCopy;
    case StepType::kReduce: return cp::OpType::kReduce;
    case StepType::kNop: return cp::OpType::kNop;
  }
  return cp::OpType::kNop;
}

cp::Collective CollOf(Collective c) {
  switch (c) {
    case Collective::kAllGather: return cp::Collective::kAllGather;
    case Collective::kReduceScatter: return cp::Collective::kReduceScatter;
    case Collective::kAllReduce: return cp::Collective::kAllReduce;
    case Collective::kAllToAll: return cp::Collective::kAllToAll;
    case Collective::kBroadcast: return cp::Collective::kBroadcast;
  }
  return cp::Collective::kCustom;
}

}  // namespace

StatusOr<cp::Program> ToCommProgram(const Program& p) {
  cp::Program out;
  out.name = p.name.size() > 63 ? p.name.substr(0, 63) : p.name;
  out.collective = CollOf(p.coll);
  out.protocol = cp::Protocol::kSimple;
  out.num_ranks = p.ngpus();
  out.num_channels = p.nchannels;
  out.chunks_per_loop = p.nchunksperloop;
  out.in_place = p.inplace;
  out.out_of_place = true;
  out.min_bytes = static_cast<int64_t>(p.min_bytes);
  out.max_bytes = static_cast<int64_t>(p.max_bytes);
  for (int g = 0; g < p.ngpus(); ++g) {
    const GpuProgram& gp = p.gpus[g];
    cp::GpuProgram og;
    og.rank = g;
    og.input_chunks = gp.i_chunks;
    og.output_chunks = gp.o_chunks;
    og.scratch_chunks = gp.s_chunks;
    // taccl steps -> comm steps: nops fold into the next real step's dependency list, so step
    // indices shift; map (tb, taccl step) -> comm step index.
    std::vector<std::vector<int>> index(gp.tbs.size());
    for (size_t t = 0; t < gp.tbs.size(); ++t) {
      int next = 0;
      for (const Step& s : gp.tbs[t].steps) {
        index[t].push_back(next);
        if (s.type != StepType::kNop) ++next;
      }
    }
    for (size_t t = 0; t < gp.tbs.size(); ++t) {
      const ThreadBlock& tb = gp.tbs[t];
      cp::ThreadBlock ot;
      ot.id = static_cast<int>(t);
      ot.send_peer = tb.send;
      ot.recv_peer = tb.recv;
      ot.channel = tb.chan;
      std::vector<cp::StepRef> pending;
      for (const Step& s : tb.steps) {
        if (s.depid >= 0) {
          if (s.depid >= static_cast<int>(gp.tbs.size()) || s.deps < 0 ||
              s.deps >= static_cast<int>(gp.tbs[s.depid].steps.size()))
            return InternalError(StrCat("gpu ", g, " tb ", t, ": dependency on a missing step"));
          if (gp.tbs[s.depid].steps[s.deps].type == StepType::kNop)
            return InternalError(StrCat("gpu ", g, " tb ", t, ": dependency on a nop"));
          pending.push_back({s.depid, index[s.depid][s.deps]});
        }
        if (s.type == StepType::kNop) continue;
        cp::Step os;
        os.op = OpOf(s.type);
        os.src_buffer = BufferOf(s.srcbuf);
        os.src_offset = s.srcoff;
        os.dst_buffer = BufferOf(s.dstbuf);
        os.dst_offset = s.dstoff;
        os.count = s.cnt;
        os.deps = std::move(pending);
        pending.clear();
        os.has_dep = s.hasdep;
        ot.steps.push_back(std::move(os));
      }
      if (!pending.empty()) {
        cp::Step nop;
        nop.op = cp::OpType::kNop;
        nop.count = 0;
        nop.deps = std::move(pending);
        ot.steps.push_back(std::move(nop));
      }
      og.tbs.push_back(std::move(ot));
    }
    out.gpus.push_back(std::move(og));
  }
  return out;
}

StatusOr<std::string> EmitXml(const Program& p, Dialect dialect) {
  LOOM_ASSIGN_OR_RETURN(cp::Program cprog, ToCommProgram(p));
  cp::ValidateOptions vo;
  vo.dialect = dialect == Dialect::kOriginal ? cp::Dialect::kMsccl : cp::Dialect::kExecutor;
  if (dialect == Dialect::kOriginal) {
    // The legacy runtime's byte range defaults (0, 128 MiB) apply when absent.
    cprog.min_bytes.reset();
    cprog.max_bytes.reset();
    cprog.out_of_place.reset();
  }
  Status ok = cp::ValidateProgram(cprog, vo);
  if (!ok.ok()) return ok.WithContext(StrCat("comm validator (", dialect == Dialect::kOriginal ? "msccl" : "executor", " dialect)"));
  return cp::WriteMscclXml(cprog, *vo.dialect);
}

}  // namespace loom::taccl
