// The synthesis cache: key = hash(topology, sketch, collective, size bucket, options) -> the
// emitted XML, one file per key under a directory. Lookups read one small file, so a warm hit
// answers in well under 50 ms with byte-identical output. Files are written atomically; two
// processes racing on one key write identical bytes. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "loom/base/status.h"
#include "loom/taccl/sketch.h"
#include "loom/taccl/synthesizer.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

// Sizes in one power-of-two bucket share an entry: ceil(log2(bytes)).
int SizeBucket(uint64_t bytes);

// 16 hex digits. `extra` carries anything else that changes the output (dialect, ...).
std::string CacheKey(const Topology& topo, const Sketch& sketch, const SynthOptions& options,
                     const std::string& extra);

StatusOr<std::optional<std::string>> CacheLookup(const std::string& dir, const std::string& key);
Status CacheStore(const std::string& dir, const std::string& key, const std::string& xml);

}  // namespace loom::taccl
