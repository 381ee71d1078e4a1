// Communicator (communicator.h): argument validation, checked mode, algorithm dispatch.
#include "loom/comm/communicator.h"

#include <cstring>
#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

#include "loom/base/strings.h"
#include "loom/comm/algorithms.h"
#include "loom/comm/shm_collectives.h"
#include "loom/comm/tuning.h"

namespace loom::comm {

std::string_view AlgorithmName(Algorithm a) {
  switch (a) {
    case Algorithm::kAuto: return "auto";
    case Algorithm::kRing: return "ring";
    case Algorithm::kHalvingDoubling: return "halving_doubling";
    case Algorithm::kRecursiveDoubling: return "recursive_doubling";
    case Algorithm::kBinomial: return "binomial";
    case Algorithm::kPairwise: return "pairwise";
    case Algorithm::kLinear: return "linear";
    case Algorithm::kBruck: return "bruck";
    case Algorithm::kShm: return "shm";
  }
  return "?";
}

StatusOr<Algorithm> ParseAlgorithm(std::string_view text) {
  for (Algorithm a : {Algorithm::kAuto, Algorithm::kRing, Algorithm::kHalvingDoubling,
                      Algorithm::kRecursiveDoubling, Algorithm::kBinomial, Algorithm::kPairwise, Algorithm::kLinear,
                      Algorithm::kBruck, Algorithm::kShm})
    if (AlgorithmName(a) == text) return a;
  return InvalidArgumentError(StrCat("unknown algorithm '", text,
                                     "' (auto ring halving_doubling recursive_doubling binomial pairwise linear bruck shm)"));
}

std::string_view CollectiveKindName(CollectiveKind k) {
  switch (k) {
    case CollectiveKind::kAllReduce: return "allreduce";
    case CollectiveKind::kAllGather: return "allgather";
    case CollectiveKind::kReduceScatter: return "reducescatter";
    case CollectiveKind::kAllToAll: return "alltoall";
    case CollectiveKind::kAllToAllV: return "alltoallv";
    case CollectiveKind::kBroadcast: return "broadcast";
    case CollectiveKind::kReduce: return "reduce";
    case CollectiveKind::kGather: return "gather";
    case CollectiveKind::kScatter: return "scatter";
    case CollectiveKind::kBarrier: return "barrier";
  }
  return "?";
}

Communicator::Communicator(std::unique_ptr<Transport> transport)
    : transport_(std::move(transport)) {}

int Communicator::NextTagBase() {
  // 1000 blocks of 32 tags: all below 32767 (MPI's guaranteed MPI_TAG_UB); consecutive calls
  // never share tags, and FIFO matching keeps calls 1000 apart apart.
  int base = static_cast<int>(sequence_ % 1000) * kTagsPerCall;
  ++sequence_;
  return base;
}

namespace {

constexpr size_t kMaxElements = std::numeric_limits<size_t>::max() / 64;

Status Bad(const Communicator& c, CollectiveKind k, std::string_view what) {
  return InvalidArgumentError(StrCat(CollectiveKindName(k), " on rank ", c.rank(), ": ", what));
}

}  // namespace

// Validates locally, then (checked mode) agrees on the call with every rank.
Status Communicator::Check(CollectiveKind kind, size_t count, DataType dtype, ReduceOp op,
                           int root, int tag_base) {
  if (DataTypeSize(dtype) == 0) return Bad(*this, kind, "invalid dtype");
  if (count > kMaxElements / static_cast<size_t>(size()))
    return Bad(*this, kind, StrCat("count ", count, " overflows the buffer size"));
  bool rooted = kind == CollectiveKind::kBroadcast || kind == CollectiveKind::kReduce ||
                kind == CollectiveKind::kGather || kind == CollectiveKind::kScatter;
  if (rooted && (root < 0 || root >= size()))
    return Bad(*this, kind, StrCat("root ", root, " outside [0, ", size(), ")"));
  bool reduces = kind == CollectiveKind::kAllReduce || kind == CollectiveKind::kReduceScatter ||
                 kind == CollectiveKind::kReduce;
  if (reduces) {
    Status s = CheckElementwise(dtype, op);
    if (!s.ok()) return Bad(*this, kind, s.message());
  }
  if (!checked_) return OkStatus();
  int64_t mine[5] = {static_cast<int64_t>(kind), static_cast<int64_t>(count),
                     static_cast<int64_t>(dtype), reduces ? static_cast<int64_t>(op) : -1,
                     rooted ? root : -1};
  std::vector<int64_t> all(5 * static_cast<size_t>(size()));
  LOOM_RETURN_IF_ERROR(algo::AllGatherRing(*transport_, tag_base + kTagsPerCall - 1, mine,
                                           all.data(), 5, DataType::kI64));
  static const char* kField[] = {"collective", "count", "dtype", "op", "root"};
  for (int r = 1; r < size(); ++r)
    for (int f = 0; f < 5; ++f) {
      int64_t a = all[static_cast<size_t>(f)], b = all[static_cast<size_t>(5 * r + f)];
      if (a != b)
        return Bad(*this, kind, StrCat("checked mode: rank ", r, " passed ", kField[f], " ", b,
                                       " but rank 0 passed ", kField[f], " ", a));
    }
  return OkStatus();
}

Algorithm SelectAlgorithm(CollectiveKind kind, int ranks, size_t bytes) {
  switch (kind) {
    case CollectiveKind::kAllReduce:
      // By the α-β costs (brief §3.2): recursive doubling sends the fewest messages (lg p) and
      // wins while α dominates; halving-doubling has 2 lg p latency terms instead of 2(p-1)
      // at the ring's bandwidth; the ring wins once bandwidth dominates (and needs no fold).
      if (bytes <= (size_t{16} << 10)) return Algorithm::kRecursiveDoubling;
      return bytes <= (size_t{256} << 10) && ranks > 2 ? Algorithm::kHalvingDoubling
                                                       : Algorithm::kRing;
    case CollectiveKind::kAllGather:
      // Small: lg p steps instead of p − 1 (recursive doubling needs no rotation but 2^k ranks).
      if (bytes <= (size_t{256} << 10) && ranks > 2)
        return (ranks & (ranks - 1)) == 0 ? Algorithm::kRecursiveDoubling : Algorithm::kBruck;
      return Algorithm::kRing;
    case CollectiveKind::kReduceScatter: return Algorithm::kRing;
    case CollectiveKind::kBroadcast:
    case CollectiveKind::kReduce: return Algorithm::kBinomial;
    case CollectiveKind::kAllToAll:
    case CollectiveKind::kAllToAllV:
      // Small blocks: one latency for the whole exchange instead of p − 1 rounds; large ones:
      // one flow at a time (pairwise) so the flows do not contend.
      return bytes <= (size_t{256} << 10) ? Algorithm::kLinear : Algorithm::kPairwise;
    case CollectiveKind::kGather:
    case CollectiveKind::kScatter:
      // The root's lg p messages win while latency dominates; linear posts everything at once.
      return bytes <= (size_t{256} << 10) && ranks > 2 ? Algorithm::kBinomial : Algorithm::kLinear;
    default: return Algorithm::kLinear;
  }
}

namespace {
bool ShmImplements(CollectiveKind kind) {
  return kind == CollectiveKind::kAllReduce || kind == CollectiveKind::kAllGather ||
         kind == CollectiveKind::kReduceScatter || kind == CollectiveKind::kAllToAll;
}
}  // namespace

bool Implements(Algorithm a, CollectiveKind kind, int ranks) {
  if (a == Algorithm::kShm) return ShmImplements(kind);
  switch (kind) {
    case CollectiveKind::kAllReduce:
      return a == Algorithm::kRing || a == Algorithm::kHalvingDoubling ||
             a == Algorithm::kRecursiveDoubling;
    case CollectiveKind::kAllGather:
      return a == Algorithm::kRing || a == Algorithm::kBruck ||
             (a == Algorithm::kRecursiveDoubling && (ranks & (ranks - 1)) == 0);
    case CollectiveKind::kReduceScatter: return a == Algorithm::kRing;
    case CollectiveKind::kAllToAll:
    case CollectiveKind::kAllToAllV: return a == Algorithm::kPairwise || a == Algorithm::kLinear;
    case CollectiveKind::kBroadcast:
    case CollectiveKind::kReduce: return a == Algorithm::kBinomial;
    case CollectiveKind::kGather:
    case CollectiveKind::kScatter: return a == Algorithm::kBinomial || a == Algorithm::kLinear;
    case CollectiveKind::kBarrier: return false;
  }
  return false;
}

Algorithm Communicator::Choose(CollectiveKind kind, size_t bytes,
                               const CollectiveOptions& options) const {
  if (options.algorithm != Algorithm::kAuto) return options.algorithm;
  if (tuning_) {
    if (std::optional<Algorithm> a = tuning_->Lookup(kind, size(), bytes)) return *a;
  }
  if (ShmImplements(kind) && transport_->shared_memory_available()) return Algorithm::kShm;
  return SelectAlgorithm(kind, size(), bytes);
}

StatusOr<ShmCollectives*> Communicator::Shm(size_t bytes_per_round,
                                            const CollectiveOptions& options) {
  StatusOr<ShmCollectives*> shm = transport_->SharedMemory(bytes_per_round);
  if (!shm.ok() && options.algorithm == Algorithm::kAuto) return nullptr;
  return shm;
}

namespace {
Status Unsupported(CollectiveKind k, Algorithm a) {
  return InvalidArgumentError(StrCat("algorithm ", AlgorithmName(a), " does not implement ",
                                     CollectiveKindName(k)));
}
bool NeedPtr(const void* p, size_t n) { return n == 0 || p != nullptr; }
}  // namespace

Status Communicator::AllReduce(const void* send, void* recv, size_t count, DataType dtype,
                               ReduceOp op, const CollectiveOptions& options) {
  const auto kind = CollectiveKind::kAllReduce;
  if (!NeedPtr(send, count) || !NeedPtr(recv, count)) return Bad(*this, kind, "null buffer");
  int tag = NextTagBase();
  LOOM_RETURN_IF_ERROR(Check(kind, count, dtype, op, -1, tag));
  const size_t bytes = count * DataTypeSize(dtype);
  Algorithm a = Choose(kind, bytes, options);
  if (a == Algorithm::kShm) {
    LOOM_ASSIGN_OR_RETURN(ShmCollectives* shm, Shm(bytes, options));
    if (shm) {
      LOOM_RETURN_IF_ERROR(shm->AllReduce(send, recv, count, dtype, op));
      FinishAverage(dtype, op, recv, count, size());
      return OkStatus();
    }
    a = SelectAlgorithm(kind, size(), bytes);
  }
  if (send != recv && bytes > 0) std::memmove(recv, send, bytes);
  switch (a) {
    case Algorithm::kRing:
      LOOM_RETURN_IF_ERROR(algo::AllReduceRing(*transport_, tag, recv, count, dtype, op));
      break;
    case Algorithm::kHalvingDoubling:
      LOOM_RETURN_IF_ERROR(algo::AllReduceHalvingDoubling(*transport_, tag, recv, count, dtype, op));
      break;
    case Algorithm::kRecursiveDoubling:
      LOOM_RETURN_IF_ERROR(
          algo::AllReduceRecursiveDoubling(*transport_, tag, recv, count, dtype, op));
      break;
    default:
      return Unsupported(kind, a);
  }
  FinishAverage(dtype, op, recv, count, size());
  return OkStatus();
}

Status Communicator::AllGather(const void* send, void* recv, size_t count, DataType dtype,
                               const CollectiveOptions& options) {
  const auto kind = CollectiveKind::kAllGather;
  if (!NeedPtr(send, count) || !NeedPtr(recv, count)) return Bad(*this, kind, "null buffer");
  int tag = NextTagBase();
  LOOM_RETURN_IF_ERROR(Check(kind, count, dtype, ReduceOp::kSum, -1, tag));
  const size_t bytes = count * DataTypeSize(dtype) * static_cast<size_t>(size());
  Algorithm a = Choose(kind, bytes, options);
  if (a == Algorithm::kShm) {
    const size_t mine = count * DataTypeSize(dtype);
    LOOM_ASSIGN_OR_RETURN(ShmCollectives* shm, Shm(mine, options));
    if (shm) return shm->AllGather(send, recv, mine);
    a = SelectAlgorithm(kind, size(), bytes);
  }
  switch (a) {
    case Algorithm::kRing: return algo::AllGatherRing(*transport_, tag, send, recv, count, dtype);
    case Algorithm::kBruck: return algo::AllGatherBruck(*transport_, tag, send, recv, count, dtype);
    case Algorithm::kRecursiveDoubling:
      return algo::AllGatherRecursiveDoubling(*transport_, tag, send, recv, count, dtype);
    default: return Unsupported(kind, a);
  }
}

Status Communicator::ReduceScatter(const void* send, void* recv, size_t count, DataType dtype,
                                   ReduceOp op, const CollectiveOptions& options) {
  const auto kind = CollectiveKind::kReduceScatter;
  if (!NeedPtr(send, count) || !NeedPtr(recv, count)) return Bad(*this, kind, "null buffer");
  int tag = NextTagBase();
  LOOM_RETURN_IF_ERROR(Check(kind, count, dtype, op, -1, tag));
  const size_t bytes = count * DataTypeSize(dtype) * static_cast<size_t>(size());
  Algorithm a = Choose(kind, bytes, options);
  if (a == Algorithm::kShm) {
    LOOM_ASSIGN_OR_RETURN(ShmCollectives* shm, Shm(bytes, options));
    if (shm) {
      LOOM_RETURN_IF_ERROR(shm->ReduceScatter(send, recv, count, dtype, op));
      FinishAverage(dtype, op, recv, count, size());
      return OkStatus();
    }
    a = SelectAlgorithm(kind, size(), bytes);
  }
  if (a != Algorithm::kRing) return Unsupported(kind, a);
  LOOM_RETURN_IF_ERROR(algo::ReduceScatterRing(*transport_, tag, send, recv, count, dtype, op));
  FinishAverage(dtype, op, recv, count, size());
  return OkStatus();
}

Status Communicator::AllToAll(const void* send, void* recv, size_t count, DataType dtype,
                              const CollectiveOptions& options) {
  const auto kind = CollectiveKind::kAllToAll;
  if (!NeedPtr(send, count) || !NeedPtr(recv, count)) return Bad(*this, kind, "null buffer");
  if (send == recv && count > 0 && size() > 1)
    return Bad(*this, kind, "in-place alltoall is not supported (send == recv)");
  int tag = NextTagBase();
  LOOM_RETURN_IF_ERROR(Check(kind, count, dtype, ReduceOp::kSum, -1, tag));
  const size_t bytes = count * DataTypeSize(dtype) * static_cast<size_t>(size());
  Algorithm a = Choose(kind, bytes, options);
  if (a == Algorithm::kShm) {
    LOOM_ASSIGN_OR_RETURN(ShmCollectives* shm, Shm(bytes, options));
    if (shm) return shm->AllToAll(send, recv, count * DataTypeSize(dtype));
    a = SelectAlgorithm(kind, size(), bytes);
  }
  if (a != Algorithm::kPairwise && a != Algorithm::kLinear) return Unsupported(kind, a);
  std::vector<size_t> counts(static_cast<size_t>(size()), count), displs(counts.size());
  for (size_t i = 0; i < displs.size(); ++i) displs[i] = i * count;
  auto* run = a == Algorithm::kLinear ? &algo::AllToAllLinear : &algo::AllToAllPairwise;
  return run(*transport_, tag, {static_cast<const std::byte*>(send), static_cast<std::byte*>(recv),
                                DataTypeSize(dtype), counts, displs, counts, displs});
}

Status Communicator::AllToAllV(const void* send, std::span<const size_t> send_counts,
                               std::span<const size_t> send_displs, void* recv,
                               std::span<const size_t> recv_counts,
                               std::span<const size_t> recv_displs, DataType dtype,
                               const CollectiveOptions& options) {
  const auto kind = CollectiveKind::kAllToAllV;
  const size_t p = static_cast<size_t>(size());
  if (send_counts.size() != p || send_displs.size() != p || recv_counts.size() != p ||
      recv_displs.size() != p)
    return Bad(*this, kind, StrCat("counts and displacements need ", p, " entries each"));
  size_t send_total = 0, recv_total = 0;
  for (size_t i = 0; i < p; ++i) {
    if (send_counts[i] > kMaxElements || send_displs[i] > kMaxElements ||
        recv_counts[i] > kMaxElements || recv_displs[i] > kMaxElements)
      return Bad(*this, kind, StrCat("count or displacement for peer ", i, " too large"));
    send_total = std::max(send_total, send_displs[i] + send_counts[i]);
    recv_total = std::max(recv_total, recv_displs[i] + recv_counts[i]);
  }
  if (!NeedPtr(send, send_total) || !NeedPtr(recv, recv_total)) return Bad(*this, kind, "null buffer");
  int tag = NextTagBase();
  LOOM_RETURN_IF_ERROR(Check(kind, 0, dtype, ReduceOp::kSum, -1, tag));
  if (checked_) {
    // Each rank learns what every peer will send it and compares with what it expects.
    std::vector<size_t> incoming(p), ones(p, 1), displs(p);
    for (size_t i = 0; i < p; ++i) displs[i] = i;
    LOOM_RETURN_IF_ERROR(algo::AllToAllPairwise(
        *transport_, tag + kTagsPerCall - 2,
        {reinterpret_cast<const std::byte*>(send_counts.data()),
         reinterpret_cast<std::byte*>(incoming.data()), sizeof(size_t), ones, displs, ones, displs}));
    for (size_t i = 0; i < p; ++i)
      if (incoming[i] != recv_counts[i])
        return Bad(*this, kind, StrCat("checked mode: rank ", i, " sends ", incoming[i],
                                       " elements but this rank expects ", recv_counts[i]));
  }
  Algorithm a = Choose(kind, std::max(send_total, recv_total) * DataTypeSize(dtype), options);
  if (a != Algorithm::kPairwise && a != Algorithm::kLinear) return Unsupported(kind, a);
  auto* run = a == Algorithm::kLinear ? &algo::AllToAllLinear : &algo::AllToAllPairwise;
  return run(*transport_, tag, {static_cast<const std::byte*>(send), static_cast<std::byte*>(recv),
                                DataTypeSize(dtype), send_counts, send_displs, recv_counts,
                                recv_displs});
}

Status Communicator::Broadcast(void* buffer, size_t count, DataType dtype, int root,
                               const CollectiveOptions& options) {
  const auto kind = CollectiveKind::kBroadcast;
  if (!NeedPtr(buffer, count)) return Bad(*this, kind, "null buffer");
  int tag = NextTagBase();
  LOOM_RETURN_IF_ERROR(Check(kind, count, dtype, ReduceOp::kSum, root, tag));
  Algorithm a = Choose(kind, count * DataTypeSize(dtype), options);
  if (a != Algorithm::kBinomial) return Unsupported(kind, a);
  return algo::BroadcastBinomial(*transport_, tag, buffer, count * DataTypeSize(dtype), root);
}

Status Communicator::Reduce(const void* send, void* recv, size_t count, DataType dtype,
                            ReduceOp op, int root, const CollectiveOptions& options) {
  const auto kind = CollectiveKind::kReduce;
  if (!NeedPtr(send, count) || (rank() == root && !NeedPtr(recv, count)))
    return Bad(*this, kind, "null buffer");
  int tag = NextTagBase();
  LOOM_RETURN_IF_ERROR(Check(kind, count, dtype, op, root, tag));
  Algorithm a = Choose(kind, count * DataTypeSize(dtype), options);
  if (a != Algorithm::kBinomial) return Unsupported(kind, a);
  LOOM_RETURN_IF_ERROR(algo::ReduceBinomial(*transport_, tag, send, recv, count, dtype, op, root));
  if (rank() == root) FinishAverage(dtype, op, recv, count, size());
  return OkStatus();
}

Status Communicator::Gather(const void* send, void* recv, size_t count, DataType dtype, int root,
                            const CollectiveOptions& options) {
  const auto kind = CollectiveKind::kGather;
  if (!NeedPtr(send, count) || (rank() == root && !NeedPtr(recv, count)))
    return Bad(*this, kind, "null buffer");
  int tag = NextTagBase();
  LOOM_RETURN_IF_ERROR(Check(kind, count, dtype, ReduceOp::kSum, root, tag));
  const size_t bytes = count * DataTypeSize(dtype);
  Algorithm a = Choose(kind, bytes * static_cast<size_t>(size()), options);
  if (a == Algorithm::kLinear) return algo::GatherLinear(*transport_, tag, send, recv, bytes, root);
  if (a == Algorithm::kBinomial) return algo::GatherBinomial(*transport_, tag, send, recv, bytes, root);
  return Unsupported(kind, a);
}

Status Communicator::Scatter(const void* send, void* recv, size_t count, DataType dtype, int root,
                             const CollectiveOptions& options) {
  const auto kind = CollectiveKind::kScatter;
  if ((rank() == root && !NeedPtr(send, count)) || !NeedPtr(recv, count))
    return Bad(*this, kind, "null buffer");
  int tag = NextTagBase();
  LOOM_RETURN_IF_ERROR(Check(kind, count, dtype, ReduceOp::kSum, root, tag));
  const size_t bytes = count * DataTypeSize(dtype);
  Algorithm a = Choose(kind, bytes * static_cast<size_t>(size()), options);
  if (a == Algorithm::kLinear) return algo::ScatterLinear(*transport_, tag, send, recv, bytes, root);
  if (a == Algorithm::kBinomial) return algo::ScatterBinomial(*transport_, tag, send, recv, bytes, root);
  return Unsupported(kind, a);
}

Status Communicator::Barrier() {
  int tag = NextTagBase();
  return algo::BarrierDissemination(*transport_, tag);
}

StatusOr<std::unique_ptr<Communicator>> Communicator::Split(int color, int key) {
  LOOM_ASSIGN_OR_RETURN(std::unique_ptr<Transport> t, transport_->Split(color, key));
  if (!t) return std::unique_ptr<Communicator>();
  auto c = std::make_unique<Communicator>(std::move(t));
  c->set_checked(checked_);
  c->set_tuning(tuning_);
  return c;
}

}  // namespace loom::comm
