// Adasum (Maleki et al., MLSys'21) as Horovod implements it: the pairwise operator
//   Adasum(g1, g2) = (1 - g1·g2 / (2‖g1‖²))·g1 + (1 - g1·g2 / (2‖g2‖²))·g2
// applied per tensor, and the recursive vector-halving distance-doubling (VHDD) allreduce that
// reduces p = 2^k ranks in the tree ((r0⊕r1)⊕(r2⊕r3))⊕… (rank-index order).
//
// VHDD, per level d = 1, 2, …, p/2 (partner = rank XOR d): the current segment is halved (the
// rank with bit d clear keeps the first ⌊n/2⌋ elements), halves are exchanged, each rank
// computes for every fused tensor the partial a·b, ‖a‖², ‖b‖² in double over the part it
// holds, and these 3·T doubles are summed over the level's reduction communicator (the 2d
// ranks with equal rank / 2d, which together hold both whole operands). Ranks in the right
// half swap the two norm slots before the sum and back after, so every rank agrees which
// operand is the left one (without this the replicas diverge silently). Each rank overwrites its
// slice with c_left·left + c_right·right. A squared norm below sqrt(DBL_MIN) keeps its
// coefficient at 1 (zero-norm guard: an all-zero operand passes the other through). Then the
// exchanges are replayed in reverse to all-gather the result. Every rank ends bitwise equal.
// By default the reduce-scatter reads the partner's half in place (Transport::MapPeer: no copy
// on the thread backend), see set_exchange.
//
// Types: f32 and f64 accumulate dots and norms in double and scale in double; f16 and bf16 are
// widened half → float → double for dots and scaled in float, rounded once. Others:
// InvalidArgument.
//
// Non-power-of-two p: InvalidArgument by default (Horovod refuses too). With
// `fold_non_power_of_two`, the r = p - 2^⌊lg p⌋ extra ranks first send their tensors to rank
// (rank - 2^⌊lg p⌋), which combines them with the pairwise operator; VHDD runs over the first
// 2^⌊lg p⌋ ranks; the extra ranks then receive the result. The tree is therefore
// T(Adasum(x0, x_{p'}), …, Adasum(x_{r-1}, x_{p'+r-1}), x_r, …, x_{p'-1}) (reference.h).
//
// Thread-safety: an AdasumReducer is used by one thread (its rank), like its Communicator.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/communicator.h"
#include "loom/comm/dtype.h"

namespace loom::adasum {

// One tensor (one layer): `count` elements of the call's dtype.
struct TensorView {
  void* data = nullptr;
  size_t count = 0;
};

struct AdasumOptions {
  comm::DataType dtype = comm::DataType::kF32;
  bool fold_non_power_of_two = false;
};

// In place: a = Adasum(a, b) over n elements of `dtype` (one tensor).
Status AdasumPair(comm::DataType dtype, void* a, const void* b, size_t n);

// Holds the reduction communicators (sizes 2, 4, …, p') of one Communicator; build once and
// reuse across calls. Creation is collective.
class AdasumReducer {
 public:
  static StatusOr<std::unique_ptr<AdasumReducer>> Create(comm::Communicator& comm,
                                                         bool fold_non_power_of_two = false);

  // Adasum-allreduces the fused list of tensors in place (per-tensor coefficients). Tensors
  // that already lie back to back in memory are reduced where they are; others are copied
  // into the reducer's fusion buffer and back.
  Status Allreduce(std::span<const TensorView> tensors, comm::DataType dtype);

  // Plain sum over the same VHDD schedule and buffers (the cost baseline of benchmarks).
  Status SumAllreduce(std::span<const TensorView> tensors, comm::DataType dtype);

  // How each level gets the partner's half for the dots and the combine. Every exchange adds
  // the double partial sums on SendRecvVisit's 128 KiB piece grid, so all give the same bits.
  enum class Exchange {
    kInPlace,    // default: Transport::MapPeer; the dot pass and the combine read the partner's
                 // half where it lies (threads: no copy); other backends land it first (= kCopy)
    kOnArrival,  // Transport::SendRecvVisit: dots on each 128 KiB piece right after it lands
    kCopy,       // SendRecv, then a separate dot pass (the earlier path: the tests' oracle)
    kReadPeer,   // where Transport::can_read_peer (MPI on one node): the half lands in 512 KiB
                 // windows read from the partner (ReadPeer), each window's dots taken right
                 // after it lands; elsewhere as kInPlace. Measured no faster than kCopy over
                 // MPI on the 2-core VM (docs/benchmarks.md), so not the default.
  };
  void set_exchange(Exchange e) { exchange_ = e; }
  // SumAllreduce reads the partner's half in place too (MapPeer, reduce, UnmapPeer) instead of
  // SendRecv then reduce: the baseline given the same transport feature (benchmarks).
  void set_sum_in_place(bool on) { sum_in_place_ = on; }

 private:
  AdasumReducer(comm::Communicator& comm, int pow2, bool fold)
      : comm_(comm), pow2_(pow2), fold_(fold) {}
  Status Run(std::span<const TensorView> tensors, comm::DataType dtype, bool adasum);
  // VHDD over elements [seg_lo, seg_hi) of the fused buffer `buf` (element indices of the
  // whole fused list, as `tensor_offsets`): exchanges on `members_` (or comm_), each level's
  // dots summed over level_comms_[level]. The hierarchical reducer runs it on one node-block
  // with level groups that span every local rank of the nodes involved.
  Status Vhdd(std::byte* buf, size_t seg_lo, size_t seg_hi,
              const std::vector<size_t>& tensor_offsets, comm::DataType dtype, bool adasum);
  friend class HierarchicalAdasumReducer;

  comm::Communicator& comm_;
  int pow2_;
  bool fold_;
  Exchange exchange_ = Exchange::kInPlace;
  bool sum_in_place_ = false;
  int vrank_ = -1;  // rank among the 2^k VHDD participants, -1 for folded-out ranks
  std::unique_ptr<comm::Communicator> members_;                  // the 2^k participants
  std::vector<std::unique_ptr<comm::Communicator>> level_comms_;  // sizes 2, 4, ..., 2^k
  std::vector<std::byte> fusion_, recv_;
  // kReadPeer: the bytes each read lands, a multiple of the 128 KiB piece grid, small enough
  // to stay in L2 beside `a`.
  static constexpr size_t kReadWindowBytes = size_t{512} << 10;
  std::vector<std::byte> piece_;  // --sum-in-place with ReadPeer: one window of the partner
};

// One-shot convenience: builds a reducer and runs Allreduce.
Status AdasumAllreduce(comm::Communicator& comm, std::span<const TensorView> tensors,
                       const AdasumOptions& options = {});

}  // namespace loom::adasum
