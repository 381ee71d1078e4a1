// Records the schedule a collective really runs, and replays it under the α-β-γ port model of
// cost_model.h: the oracle that the closed forms describe loom's algorithms, and
// `loom comm model --replay`.
//
// TracingTransport wraps any Transport (normally a thread rank) and appends to its rank's
// trace, in program order: every Isend / Irecv (peer, tag, bytes), every completed Wait or Test,
// and, before each of them, the bytes ReduceInto reduced on the thread since the last event
// (SetReduceMeter, dtype.h). It offers no shared memory and no peer mapping, so a Communicator
// over it runs the point-to-point algorithms and MapPeer lands a copy (the default).
//
// ReplaySeconds gives every rank a clock: posting costs nothing, a reduction of b bytes adds
// b·γ, a Wait moves the clock to the operation's completion. A message of b bytes is ready
// when both its send and its receive are posted (rendezvous, as MPI moves large messages: an
// eager message for a later step would hold the receiver's port ahead of the one it needs
// first), starts when its sender's send port and its receiver's receive port are free, holds
// both for α + b·β and completes then; ready messages get the ports first come first served.
// The result is the largest final clock. Sends and receives match in posting order per
// (sender, receiver, tag).
//
// Thread-safety: each rank's TracingTransport writes only its own RankTrace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/cost_model.h"
#include "loom/comm/transport.h"

namespace loom::comm {

struct TraceEvent {
  enum Kind { kSend, kRecv, kWait, kReduce };
  Kind kind = kSend;
  int peer = -1;     // kSend, kRecv
  int tag = 0;       // kSend, kRecv
  size_t bytes = 0;  // kSend, kRecv: message size; kReduce: bytes reduced
  int64_t op = -1;   // kSend, kRecv: this operation's number on the rank; kWait: which one
};
using RankTrace = std::vector<TraceEvent>;

class TracingTransport : public Transport {
 public:
  // `trace` must outlive this transport. Installs the reduce meter on the calling thread (the
  // rank's thread), removed again by the destructor.
  TracingTransport(std::unique_ptr<Transport> inner, RankTrace* trace);
  ~TracingTransport() override;

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  std::string backend() const override { return inner_->backend(); }
  StatusOr<Request> Isend(int peer, int tag, std::span<const std::byte> data) override;
  StatusOr<Request> Irecv(int peer, int tag, std::span<std::byte> data) override;
  Status Wait(Request& request) override;
  StatusOr<bool> Test(Request& request) override;
  void Cancel(Request& request) override;
  // The child is not traced.
  StatusOr<std::unique_ptr<Transport>> Split(int color, int key) override {
    return inner_->Split(color, key);
  }

 private:
  void FlushReduced();
  int64_t Record(TraceEvent e, const Request& r);
  void RecordCompletion(int64_t request_id);  // a Wait event for the op behind the request
  std::unique_ptr<Transport> inner_;
  RankTrace* trace_;
  size_t reduced_ = 0, flushed_ = 0;
  size_t* previous_meter_ = nullptr;
  std::vector<std::pair<int64_t, int64_t>> ops_;  // (inner request id, op number), pending
  int64_t next_op_ = 0;
};

// The α-β-γ time of the recorded schedule (traces[r] = rank r's). InvalidArgument when the
// traces do not match up (a receive without its send, a wait for an unknown operation) or
// deadlock.
StatusOr<double> ReplaySeconds(const std::vector<RankTrace>& traces, const CostParams& params);

}  // namespace loom::comm
