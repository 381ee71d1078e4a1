// The program validator (validate.h). Structure first (program, gpu, tb, step), then, when the
// structure is sound, the schedule: connection matching and a credit-bounded execution of one
// slice iteration that must run every step to completion.
#include "loom/comm/program/validate.h"

#include <map>
#include <set>
#include <tuple>

#include "loom/base/strings.h"
#include "loom/comm/program/internal/provenance.h"
#include "loom/comm/program/internal/races.h"

namespace loom::comm::program {
namespace {

class Checker {
 public:
  Checker(const Program& p, const ValidateOptions& o) : p_(p), o_(o) {}

  std::vector<Status> Run() {
    CheckProgram();
    if (Full()) return std::move(problems_);
    bool gpus_dense = true;
    for (size_t r = 0; r < p_.gpus.size(); ++r)
      if (p_.gpus[r].rank != static_cast<int>(r)) gpus_dense = false;
    for (const GpuProgram& g : p_.gpus) CheckGpu(g);
    if (problems_.empty() && gpus_dense && o_.check_schedule) {
      CheckConnections();
      if (problems_.empty()) CheckDeadlock();
      if (problems_.empty() && o_.check_races)
        internal::CheckRaces(p_, problems_, o_.max_problems);
      if (problems_.empty() && o_.check_postcondition)
        internal::CheckProvenance(p_, problems_, o_.max_problems);
    }
    return std::move(problems_);
  }

 private:
  bool Full() const { return problems_.size() >= o_.max_problems; }
  template <typename... Args>
  void Problem(const Args&... args) {
    if (!Full()) problems_.push_back(InvalidArgumentError(StrCat(args...)));
  }
  bool Legacy() const { return o_.dialect == Dialect::kMsccl; }
  bool Executor() const { return o_.dialect == Dialect::kExecutor; }

  void CheckProgram() {
    if (static_cast<int>(p_.name.size()) > kMaxNameLength)
      Problem("<algo>: name is ", p_.name.size(), " characters, at most ", kMaxNameLength);
    if (p_.num_ranks < 1) Problem("<algo>: ngpus=", p_.num_ranks, " must be at least 1");
    if (p_.num_channels < 1 || p_.num_channels > kMaxChannels)
      Problem("<algo>: nchannels=", p_.num_channels, " must be in [1, ", kMaxChannels, "]");
    if (p_.chunks_per_loop < 1 || p_.chunks_per_loop > kMaxChunks)
      Problem("<algo>: nchunksperloop=", p_.chunks_per_loop, " must be in [1, ", kMaxChunks, "]");
    if (p_.num_threads && (*p_.num_threads <= 0 || *p_.num_threads % 32 != 0 ||
                           *p_.num_threads > 1024))
      Problem("<algo>: nthreads=", *p_.num_threads, " must be a positive multiple of 32, <= 1024");
    switch (p_.collective) {
      case Collective::kCustom:
        if (Executor()) Problem("<algo>: coll custom is not supported by msccl-executor");
        break;
      case Collective::kAllToAllV:
      case Collective::kSend:
      case Collective::kRecv:
      case Collective::kGather:
      case Collective::kScatter:
        if (Legacy())
          Problem("<algo>: coll ", CollectiveDisplayName(p_.collective),
                  " exists only in msccl-executor");
        break;
      default:
        break;
    }
    if (Executor()) {
      if (!p_.out_of_place) Problem("<algo>: msccl-executor requires 'outofplace'");
      if (!p_.min_bytes) Problem("<algo>: msccl-executor requires 'minBytes'");
      if (!p_.max_bytes) Problem("<algo>: msccl-executor requires 'maxBytes'");
    }
    int64_t lo = p_.MinBytesOrDefault(), hi = p_.MaxBytesOrDefault();
    if (lo < 0 || hi < lo)
      Problem("<algo>: byte range minBytes=", lo, " maxBytes=", hi, " needs 0 <= min <= max");
    if (!p_.in_place && p_.out_of_place.has_value() && !*p_.out_of_place)
      Problem("<algo>: inplace=0 and outofplace=0: no call could use this program");
    if (p_.num_ranks >= 1 && static_cast<int>(p_.gpus.size()) != p_.num_ranks)
      Problem("<algo>: ngpus=", p_.num_ranks, " but the program has ", p_.gpus.size(),
              " <gpu> elements");
    std::set<int> seen;
    for (size_t r = 0; r < p_.gpus.size(); ++r) {
      int id = p_.gpus[r].rank;
      if (id < 0 || id >= p_.num_ranks) Problem("gpu ", id, ": id outside [0, ngpus=", p_.num_ranks, ")");
      else if (!seen.insert(id).second) Problem("gpu ", id, ": duplicate <gpu> id");
      else if (id != static_cast<int>(r))
        Problem("gpu ", id, ": <gpu> elements must appear in id order (found at position ", r, ")");
    }
  }

