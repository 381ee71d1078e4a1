// Ring programs (generators.h). The chunk schedule is exactly that of allreduce_ring.cc /
// allgather_ring.cc: in round k of the reduce-scatter rank r forwards chunk r-1-k, so it ends
// owning chunk r fully reduced, and every chunk is summed in the same order (bitwise equal).
#include "loom/comm/program/generators.h"

#include "loom/base/strings.h"

namespace loom::comm::program {
namespace {

Status CheckShape(int num_ranks, int channels) {
  if (num_ranks < 1) return InvalidArgumentError(StrCat("ring program: ranks=", num_ranks, " < 1"));
  if (channels < 1 || channels > 32)
    return InvalidArgumentError(StrCat("ring program: channels=", channels, " outside [1, 32]"));
  return OkStatus();
}

int Mod(int a, int p) { return ((a % p) + p) % p; }

}  // namespace

StatusOr<Program> RingAllReduceProgram(int p, int channels) {
  LOOM_RETURN_IF_ERROR(CheckShape(p, channels));
  Program prog;
  prog.name = StrCat("ring_allreduce_p", p, "_c", channels);
  prog.collective = Collective::kAllReduce;
  prog.num_ranks = p;
  prog.num_channels = channels;
  prog.chunks_per_loop = p * channels;
  prog.in_place = true;
  prog.out_of_place = true;
  prog.min_bytes = 0;
  prog.max_bytes = int64_t{1} << 40;
  const Buffer I = Buffer::kInput, O = Buffer::kOutput;
  for (int r = 0; r < p; ++r) {
    GpuProgram g;
    g.rank = r;
    g.input_chunks = p * channels;
    g.output_chunks = p * channels;
    for (int c = 0; c < channels; ++c) {
      ThreadBlock tb;
      tb.id = c;
      tb.channel = c;
      auto chunk = [&](int j) { return c * p + Mod(j, p); };
      if (p == 1) {
        tb.steps.push_back(MakeStep(OpType::kCopy, I, chunk(0), O, chunk(0)));
      } else {
        tb.send_peer = Mod(r + 1, p);
        tb.recv_peer = Mod(r - 1, p);
        tb.steps.push_back(MakeStep(OpType::kSend, I, chunk(r - 1), O, -1));
        for (int k = 1; k <= p - 2; ++k)
          tb.steps.push_back(MakeStep(OpType::kRecvReduceSend, I, chunk(r - 1 - k), O, -1));
        tb.steps.push_back(MakeStep(OpType::kRecvReduceCopySend, I, chunk(r), O, chunk(r)));
        for (int k = 1; k <= p - 2; ++k)
          tb.steps.push_back(MakeStep(OpType::kRecvCopySend, I, -1, O, chunk(r - k)));
        tb.steps.push_back(MakeStep(OpType::kRecv, I, -1, O, chunk(r + 1)));
      }
      g.tbs.push_back(std::move(tb));
    }
    prog.gpus.push_back(std::move(g));
  }
  return prog;
}

StatusOr<Program> RingAllGatherProgram(int p, int channels) {
  LOOM_RETURN_IF_ERROR(CheckShape(p, channels));
  Program prog;
  prog.name = StrCat("ring_allgather_p", p, "_c", channels);
  prog.collective = Collective::kAllGather;
  prog.num_ranks = p;
  prog.num_channels = channels;
  prog.chunks_per_loop = p * channels;
  prog.in_place = false;  // in place, rank r's input is output chunk r: the cpy would self-copy
  prog.out_of_place = true;
  prog.min_bytes = 0;
  prog.max_bytes = int64_t{1} << 40;
  const Buffer I = Buffer::kInput, O = Buffer::kOutput;
  for (int r = 0; r < p; ++r) {
    GpuProgram g;
    g.rank = r;
    g.input_chunks = channels;
    g.output_chunks = p * channels;
    for (int c = 0; c < channels; ++c) {
      ThreadBlock tb;
      tb.id = c;
      tb.channel = c;
      auto out = [&](int j) { return Mod(j, p) * channels + c; };
      tb.steps.push_back(MakeStep(OpType::kCopy, I, c, O, out(r)));
      if (p > 1) {
        tb.send_peer = Mod(r + 1, p);
        tb.recv_peer = Mod(r - 1, p);
        tb.steps.push_back(MakeStep(OpType::kSend, I, c, O, -1));
        for (int k = 1; k <= p - 2; ++k)
          tb.steps.push_back(MakeStep(OpType::kRecvCopySend, I, -1, O, out(r - k)));
        tb.steps.push_back(MakeStep(OpType::kRecv, I, -1, O, out(r - (p - 1))));
      }
      g.tbs.push_back(std::move(tb));
    }
    prog.gpus.push_back(std::move(g));
  }
  return prog;
}

}  // namespace loom::comm::program
