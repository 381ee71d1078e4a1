// Communicator: the collectives over a Transport. Every call validates its arguments and
// returns Status; algorithms (one file each, algorithms.h) see only the Transport.
//
// Buffers are raw pointers + element counts + DataType, as in NCCL/MPI; `send == recv` is
// allowed (in place) wherever the shapes agree. Counts:
//   AllReduce, Reduce, Broadcast: count elements on every rank.
//   AllGather: `count` per rank in, size()·count out.   ReduceScatter: size()·count in, count out.
//   AllToAll: size()·count in and out (block j goes to / comes from rank j).
//   Gather/Scatter: count per rank; the root's big buffer holds size()·count.
// Reductions: sum prod min max avg over f32 f64 f16 bf16 i32 i64 (dtype.h). adasum is not
// elementwise and is refused here (InvalidArgument): loom/adasum/adasum.h.
//
// Checked mode (set_checked): before each collective the ranks exchange (collective, count,
// dtype, op, root) and every rank returns InvalidArgument naming the first rank that differs
// from rank 0, instead of exchanging mismatched messages.
//
// Thread-safety: one Communicator per rank, used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "loom/base/status.h"
#include "loom/comm/dtype.h"
#include "loom/comm/transport.h"

namespace loom::comm {

enum class Algorithm {
  kAuto,             // selection.cc: by collective, rank count and bytes
  kRing,             // allreduce, allgather, reduce-scatter
  kHalvingDoubling,  // allreduce (Rabenseifner; folds non-powers of two)
  kRecursiveDoubling,  // allreduce (folds non-powers of two); allgather (2^k ranks only)
  kBinomial,         // broadcast, reduce, gather, scatter
  kPairwise,         // alltoall(v)
  kLinear,           // gather, scatter (root talks to everyone); alltoall(v) (post all at once)
  kBruck,            // allgather, any rank count, small messages
  kShm,              // allreduce, allgather, reduce-scatter, alltoall through shared memory
                     // (Transport::SharedMemory; MPI: all ranks on one node). kAuto picks it
                     // whenever the transport offers it (LOOM_COMM_SHM=0 turns it off).
};
std::string_view AlgorithmName(Algorithm a);
StatusOr<Algorithm> ParseAlgorithm(std::string_view text);

enum class CollectiveKind {
  kAllReduce, kAllGather, kReduceScatter, kAllToAll, kAllToAllV, kBroadcast, kReduce, kGather,
  kScatter, kBarrier,
};
std::string_view CollectiveKindName(CollectiveKind k);

class TuningTable;  // tuning.h

struct CollectiveOptions {
  Algorithm algorithm = Algorithm::kAuto;
};

// kAuto's built-in choice (communicator.cc). `bytes` is the largest buffer of one rank: the
// vector for allreduce/broadcast/reduce, the size()·count side for allgather, reduce-scatter,
// alltoall, gather and scatter.
Algorithm SelectAlgorithm(CollectiveKind kind, int ranks, size_t bytes);

// Whether `a` implements `kind` at `ranks` ranks (recursive-doubling allgather needs 2^k).
// kShm also needs a transport that offers shared memory (Transport::shared_memory_available).
bool Implements(Algorithm a, CollectiveKind kind, int ranks);

class Communicator {
 public:
  explicit Communicator(std::unique_ptr<Transport> transport);

  int rank() const { return transport_->rank(); }
  int size() const { return transport_->size(); }
  Transport& transport() { return *transport_; }

  void set_checked(bool checked) { checked_ = checked; }
  bool checked() const { return checked_; }
  void set_timeout_ms(int64_t ms) { transport_->set_timeout_ms(ms); }

  // A measured selection table for kAuto (tuning.h); nullptr restores the built-in choice.
  // Communicators made by Split inherit it. Every rank must use the same table.
  void set_tuning(std::shared_ptr<const TuningTable> table) { tuning_ = std::move(table); }
  const TuningTable* tuning() const { return tuning_.get(); }
  // The algorithm a call of `kind` with `bytes` (as SelectAlgorithm) runs: options.algorithm
  // unless kAuto, else the tuning table's entry for this size, else kShm where the transport
  // offers shared memory and kShm implements `kind`, else SelectAlgorithm.
  Algorithm Choose(CollectiveKind kind, size_t bytes, const CollectiveOptions& options) const;

  Status AllReduce(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op,
                   const CollectiveOptions& options = {});
  Status AllGather(const void* send, void* recv, size_t count, DataType dtype,
                   const CollectiveOptions& options = {});
  Status ReduceScatter(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op,
                       const CollectiveOptions& options = {});
  Status AllToAll(const void* send, void* recv, size_t count, DataType dtype,
                  const CollectiveOptions& options = {});
  // Element counts and displacements per peer (size() entries each).
  Status AllToAllV(const void* send, std::span<const size_t> send_counts,
                   std::span<const size_t> send_displs, void* recv,
                   std::span<const size_t> recv_counts, std::span<const size_t> recv_displs,
                   DataType dtype, const CollectiveOptions& options = {});
  Status Broadcast(void* buffer, size_t count, DataType dtype, int root,
                   const CollectiveOptions& options = {});
  Status Reduce(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op, int root,
                const CollectiveOptions& options = {});
  Status Gather(const void* send, void* recv, size_t count, DataType dtype, int root,
                const CollectiveOptions& options = {});
  Status Scatter(const void* send, void* recv, size_t count, DataType dtype, int root,
                 const CollectiveOptions& options = {});
  Status Barrier();

  // Collective; color < 0 returns nullptr (this rank joins no group).
  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key);

  // Reserves the tags of one collective call: [base, base + kTagsPerCall). Every rank must make
  // the same sequence of calls. For algorithms outside this class (interpreter, adasum).
  static constexpr int kTagsPerCall = 32;
  int NextTagBase();

 private:
  // The shared-memory object for a call moving `bytes_per_round` per rank; with kAuto a setup
  // failure (agreed by all ranks) returns nullptr and the caller falls back to point-to-point.
  StatusOr<ShmCollectives*> Shm(size_t bytes_per_round, const CollectiveOptions& options);
  Status Check(CollectiveKind kind, size_t count, DataType dtype, ReduceOp op, int root,
               int tag_base);

  std::unique_ptr<Transport> transport_;
  std::shared_ptr<const TuningTable> tuning_;
  bool checked_ = false;
  int64_t sequence_ = 0;
};

}  // namespace loom::comm
