// The collective-program IR: MSCCL's primitive vocabulary as plain C++ values. A Program is
// what taccl emits, what the MSCCL XML reader/writer (xml.h) serialises, what the validator
// (validate.h) checks and what the interpreter executes. Nothing here depends on a backend.
//
// Model (docs/formats/msccl-xml.md has the full semantics):
//   Program  = collective, ngpus, nchunksperloop, protocol, channels, flags, byte range, and per
//              rank a GpuProgram.
//   GpuProgram = the number of chunks in the input (i), output (o) and scratch (s) buffers of
//              that rank, and its thread blocks.
//   ThreadBlock = at most one send peer and one receive peer, a channel, and steps run in order.
//   Step     = an op on chunks `src_offset .. src_offset+count-1` of `src_buffer` and/or
//              `dst_offset ..` of `dst_buffer`, plus dependencies on steps of other thread
//              blocks of the same rank.
//
// Dependencies are a list per step here; XML allows one per step and lowers the rest to
// preceding `nop` steps (xml.cc). A dependency names the producer by thread-block id and the
// index of the step in that thread block's `steps` vector (not the XML `s` attribute).
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loom/base/status.h"

namespace loom::comm::program {

// The collective a program implements. kCustom is the legacy runtime's `custom`; kSend ..
// kAllToAllV exist only in msccl-executor.
enum class Collective {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kReduce,
  kBroadcast,
  kAllToAll,
  kAllToAllV,
  kSend,
  kRecv,
  kGather,
  kScatter,
  kCustom,
};

enum class Protocol { kSimple, kLL, kLL128 };

// Buffers a step addresses: the call's input, its output, and a per-rank scratch buffer.
enum class Buffer { kInput, kOutput, kScratch };

// The MSCCL step types. ⊕ is the reduction of the call that executes the program.
enum class OpType {
  kSend,                // s: send src chunks to the TB's send peer
  kRecv,                // r: receive from the recv peer into dst
  kRecvCopySend,        // rcs: receive into dst and forward to the send peer
  kRecvReduceSend,      // rrs: receive, ⊕ src, send (nothing stored)
  kRecvReduceCopy,      // rrc: receive, ⊕ src, store into dst
  kRecvReduceCopySend,  // rrcs: receive, ⊕ src, store into dst and send
  kCopy,                // cpy: dst = src (local)
  kReduce,              // re: dst = dst ⊕ src (local)
  kNop,                 // nop: carries a dependency only
  kResidualAdd,         // ra: read for round trips only; no runtime executes it (validate rejects)
};

// What an op touches. Used by the validator, the interpreter and taccl.
struct OpTraits {
  bool sends;
  bool receives;
  bool reads_src;   // reads src chunks (checked against the src buffer's size)
  bool writes_dst;  // writes dst chunks
  bool reads_dst;   // re reads dst before writing it
  bool reduces;     // applies ⊕
};
OpTraits TraitsOf(OpType op);

// A dependency: wait until step `step` of thread block `tb` (same rank) has finished (for the
// same slice iteration).
struct StepRef {
  int tb = -1;
  int step = -1;
  friend bool operator==(const StepRef&, const StepRef&) = default;
};

struct Step {
  OpType op = OpType::kNop;
  Buffer src_buffer = Buffer::kInput;
  int src_offset = -1;  // -1: unused by this op
  Buffer dst_buffer = Buffer::kOutput;
  int dst_offset = -1;
  int count = 1;        // chunks; 0 only for nop
  std::vector<StepRef> deps;
  // Another step depends on this one, so the thread block publishes a flag after it. The
  // writer recomputes it (ComputeHasDep); the reader keeps what the file says.
  bool has_dep = false;
  friend bool operator==(const Step&, const Step&) = default;
};

struct ThreadBlock {
  int id = 0;
  int send_peer = -1;  // -1: this TB never sends
  int recv_peer = -1;  // -1: this TB never receives
  int channel = 0;
  std::vector<Step> steps;
  friend bool operator==(const ThreadBlock&, const ThreadBlock&) = default;
};

struct GpuProgram {
  int rank = 0;
  int input_chunks = 0;
  int output_chunks = 0;
  int scratch_chunks = 0;
  std::vector<ThreadBlock> tbs;  // tbs[i].id == i after validation
  friend bool operator==(const GpuProgram&, const GpuProgram&) = default;

  int ChunksIn(Buffer b) const {
    return b == Buffer::kInput ? input_chunks : b == Buffer::kOutput ? output_chunks : scratch_chunks;
  }
};

// The legacy runtime's defaults for an absent byte range.
inline constexpr int64_t kLegacyDefaultMaxBytes = int64_t{1} << 27;  // 128 MiB

struct Program {
  std::string name;
  Collective collective = Collective::kAllReduce;
  Protocol protocol = Protocol::kSimple;
  int num_ranks = 0;         // ngpus
  int num_channels = 1;      // nchannels
  int chunks_per_loop = 1;   // nchunksperloop
  bool in_place = false;     // inplace: valid when input and output alias
  // Executor: valid for distinct input/output. Legacy files do not carry it; nullopt = absent.
  std::optional<bool> out_of_place;
  std::optional<int64_t> min_bytes;  // absent in the file = nullopt
  std::optional<int64_t> max_bytes;
  std::optional<int> num_threads;    // legacy `nthreads`
  std::optional<std::string> reduce_op;  // `redop` (TACCL writes "nop"); kept, never executed
  std::vector<GpuProgram> gpus;          // gpus[r].rank == r after validation
  friend bool operator==(const Program&, const Program&) = default;

  // The byte range as a runtime applies it (legacy defaults when absent).
  int64_t MinBytesOrDefault() const { return min_bytes.value_or(0); }
  int64_t MaxBytesOrDefault() const { return max_bytes.value_or(kLegacyDefaultMaxBytes); }
};

// m in "elements per chunk = count·m / nchunksperloop": ngpus for allgather, reduce-scatter and
// alltoall (their count is per rank), 1 otherwise.
int SizeMultiplier(Collective c, int num_ranks);

// Sets has_dep on exactly the steps some other step depends on.
void ComputeHasDep(Program& program);

// Names used in XML and messages.
std::string_view OpTypeName(OpType op);             // "s", "rrc", ...
std::string_view BufferName(Buffer b);              // "i", "o", "s"
std::string_view ProtocolName(Protocol p);          // "Simple", "LL", "LL128"
std::string_view CollectiveDisplayName(Collective c);  // "allreduce", "reducescatter", ...
StatusOr<OpType> ParseOpType(std::string_view text);
StatusOr<Buffer> ParseBuffer(std::string_view text);
StatusOr<Protocol> ParseProtocol(std::string_view text);

// A step without dependencies from its op, source and destination (offset -1: unused).
Step MakeStep(OpType op, Buffer src, int src_offset, Buffer dst, int dst_offset, int count = 1);

// "gpu 3 tb 1 step 4": how every message locates a step.
std::string Where(int gpu, int tb = -1, int step = -1);

}  // namespace loom::comm::program
