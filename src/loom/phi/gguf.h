// GGUF v3 files (llama.cpp's model container; docs/formats/gguf.md): a validated,
// memory-mapped reader and an atomic writer. Model-agnostic: gguf_phi.h maps phi models onto it.
//
// The reader checks everything before handing out a byte: magic and version (2 and 3; both
// use 64-bit counts), counts against the file size, every string and array inside the file,
// value types, tensor dims (1..4, positive, no overflow, row width a multiple of the block for
// quantized types), known tensor types, offsets aligned to general.alignment, data inside the
// file and no two tensors overlapping. A bad file is DataLoss naming the file, the key or
// tensor, and the byte offset.
// Thread-safety: a GgufFile is immutable after Open; GgufWriter is single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "loom/base/file_io.h"
#include "loom/base/status.h"

namespace loom::phi {

// GGUF metadata value types (the numbering is the format's).
enum class GgufValueType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// ggml tensor types loom reads and writes (the numbering is ggml's).
enum class GgmlType : uint32_t { kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ8_0 = 8, kBF16 = 30 };
std::string_view GgmlTypeName(GgmlType t);
// Bytes of a row of n elements (n a multiple of the block size for Q types).
uint64_t GgmlRowBytes(GgmlType t, int64_t n);
int64_t GgmlBlockSize(GgmlType t);

// One metadata value. Scalars keep their declared type; numbers are also readable as
// int/double. Arrays hold elements of one type (strings in `strings`, numbers in `numbers`;
// nested arrays are accepted and skipped: `array_type` kArray with no elements kept).
struct GgufValue {
  GgufValueType type = GgufValueType::kU32;
  int64_t i = 0;   // integer and bool scalars (u64 above 2^63 is rejected)
  double f = 0;    // float scalars; also the integer as a double
  std::string s;   // kString
  GgufValueType array_type = GgufValueType::kU8;
  std::vector<std::string> strings;
  std::vector<double> numbers;
  uint64_t array_length = 0;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> dims;  // ne: innermost first (the reverse of safetensors/PyTorch)
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t bytes = 0;
  int64_t rows() const;     // product of dims[1..]
  int64_t row_len() const { return dims.empty() ? 0 : dims[0]; }
};

class GgufFile {
 public:
  static StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses an in-memory image (the fuzz target and tests); `source` names it in errors.
  static StatusOr<std::unique_ptr<GgufFile>> Parse(std::span<const uint8_t> bytes,
                                                   std::string source);

  const std::string& source() const { return source_; }
  uint32_t version() const { return version_; }
  const std::map<std::string, GgufValue>& metadata() const { return kv_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  const GgufValue* Find(std::string_view key) const;
  // Typed getters: NotFound if absent (unless a fallback is given), DataLoss on a wrong type.
  StatusOr<int64_t> GetInt(std::string_view key) const;
  StatusOr<int64_t> GetInt(std::string_view key, int64_t fallback) const;
  StatusOr<double> GetFloat(std::string_view key) const;
  StatusOr<double> GetFloat(std::string_view key, double fallback) const;
  StatusOr<std::string> GetString(std::string_view key) const;

  const GgufTensorInfo* FindTensor(std::string_view name) const;
  // The tensor's bytes (inside the mapped file).
  std::span<const uint8_t> Data(const GgufTensorInfo& t) const;

 private:
  GgufFile() = default;
  Status ParseImage();

  std::string source_;
  std::unique_ptr<MappedFile> mapped_;
  std::span<const uint8_t> image_;
  uint32_t version_ = 0;
  uint64_t data_start_ = 0;
  std::map<std::string, GgufValue> kv_;
  std::vector<GgufTensorInfo> tensors_;
};

// Builds a GGUF v3 file: metadata in insertion order, then tensor infos, then data aligned
// to 32 bytes. Write() goes through AtomicFileWriter (temp + fsync + rename).
class GgufWriter {
 public:
  void AddU32(const std::string& key, uint32_t v);
  void AddI32(const std::string& key, int32_t v);
  void AddF32(const std::string& key, float v);
  void AddBool(const std::string& key, bool v);
  void AddString(const std::string& key, const std::string& v);
  void AddStringArray(const std::string& key, const std::vector<std::string>& v);
  void AddF32Array(const std::string& key, const std::vector<float>& v);
  void AddI32Array(const std::string& key, const std::vector<int32_t>& v);
  // Copies a value read from another file (tokenizer.* keys from a vocab GGUF) in its own
  // type; nested arrays (which the reader does not keep) are InvalidArgument.
  Status AddValue(const std::string& key, const GgufValue& v);
  // dims innermost first; `data` must be GgmlRowBytes(type, dims[0]) * rows bytes. The span
  // is not copied: it must stay valid until Write() returns (models are written without a
  // second copy of their weights). AddOwnedTensor keeps its own bytes (small derived tensors).
  Status AddTensor(const std::string& name, GgmlType type, std::vector<int64_t> dims,
                   std::span<const uint8_t> data);
  Status AddOwnedTensor(const std::string& name, GgmlType type, std::vector<int64_t> dims,
                        std::vector<uint8_t> data);
  Status Write(const std::string& path) const;

 private:
  std::vector<uint8_t> kv_bytes_;
  uint64_t kv_count_ = 0;
  struct Pending {
    std::string name;
    GgmlType type;
    std::vector<int64_t> dims;
    std::span<const uint8_t> data;
  };
  std::vector<Pending> tensors_;
  std::vector<std::unique_ptr<std::vector<uint8_t>>> owned_;
};

}  // namespace loom::phi
