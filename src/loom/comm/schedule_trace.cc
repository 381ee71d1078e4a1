// Schedule recording and the α-β-γ replay (schedule_trace.h).
#include "loom/comm/schedule_trace.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "loom/base/strings.h"
#include "loom/comm/dtype.h"

namespace loom::comm {

TracingTransport::TracingTransport(std::unique_ptr<Transport> inner, RankTrace* trace)
    : inner_(std::move(inner)), trace_(trace) {
  set_timeout_ms(inner_->timeout_ms());
  previous_meter_ = SetReduceMeter(&reduced_);
}

TracingTransport::~TracingTransport() {
  FlushReduced();  // the reductions after the last message
  SetReduceMeter(previous_meter_);
}

void TracingTransport::FlushReduced() {
  if (reduced_ == flushed_) return;
  trace_->push_back({.kind = TraceEvent::kReduce, .bytes = reduced_ - flushed_});
  flushed_ = reduced_;
}

int64_t TracingTransport::Record(TraceEvent e, const Request& r) {
  e.op = next_op_++;
  trace_->push_back(e);
  ops_.emplace_back(r.id, e.op);
  return e.op;
}

void TracingTransport::RecordCompletion(int64_t request_id) {
  auto it =
      std::find_if(ops_.begin(), ops_.end(), [&](const auto& o) { return o.first == request_id; });
  if (it == ops_.end()) return;
  trace_->push_back({.kind = TraceEvent::kWait, .op = it->second});
  ops_.erase(it);
}

StatusOr<Request> TracingTransport::Isend(int peer, int tag, std::span<const std::byte> data) {
  FlushReduced();
  inner_->set_timeout_ms(timeout_ms());
  LOOM_ASSIGN_OR_RETURN(Request r, inner_->Isend(peer, tag, data));
  Record({.kind = TraceEvent::kSend, .peer = peer, .tag = tag, .bytes = data.size()}, r);
  return r;
}

StatusOr<Request> TracingTransport::Irecv(int peer, int tag, std::span<std::byte> data) {
  FlushReduced();
  inner_->set_timeout_ms(timeout_ms());
  LOOM_ASSIGN_OR_RETURN(Request r, inner_->Irecv(peer, tag, data));
  Record({.kind = TraceEvent::kRecv, .peer = peer, .tag = tag, .bytes = data.size()}, r);
  return r;
}

Status TracingTransport::Wait(Request& request) {
  FlushReduced();
  const int64_t id = request.id;
  inner_->set_timeout_ms(timeout_ms());
  LOOM_RETURN_IF_ERROR(inner_->Wait(request));
  RecordCompletion(id);
  return OkStatus();
}

void TracingTransport::Cancel(Request& request) {
  const int64_t id = request.id;
  inner_->Cancel(request);
  std::erase_if(ops_, [&](const auto& o) { return o.first == id; });  // never completes
}

StatusOr<bool> TracingTransport::Test(Request& request) {
  FlushReduced();
  const int64_t id = request.id;
  LOOM_ASSIGN_OR_RETURN(bool done, inner_->Test(request));
  if (done) RecordCompletion(id);
  return done;
}

StatusOr<double> ReplaySeconds(const std::vector<RankTrace>& traces, const CostParams& c) {
  const size_t p = traces.size();
  // Match sends and receives: the k-th send from s to d with tag t is the k-th such receive.
  struct Message {
    int src = -1, dst = -1;
    size_t bytes = 0;
    bool posted = false, recv_posted = false, started = false;
    double ready = 0;           // when both sides have posted it
    double end = 0, done = -1;  // end: once started; done: once completed
    size_t nth = 0;             // the sender's nth send (ties on `ready`: a rank's own order)
  };
  std::vector<Message> messages;
  std::map<std::tuple<int, int, int>, std::vector<size_t>> sends, recvs;  // -> message ids
  std::vector<std::map<int64_t, size_t>> op_message(p);  // (rank, op number) -> message id
  for (size_t r = 0; r < p; ++r) {
    size_t nth_send = 0;
    for (const TraceEvent& e : traces[r]) {
      if (e.kind != TraceEvent::kSend && e.kind != TraceEvent::kRecv) continue;
      if (e.peer < 0 || static_cast<size_t>(e.peer) >= p)
        return InvalidArgumentError(StrCat("replay: rank ", r, " names peer ", e.peer));
      const int ri = static_cast<int>(r);
      const bool send = e.kind == TraceEvent::kSend;
      auto key = send ? std::make_tuple(ri, e.peer, e.tag) : std::make_tuple(e.peer, ri, e.tag);
      auto& mine = send ? sends[key] : recvs[key];
      auto& theirs = send ? recvs[key] : sends[key];
      size_t id;
      if (mine.size() < theirs.size()) {
        id = theirs[mine.size()];
      } else {
        id = messages.size();
        messages.emplace_back();
      }
      if (send) {
        messages[id].src = ri;
        messages[id].dst = e.peer;
        messages[id].bytes = e.bytes;
        messages[id].nth = nth_send++;
      }
      mine.push_back(id);
      op_message[r][e.op] = id;
    }
  }
  for (auto& [key, ids] : sends)
    if (recvs[key].size() != ids.size())
      return InvalidArgumentError(StrCat(
          "replay: ", ids.size(), " sends from rank ", std::get<0>(key), " to rank ",
          std::get<1>(key), " tag ", std::get<2>(key), " but ", recvs[key].size(), " receives"));
  for (auto& [key, ids] : recvs)
    if (sends[key].size() != ids.size())
      return InvalidArgumentError(StrCat("replay: ", ids.size(), " receives on rank ",
                                         std::get<1>(key), " from rank ", std::get<0>(key), " tag ",
                                         std::get<2>(key), " but ", sends[key].size(), " sends"));
  // Event-driven: ranks run their events at their clocks; a message is ready once its send
  // and its receive are both posted (rendezvous), starts as soon as its sender's send port and
  // its receiver's receive port are both free, and completes α + b·β later. Ready messages get
  // ports first come first served, ties in each sender's own posting order: a rank that posts
  // to r+1, r+2, ... at once (the linear alltoall) then makes rounds that are permutations;
  // plain arrival order gave odd rank counts up to 1.5x the closed form.
  std::vector<double> clock(p, 0.0), send_free(p, 0.0), recv_free(p, 0.0);
  std::vector<size_t> pc(p, 0);
  std::vector<bool> runnable(p, true);  // false while blocked in a Wait
  std::vector<size_t> pending;          // posted, not started
  double now = 0;
  for (;;) {
    // Run every rank whose clock has come, until it blocks, finishes or computes past `now`.
    bool progressed = true;
    while (progressed) {
      progressed = false;
      for (size_t r = 0; r < p; ++r) {
        while (runnable[r] && pc[r] < traces[r].size() && clock[r] <= now) {
          const TraceEvent& e = traces[r][pc[r]];
          if (e.kind == TraceEvent::kWait) {
            auto it = op_message[r].find(e.op);
            if (it == op_message[r].end())
              return InvalidArgumentError(
                  StrCat("replay: rank ", r, " waits for unknown op ", e.op));
            if (messages[it->second].done < 0) {
              runnable[r] = false;
              break;
            }
            clock[r] = std::max(clock[r], messages[it->second].done);
          } else if (e.kind == TraceEvent::kReduce) {
            clock[r] += static_cast<double>(e.bytes) * c.gamma_s_per_byte;
          } else {  // a send or receive: posted now; the message is ready once both are
            Message& m = messages[op_message[r][e.op]];
            (e.kind == TraceEvent::kSend ? m.posted : m.recv_posted) = true;
            m.ready = std::max(m.ready, clock[r]);
            if (m.posted && m.recv_posted) pending.push_back(op_message[r][e.op]);
          }
          ++pc[r];
          progressed = true;
        }
      }
      // Start what can start now, in that order.
      std::sort(pending.begin(), pending.end(), [&](size_t a, size_t b) {
        return std::tie(messages[a].ready, messages[a].nth, messages[a].src) <
               std::tie(messages[b].ready, messages[b].nth, messages[b].src);
      });
      for (size_t i = 0; i < pending.size();) {
        Message& m = messages[pending[i]];
        const size_t s = static_cast<size_t>(m.src), d = static_cast<size_t>(m.dst);
        if (m.ready <= now && send_free[s] <= now && recv_free[d] <= now) {
          m.started = true;
          m.end = now + c.alpha_s + static_cast<double>(m.bytes) * c.beta_s_per_byte;
          send_free[s] = recv_free[d] = m.end;
          pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
          progressed = true;
        } else {
          ++i;
        }
      }
    }
    // Advance to the next moment something happens: a transfer ends or a rank's clock comes.
    double next = -1;
    for (const Message& m : messages)
      if (m.started && m.done < 0 && (next < 0 || m.end < next)) next = m.end;
    for (size_t r = 0; r < p; ++r)
      if (runnable[r] && pc[r] < traces[r].size() && clock[r] > now &&
          (next < 0 || clock[r] < next))
        next = clock[r];
    if (next < 0) break;
    now = next;
    // Complete the transfers that end now and wake their waiters.
    for (Message& m : messages)
      if (m.started && m.done < 0 && m.end <= now) m.done = m.end;
    for (size_t r = 0; r < p; ++r)
      if (!runnable[r]) {
        runnable[r] = true;  // re-checks its Wait
        clock[r] = std::max(clock[r], now);
      }
  }
  for (size_t r = 0; r < p; ++r)
    if (pc[r] < traces[r].size()) return InvalidArgumentError("replay: the schedule deadlocks");
  return p == 0 ? 0.0 : *std::max_element(clock.begin(), clock.end());
}

}  // namespace loom::comm
