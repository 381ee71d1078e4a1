// The placement model: the per-micro-batch DAG of blocks that a pipeline schedule repeats.
// A block runs on a set of devices at once (tensor/SPMD parallelism), for a real-valued
// duration per device, and changes each device's memory by a delta charged at its start.
// Edges link blocks of the same micro-batch and may carry a communication latency.
// Thread-safety: plain values; const methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "loom/base/status.h"

namespace loom::tessel {

enum class BlockType : uint8_t { kForward, kBackward, kWeight, kOther };

std::string_view BlockTypeName(BlockType type);        // "forward", "backward", ...
StatusOr<BlockType> ParseBlockType(std::string_view name);  // also accepts f/b/w/o
char BlockTypeLetter(BlockType type);                   // 'f', 'b', 'w', 'o'

inline constexpr double kNoCap = std::numeric_limits<double>::infinity();
// Times closer than this are equal (durations are user inputs, sums are not exact).
inline constexpr double kTimeEps = 1e-9;

struct Block {
  std::string name;
  BlockType type = BlockType::kForward;
  std::vector<int> devices;      // distinct device ids
  std::vector<double> duration;  // per entry of `devices`, > 0
  std::vector<double> memory;    // per entry of `devices`, charged at start

  double Span() const;                 // max duration: when successors may start
  int DeviceSlot(int device) const;    // index into devices, -1 when absent
};

struct Edge {
  int from = 0;
  int to = 0;
  double latency = 0;  // communication time between from's end and to's start
};

struct Placement {
  std::string name;
  int num_devices = 0;
  std::vector<Block> blocks;
  std::vector<Edge> edges;
  std::vector<double> memory_cap;  // per device; kNoCap = unlimited; empty = all unlimited

  // Builders for the library and tests (no validation; call ValidatePlacement).
  int AddBlock(std::string block_name, BlockType type, std::vector<int> devices, double duration,
               double memory);
  void AddEdge(int from, int to, double latency = 0) { edges.push_back({from, to, latency}); }
  void Chain(const std::vector<int>& ids);  // edges ids[i] -> ids[i+1]
  void SetCap(double cap) { memory_cap.assign(static_cast<size_t>(num_devices), cap); }
  double Cap(int device) const;
  int FindBlock(std::string_view block_name) const;  // -1 when absent
};

// Checks devices, durations, memory, names, edges, acyclicity and caps. Errors name the block,
// edge or field ("block 'f3': device 7 out of range [0, 4)").
Status ValidatePlacement(const Placement& p);

}  // namespace loom::tessel
