// Random-weight checkpoints with the real shapes of published models (fewer layers allowed),
// written as an HF model directory (config.json + model.safetensors) for benchmarks, the
// demo and `loom phi make-random`. Weights are N(0, 0.02) from a seeded Prng; norms are 1.
// Thread-safety: functions writing their own directory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loom/base/json.h"
#include "loom/base/status.h"
#include "loom/phi/safetensors.h"

namespace loom::phi {

// "phi-1.5", "phi-2", "phi-3-mini", "phi-4", "phi-4-mini": config.json contents with
// num_hidden_layers replaced by `layers` (> 0).
StatusOr<Json> PresetConfig(const std::string& preset, int64_t layers);
std::vector<std::string> PresetNames();

// Writes dir/config.json and dir/model.safetensors with every expected tensor in `dtype`
// (F32, F16 or BF16).
Status WriteRandomCheckpoint(const Json& config, const std::string& dir, DType dtype,
                             uint64_t seed);

}  // namespace loom::phi
