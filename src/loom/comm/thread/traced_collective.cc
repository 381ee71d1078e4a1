// One traced collective on thread ranks (traced_collective.h).
#include "loom/comm/thread/traced_collective.h"

#include <memory>

#include "loom/base/strings.h"
#include "loom/comm/thread/thread_transport.h"

namespace loom::comm::thread {

StatusOr<std::vector<RankTrace>> TraceCollective(CollectiveKind kind, Algorithm algorithm,
                                                 int ranks, size_t bytes, int root) {
  if (ranks < 1) return InvalidArgumentError(StrCat("trace: ", ranks, " ranks"));
  if (algorithm == Algorithm::kAuto || algorithm == Algorithm::kShm ||
      !Implements(algorithm, kind, ranks))
    return InvalidArgumentError(StrCat("trace: ", AlgorithmName(algorithm), " does not implement ",
                                       CollectiveKindName(kind), " at ", ranks, " ranks"));
  if (root < 0 || root >= ranks) return InvalidArgumentError(StrCat("trace: root ", root));
  const size_t p = static_cast<size_t>(ranks);
  const bool whole_vector = kind == CollectiveKind::kAllReduce ||
                            kind == CollectiveKind::kBroadcast || kind == CollectiveKind::kReduce;
  const size_t count = whole_vector ? bytes / 4 : bytes / 4 / p;  // the call's count
  std::vector<RankTrace> traces(p);
  Status s = RunRanks(ranks, [&](Communicator& world) -> Status {
    const int r = world.rank();
    // A child transport of this rank's own, wrapped: the tracer sees every message of the call.
    LOOM_ASSIGN_OR_RETURN(std::unique_ptr<Transport> child, world.transport().Split(0, r));
    child->set_timeout_ms(world.transport().timeout_ms());
    Communicator c(
        std::make_unique<TracingTransport>(std::move(child), &traces[static_cast<size_t>(r)]));
    const CollectiveOptions o{.algorithm = algorithm};
    // Per-rank buffers of exactly the call's shapes (communicator.h).
    const bool big_in = kind == CollectiveKind::kReduceScatter ||
                        kind == CollectiveKind::kAllToAll || kind == CollectiveKind::kAllToAllV ||
                        kind == CollectiveKind::kScatter;
    const bool big_out = kind == CollectiveKind::kAllGather || kind == CollectiveKind::kAllToAll ||
                         kind == CollectiveKind::kAllToAllV || kind == CollectiveKind::kGather;
    std::vector<float> in(big_in ? count * p : count, 1.0f), out(big_out ? count * p : count, 0.0f);
    switch (kind) {
      case CollectiveKind::kAllReduce:
        return c.AllReduce(in.data(), out.data(), count, DataType::kF32, ReduceOp::kSum, o);
      case CollectiveKind::kAllGather:
        return c.AllGather(in.data(), out.data(), count, DataType::kF32, o);
      case CollectiveKind::kReduceScatter:
        return c.ReduceScatter(in.data(), out.data(), count, DataType::kF32, ReduceOp::kSum, o);
      case CollectiveKind::kAllToAll:
        return c.AllToAll(in.data(), out.data(), count, DataType::kF32, o);
      case CollectiveKind::kAllToAllV: {
        std::vector<size_t> counts(p, count), displs(p);
        for (size_t q = 0; q < p; ++q) displs[q] = q * count;
        return c.AllToAllV(in.data(), counts, displs, out.data(), counts, displs, DataType::kF32,
                           o);
      }
      case CollectiveKind::kBroadcast:
        return c.Broadcast(in.data(), count, DataType::kF32, root, o);
      case CollectiveKind::kReduce:
        return c.Reduce(in.data(), out.data(), count, DataType::kF32, ReduceOp::kSum, root, o);
      case CollectiveKind::kGather:
        return c.Gather(in.data(), out.data(), count, DataType::kF32, root, o);
      case CollectiveKind::kScatter:
        return c.Scatter(in.data(), out.data(), count, DataType::kF32, root, o);
      case CollectiveKind::kBarrier:
        return c.Barrier();
    }
    return InvalidArgumentError("trace: unknown collective");
  });
  LOOM_RETURN_IF_ERROR(s);
  return traces;
}

}  // namespace loom::comm::thread