  void CheckGpu(const GpuProgram& g) {
    const int r = g.rank;
    for (auto [what, n] : {std::pair{"i_chunks", g.input_chunks}, std::pair{"o_chunks", g.output_chunks},
                           std::pair{"s_chunks", g.scratch_chunks}})
      if (n < 0 || n > kMaxChunks) Problem(Where(r), ": ", what, "=", n, " outside [0, ", kMaxChunks, "]");
    // Both runtimes size the chunks from nchunksperloop; the input and output must hold exactly
    // one loop's worth (m = ngpus on the per-rank side of allgather / reduce-scatter).
    bool sized = p_.collective == Collective::kAllReduce ||
                 p_.collective == Collective::kAllGather ||
                 p_.collective == Collective::kReduceScatter ||
                 p_.collective == Collective::kAllToAll ||
                 p_.collective == Collective::kBroadcast || p_.collective == Collective::kReduce;
    if (sized && !Executor()) {
      int mi = p_.collective == Collective::kAllGather ? p_.num_ranks : 1;
      int mo = p_.collective == Collective::kReduceScatter ? p_.num_ranks : 1;
      if (g.input_chunks > 0 && static_cast<int64_t>(g.input_chunks) * mi != p_.chunks_per_loop)
        Problem(Where(r), ": i_chunks=", g.input_chunks, mi > 1 ? StrCat(" x ngpus") : "",
                " must equal nchunksperloop=", p_.chunks_per_loop);
      if (g.output_chunks > 0 && static_cast<int64_t>(g.output_chunks) * mo != p_.chunks_per_loop)
        Problem(Where(r), ": o_chunks=", g.output_chunks, mo > 1 ? StrCat(" x ngpus") : "",
                " must equal nchunksperloop=", p_.chunks_per_loop);
    }
    int max_tbs = Legacy() ? kLegacyMaxThreadBlocks : kExecutorMaxThreadBlocks;
    if (static_cast<int>(g.tbs.size()) > max_tbs)
      Problem(Where(r), ": ", g.tbs.size(), " thread blocks, at most ", max_tbs);
    std::map<int, int> senders_per_channel, receivers_per_channel;
    std::set<std::pair<int, int>> send_conn, recv_conn;  // (peer, channel)
    for (size_t t = 0; t < g.tbs.size(); ++t) {
      const ThreadBlock& tb = g.tbs[t];
      if (tb.id != static_cast<int>(t)) {
        Problem(Where(r, tb.id), ": thread block ids must be 0, 1, 2, ... in order (found at "
                "position ", t, ")");
        continue;
      }
      for (auto [what, peer] : {std::pair{"send", tb.send_peer}, std::pair{"recv", tb.recv_peer}}) {
        if (peer == r) Problem(Where(r, tb.id), ": ", what, " peer is the gpu itself");
        else if (peer < -1 || peer >= p_.num_ranks)
          Problem(Where(r, tb.id), ": ", what, "=", peer, " is not -1 or a rank in [0, ",
                  p_.num_ranks, ")");
      }
      if (tb.channel < 0 || tb.channel >= kMaxChannels)
        Problem(Where(r, tb.id), ": chan=", tb.channel, " outside [0, ", kMaxChannels, ")");
      else if (tb.channel >= p_.num_channels)
        Problem(Where(r, tb.id), ": chan=", tb.channel, " but nchannels=", p_.num_channels);
      if (tb.send_peer >= 0) {
        if (++senders_per_channel[tb.channel] == kMaxTbsPerChannelPerSide + 1)
          Problem(Where(r, tb.id), ": more than ", kMaxTbsPerChannelPerSide,
                  " sending thread blocks on channel ", tb.channel);
        if (!send_conn.insert({tb.send_peer, tb.channel}).second)
          Problem(Where(r, tb.id), ": a second thread block sending to gpu ", tb.send_peer,
                  " on channel ", tb.channel, " (the connection would be shared)");
      }
      if (tb.recv_peer >= 0) {
        if (++receivers_per_channel[tb.channel] == kMaxTbsPerChannelPerSide + 1)
          Problem(Where(r, tb.id), ": more than ", kMaxTbsPerChannelPerSide,
                  " receiving thread blocks on channel ", tb.channel);
        if (!recv_conn.insert({tb.recv_peer, tb.channel}).second)
          Problem(Where(r, tb.id), ": a second thread block receiving from gpu ", tb.recv_peer,
                  " on channel ", tb.channel, " (the connection would be shared)");
      }
      CheckSteps(g, tb);
    }
  }

