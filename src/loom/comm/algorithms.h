// The collective algorithms, one file each, written against Transport only. Communicator
// validates arguments and picks one; callers that need a specific schedule (benchmarks, adasum,
// taccl baselines) may call them directly. Every rank must call the same algorithm with the
// same shape and `tag` (use Communicator::NextTagBase). They use tags [tag, tag + 32).
// avg reduces as sum here; the Communicator divides.
// Thread-safety: as the Transport.
#pragma once

#include <cstddef>
#include <span>

#include "loom/base/status.h"
#include "loom/comm/dtype.h"
#include "loom/comm/transport.h"

namespace loom::comm::algo {

// The block [offset, offset + size) of `count` elements split over `parts` (the first
// count % parts blocks are one longer).
struct Block {
  size_t offset;
  size_t size;
};
Block BlockOf(size_t count, int parts, int index);

// Uninitialised scratch of at least `bytes`, kept by the calling thread for its next call
// (slots 0..3 are distinct buffers, for algorithms that need two at once). A fresh zeroed
// std::vector per call cost a memset and, above malloc's mmap threshold, one page fault per
// 4 KiB: about 10 % of a 16 MiB two-rank allreduce. The thread keeps the largest size it used
// (as MPI libraries keep their internal buffers). scratch.cc
std::span<std::byte> ThreadScratch(size_t bytes, int slot = 0);

// In place on `buffer` (count elements). allreduce_ring.cc
Status AllReduceRing(Transport& t, int tag, void* buffer, size_t count, DataType dtype,
                     ReduceOp op);
// In place; Rabenseifner reduce-scatter + allgather by recursive halving/doubling, with the
// extra ranks of a non-power-of-two folded in first. allreduce_halving_doubling.cc
Status AllReduceHalvingDoubling(Transport& t, int tag, void* buffer, size_t count, DataType dtype,
                                ReduceOp op);
// In place; lg p whole-vector exchanges (short vectors). allreduce_recursive_doubling.cc
Status AllReduceRecursiveDoubling(Transport& t, int tag, void* buffer, size_t count,
                                  DataType dtype, ReduceOp op);
// recv (size·count) gets every rank's `count` elements in rank order. allgather_ring.cc
Status AllGatherRing(Transport& t, int tag, const void* send, void* recv, size_t count,
                     DataType dtype);
// Any p, small messages: ⌈lg p⌉ steps then one local rotation. allgather_bruck.cc
Status AllGatherBruck(Transport& t, int tag, const void* send, void* recv, size_t count,
                      DataType dtype);
// p = 2^k only (InvalidArgument otherwise): lg p exchanges. allgather_recursive_doubling.cc
Status AllGatherRecursiveDoubling(Transport& t, int tag, const void* send, void* recv,
                                  size_t count, DataType dtype);
// send has size·count elements; recv gets block rank reduced. reduce_scatter_ring.cc
Status ReduceScatterRing(Transport& t, int tag, const void* send, void* recv, size_t count,
                         DataType dtype, ReduceOp op);
// broadcast_binomial.cc
Status BroadcastBinomial(Transport& t, int tag, void* buffer, size_t bytes, int root);
// recv significant at root only (may be null elsewhere). reduce_binomial.cc
Status ReduceBinomial(Transport& t, int tag, const void* send, void* recv, size_t count,
                      DataType dtype, ReduceOp op, int root);
// The byte views of an alltoall(v)'s blocks (counts and displacements in elements).
struct AllToAllBlocks {
  const std::byte* in;
  std::byte* out;
  size_t es;
  std::span<const size_t> send_counts, send_displs, recv_counts, recv_displs;
  std::span<const std::byte> To(int peer) const {
    const size_t d = static_cast<size_t>(peer);
    return {in + send_displs[d] * es, send_counts[d] * es};
  }
  std::span<std::byte> From(int peer) const {
    const size_t s = static_cast<size_t>(peer);
    return {out + recv_displs[s] * es, recv_counts[s] * es};
  }
  // The block a rank sends itself (memmove: the caller's blocks may overlap).
  void CopyOwn(int rank) const;
};
// p − 1 rounds of one exchange each. alltoall_pairwise.cc
Status AllToAllPairwise(Transport& t, int tag, const AllToAllBlocks& blocks);
// All sends and receives posted at once (small blocks). alltoall_linear.cc
Status AllToAllLinear(Transport& t, int tag, const AllToAllBlocks& blocks);
// gather_scatter_linear.cc
Status GatherLinear(Transport& t, int tag, const void* send, void* recv, size_t bytes, int root);
Status ScatterLinear(Transport& t, int tag, const void* send, void* recv, size_t bytes, int root);
// ⌈lg p⌉ messages at the root; inner nodes forward subtrees. gather_scatter_binomial.cc
Status GatherBinomial(Transport& t, int tag, const void* send, void* recv, size_t bytes, int root);
Status ScatterBinomial(Transport& t, int tag, const void* send, void* recv, size_t bytes, int root);
// barrier_dissemination.cc
Status BarrierDissemination(Transport& t, int tag);

}  // namespace loom::comm::algo
