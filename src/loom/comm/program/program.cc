// Names, traits and small helpers of the program IR (program.h).
#include "loom/comm/program/program.h"

#include "loom/base/strings.h"

namespace loom::comm::program {

OpTraits TraitsOf(OpType op) {
  //                 sends  recvs  rd_src wr_dst rd_dst reduces
  switch (op) {
    case OpType::kSend: return {true, false, true, false, false, false};
    case OpType::kRecv: return {false, true, false, true, false, false};
    case OpType::kRecvCopySend: return {true, true, false, true, false, false};
    case OpType::kRecvReduceSend: return {true, true, true, false, false, true};
    case OpType::kRecvReduceCopy: return {false, true, true, true, false, true};
    case OpType::kRecvReduceCopySend: return {true, true, true, true, false, true};
    case OpType::kCopy: return {false, false, true, true, false, false};
    case OpType::kReduce: return {false, false, true, true, true, true};
    case OpType::kNop: return {false, false, false, false, false, false};
    case OpType::kResidualAdd: return {false, false, true, true, true, true};
  }
  return {};
}

int SizeMultiplier(Collective c, int num_ranks) {
  switch (c) {
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kAllToAll:
      return num_ranks;
    default:
      return 1;
  }
}

void ComputeHasDep(Program& program) {
  for (GpuProgram& gpu : program.gpus) {
    for (ThreadBlock& tb : gpu.tbs)
      for (Step& st : tb.steps) st.has_dep = false;
    for (const ThreadBlock& tb : gpu.tbs) {
      for (const Step& st : tb.steps) {
        for (const StepRef& d : st.deps) {
          if (d.tb < 0 || d.tb >= static_cast<int>(gpu.tbs.size())) continue;
          auto& steps = gpu.tbs[static_cast<size_t>(d.tb)].steps;
          if (d.step < 0 || d.step >= static_cast<int>(steps.size())) continue;
          steps[static_cast<size_t>(d.step)].has_dep = true;
        }
      }
    }
  }
}

std::string_view OpTypeName(OpType op) {
  switch (op) {
    case OpType::kSend: return "s";
    case OpType::kRecv: return "r";
    case OpType::kRecvCopySend: return "rcs";
    case OpType::kRecvReduceSend: return "rrs";
    case OpType::kRecvReduceCopy: return "rrc";
    case OpType::kRecvReduceCopySend: return "rrcs";
    case OpType::kCopy: return "cpy";
    case OpType::kReduce: return "re";
    case OpType::kNop: return "nop";
    case OpType::kResidualAdd: return "ra";
  }
  return "?";
}

std::string_view BufferName(Buffer b) {
  switch (b) {
    case Buffer::kInput: return "i";
    case Buffer::kOutput: return "o";
    case Buffer::kScratch: return "s";
  }
  return "?";
}

std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kSimple: return "Simple";
    case Protocol::kLL: return "LL";
    case Protocol::kLL128: return "LL128";
  }
  return "?";
}

std::string_view CollectiveDisplayName(Collective c) {
  switch (c) {
    case Collective::kAllReduce: return "allreduce";
    case Collective::kAllGather: return "allgather";
    case Collective::kReduceScatter: return "reducescatter";
    case Collective::kReduce: return "reduce";
    case Collective::kBroadcast: return "broadcast";
    case Collective::kAllToAll: return "alltoall";
    case Collective::kAllToAllV: return "alltoallv";
    case Collective::kSend: return "send";
    case Collective::kRecv: return "recv";
    case Collective::kGather: return "gather";
    case Collective::kScatter: return "scatter";
    case Collective::kCustom: return "custom";
  }
  return "?";
}

StatusOr<OpType> ParseOpType(std::string_view t) {
  static constexpr OpType kAll[] = {
      OpType::kSend, OpType::kRecv, OpType::kRecvCopySend, OpType::kRecvReduceSend,
      OpType::kRecvReduceCopy, OpType::kRecvReduceCopySend, OpType::kCopy, OpType::kReduce,
      OpType::kNop, OpType::kResidualAdd};
  for (OpType op : kAll)
    if (OpTypeName(op) == t) return op;
  return InvalidArgumentError(StrCat("unknown step type '", t,
                                     "' (expected s, r, rcs, rrs, rrc, rrcs, cpy, re, nop)"));
}

StatusOr<Buffer> ParseBuffer(std::string_view t) {
  if (t == "i") return Buffer::kInput;
  if (t == "o") return Buffer::kOutput;
  if (t == "s") return Buffer::kScratch;
  return InvalidArgumentError(StrCat("unknown buffer '", t, "' (expected i, o or s)"));
}

StatusOr<Protocol> ParseProtocol(std::string_view t) {
  if (t == "Simple") return Protocol::kSimple;
  if (t == "LL") return Protocol::kLL;
  if (t == "LL128") return Protocol::kLL128;
  return InvalidArgumentError(StrCat("unknown proto '", t, "' (expected Simple, LL or LL128)"));
}

std::string Where(int gpu, int tb, int step) {
  std::string s = StrCat("gpu ", gpu);
  if (tb >= 0) s += StrCat(" tb ", tb);
  if (step >= 0) s += StrCat(" step ", step);
  return s;
}

Step MakeStep(OpType op, Buffer src, int src_offset, Buffer dst, int dst_offset, int count) {
  Step s;
  s.op = op;
  s.src_buffer = src;
  s.src_offset = src_offset;
  s.dst_buffer = dst;
  s.dst_offset = dst_offset;
  s.count = count;
  return s;
}

}  // namespace loom::comm::program