  void CheckSteps(const GpuProgram& g, const ThreadBlock& tb) {
    const int r = g.rank;
    int xml_steps = 0;
    for (size_t k = 0; k < tb.steps.size(); ++k) {
      const Step& st = tb.steps[k];
      const int s = static_cast<int>(k);
      xml_steps += st.deps.size() > 1 ? static_cast<int>(st.deps.size()) : 1;
      OpTraits tr = TraitsOf(st.op);
      if (st.op == OpType::kResidualAdd) {
        Problem(Where(r, tb.id, s), ": 'ra' has no implementation in either runtime");
        continue;
      }
      if (st.op == OpType::kNop) {
        if (st.deps.empty()) Problem(Where(r, tb.id, s), ": a nop step must carry a dependency");
        if (k + 1 != tb.steps.size())
          Problem(Where(r, tb.id, s), ": a nop step may only end a thread block (elsewhere its "
                  "dependencies belong on the next step)");
        if (st.count < 0 || st.count >= kMaxCount)
          Problem(Where(r, tb.id, s), ": cnt=", st.count, " outside [0, ", kMaxCount, ")");
      } else if (st.count < 1 || st.count >= kMaxCount) {
        Problem(Where(r, tb.id, s), ": cnt=", st.count, " outside [1, ", kMaxCount,
                ") (0 is allowed only for nop)");
      }
      if (tr.sends && tb.send_peer < 0)
        Problem(Where(r, tb.id, s), ": '", OpTypeName(st.op),
                "' sends but the thread block has no send peer");
      if (tr.receives && tb.recv_peer < 0)
        Problem(Where(r, tb.id, s), ": '", OpTypeName(st.op),
                "' receives but the thread block has no recv peer");
      auto check_range = [&](const char* side, Buffer b, int off) {
        int size = g.ChunksIn(b);
        if (off < 0 || st.count < 1 || static_cast<int64_t>(off) + st.count > size)
          Problem(Where(r, tb.id, s), ": ", side, " ", BufferName(b), "[", off, " .. ",
                  static_cast<int64_t>(off) + st.count - 1, "] outside the ", size, " chunks of ",
                  BufferName(b));
      };
      if (tr.reads_src) check_range("src", st.src_buffer, st.src_offset);
      if (tr.writes_dst) check_range("dst", st.dst_buffer, st.dst_offset);
      for (const StepRef& d : st.deps) {
        if (d.tb < 0 || d.tb >= static_cast<int>(g.tbs.size())) {
          Problem(Where(r, tb.id, s), ": depends on tb ", d.tb, ", which gpu ", r, " does not have");
          continue;
        }
        const ThreadBlock& prod = g.tbs[static_cast<size_t>(d.tb)];
        if (d.step < 0 || d.step >= static_cast<int>(prod.steps.size())) {
          Problem(Where(r, tb.id, s), ": depends on step ", d.step, " of tb ", d.tb, ", which has ",
                  prod.steps.size(), " steps");
          continue;
        }
        if (d.tb == tb.id && d.step >= s) {
          Problem(Where(r, tb.id, s), ": depends on its own thread block's step ", d.step,
                  ", which runs later");
          continue;
        }
        const Step& ps = prod.steps[static_cast<size_t>(d.step)];
        if (ps.op == OpType::kNop)
          Problem(Where(r, tb.id, s), ": depends on ", Where(r, d.tb, d.step),
                  ", a nop, which no runtime signals");
        else if (!ps.has_dep && d.tb != tb.id)
          Problem(Where(r, tb.id, s), ": depends on ", Where(r, d.tb, d.step),
                  ", which has hasdep=0 and never signals (ComputeHasDep sets it)");
      }
    }
    if (xml_steps > kMaxStepsPerThreadBlock)
      Problem(Where(r, tb.id), ": ", xml_steps, " steps once dependencies are lowered to nops, at "
              "most ", kMaxStepsPerThreadBlock);
  }

