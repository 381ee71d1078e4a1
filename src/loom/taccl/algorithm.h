// taccl's internal algorithm representation: the collective's chunks and a list of timed chunk
// transfers (chunk, link, reduce?), in schedule order. Produced by the synthesizer and the
// constructive baselines, consumed by lowering (lower.h) and checked by CheckAlgorithm, the
// plain set-semantics oracle. Plain values; thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "loom/base/status.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

enum class Collective { kAllGather, kReduceScatter, kAllReduce, kAllToAll, kBroadcast };
const char* CollectiveName(Collective c);
StatusOr<Collective> ParseCollective(std::string_view name);

// Chunk layout (k = chunkup, N = ranks):
//   AllGather / ReduceScatter / AllReduce: N*k chunks, chunk c belongs to rank c / k.
//   AllToAll: N*N*k chunks, chunk ((s*N)+d)*k + j goes from s to d.
//   Broadcast: k chunks, all from the root.
int NumChunks(Collective c, int nranks, int chunkup);

struct Transfer {
  int chunk = 0;
  int src = 0, dst = 0;
  int link = 0;         // Topology link id
  bool reduce = false;  // dst reduces the incoming partial sum into its own (RS / AR phase 0)
  int phase = 0;        // AllReduce: 0 reduce-scatter, 1 allgather
  double start_us = 0, end_us = 0;  // stage-2 schedule at the algorithm's chunk size
  int group = -1;  // transfers sharing a group id (adjacent, same link) are one send of cnt > 1
};

struct Algorithm {
  std::string name;
  Collective coll = Collective::kAllGather;
  int nranks = 0;
  int chunkup = 1;
  int root = 0;  // Broadcast only
  double chunk_bytes = 0;  // bytes per chunk the schedule was timed for
  std::vector<Transfer> transfers;  // sorted by (start_us, end_us, insertion order)
  double makespan_us = 0;

  int num_chunks() const { return NumChunks(coll, nranks, chunkup); }
};

// Set-semantics oracle: replays the transfers in order and checks that every send reads a chunk
// the sender holds (for reductions, one that holds every contribution from its subtree exactly
// once), that times respect arrival, and that the post-condition holds. Slow and obvious.
Status CheckAlgorithm(const Algorithm& algo, const Topology& topo);

}  // namespace loom::taccl
