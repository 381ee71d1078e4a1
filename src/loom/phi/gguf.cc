// GGUF reader and writer; see gguf.h and docs/formats/gguf.md.
#include "loom/phi/gguf.h"

#include <algorithm>
#include <cstring>

#include "loom/base/strings.h"

namespace loom::phi {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kDefaultAlignment = 32;
// Caps that keep a hostile header from asking for absurd allocations before the size checks.
constexpr uint64_t kMaxStringBytes = uint64_t{1} << 30;
constexpr int kMaxArrayDepth = 4;

bool KnownTensorType(uint32_t t) {
  return t == 0 || t == 1 || t == 2 || t == 8 || t == 30;
}

size_t ScalarBytes(GgufValueType t) {
  switch (t) {
    case GgufValueType::kU8: case GgufValueType::kI8: case GgufValueType::kBool: return 1;
    case GgufValueType::kU16: case GgufValueType::kI16: return 2;
    case GgufValueType::kU32: case GgufValueType::kI32: case GgufValueType::kF32: return 4;
    case GgufValueType::kU64: case GgufValueType::kI64: case GgufValueType::kF64: return 8;
    default: return 0;
  }
}

// A bounds-checked little-endian cursor over the image; every failure names the offset.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> image, const std::string& source)
      : image_(image), source_(source) {}
  uint64_t pos() const { return pos_; }