  // (sender, receiver, channel) -> the thread block on each side.
  using Conn = std::tuple<int, int, int>;

  void CheckConnections() {
    std::map<Conn, int> send_tb, recv_tb;
    for (const GpuProgram& g : p_.gpus)
      for (const ThreadBlock& tb : g.tbs) {
        if (tb.send_peer >= 0) send_tb[{g.rank, tb.send_peer, tb.channel}] = tb.id;
        if (tb.recv_peer >= 0) recv_tb[{tb.recv_peer, g.rank, tb.channel}] = tb.id;
      }
    auto counts = [&](int rank, int tb, bool sends) {
      std::vector<std::pair<int, int>> v;  // (count, step)
      const auto& steps = p_.gpus[static_cast<size_t>(rank)].tbs[static_cast<size_t>(tb)].steps;
      for (size_t k = 0; k < steps.size(); ++k) {
        OpTraits tr = TraitsOf(steps[k].op);
        if (sends ? tr.sends : tr.receives) v.push_back({steps[k].count, static_cast<int>(k)});
      }
      return v;
    };
    std::set<Conn> all;
    for (const auto& [c, t] : send_tb) all.insert(c);
    for (const auto& [c, t] : recv_tb) all.insert(c);
    for (const Conn& c : all) {
      auto [src, dst, ch] = c;
      auto si = send_tb.find(c);
      auto ri = recv_tb.find(c);
      std::vector<std::pair<int, int>> sends, recvs;
      if (si != send_tb.end()) sends = counts(src, si->second, true);
      if (ri != recv_tb.end()) recvs = counts(dst, ri->second, false);
      std::string conn = StrCat("connection gpu ", src, " -> gpu ", dst, " channel ", ch);
      if (sends.empty() && recvs.empty()) continue;
      if (ri == recv_tb.end()) {
        Problem(Where(src, si->second), ": sends to gpu ", dst, " on channel ", ch, ", but gpu ",
                dst, " has no thread block receiving from gpu ", src, " on that channel");
        continue;
      }
      if (si == send_tb.end()) {
        Problem(Where(dst, ri->second), ": receives from gpu ", src, " on channel ", ch,
                ", but gpu ", src, " has no thread block sending to gpu ", dst, " on that channel");
        continue;
      }
      size_t n = std::min(sends.size(), recvs.size());
      for (size_t i = 0; i < n; ++i) {
        if (sends[i].first != recvs[i].first) {
          Problem(conn, ": message ", i, " is sent with cnt=", sends[i].first, " by ",
                  Where(src, si->second, sends[i].second), " but received with cnt=",
                  recvs[i].first, " by ", Where(dst, ri->second, recvs[i].second));
          break;
        }
      }
      if (sends.size() != recvs.size())
        Problem(conn, ": ", Where(src, si->second), " sends ", sends.size(), " messages but ",
                Where(dst, ri->second), " receives ", recvs.size());
    }
  }

