// The program interpreter (interpreter.h): one event loop per rank over thread-block state
// machines.
#include "loom/comm/interpreter.h"

#include <chrono>
#include <cstring>
#include <deque>
#include <thread>

#include "loom/base/random.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/program/validate.h"

namespace loom::comm {

using program::Buffer;
using program::GpuProgram;
using program::OpTraits;
using program::OpType;
using program::Program;
using program::Step;
using program::ThreadBlock;

StatusOr<BufferShape> ShapeFor(const Program& p, int rank, size_t count) {
  if (rank < 0 || rank >= static_cast<int>(p.gpus.size()))
    return InvalidArgumentError(StrCat("program has no gpu ", rank));
  size_t m = static_cast<size_t>(program::SizeMultiplier(p.collective, p.num_ranks));
  size_t total = count * m, loop = static_cast<size_t>(p.chunks_per_loop);
  if (loop == 0 || total % loop != 0)
    return InvalidArgumentError(StrCat("count ", count, " x ", m, " is not a multiple of "
                                       "nchunksperloop=", p.chunks_per_loop));
  const GpuProgram& g = p.gpus[static_cast<size_t>(rank)];
  BufferShape s;
  s.chunk_elements = total / loop;
  s.input_elements = static_cast<size_t>(g.input_chunks) * s.chunk_elements;
  s.output_elements = static_cast<size_t>(g.output_chunks) * s.chunk_elements;
  s.scratch_elements = static_cast<size_t>(g.scratch_chunks) * s.chunk_elements;
  return s;
}

namespace {

struct PendingSend {
  Request request;
  std::vector<std::byte> data;  // staged: the runtime reads the source when the step runs
};

struct TbState {
  int iteration = 0;
  size_t step = 0;
  bool recv_posted = false;
  Request recv;
  std::vector<std::byte> staging;
  std::deque<PendingSend> sends;
  int64_t ready_ns = 0;
};

class Runner {
 public:
  Runner(const Program& p, Communicator& comm, const BufferShape& shape, std::byte* in,
         std::byte* out, DataType dtype, ReduceOp op, const ExecuteOptions& o, int tag)
      : p_(p), g_(p.gpus[static_cast<size_t>(comm.rank())]), t_(comm.transport()),
        shape_(shape), in_(in), out_(out), dtype_(dtype), op_(op), o_(o), tag_(tag),
        es_(DataTypeSize(dtype)), tbs_(g_.tbs.size()),
        rng_(Prng(o.schedule_seed).Fork(static_cast<uint64_t>(comm.rank()))) {
    scratch_.resize(shape.scratch_elements * es_);
    slice_ = std::max<size_t>(1, o.slice_bytes / es_);
    iterations_ = shape.chunk_elements == 0
                      ? 0
                      : static_cast<int>((shape.chunk_elements + slice_ - 1) / slice_);
  }

