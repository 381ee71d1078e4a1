// A measured algorithm-selection table for kAuto (docs/formats/comm-tuning.md), written by
// `loom comm tune` and loaded by Communicator::set_tuning. Per rank count and collective: an
// ordered list of size ranges, each naming the algorithm to use up to an inclusive byte bound;
// the last range is open. `bytes` means what SelectAlgorithm's does (communicator.h). A table
// without an entry for (ranks, collective) leaves the built-in choice in force.
// Thread-safety: a TuningTable is a value; share a const one across ranks freely.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/base/json.h"
#include "loom/base/status.h"
#include "loom/comm/communicator.h"

namespace loom::comm {

struct TuningRange {
  std::optional<size_t> up_to_bytes;  // inclusive; nullopt: no upper bound (last range only)
  Algorithm algorithm = Algorithm::kRing;
};

class TuningTable {
 public:
  // Parses and validates (format, version, known collectives and algorithms, algorithms that
  // implement the collective at that rank count, increasing bounds, exactly the last range
  // open). Errors are InvalidArgument naming `source` and the field.
  static StatusOr<TuningTable> Parse(std::string_view text, std::string_view source);
  static StatusOr<TuningTable> ReadFile(const std::string& path);

  // Replaces the ranges of (ranks, kind); InvalidArgument when they break the rules above.
  Status Set(int ranks, CollectiveKind kind, std::vector<TuningRange> ranges);
  // The tuned algorithm, or nullopt when the table has no entry for (ranks, kind).
  std::optional<Algorithm> Lookup(CollectiveKind kind, int ranks, size_t bytes) const;

  Json ToJson() const;
  Status WriteFile(const std::string& path) const;  // atomic (temp + fsync + rename)

  std::string backend = "thread";  // informational: where it was measured

 private:
  std::map<std::pair<int, CollectiveKind>, std::vector<TuningRange>> entries_;
};

// The table named by the environment variable LOOM_COMM_TUNING (for the CLI and benchmarks),
// nullptr when it is unset or empty; a file that fails to load is an error, not ignored.
StatusOr<std::shared_ptr<const TuningTable>> TuningFromEnvironment();

// Parses a collective's name as used in tables and the CLI ("allreduce", "allgather", ...).
StatusOr<CollectiveKind> ParseCollectiveKind(std::string_view text);

}  // namespace loom::comm