  // Runs one slice iteration with `credits` slots per connection, greedily, until nothing can
  // move. Any step left over is part of a cycle of waits: a deadlock on the real runtimes too
  // (their FIFOs hold NCCL_STEPS slots, our interpreter `credits` messages).
  void CheckDeadlock() {
    const int credits = std::max(1, o_.credits);
    std::vector<std::vector<size_t>> pc(p_.gpus.size());
    for (size_t r = 0; r < p_.gpus.size(); ++r) pc[r].assign(p_.gpus[r].tbs.size(), 0);
    std::map<Conn, int> queued;  // messages sent and not yet received
    auto in_conn = [&](int r, const ThreadBlock& tb) { return Conn{tb.recv_peer, r, tb.channel}; };
    auto out_conn = [&](int r, const ThreadBlock& tb) { return Conn{r, tb.send_peer, tb.channel}; };
    auto ready = [&](int r, const ThreadBlock& tb, const Step& st) {
      for (const StepRef& d : st.deps)
        if (pc[static_cast<size_t>(r)][static_cast<size_t>(d.tb)] <= static_cast<size_t>(d.step))
          return false;
      OpTraits tr = TraitsOf(st.op);
      if (tr.receives && queued[in_conn(r, tb)] == 0) return false;
      if (tr.sends && queued[out_conn(r, tb)] >= credits) return false;
      return true;
    };
    bool progress = true;
    while (progress) {
      progress = false;
      for (size_t r = 0; r < p_.gpus.size(); ++r) {
        const GpuProgram& g = p_.gpus[r];
        for (size_t t = 0; t < g.tbs.size(); ++t) {
          const ThreadBlock& tb = g.tbs[t];
          while (pc[r][t] < tb.steps.size() &&
                 ready(static_cast<int>(r), tb, tb.steps[pc[r][t]])) {
            OpTraits tr = TraitsOf(tb.steps[pc[r][t]].op);
            if (tr.receives) --queued[in_conn(static_cast<int>(r), tb)];
            if (tr.sends) ++queued[out_conn(static_cast<int>(r), tb)];
            ++pc[r][t];
            progress = true;
          }
        }
      }
    }
    for (size_t r = 0; r < p_.gpus.size(); ++r) {
      const GpuProgram& g = p_.gpus[r];
      for (size_t t = 0; t < g.tbs.size(); ++t) {
        const ThreadBlock& tb = g.tbs[t];
        if (pc[r][t] >= tb.steps.size()) continue;
        const Step& st = tb.steps[pc[r][t]];
        std::string why;
        for (const StepRef& d : st.deps)
          if (pc[r][static_cast<size_t>(d.tb)] <= static_cast<size_t>(d.step))
            why = StrCat("waits for ", Where(static_cast<int>(r), d.tb, d.step));
        OpTraits tr = TraitsOf(st.op);
        if (why.empty() && tr.receives) why = StrCat("waits for a message from gpu ", tb.recv_peer);
        if (why.empty() && tr.sends)
          why = StrCat("waits for gpu ", tb.send_peer, " to drain ", credits, " queued messages");
        Problem(Where(static_cast<int>(r), tb.id, static_cast<int>(pc[r][t])),
                ": deadlock: '", OpTypeName(st.op), "' ", why);
      }
    }
  }

  const Program& p_;
  const ValidateOptions& o_;
  std::vector<Status> problems_;
};

}  // namespace

std::vector<Status> FindProblems(const Program& program, const ValidateOptions& options) {
  return Checker(program, options).Run();
}

Status ValidateProgram(const Program& program, const ValidateOptions& options) {
  std::vector<Status> problems = FindProblems(program, options);
  if (problems.empty()) return OkStatus();
  if (problems.size() == 1) return problems[0];
  return Status(problems[0].code(),
                StrCat(problems[0].message(), " (and ", problems.size() - 1, " more)"));
}

}  // namespace loom::comm::program