  Status Need(uint64_t n, std::string_view what) const {
    if (n > image_.size() - pos_)
      return DataLossError(StrCat(source_, ": ", what, " at byte ", pos_, " needs ", n,
                                  " bytes but the file ends at ", image_.size()));
    return OkStatus();
  }
  template <typename T>
  StatusOr<T> Read(std::string_view what) {
    LOOM_RETURN_IF_ERROR(Need(sizeof(T), what));
    T v;
    std::memcpy(&v, image_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  StatusOr<std::string> ReadString(std::string_view what) {
    LOOM_ASSIGN_OR_RETURN(uint64_t n, Read<uint64_t>(what));
    if (n > kMaxStringBytes)
      return DataLossError(StrCat(source_, ": ", what, " at byte ", pos_ - 8, " claims ", n,
                                  " bytes"));
    LOOM_RETURN_IF_ERROR(Need(n, what));
    std::string s(reinterpret_cast<const char*>(image_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  Status Skip(uint64_t n, std::string_view what) {
    LOOM_RETURN_IF_ERROR(Need(n, what));
    pos_ += n;
    return OkStatus();
  }

 private:
  std::span<const uint8_t> image_;
  const std::string& source_;
  uint64_t pos_ = 0;
};

// Reads one scalar of type t into v (as integer and double).
Status ReadScalar(Cursor& c, GgufValueType t, GgufValue& v, std::string_view what,
                  const std::string& source) {
  switch (t) {
    case GgufValueType::kU8: { LOOM_ASSIGN_OR_RETURN(uint8_t x, c.Read<uint8_t>(what)); v.i = x; break; }
    case GgufValueType::kI8: { LOOM_ASSIGN_OR_RETURN(int8_t x, c.Read<int8_t>(what)); v.i = x; break; }
    case GgufValueType::kU16: { LOOM_ASSIGN_OR_RETURN(uint16_t x, c.Read<uint16_t>(what)); v.i = x; break; }
    case GgufValueType::kI16: { LOOM_ASSIGN_OR_RETURN(int16_t x, c.Read<int16_t>(what)); v.i = x; break; }
    case GgufValueType::kU32: { LOOM_ASSIGN_OR_RETURN(uint32_t x, c.Read<uint32_t>(what)); v.i = x; break; }
    case GgufValueType::kI32: { LOOM_ASSIGN_OR_RETURN(int32_t x, c.Read<int32_t>(what)); v.i = x; break; }
    case GgufValueType::kI64: { LOOM_ASSIGN_OR_RETURN(int64_t x, c.Read<int64_t>(what)); v.i = x; break; }
    case GgufValueType::kU64: {
      LOOM_ASSIGN_OR_RETURN(uint64_t x, c.Read<uint64_t>(what));
      if (x > static_cast<uint64_t>(INT64_MAX))
        return DataLossError(StrCat(source, ": ", what, " = ", x, " does not fit int64"));
      v.i = static_cast<int64_t>(x);
      break;
    }
    case GgufValueType::kBool: {
      LOOM_ASSIGN_OR_RETURN(uint8_t x, c.Read<uint8_t>(what));
      if (x > 1) return DataLossError(StrCat(source, ": ", what, " is a bool holding ", int(x)));
      v.i = x;
      break;
    }
    case GgufValueType::kF32: { LOOM_ASSIGN_OR_RETURN(float x, c.Read<float>(what)); v.f = x; return OkStatus(); }
    case GgufValueType::kF64: { LOOM_ASSIGN_OR_RETURN(double x, c.Read<double>(what)); v.f = x; return OkStatus(); }
    default:
      return InternalError("ReadScalar: not a scalar type");
  }
  v.f = static_cast<double>(v.i);
  return OkStatus();
}

Status ReadValue(Cursor& c, GgufValueType t, GgufValue& v, const std::string& what,
                 const std::string& source, int depth) {
  v.type = t;
  if (t == GgufValueType::kString) {
    LOOM_ASSIGN_OR_RETURN(v.s, c.ReadString(what));
    return OkStatus();
  }
  if (t != GgufValueType::kArray) {
    if (ScalarBytes(t) == 0)
      return DataLossError(StrCat(source, ": ", what, " has unknown value type ",
                                  static_cast<uint32_t>(t), " (byte ", c.pos() - 4, ")"));
    return ReadScalar(c, t, v, what, source);
  }
  if (depth >= kMaxArrayDepth)
    return DataLossError(StrCat(source, ": ", what, " nests arrays deeper than ", kMaxArrayDepth));
  LOOM_ASSIGN_OR_RETURN(uint32_t et, c.Read<uint32_t>(what));
  LOOM_ASSIGN_OR_RETURN(uint64_t n, c.Read<uint64_t>(what));
  v.array_type = static_cast<GgufValueType>(et);
  v.array_length = n;
  const GgufValueType elem = v.array_type;
  if (elem == GgufValueType::kString) {
    // Every string needs at least its 8-byte length: bound n by the bytes left.
    LOOM_RETURN_IF_ERROR(c.Need(n > kMaxStringBytes ? UINT64_MAX : n * 8, what));
    v.strings.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      LOOM_ASSIGN_OR_RETURN(std::string s, c.ReadString(what));
      v.strings.push_back(std::move(s));
    }
    return OkStatus();
  }
  if (elem == GgufValueType::kArray) {
    // Each element is itself (type, count, elements): read and drop (no phi key nests).
    LOOM_RETURN_IF_ERROR(c.Need(n > kMaxStringBytes ? UINT64_MAX : n * 12, what));
    for (uint64_t i = 0; i < n; ++i) {
      GgufValue inner;
      LOOM_RETURN_IF_ERROR(ReadValue(c, GgufValueType::kArray, inner, what, source, depth + 1));
    }
    return OkStatus();
  }
  const size_t eb = ScalarBytes(elem);
  if (eb == 0)
    return DataLossError(StrCat(source, ": ", what, " is an array of unknown type ", et));
  LOOM_RETURN_IF_ERROR(c.Need(n > (UINT64_MAX / eb) ? UINT64_MAX : n * eb, what));
  v.numbers.resize(n);
  for (uint64_t i = 0; i < n; ++i) {
    GgufValue x;
    LOOM_RETURN_IF_ERROR(ReadScalar(c, elem, x, what, source));
    v.numbers[i] = x.f;
  }
  return OkStatus();
}

}  // namespace

std::string_view GgmlTypeName(GgmlType t) {
  switch (t) {
    case GgmlType::kF32: return "F32";
    case GgmlType::kF16: return "F16";
    case GgmlType::kQ4_0: return "Q4_0";
    case GgmlType::kQ8_0: return "Q8_0";
    case GgmlType::kBF16: return "BF16";
  }
  return "?";
}

int64_t GgmlBlockSize(GgmlType t) {
  return t == GgmlType::kQ4_0 || t == GgmlType::kQ8_0 ? 32 : 1;
}

uint64_t GgmlRowBytes(GgmlType t, int64_t n) {
  const uint64_t u = static_cast<uint64_t>(n);
  switch (t) {
    case GgmlType::kF32: return u * 4;
    case GgmlType::kF16: case GgmlType::kBF16: return u * 2;
    case GgmlType::kQ4_0: return u / 32 * 18;
    case GgmlType::kQ8_0: return u / 32 * 34;
  }
  return 0;
}

int64_t GgufTensorInfo::rows() const {
  int64_t r = 1;
  for (size_t i = 1; i < dims.size(); ++i) r *= dims[i];
  return r;
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(auto mapped, MappedFile::Open(path));
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->source_ = path;
  f->image_ = mapped->bytes();
  f->mapped_ = std::move(mapped);
  LOOM_RETURN_IF_ERROR(f->ParseImage());
  return f;
}

StatusOr<std::unique_ptr<GgufFile>> GgufFile::Parse(std::span<const uint8_t> bytes,
                                                    std::string source) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->source_ = std::move(source);
  f->image_ = bytes;
  LOOM_RETURN_IF_ERROR(f->ParseImage());
  return f;
}

Status GgufFile::ParseImage() {
  Cursor c(image_, source_);
  LOOM_ASSIGN_OR_RETURN(uint32_t magic, c.Read<uint32_t>("magic"));
  if (magic != kMagic) return DataLossError(StrCat(source_, ": not a GGUF file (bad magic)"));
  LOOM_ASSIGN_OR_RETURN(version_, c.Read<uint32_t>("version"));
  if (version_ != 2 && version_ != 3)
    return DataLossError(StrCat(source_, ": GGUF version ", version_, " (loom reads 2 and 3)"));
  LOOM_ASSIGN_OR_RETURN(uint64_t n_tensors, c.Read<uint64_t>("tensor count"));
  LOOM_ASSIGN_OR_RETURN(uint64_t n_kv, c.Read<uint64_t>("metadata count"));
  // Each key/value needs >= 12 bytes and each tensor info >= 24: a cheap bound on the counts.
  if (n_kv > image_.size() / 12 || n_tensors > image_.size() / 24)
    return DataLossError(StrCat(source_, ": header claims ", n_kv, " keys and ", n_tensors,
                                " tensors, more than a ", image_.size(), "-byte file holds"));
  for (uint64_t i = 0; i < n_kv; ++i) {
    const uint64_t at = c.pos();
    LOOM_ASSIGN_OR_RETURN(std::string key, c.ReadString(StrCat("key #", i)));
    LOOM_ASSIGN_OR_RETURN(uint32_t type, c.Read<uint32_t>(StrCat("type of '", key, "'")));
    GgufValue v;
    LOOM_RETURN_IF_ERROR(ReadValue(c, static_cast<GgufValueType>(type), v,
                                   StrCat("key '", key, "'"), source_, 0));
    if (!kv_.emplace(key, std::move(v)).second)
      return DataLossError(StrCat(source_, ": key '", key, "' repeated (byte ", at, ")"));
  }
  uint64_t alignment = kDefaultAlignment;
  if (const GgufValue* a = Find("general.alignment")) {
    if (a->type != GgufValueType::kU32 || a->i == 0 || (a->i & (a->i - 1)) != 0)
      return DataLossError(StrCat(source_, ": general.alignment must be a u32 power of two"));
    alignment = static_cast<uint64_t>(a->i);
  }
  tensors_.reserve(n_tensors);
  std::map<std::string, size_t> seen;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    LOOM_ASSIGN_OR_RETURN(t.name, c.ReadString(StrCat("tensor #", i, " name")));
    const std::string what = StrCat("tensor '", t.name, "'");
    LOOM_ASSIGN_OR_RETURN(uint32_t n_dims, c.Read<uint32_t>(what));
    if (n_dims < 1 || n_dims > 4)
      return DataLossError(StrCat(source_, ": ", what, " has ", n_dims, " dims (1..4)"));
    uint64_t elems = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      LOOM_ASSIGN_OR_RETURN(uint64_t ne, c.Read<uint64_t>(what));
      if (ne == 0 || ne > (uint64_t{1} << 40) || elems > (uint64_t{1} << 50) / ne)
        return DataLossError(StrCat(source_, ": ", what, " dim ", d, " = ", ne, " is out of range"));
      elems *= ne;
      t.dims.push_back(static_cast<int64_t>(ne));
    }
    LOOM_ASSIGN_OR_RETURN(uint32_t type, c.Read<uint32_t>(what));
    if (!KnownTensorType(type))
      return DataLossError(StrCat(source_, ": ", what, " has ggml type ", type,
                                  " (loom reads F32, F16, BF16, Q8_0, Q4_0)"));
    t.type = static_cast<GgmlType>(type);
    if (t.dims[0] % GgmlBlockSize(t.type) != 0)
      return DataLossError(StrCat(source_, ": ", what, " rows of ", t.dims[0], " ",
                                  GgmlTypeName(t.type), " elements are not whole blocks"));
    LOOM_ASSIGN_OR_RETURN(t.offset, c.Read<uint64_t>(what));
    if (t.offset % alignment != 0)
      return DataLossError(StrCat(source_, ": ", what, " offset ", t.offset,
                                  " is not aligned to ", alignment));
    t.bytes = GgmlRowBytes(t.type, t.dims[0]) * static_cast<uint64_t>(t.rows());
    if (!seen.emplace(t.name, tensors_.size()).second)
      return DataLossError(StrCat(source_, ": ", what, " appears twice"));
    tensors_.push_back(std::move(t));
  }
  data_start_ = (c.pos() + alignment - 1) / alignment * alignment;
  const uint64_t data_bytes = image_.size() >= data_start_ ? image_.size() - data_start_ : 0;
  std::vector<const GgufTensorInfo*> by_offset;
  for (const GgufTensorInfo& t : tensors_) {
    if (t.offset > data_bytes || t.bytes > data_bytes - t.offset)
      return DataLossError(StrCat(source_, ": tensor '", t.name, "' data [", data_start_ + t.offset,
                                  ", ", data_start_ + t.offset + t.bytes, ") runs past the end of the ",
                                  image_.size(), "-byte file"));
    by_offset.push_back(&t);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->bytes > by_offset[i]->offset)
      return DataLossError(StrCat(source_, ": tensors '", by_offset[i - 1]->name, "' and '",
                                  by_offset[i]->name, "' overlap at data offset ",
                                  by_offset[i]->offset));
  return OkStatus();
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = kv_.find(std::string(key));
  return it == kv_.end() ? nullptr : &it->second;
}

