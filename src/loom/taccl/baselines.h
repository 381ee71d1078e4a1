// Constructive schedules: NCCL-style ring (AllGather, ReduceScatter, AllReduce = RS + AG) over a
// Hamiltonian ring of the topology, and direct (one hop to every destination, where links
// allow). They are the synthesizer's warm starts and the simulator's baselines.
// Thread-safe (pure functions).
#pragma once

#include <vector>

#include "loom/base/status.h"
#include "loom/taccl/algorithm.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

// A ring visiting every rank once, nodes in order 0, 1, ..., crossing nodes on network links and
// staying on intra-node links inside a node. NotFound if the links admit none.
// With nic >= 0, every node is left and entered through GPUs on its local NIC `nic` (NCCL
// builds one ring per NIC).
StatusOr<std::vector<int>> FindRing(const Topology& topo, int nic = -1);

// Ring algorithm over `ring` (as NCCL's: each chunk walks the ring; AR = RS then AG).
StatusOr<Algorithm> RingAlgorithm(const Topology& topo, const std::vector<int>& ring, Collective coll,
                                  int chunkup, double chunk_bytes);
// Several rings (NCCL channels): chunkup = rings.size(), chunk j of every rank walks ring j.
StatusOr<Algorithm> MultiRingAlgorithm(const Topology& topo, const std::vector<std::vector<int>>& rings,
                                       Collective coll, double chunk_bytes);

// NCCL's double binary tree AllReduce (tree algorithm): per ring j, two trees; chunk c uses ring
// (c % k) / 2 and tree c % 2 (k = 2 * rings.size(), NCCL's channels). Inside a node the chain
// follows the ring's path through that node (its entry GPU leads); across nodes tree 0 is the
// heap-ordered binary tree over nodes 0..M-1 and tree 1 the same over the mirrored order, so
// their roots and interior nodes differ (NCCL's ncclGetDtree shape for M = 2: 0 -> 1 and
// 1 -> 0). Partial sums reduce leaves-to-root, the result is broadcast back down.
// NotFound if a tree hop has no link.
StatusOr<Algorithm> DoubleBinaryTreeAllReduce(const Topology& topo, const std::vector<std::vector<int>>& rings,
                                              double chunk_bytes);

// Every chunk sent straight from its source to each destination. NotFound if a link is missing.
StatusOr<Algorithm> DirectAlgorithm(const Topology& topo, Collective coll, int chunkup, int root,
                                    double chunk_bytes);

}  // namespace loom::taccl
