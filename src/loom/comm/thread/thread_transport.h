// comm_thread: N ranks as threads of one process. The test bed for every algorithm, and usable
// for single-box runs.
//
// Point-to-point is a rendezvous: a send completes when the receiver has copied the data out of
// the sender's buffer (one copy, outside the world lock). The receiver's thread copies when it
// posts second, or when it is already blocked in Wait on the receive as the send arrives;
// otherwise the sender's thread copies. So in a SendRecv exchange each rank copies its own
// incoming message (in parallel), and SendRecvVisit visits each piece right after copying it.
// Messages match FIFO per (sender, receiver, tag). A rank whose transport is destroyed (its
// function returned) is "exited": operations waiting on it fail at once with Unavailable
// instead of waiting out the timeout.
//
// Thread-safety: each ThreadTransport belongs to its rank's thread; the shared world is
// internally synchronised.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/communicator.h"
#include "loom/comm/transport.h"

namespace loom::comm::thread {

struct RunOptions {
  int64_t timeout_ms = 60000;  // per Wait
  bool checked = false;        // Communicator checked mode (count/dtype agreement)
};

// Creates the n transports of a fresh world (for callers that manage their own threads).
std::vector<std::unique_ptr<Transport>> MakeThreadWorld(int n);

// Runs fn(rank's communicator) on n threads and joins them. Returns per-rank statuses.
std::vector<Status> RunRanksEach(int n, const std::function<Status(Communicator&)>& fn,
                                 const RunOptions& options = {});

// As RunRanksEach; OK when every rank succeeded, else the first failure prefixed "rank r: ".
Status RunRanks(int n, const std::function<Status(Communicator&)>& fn,
                const RunOptions& options = {});

}  // namespace loom::comm::thread