namespace {
bool IsInteger(GgufValueType t) {
  return t != GgufValueType::kF32 && t != GgufValueType::kF64 && t != GgufValueType::kString &&
         t != GgufValueType::kArray && t != GgufValueType::kBool;
}
}  // namespace

StatusOr<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundError(StrCat(source_, ": metadata key '", key, "' is missing"));
  if (!IsInteger(v->type))
    return DataLossError(StrCat(source_, ": metadata key '", key, "' is not an integer"));
  return v->i;
}

StatusOr<int64_t> GgufFile::GetInt(std::string_view key, int64_t fallback) const {
  if (!Find(key)) return fallback;
  return GetInt(key);
}

StatusOr<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundError(StrCat(source_, ": metadata key '", key, "' is missing"));
  if (v->type == GgufValueType::kString || v->type == GgufValueType::kArray ||
      v->type == GgufValueType::kBool)
    return DataLossError(StrCat(source_, ": metadata key '", key, "' is not a number"));
  return v->f;
}

StatusOr<double> GgufFile::GetFloat(std::string_view key, double fallback) const {
  if (!Find(key)) return fallback;
  return GetFloat(key);
}

StatusOr<std::string> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFoundError(StrCat(source_, ": metadata key '", key, "' is missing"));
  if (v->type != GgufValueType::kString)
    return DataLossError(StrCat(source_, ": metadata key '", key, "' is not a string"));
  return v->s;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  for (const GgufTensorInfo& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::span<const uint8_t> GgufFile::Data(const GgufTensorInfo& t) const {
  return image_.subspan(data_start_ + t.offset, t.bytes);
}

// ---- writer ----

namespace {
template <typename T>
void Put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}
void PutString(std::vector<uint8_t>& out, const std::string& s) {
  Put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}
void PutHead(std::vector<uint8_t>& out, const std::string& key, GgufValueType t) {
  PutString(out, key);
  Put<uint32_t>(out, static_cast<uint32_t>(t));
}
}  // namespace

