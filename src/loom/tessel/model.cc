#include "loom/tessel/model.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "loom/base/strings.h"

namespace loom::tessel {

std::string_view BlockTypeName(BlockType type) {
  switch (type) {
    case BlockType::kForward: return "forward";
    case BlockType::kBackward: return "backward";
    case BlockType::kWeight: return "weight";
    case BlockType::kOther: return "other";
  }
  return "other";
}

char BlockTypeLetter(BlockType type) {
  switch (type) {
    case BlockType::kForward: return 'f';
    case BlockType::kBackward: return 'b';
    case BlockType::kWeight: return 'w';
    case BlockType::kOther: return 'o';
  }
  return 'o';
}

StatusOr<BlockType> ParseBlockType(std::string_view name) {
  if (name == "forward" || name == "f" || name == "F") return BlockType::kForward;
  if (name == "backward" || name == "b" || name == "B" || name == "backward-input" ||
      name == "I")
    return BlockType::kBackward;
  if (name == "weight" || name == "w" || name == "W" || name == "backward-weight")
    return BlockType::kWeight;
  if (name == "other" || name == "o" || name == "O") return BlockType::kOther;
  return InvalidArgumentError(StrCat("unknown block type '", std::string(name),
                                     "' (forward, backward, weight, other)"));
}

double Block::Span() const {
  double s = 0;
  for (double d : duration) s = std::max(s, d);
  return s;
}

int Block::DeviceSlot(int device) const {
  for (size_t i = 0; i < devices.size(); ++i)
    if (devices[i] == device) return static_cast<int>(i);
  return -1;
}

int Placement::AddBlock(std::string block_name, BlockType type, std::vector<int> devs,
                        double dur, double mem) {
  Block b;
  b.name = std::move(block_name);
  b.type = type;
  b.duration.assign(devs.size(), dur);
  b.memory.assign(devs.size(), mem);
  b.devices = std::move(devs);
  blocks.push_back(std::move(b));
  return static_cast<int>(blocks.size()) - 1;
}

void Placement::Chain(const std::vector<int>& ids) {
  for (size_t i = 1; i < ids.size(); ++i) AddEdge(ids[i - 1], ids[i]);
}

double Placement::Cap(int device) const {
  if (memory_cap.empty()) return kNoCap;
  return memory_cap[static_cast<size_t>(device)];
}

int Placement::FindBlock(std::string_view block_name) const {
  for (size_t i = 0; i < blocks.size(); ++i)
    if (blocks[i].name == block_name) return static_cast<int>(i);
  return -1;
}

Status ValidatePlacement(const Placement& p) {
  const std::string where = StrCat("placement '", p.name, "'");
  if (p.num_devices <= 0 || p.num_devices > 4096)
    return InvalidArgumentError(StrCat(where, ": num_devices ", p.num_devices,
                                       " must be in [1, 4096]"));
  if (p.blocks.empty()) return InvalidArgumentError(StrCat(where, ": no blocks"));
  if (!p.memory_cap.empty() && p.memory_cap.size() != static_cast<size_t>(p.num_devices))
    return InvalidArgumentError(StrCat(where, ": memory_cap has ", p.memory_cap.size(),
                                       " entries for ", p.num_devices, " devices"));
  for (size_t d = 0; d < p.memory_cap.size(); ++d)
    if (std::isnan(p.memory_cap[d]))
      return InvalidArgumentError(StrCat(where, ": memory_cap[", d, "] is NaN"));
  std::set<std::string> names;
  for (size_t i = 0; i < p.blocks.size(); ++i) {
    const Block& b = p.blocks[i];
    std::string bw = StrCat(where, ": block ", i, " '", b.name, "'");
    if (b.name.empty()) return InvalidArgumentError(StrCat(bw, ": empty name"));
    if (!names.insert(b.name).second) return InvalidArgumentError(StrCat(bw, ": duplicate name"));
    if (b.devices.empty()) return InvalidArgumentError(StrCat(bw, ": no devices"));
    if (b.duration.size() != b.devices.size() || b.memory.size() != b.devices.size())
      return InvalidArgumentError(StrCat(bw, ": duration/memory need one entry per device (",
                                         b.devices.size(), ")"));
    std::set<int> seen;
    for (size_t k = 0; k < b.devices.size(); ++k) {
      int d = b.devices[k];
      if (d < 0 || d >= p.num_devices)
        return InvalidArgumentError(
            StrCat(bw, ": device ", d, " out of range [0, ", p.num_devices, ")"));
      if (!seen.insert(d).second)
        return InvalidArgumentError(StrCat(bw, ": device ", d, " listed twice"));
      if (!(b.duration[k] > 0) || !std::isfinite(b.duration[k]))
        return InvalidArgumentError(
            StrCat(bw, ": duration on device ", d, " must be positive and finite"));
      if (!std::isfinite(b.memory[k]))
        return InvalidArgumentError(StrCat(bw, ": memory on device ", d, " is not finite"));
      if (b.memory[k] > p.Cap(d) + kTimeEps)
        return InfeasibleError(StrCat(bw, ": memory delta ", b.memory[k],
                                      " alone exceeds the cap ", p.Cap(d), " of device ", d));
    }
  }
  const int n = static_cast<int>(p.blocks.size());
  std::vector<std::vector<int>> succ(static_cast<size_t>(n));
  std::vector<int> indeg(static_cast<size_t>(n), 0);
  for (size_t e = 0; e < p.edges.size(); ++e) {
    const Edge& ed = p.edges[e];
    if (ed.from < 0 || ed.from >= n || ed.to < 0 || ed.to >= n)
      return InvalidArgumentError(StrCat(where, ": edge ", e, " (", ed.from, " -> ", ed.to,
                                         ") names a block out of range [0, ", n, ")"));
    if (ed.from == ed.to)
      return InvalidArgumentError(
          StrCat(where, ": edge ", e, " is a self-loop on block '", p.blocks[ed.from].name, "'"));
    if (!(ed.latency >= 0) || !std::isfinite(ed.latency))
      return InvalidArgumentError(StrCat(where, ": edge ", e, " ('", p.blocks[ed.from].name,
                                         "' -> '", p.blocks[ed.to].name,
                                         "') latency must be >= 0 and finite"));
    succ[static_cast<size_t>(ed.from)].push_back(ed.to);
    ++indeg[static_cast<size_t>(ed.to)];
  }
  std::vector<int> queue;
  for (int i = 0; i < n; ++i)
    if (indeg[static_cast<size_t>(i)] == 0) queue.push_back(i);
  for (size_t q = 0; q < queue.size(); ++q)
    for (int s : succ[static_cast<size_t>(queue[q])])
      if (--indeg[static_cast<size_t>(s)] == 0) queue.push_back(s);
  if (queue.size() != static_cast<size_t>(n)) {
    for (int i = 0; i < n; ++i)
      if (indeg[static_cast<size_t>(i)] > 0)
        return InvalidArgumentError(StrCat(where, ": dependency cycle through block '",
                                           p.blocks[static_cast<size_t>(i)].name, "'"));
  }
  return OkStatus();
}

}  // namespace loom::tessel
