#include "loom/taccl/reference_exec.h"

#include <deque>
#include <limits>
#include <map>
#include <tuple>
#include <vector>

#include "loom/base/strings.h"

namespace loom::taccl {
namespace {

constexpr int64_t kPoison = std::numeric_limits<int64_t>::min();

int64_t Tag(int iter, int rank, int chunk, int e) {
  return ((static_cast<int64_t>(iter) * 1009 + rank) * 100003 + chunk) * 17 + e + 1;
}

struct Storage {
  std::vector<int64_t> in, out, scratch;
};

}  // namespace

Status ExecuteAndCheck(const Program& p, int E, int iterations) {
  const int N = p.ngpus();
  if (N < 1) return InvalidArgumentError("program has no GPUs");
  const int L = p.nchunksperloop;
  const bool ag = p.coll == Collective::kAllGather, rs = p.coll == Collective::kReduceScatter;
  const bool ar = p.coll == Collective::kAllReduce, a2a = p.coll == Collective::kAllToAll;
  const bool bc = p.coll == Collective::kBroadcast;
  if ((ag || rs || a2a) && (L % N != 0 || L < N))
    return InvalidArgumentError(StrCat("nchunksperloop ", L, " is not a multiple of ", N, " GPUs"));
  if (ar && L < 1) return InvalidArgumentError("nchunksperloop must be >= 1");
  const int k = ag || rs ? L / N : (a2a ? L / N : L);
  for (int r = 0; r < N; ++r)
    if (p.gpus[r].s_chunks > (1 << 16)) return InvalidArgumentError(StrCat("gpu ", r, ": too many scratch chunks"));
  if (bc && (p.root < 0 || p.root >= N)) return InvalidArgumentError("broadcast root is not a rank");
  // Storage per (iteration, gpu). In-place AG keeps only `out` (input aliases out[r*k..]);
  // in-place RS only `in` (output aliases in[r*k..]); in-place AR one buffer.
  std::vector<std::vector<Storage>> st(iterations, std::vector<Storage>(N));
  for (int it = 0; it < iterations; ++it)
    for (int r = 0; r < N; ++r) {
      Storage& s = st[it][r];
      s.in.assign(static_cast<size_t>(L) * E, kPoison);
      s.out.assign(static_cast<size_t>(L) * E, kPoison);
      s.scratch.assign(static_cast<size_t>(std::max(0, p.gpus[r].s_chunks)) * E, kPoison);
      for (int c = 0; c < L; ++c)
        for (int e = 0; e < E; ++e) {
          size_t x = static_cast<size_t>(c) * E + e;
          if (ag && c / k == r) s.out[x] = Tag(it, r, c, e);
          if (rs || ar || a2a) s.in[x] = Tag(it, r, c, e);
          if (bc && r == p.root) s.out[x] = Tag(it, r, c, e);
        }
    }
  // Resolves (buffer, offset) of gpu r to a span in its storage, honouring in-place aliasing.
  auto resolve = [&](int it, int r, char buf, int off, int cnt, std::string* err) -> int64_t* {
    Storage& s = st[it][r];
    std::vector<int64_t>* v = nullptr;
    int base = 0;
    if (buf == 's') v = &s.scratch;
    else if (ag || bc) { v = &s.out; if (buf == 'i' && p.inplace && ag) base = r * k; }
    else if (rs) { v = &s.in; if (buf == 'o' && p.inplace) base = r * k; }
    else if (ar) v = p.inplace || buf == 'i' ? &s.in : &s.out;
    else v = buf == 'i' ? &s.in : &s.out;
    if (buf != 'i' && buf != 'o' && buf != 's') { *err = StrCat("buffer '", std::string(1, buf), "'"); return nullptr; }
    size_t first = static_cast<size_t>(base + off) * E, len = static_cast<size_t>(cnt) * E;
    if (off < 0 || first + len > v->size()) {
      *err = StrCat("offset ", off, " + cnt ", cnt, " outside buffer '", std::string(1, buf), "'");
      return nullptr;
    }
    return v->data() + first;
  };
  struct Head { int it = 0, step = 0; };
  std::vector<std::vector<Head>> head(N);
  std::vector<std::vector<int64_t>> completed(N);  // per TB: steps completed over all iterations
  for (int r = 0; r < N; ++r) {
    head[r].assign(p.gpus[r].tbs.size(), {});
    completed[r].assign(p.gpus[r].tbs.size(), 0);
  }
  std::map<std::tuple<int, int, int>, std::deque<std::vector<int64_t>>> fifo;
  bool progress = true;
  while (progress) {
    progress = false;
    for (int r = 0; r < N; ++r)
      for (size_t t = 0; t < p.gpus[r].tbs.size(); ++t) {
        const ThreadBlock& tb = p.gpus[r].tbs[t];
        Head& h = head[r][t];
        while (h.it < iterations && !tb.steps.empty()) {
          const Step& s = tb.steps[h.step];
          std::string where = StrCat("gpu ", r, " tb ", t, " step ", h.step, " (", StepTypeName(s.type), ")");
          if (s.depid >= 0) {
            if (s.depid >= static_cast<int>(tb.steps.size() + p.gpus[r].tbs.size()) ||
                s.depid >= static_cast<int>(p.gpus[r].tbs.size()) || s.deps < 0 ||
                s.deps >= static_cast<int>(p.gpus[r].tbs[s.depid].steps.size()))
              return InvalidArgumentError(where + ": dependency on a missing step");
            int64_t need = static_cast<int64_t>(h.it) * p.gpus[r].tbs[s.depid].steps.size() + s.deps;
            if (completed[r][s.depid] <= need) break;
          }
          bool recv = s.type == StepType::kRecv || s.type == StepType::kRecvCopySend ||
                      s.type == StepType::kRecvReduceSend || s.type == StepType::kRecvReduceCopy ||
                      s.type == StepType::kRecvReduceCopySend;
          bool send = s.type == StepType::kSend || s.type == StepType::kRecvCopySend ||
                      s.type == StepType::kRecvReduceSend || s.type == StepType::kRecvReduceCopySend;
          std::vector<int64_t> data;
          std::string err;
          const size_t len = static_cast<size_t>(s.cnt) * E;
          if (recv) {
            if (tb.recv < 0) return InvalidArgumentError(where + ": receive on a TB without a recv peer");
            auto& q = fifo[{tb.recv, r, tb.chan}];
            if (q.empty()) break;
            data = std::move(q.front());
            q.pop_front();
            if (data.size() != len)
              return InvalidArgumentError(StrCat(where, ": receives ", data.size() / E, " chunks, sender sent a different count"));
          }
          if (s.type == StepType::kSend || s.type == StepType::kCopy || s.type == StepType::kReduce ||
              s.type == StepType::kRecvReduceSend || s.type == StepType::kRecvReduceCopy ||
              s.type == StepType::kRecvReduceCopySend) {
            int64_t* src = resolve(h.it, r, s.srcbuf, s.srcoff, s.cnt, &err);
            if (!src) return InvalidArgumentError(where + ": source " + err);
            if (s.type == StepType::kSend || s.type == StepType::kCopy) {
              data.assign(src, src + len);
            } else if (s.type == StepType::kReduce) {
              int64_t* dst = resolve(h.it, r, s.dstbuf, s.dstoff, s.cnt, &err);
              if (!dst) return InvalidArgumentError(where + ": destination " + err);
              data.assign(dst, dst + len);
              for (size_t x = 0; x < len; ++x) data[x] += src[x];
            } else {
              for (size_t x = 0; x < len; ++x) data[x] += src[x];
            }
            for (size_t x = 0; x < len; ++x)
              if (src[x] == kPoison) return InternalError(where + ": reads data that was never written");
          }
          bool writes = s.type == StepType::kRecv || s.type == StepType::kRecvCopySend ||
                        s.type == StepType::kRecvReduceCopy || s.type == StepType::kRecvReduceCopySend ||
                        s.type == StepType::kCopy || s.type == StepType::kReduce;
          if (writes) {
            int64_t* dst = resolve(h.it, r, s.dstbuf, s.dstoff, s.cnt, &err);
            if (!dst) return InvalidArgumentError(where + ": destination " + err);
            std::copy(data.begin(), data.end(), dst);
          }
          if (send) {
            if (tb.send < 0) return InvalidArgumentError(where + ": send on a TB without a send peer");
            fifo[{r, tb.send, tb.chan}].push_back(std::move(data));
          }
          ++completed[r][t];
          progress = true;
          if (++h.step == static_cast<int>(tb.steps.size())) {
            h.step = 0;
            ++h.it;
          }
        }
      }
  }
  for (int r = 0; r < N; ++r)
    for (size_t t = 0; t < p.gpus[r].tbs.size(); ++t)
      if (head[r][t].it < iterations && !p.gpus[r].tbs[t].steps.empty())
        return InternalError(StrCat("program deadlocks: gpu ", r, " tb ", t, " waits at step ",
                                    head[r][t].step, " of iteration ", head[r][t].it));
  for (const auto& [key, q] : fifo)
    if (!q.empty())
      return InternalError(StrCat("gpu ", std::get<0>(key), " sent ", q.size(),
                                  " messages to gpu ", std::get<1>(key), " that were never received"));
  // Post-conditions.
  for (int it = 0; it < iterations; ++it)
    for (int r = 0; r < N; ++r)
      for (int c = 0; c < L; ++c)
        for (int e = 0; e < E; ++e) {
          size_t x = static_cast<size_t>(c) * E + e;
          int64_t got = 0, want = 0;
          bool check = true;
          if (ag) { got = st[it][r].out[x]; want = Tag(it, c / k, c, e); }
          else if (bc) { got = st[it][r].out[x]; want = Tag(it, p.root, c, e); }
          else if (rs || ar) {
            check = ar || c / k == r;
            got = st[it][r].in[x];
            want = 0;
            for (int q = 0; q < N; ++q) want += Tag(it, q, c, e);
          } else {  // alltoall: out[s*k+j] at d = in[d*k+j] at s
            int s = c / k, j = c % k;
            got = st[it][r].out[x];
            want = Tag(it, s, r * k + j, e);
          }
          if (check && got != want)
            return InternalError(StrCat("wrong result: iteration ", it, " rank ", r, " chunk ", c,
                                        " element ", e, got == kPoison ? " never written" : " holds wrong data"));
        }
  return OkStatus();
}

}  // namespace loom::taccl