void GgufWriter::AddU32(const std::string& key, uint32_t v) {
  PutHead(kv_bytes_, key, GgufValueType::kU32);
  Put(kv_bytes_, v);
  ++kv_count_;
}
void GgufWriter::AddI32(const std::string& key, int32_t v) {
  PutHead(kv_bytes_, key, GgufValueType::kI32);
  Put(kv_bytes_, v);
  ++kv_count_;
}
void GgufWriter::AddF32(const std::string& key, float v) {
  PutHead(kv_bytes_, key, GgufValueType::kF32);
  Put(kv_bytes_, v);
  ++kv_count_;
}
void GgufWriter::AddBool(const std::string& key, bool v) {
  PutHead(kv_bytes_, key, GgufValueType::kBool);
  Put<uint8_t>(kv_bytes_, v ? 1 : 0);
  ++kv_count_;
}
void GgufWriter::AddString(const std::string& key, const std::string& v) {
  PutHead(kv_bytes_, key, GgufValueType::kString);
  PutString(kv_bytes_, v);
  ++kv_count_;
}
void GgufWriter::AddStringArray(const std::string& key, const std::vector<std::string>& v) {
  PutHead(kv_bytes_, key, GgufValueType::kArray);
  Put<uint32_t>(kv_bytes_, static_cast<uint32_t>(GgufValueType::kString));
  Put<uint64_t>(kv_bytes_, v.size());
  for (const std::string& s : v) PutString(kv_bytes_, s);
  ++kv_count_;
}
namespace {
template <typename T>
void PutArray(std::vector<uint8_t>& out, const std::string& key, GgufValueType elem,
              const std::vector<T>& v) {
  PutHead(out, key, GgufValueType::kArray);
  Put<uint32_t>(out, static_cast<uint32_t>(elem));
  Put<uint64_t>(out, v.size());
  for (T x : v) Put(out, x);
}
}  // namespace