  Status Run() {
    int64_t last_progress = NowNanos();
    int idle = 0;
    std::vector<size_t> visit(tbs_.size());
    for (size_t t = 0; t < visit.size(); ++t) visit[t] = t;
    while (true) {
      bool done = true, progress = false;
      if (o_.schedule_seed != 0)
        for (size_t i = visit.size(); i > 1; --i) std::swap(visit[i - 1], visit[rng_.Uniform(i)]);
      for (size_t t : visit) {
        auto moved = Advance(t);
        if (!moved.ok())
          return moved.status().WithContext(StrCat(
              program::Where(t_.rank(), g_.tbs[t].id, static_cast<int>(tbs_[t].step)),
              " (iteration ", tbs_[t].iteration, ")"));
        progress = progress || *moved;
        TbState& s = tbs_[t];
        if (s.iteration < iterations_ || !s.sends.empty()) done = false;
      }
      if (done) return OkStatus();
      if (progress) {
        last_progress = NowNanos();
        idle = 0;
        continue;
      }
      if ((NowNanos() - last_progress) / 1000000 > t_.timeout_ms()) return Stuck();
      if (++idle < 64) std::this_thread::yield();
      else std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

 private:
  std::byte* Base(Buffer b) {
    switch (b) {
      case Buffer::kInput: return in_;
      case Buffer::kOutput: return out_;
      case Buffer::kScratch: return scratch_.data();
    }
    return nullptr;
  }
  // Elements [lo, hi) of this iteration's slice of a chunk.
  size_t SliceLo(int it) const { return static_cast<size_t>(it) * slice_; }
  size_t SliceLen(int it) const {
    return std::min(shape_.chunk_elements, SliceLo(it) + slice_) - SliceLo(it);
  }
  std::byte* ChunkSlice(Buffer b, int chunk, int it) {
    return Base(b) + (static_cast<size_t>(chunk) * shape_.chunk_elements + SliceLo(it)) * es_;
  }
  // Copies the `count` chunk slices starting at `off` into a contiguous buffer and back.
  void Gather(Buffer b, int off, int count, int it, std::byte* dst) {
    size_t len = SliceLen(it) * es_;
    for (int c = 0; c < count; ++c) std::memcpy(dst + static_cast<size_t>(c) * len, ChunkSlice(b, off + c, it), len);
  }
  void Scatter(const std::byte* src, Buffer b, int off, int count, int it) {
    size_t len = SliceLen(it) * es_;
    for (int c = 0; c < count; ++c) std::memmove(ChunkSlice(b, off + c, it), src + static_cast<size_t>(c) * len, len);
  }
  void ReduceWith(std::byte* acc, Buffer b, int off, int count, int it) {
    size_t n = SliceLen(it);
    for (int c = 0; c < count; ++c)
      ReduceInto(dtype_, op_, acc + static_cast<size_t>(c) * n * es_, ChunkSlice(b, off + c, it), n);
  }

  bool DepsMet(const Step& st, int it) const {
    for (const auto& d : st.deps) {
      const TbState& o = tbs_[static_cast<size_t>(d.tb)];
      if (o.iteration > it) continue;
      if (o.iteration == it && o.step > static_cast<size_t>(d.step)) continue;
      return false;
    }
    return true;
  }
  int Tag(const ThreadBlock& tb) const { return tag_ + tb.channel; }

  // Drains completed sends; true when one completed.
  StatusOr<bool> PollSends(TbState& s) {
    bool any = false;
    while (!s.sends.empty()) {
      LOOM_ASSIGN_OR_RETURN(bool done, t_.Test(s.sends.front().request));
      if (!done) break;
      s.sends.pop_front();
      any = true;
    }
    return any;
  }

  Status PostSend(const ThreadBlock& tb, TbState& s, std::vector<std::byte> data) {
    PendingSend ps;
    ps.data = std::move(data);
    LOOM_ASSIGN_OR_RETURN(ps.request, t_.Isend(tb.send_peer, Tag(tb), ps.data));
    s.sends.push_back(std::move(ps));
    return OkStatus();
  }

  // Moves thread block t as far as it can go now; true if anything happened.
  StatusOr<bool> Advance(size_t t) {
    const ThreadBlock& tb = g_.tbs[t];
    TbState& s = tbs_[t];
    LOOM_ASSIGN_OR_RETURN(bool progress, PollSends(s));
    while (s.iteration < iterations_) {
      if (tb.steps.empty()) {
        s.iteration = iterations_;
        return true;
      }
      const Step& st = tb.steps[s.step];
      const int it = s.iteration;
      const OpTraits tr = program::TraitsOf(st.op);
      const size_t bytes = static_cast<size_t>(st.count) * SliceLen(it) * es_;
      if (!s.recv_posted) {
        if (!DepsMet(st, it)) return progress;
        if (tr.sends && static_cast<int>(s.sends.size()) >= o_.credits) return progress;
        if (s.ready_ns == 0) s.ready_ns = NowNanos();
        if (tr.receives) {
          s.staging.resize(bytes);
          LOOM_ASSIGN_OR_RETURN(s.recv, t_.Irecv(tb.recv_peer, Tag(tb), s.staging));
          s.recv_posted = true;
          progress = true;
        }
      }
      if (s.recv_posted) {
        LOOM_ASSIGN_OR_RETURN(bool got, t_.Test(s.recv));
        if (!got) return progress;
        s.recv_posted = false;
      }
      // The step's data movement.
      switch (st.op) {
        case OpType::kSend: {
          std::vector<std::byte> data(bytes);
          Gather(st.src_buffer, st.src_offset, st.count, it, data.data());
          LOOM_RETURN_IF_ERROR(PostSend(tb, s, std::move(data)));
          break;
        }
        case OpType::kRecv:
          Scatter(s.staging.data(), st.dst_buffer, st.dst_offset, st.count, it);
          break;
        case OpType::kRecvCopySend:
          Scatter(s.staging.data(), st.dst_buffer, st.dst_offset, st.count, it);
          LOOM_RETURN_IF_ERROR(PostSend(tb, s, std::move(s.staging)));
          s.staging = {};
          break;
        case OpType::kRecvReduceSend:
          ReduceWith(s.staging.data(), st.src_buffer, st.src_offset, st.count, it);
          LOOM_RETURN_IF_ERROR(PostSend(tb, s, std::move(s.staging)));
          s.staging = {};
          break;
        case OpType::kRecvReduceCopy:
          ReduceWith(s.staging.data(), st.src_buffer, st.src_offset, st.count, it);
          Scatter(s.staging.data(), st.dst_buffer, st.dst_offset, st.count, it);
          break;
        case OpType::kRecvReduceCopySend:
          ReduceWith(s.staging.data(), st.src_buffer, st.src_offset, st.count, it);
          Scatter(s.staging.data(), st.dst_buffer, st.dst_offset, st.count, it);
          LOOM_RETURN_IF_ERROR(PostSend(tb, s, std::move(s.staging)));
          s.staging = {};
          break;
        case OpType::kCopy: {
          std::vector<std::byte> tmp(bytes);  // src and dst ranges may overlap
          Gather(st.src_buffer, st.src_offset, st.count, it, tmp.data());
          Scatter(tmp.data(), st.dst_buffer, st.dst_offset, st.count, it);
          break;
        }
        case OpType::kReduce: {
          size_t n = SliceLen(it);
          for (int c = 0; c < st.count; ++c)
            ReduceInto(dtype_, op_, ChunkSlice(st.dst_buffer, st.dst_offset + c, it),
                       ChunkSlice(st.src_buffer, st.src_offset + c, it), n);
          break;
        }
        case OpType::kNop:
          break;
        case OpType::kResidualAdd:
          return InternalError("'ra' reached the interpreter (the validator rejects it)");
      }
      if (o_.trace)
        o_.trace->push_back({t_.rank(), tb.id, it, static_cast<int>(s.step), s.ready_ns, NowNanos()});
      s.ready_ns = 0;
      progress = true;
      if (++s.step == tb.steps.size()) {
        s.step = 0;
        ++s.iteration;
      }
      if (o_.schedule_seed != 0 && rng_.Uniform(2) == 0) return progress;
    }
    return progress;
  }

  Status Stuck() {
    for (size_t t = 0; t < tbs_.size(); ++t) {
      TbState& s = tbs_[t];
      const ThreadBlock& tb = g_.tbs[t];
      if (s.iteration >= iterations_ && s.sends.empty()) continue;
      if (s.iteration >= iterations_)
        return UnavailableError(StrCat(program::Where(t_.rank(), tb.id), ": sends to gpu ",
                                       tb.send_peer, " never received within ", t_.timeout_ms(), " ms"));
      return UnavailableError(StrCat(program::Where(t_.rank(), tb.id, static_cast<int>(s.step)),
                                     " (iteration ", s.iteration, "): no progress within ",
                                     t_.timeout_ms(), " ms", s.recv_posted
                                         ? StrCat(", waiting for a message from gpu ", tb.recv_peer)
                                         : std::string()));
    }
    return UnavailableError("interpreter: no progress");
  }

  const Program& p_;
  const GpuProgram& g_;
  Transport& t_;
  BufferShape shape_;
  std::byte* in_;
  std::byte* out_;
  DataType dtype_;
  ReduceOp op_;
  const ExecuteOptions& o_;
  int tag_;
  size_t es_;
  size_t slice_ = 1;
  int iterations_ = 0;
  std::vector<std::byte> scratch_;
  std::vector<TbState> tbs_;
  Prng rng_;  // the randomized schedule (schedule_seed != 0)
};

}  // namespace

Status Execute(const Program& p, Communicator& comm, const void* input, void* output,
               size_t count, DataType dtype, ReduceOp op, const ExecuteOptions& options) {
  const int tag = comm.NextTagBase();
  if (p.num_ranks != comm.size())
    return InvalidArgumentError(StrCat("program '", p.name, "' is for ", p.num_ranks,
                                       " ranks, the communicator has ", comm.size()));
  if (options.credits < 1) return InvalidArgumentError("credits must be at least 1");
  if (p.collective == program::Collective::kAllReduce ||
      p.collective == program::Collective::kReduceScatter ||
      p.collective == program::Collective::kReduce) {
    LOOM_RETURN_IF_ERROR(CheckElementwise(dtype, op));
  } else if (DataTypeSize(dtype) == 0) {
    return InvalidArgumentError("invalid dtype");
  }
  if (options.validate) {
    program::ValidateOptions vo;
    vo.credits = options.credits;
    Status s = program::ValidateProgram(p, vo);
    if (!s.ok()) return s.WithContext(StrCat("program '", p.name, "'"));
  }
  LOOM_ASSIGN_OR_RETURN(BufferShape shape, ShapeFor(p, comm.rank(), count));
  const size_t es = DataTypeSize(dtype);
  if ((shape.input_elements > 0 && input == nullptr) ||
      (shape.output_elements > 0 && output == nullptr))
    return InvalidArgumentError("null buffer");
  const bool in_place = input == output && input != nullptr;
  if (in_place && (!p.in_place || shape.input_elements != shape.output_elements))
    return FailedPreconditionError(StrCat("program '", p.name, "' cannot run in place"));
  if (!in_place && p.out_of_place.has_value() && !*p.out_of_place)
    return FailedPreconditionError(StrCat("program '", p.name, "' runs only in place"));
  // The input is const to the caller: give programs that write `i` a private copy.
  const GpuProgram& g = p.gpus[static_cast<size_t>(comm.rank())];
  bool writes_input = false;
  for (const ThreadBlock& tb : g.tbs)
    for (const Step& st : tb.steps)
      if (program::TraitsOf(st.op).writes_dst && st.dst_buffer == Buffer::kInput) writes_input = true;
  std::vector<std::byte> input_copy;
  std::byte* in = const_cast<std::byte*>(static_cast<const std::byte*>(input));
  if (writes_input && !in_place) {
    input_copy.assign(in, in + shape.input_elements * es);
    in = input_copy.data();
  }
  Runner runner(p, comm, shape, in, static_cast<std::byte*>(output), dtype, op, options, tag);
  LOOM_RETURN_IF_ERROR(runner.Run());
  if (p.collective == program::Collective::kAllReduce ||
      p.collective == program::Collective::kReduceScatter ||
      p.collective == program::Collective::kReduce)
    FinishAverage(dtype, op, output, shape.output_elements, comm.size());
  return OkStatus();
}

}  // namespace loom::comm
