// The program interpreter: executes any valid Program (loom/comm/program/program.h) on any
// Transport, as the MSCCL runtimes do (docs/formats/msccl-xml.md, "Execution semantics"):
// every chunk is cut into slices of `slice_bytes`; in iteration i every thread block runs all
// its steps on slice i; a dependency waits for the producer's step in the same iteration, so
// thread blocks drift across iterations and the program is pipelined over slices. Sends and
// receives match FIFO per connection (sender, receiver, channel), each connection carrying at
// most `credits` unreceived messages. The reduction is the call's `op`.
//
// Per rank all thread blocks are state machines in one event loop over non-blocking
// Isend/Irecv/Test (no thread per block). A rank that makes no progress for the transport's
// timeout returns Unavailable naming the blocked gpu/tb/step.
//
// Buffers: with C = count·m / nchunksperloop elements per chunk (m = ngpus for allgather,
// reduce-scatter and alltoall, else 1), rank r's input holds i_chunks·C elements and its output
// o_chunks·C (see BufferShape). Passing input == output runs the program in place (allowed
// only when program.in_place and i_chunks == o_chunks); otherwise the program must allow out
// of place. The caller's input is never written: a program that writes `i` works on a copy.
// avg reduces as sum and divides the output once at the end.
//
// Thread-safety: one call per rank, on that rank's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/communicator.h"
#include "loom/comm/dtype.h"
#include "loom/comm/program/program.h"

namespace loom::comm {

struct BufferShape {
  size_t chunk_elements = 0;   // C
  size_t input_elements = 0;   // i_chunks · C of this rank
  size_t output_elements = 0;  // o_chunks · C
  size_t scratch_elements = 0;
};

// The buffer sizes of `rank` for a call with `count` (the collective's count, as for
// Communicator). InvalidArgument when count·m is not a multiple of nchunksperloop.
StatusOr<BufferShape> ShapeFor(const program::Program& program, int rank, size_t count);

struct TraceEvent {
  int rank, tb, iteration, step;
  int64_t start_ns, end_ns;  // NowNanos() when the step became ready and when it completed
};

struct ExecuteOptions {
  size_t slice_bytes = size_t{2} << 20;  // NCCL Simple: 4 MiB buffer / 8 steps × 4 chunk steps
  int credits = 2;
  bool validate = true;                  // run ValidateProgram (with the schedule check) first
  std::vector<TraceEvent>* trace = nullptr;  // per-step events of this rank, appended
  // Nonzero: a randomized schedule for race hunting. Each sweep visits this rank's thread
  // blocks in a random order, and a thread block yields after each step with probability 1/2,
  // so steps that no dependency or message orders run in seed-dependent orders. A race-free
  // program gives the same result under every seed.
  uint64_t schedule_seed = 0;
};

Status Execute(const program::Program& program, Communicator& comm, const void* input,
               void* output, size_t count, DataType dtype, ReduceOp op,
               const ExecuteOptions& options = {});

}  // namespace loom::comm