void GgufWriter::AddF32Array(const std::string& key, const std::vector<float>& v) {
  PutArray(kv_bytes_, key, GgufValueType::kF32, v);
  ++kv_count_;
}
void GgufWriter::AddI32Array(const std::string& key, const std::vector<int32_t>& v) {
  PutArray(kv_bytes_, key, GgufValueType::kI32, v);
  ++kv_count_;
}

namespace {
// One number in the declared scalar type (integers from `i`, floats from `f`).
void PutScalar(std::vector<uint8_t>& out, GgufValueType t, int64_t i, double f) {
  switch (t) {
    case GgufValueType::kU8: case GgufValueType::kBool: Put<uint8_t>(out, static_cast<uint8_t>(i)); return;
    case GgufValueType::kI8: Put<int8_t>(out, static_cast<int8_t>(i)); return;
    case GgufValueType::kU16: Put<uint16_t>(out, static_cast<uint16_t>(i)); return;
    case GgufValueType::kI16: Put<int16_t>(out, static_cast<int16_t>(i)); return;
    case GgufValueType::kU32: Put<uint32_t>(out, static_cast<uint32_t>(i)); return;
    case GgufValueType::kI32: Put<int32_t>(out, static_cast<int32_t>(i)); return;
    case GgufValueType::kU64: Put<uint64_t>(out, static_cast<uint64_t>(i)); return;
    case GgufValueType::kI64: Put<int64_t>(out, i); return;
    case GgufValueType::kF32: Put<float>(out, static_cast<float>(f)); return;
    case GgufValueType::kF64: Put<double>(out, f); return;
    default: return;
  }
}
}  // namespace

