// An MSCCL program (<algo> -> <gpu> -> <tb> -> <step>), the lowering of an Algorithm into it,
// and the MSCCL XML writer for both runtime dialects (brief section 3.8).
//
// This is taccl's own copy of the program structure, kept minimal until comm's program IR lands
// (issue 3); the writer follows the same attribute rules, so the two can be swapped later.
// Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loom/base/status.h"
#include "loom/taccl/algorithm.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

enum class StepType { kSend, kRecv, kRecvCopySend, kRecvReduceSend, kRecvReduceCopy,
                      kRecvReduceCopySend, kCopy, kReduce, kNop };
const char* StepTypeName(StepType t);  // "s", "r", "rcs", ...

struct Step {
  StepType type = StepType::kNop;
  char srcbuf = 'i', dstbuf = 'o';  // 'i', 'o' or 's'
  int srcoff = -1, dstoff = -1;
  int cnt = 1;
  int depid = -1, deps = -1;  // threadblock and step on the same GPU
  bool hasdep = false;
};

struct ThreadBlock {
  int send = -1, recv = -1, chan = 0;
  std::vector<Step> steps;
};

struct GpuProgram {
  int i_chunks = 0, o_chunks = 0, s_chunks = 0;
  std::vector<ThreadBlock> tbs;
};

struct Program {
  std::string name = "loom-taccl";
  Collective coll = Collective::kAllGather;
  std::string proto = "Simple";
  int nchannels = 1;
  int nchunksperloop = 1;
  bool inplace = true;
  int root = 0;  // Broadcast (not an MSCCL attribute; the runtimes assume rank 0)
  uint64_t min_bytes = 0, max_bytes = 0;  // 0 max = unbounded (executor); old runtime: 2^27
  std::vector<GpuProgram> gpus;
  int ngpus() const { return static_cast<int>(gpus.size()); }
};

// Lowers the schedule: one TB per (direction, peer, channel), steps in schedule order, one
// dependency per step (extra ones on preceding nops), hasdep on every step others wait for.
// AG, RS, AR and Broadcast are in place; AllToAll is out of place and relays through scratch.
// split_levels: sends of data that has travelled 0, 1, 2+ hops go on separate channels (TBs), so
// forwarding that waits for relayed data does not block the sender's ready data; the synthesizer
// lowers both ways and keeps the faster.
StatusOr<Program> Lower(const Algorithm& algo, const Topology& topo, bool split_levels = false);

enum class Dialect { kOriginal, kExecutor };
StatusOr<Dialect> ParseDialect(const std::string& name);  // "original" | "executor"
std::string WriteXml(const Program& program, Dialect dialect);

// Reads MSCCL XML (either dialect) back; errors name the line and element (xml_reader.cc).
StatusOr<Program> ParseProgramXml(std::string_view text, std::string_view source);

}  // namespace loom::taccl
