// Safetensors checkpoints (docs/formats/safetensors.md): one memory-mapped file, or a set of
// shards named by model.safetensors.index.json. Every header is validated when the file is
// opened (JSON shape, known dtype, dtype x shape == byte length, offsets inside the data
// section, covering it exactly, no overlap, no duplicate names), so tensor views handed out
// afterwards are always in bounds. Errors are DataLoss naming the file and the tensor.
// Thread-safety: immutable after Open; views stay valid while the owning object lives.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "loom/base/file_io.h"
#include "loom/base/status.h"

namespace loom::phi {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

std::string_view DTypeName(DType t);
size_t DTypeSize(DType t);
StatusOr<DType> ParseDType(std::string_view name);

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::span<const uint8_t> bytes;  // row-major little-endian payload
  std::string file;                // which file holds it (for messages)

  int64_t numel() const;
  // Converts F32/F16/BF16/F64 to fp32 into `out` (numel() floats); other dtypes fail.
  Status ToFloat(std::span<float> out) const;
  std::vector<float> ToFloatVector() const;  // LOOM_CHECKs a float dtype; use after validation
};

// Hard cap on the JSON header, as in the reference implementation.
inline constexpr uint64_t kMaxSafetensorsHeader = 100u << 20;

// Validates a whole safetensors image held in memory; `source` names it in errors. Returns
// the tensors with `bytes` pointing into `image`.
StatusOr<std::vector<TensorView>> ParseSafetensors(std::span<const uint8_t> image,
                                                   const std::string& source);

// A checkpoint directory or file: model.safetensors, or model.safetensors.index.json + shards.
class Checkpoint {
 public:
  // `path` is a directory (looks for the index, then model.safetensors) or a .safetensors file.
  static StatusOr<std::unique_ptr<Checkpoint>> Open(const std::string& path);

  const TensorView* Find(std::string_view name) const;
  StatusOr<const TensorView*> Get(std::string_view name) const;  // NotFound naming it
  const std::map<std::string, TensorView, std::less<>>& tensors() const { return tensors_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  Status AddFile(const std::string& path);
  std::vector<std::unique_ptr<MappedFile>> maps_;
  std::vector<std::string> files_;
  std::map<std::string, TensorView, std::less<>> tensors_;
};

// A tensor to write: name, dtype, shape and the raw little-endian payload.
struct TensorData {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::string bytes;
};

// Serialises tensors (in the given order) into a safetensors image / file (atomically).
std::string SerializeSafetensors(const std::vector<TensorData>& tensors);
Status WriteSafetensors(const std::string& path, const std::vector<TensorData>& tensors);
TensorData F32Tensor(std::string name, std::vector<int64_t> shape, std::span<const float> v);

}  // namespace loom::phi