Status GgufWriter::AddValue(const std::string& key, const GgufValue& v) {
  // Written in the type it was read with, so a copied key keeps its width and signedness.
  if (v.type == GgufValueType::kString) {
    AddString(key, v.s);
    return OkStatus();
  }
  if (v.type != GgufValueType::kArray) {
    PutHead(kv_bytes_, key, v.type);
    PutScalar(kv_bytes_, v.type, v.i, v.f);
    ++kv_count_;
    return OkStatus();
  }
  if (v.array_type == GgufValueType::kString) {
    AddStringArray(key, v.strings);
    return OkStatus();
  }
  if (ScalarBytes(v.array_type) == 0 || v.numbers.size() != v.array_length)
    return InvalidArgumentError(StrCat("gguf: key '", key,
                                       "' is a nested array, which loom does not copy"));
  const bool is_float =
      v.array_type == GgufValueType::kF32 || v.array_type == GgufValueType::kF64;
  PutHead(kv_bytes_, key, GgufValueType::kArray);
  Put<uint32_t>(kv_bytes_, static_cast<uint32_t>(v.array_type));
  Put<uint64_t>(kv_bytes_, v.numbers.size());
  for (double d : v.numbers)
    PutScalar(kv_bytes_, v.array_type, is_float ? 0 : static_cast<int64_t>(d), d);
  ++kv_count_;
  return OkStatus();
}

Status GgufWriter::AddOwnedTensor(const std::string& name, GgmlType type,
                                  std::vector<int64_t> dims, std::vector<uint8_t> data) {
  owned_.push_back(std::make_unique<std::vector<uint8_t>>(std::move(data)));
  return AddTensor(name, type, std::move(dims), *owned_.back());
}

Status GgufWriter::AddTensor(const std::string& name, GgmlType type, std::vector<int64_t> dims,
                             std::span<const uint8_t> data) {
  if (dims.empty() || dims.size() > 4)
    return InvalidArgumentError(StrCat("gguf: tensor '", name, "' needs 1..4 dims"));
  if (dims[0] % GgmlBlockSize(type) != 0)
    return InvalidArgumentError(StrCat("gguf: tensor '", name, "' rows of ", dims[0], " are not whole ",
                                       GgmlTypeName(type), " blocks"));
  uint64_t rows = 1;
  for (size_t i = 1; i < dims.size(); ++i) rows *= static_cast<uint64_t>(dims[i]);
  if (data.size() != GgmlRowBytes(type, dims[0]) * rows)
    return InvalidArgumentError(StrCat("gguf: tensor '", name, "' has ", data.size(),
                                       " bytes, its shape needs ", GgmlRowBytes(type, dims[0]) * rows));
  tensors_.push_back({name, type, std::move(dims), data});
  return OkStatus();
}

Status GgufWriter::Write(const std::string& path) const {
  std::vector<uint8_t> head;
  Put<uint32_t>(head, kMagic);
  Put<uint32_t>(head, 3);
  Put<uint64_t>(head, tensors_.size());
  Put<uint64_t>(head, kv_count_);
  head.insert(head.end(), kv_bytes_.begin(), kv_bytes_.end());
  uint64_t offset = 0;
  for (const Pending& t : tensors_) {
    PutString(head, t.name);
    Put<uint32_t>(head, static_cast<uint32_t>(t.dims.size()));
    for (int64_t d : t.dims) Put<uint64_t>(head, static_cast<uint64_t>(d));
    Put<uint32_t>(head, static_cast<uint32_t>(t.type));
    Put<uint64_t>(head, offset);
    offset += (t.data.size() + kDefaultAlignment - 1) / kDefaultAlignment * kDefaultAlignment;
  }
  head.resize((head.size() + kDefaultAlignment - 1) / kDefaultAlignment * kDefaultAlignment, 0);
  LOOM_ASSIGN_OR_RETURN(auto out, AtomicFileWriter::Open(path));
  LOOM_RETURN_IF_ERROR(out->Append(std::span<const uint8_t>(head)));
  static const uint8_t kZeros[kDefaultAlignment] = {};
  for (const Pending& t : tensors_) {
    LOOM_RETURN_IF_ERROR(out->Append(t.data));
    const size_t pad = (kDefaultAlignment - t.data.size() % kDefaultAlignment) % kDefaultAlignment;
    LOOM_RETURN_IF_ERROR(out->Append(std::span<const uint8_t>(kZeros, pad)));
  }
  return out->Commit();
}

}  // namespace loom::phi
