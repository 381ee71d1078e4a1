// Safetensors reading and writing; see safetensors.h and docs/formats/safetensors.md.
#include "loom/phi/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "loom/base/check.h"
#include "loom/base/half.h"
#include "loom/base/json.h"
#include "loom/base/strings.h"

namespace loom::phi {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::kF64, "F64", 8}, {DType::kF32, "F32", 4}, {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
    {DType::kI16, "I16", 2}, {DType::kI8, "I8", 1},   {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1}};

uint64_t ReadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Parses one tensor entry of the header; `data_size` bounds the offsets.
StatusOr<TensorView> ParseEntry(const std::string& name, const JsonValue& entry,
                                std::span<const uint8_t> data, const std::string& source) {
  auto fail = [&](const std::string& why) {
    return DataLossError(StrCat(source, ": tensor '", name, "': ", why));
  };
  if (!entry.IsObject()) return fail("header entry is not an object");
  TensorView t;
  t.name = name;
  t.file = source;
  auto dtype_name = entry.GetString("dtype");
  if (!dtype_name.ok()) return fail("missing or non-string dtype");
  auto dtype = ParseDType(*dtype_name);
  if (!dtype.ok()) return fail(StrCat("unknown dtype '", *dtype_name, "'"));
  t.dtype = *dtype;
  auto shape = entry.Get("shape");
  if (!shape.ok() || !shape->IsArray()) return fail("missing or non-array shape");
  uint64_t numel = 1;
  for (size_t i = 0; i < shape->size(); ++i) {
    auto d = shape->At(i)->AsInt();
    if (!d.ok() || *d < 0) return fail(StrCat("shape[", i, "] is not a non-negative integer"));
    t.shape.push_back(*d);
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(*d), &numel))
      return fail("shape overflows");
  }
  auto offsets = entry.Get("data_offsets");
  if (!offsets.ok() || !offsets->IsArray() || offsets->size() != 2)
    return fail("data_offsets is not a [begin, end] pair");
  auto begin = offsets->At(0)->AsInt();
  auto end = offsets->At(1)->AsInt();
  if (!begin.ok() || !end.ok() || *begin < 0 || *end < *begin)
    return fail("data_offsets are not integers with 0 <= begin <= end");
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, DTypeSize(t.dtype), &nbytes)) return fail("size overflows");
  if (static_cast<uint64_t>(*end - *begin) != nbytes)
    return fail(StrCat("data_offsets [", *begin, ", ", *end, ") hold ", *end - *begin,
                       " bytes but ", DTypeName(t.dtype), " x ", numel, " elements need ",
                       nbytes));
  if (static_cast<uint64_t>(*end) > data.size())
    return fail(StrCat("data_offsets end ", *end, " is past the data section (", data.size(),
                       " bytes)"));
  t.bytes = data.subspan(*begin, nbytes);
  return t;
}

}  // namespace

std::string_view DTypeName(DType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d.name;
  return "?";
}

size_t DTypeSize(DType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d.size;
  return 0;
}

StatusOr<DType> ParseDType(std::string_view name) {
  for (const auto& d : kDTypes)
    if (d.name == name) return d.type;
  return InvalidArgumentError(StrCat("unknown dtype '", name, "'"));
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Status TensorView::ToFloat(std::span<float> out) const {
  const size_t n = static_cast<size_t>(numel());
  if (out.size() != n)
    return InvalidArgumentError(StrCat("tensor '", name, "': ", n, " elements, buffer ",
                                       out.size()));
  const uint8_t* p = bytes.data();
  switch (dtype) {
    case DType::kF32:
      std::memcpy(out.data(), p, n * 4);
      return OkStatus();
    case DType::kF64:
      for (size_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = static_cast<float>(v);
      }
      return OkStatus();
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) {
        Half h;
        std::memcpy(&h.bits, p + 2 * i, 2);
        out[i] = HalfToFloat(h);
      }
      return OkStatus();
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        BFloat16 b;
        std::memcpy(&b.bits, p + 2 * i, 2);
        out[i] = BFloat16ToFloat(b);
      }
      return OkStatus();
    default:
      return InvalidArgumentError(StrCat(file, ": tensor '", name, "' has dtype ",
                                         DTypeName(dtype), ", not a float type"));
  }
}

std::vector<float> TensorView::ToFloatVector() const {
  std::vector<float> v(static_cast<size_t>(numel()));
  LOOM_CHECK_OK(ToFloat(v));
  return v;
}

StatusOr<std::vector<TensorView>> ParseSafetensors(std::span<const uint8_t> image,
                                                   const std::string& source) {
  if (image.size() < 8)
    return DataLossError(StrCat(source, ": ", image.size(), " bytes, shorter than the 8-byte "
                                "header length"));
  const uint64_t header_len = ReadLe64(image.data());
  if (header_len > kMaxSafetensorsHeader)
    return DataLossError(StrCat(source, ": header length ", header_len, " exceeds the ",
                                kMaxSafetensorsHeader, "-byte cap"));
  if (header_len > image.size() - 8)
    return DataLossError(StrCat(source, ": header length ", header_len, " runs past the end "
                                "of the file (", image.size(), " bytes)"));
  std::string_view header(reinterpret_cast<const char*>(image.data() + 8), header_len);
  auto doc = ParseJson(header, source + " header");
  if (!doc.ok()) return DataLossError(doc.status().message());
  if (!doc->IsObject()) return DataLossError(StrCat(source, ": header is not a JSON object"));
  auto members = doc->Members();
  if (!members.ok()) return DataLossError(members.status().message());
  std::span<const uint8_t> data = image.subspan(8 + header_len);
  std::vector<TensorView> out;
  for (const auto& [name, entry] : *members) {
    if (name == "__metadata__") {
      if (!entry.IsObject()) return DataLossError(StrCat(source, ": __metadata__ not an object"));
      auto meta = entry.Members();
      if (!meta.ok()) return DataLossError(meta.status().message());
      for (const auto& [k, v] : *meta)
        if (!v.IsString())
          return DataLossError(StrCat(source, ": __metadata__ '", k, "' is not a string"));
      continue;
    }
    LOOM_ASSIGN_OR_RETURN(TensorView t, ParseEntry(name, entry, data, source));
    out.push_back(std::move(t));
  }
  // nlohmann keeps the last of duplicate JSON keys; the dropped entry's bytes then show up
  // as a gap below. Names are unique here by construction, checked anyway.
  std::vector<std::string> names;
  for (const auto& t : out) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end()) return DataLossError(StrCat(source, ": tensor '", *dup, "' twice"));
  // The payloads must tile the data section exactly: no gaps, no overlap, nothing left over.
  std::vector<const TensorView*> order;
  for (const auto& t : out) order.push_back(&t);
  std::sort(order.begin(), order.end(), [&](const TensorView* a, const TensorView* b) {
    return a->bytes.data() != b->bytes.data() ? a->bytes.data() < b->bytes.data()
                                              : a->bytes.size() < b->bytes.size();
  });
  size_t pos = 0;
  for (const TensorView* t : order) {
    const size_t begin = static_cast<size_t>(t->bytes.data() - data.data());
    if (begin < pos)
      return DataLossError(StrCat(source, ": tensor '", t->name, "' at data offset ", begin,
                                  " overlaps the previous tensor (ends at ", pos, ")"));
    if (begin > pos)
      return DataLossError(StrCat(source, ": gap of ", begin - pos, " bytes before tensor '",
                                  t->name, "' at data offset ", begin));
    pos = begin + t->bytes.size();
  }
  if (pos != data.size())
    return DataLossError(StrCat(source, ": tensors cover ", pos, " bytes of a ", data.size(),
                                "-byte data section"));
  return out;
}

StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::Open(const std::string& path) {
  namespace fs = std::filesystem;
  auto ckpt = std::unique_ptr<Checkpoint>(new Checkpoint());
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    LOOM_RETURN_IF_ERROR(ckpt->AddFile(path));
    return ckpt;
  }
  const std::string index = path + "/model.safetensors.index.json";
  if (!fs::exists(index, ec)) {
    const std::string single = path + "/model.safetensors";
    if (!fs::exists(single, ec))
      return NotFoundError(StrCat(path, ": neither model.safetensors.index.json nor "
                                  "model.safetensors"));
    LOOM_RETURN_IF_ERROR(ckpt->AddFile(single));
    return ckpt;
  }
  LOOM_ASSIGN_OR_RETURN(JsonValue doc, ReadJsonFile(index));
  LOOM_ASSIGN_OR_RETURN(JsonValue map, doc.Get("weight_map"));
  LOOM_ASSIGN_OR_RETURN(auto entries, map.Members());
  std::map<std::string, std::vector<std::string>> by_file;
  for (const auto& [name, file] : entries) {
    LOOM_ASSIGN_OR_RETURN(std::string f, file.AsString());
    if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..")
      return DataLossError(StrCat(index, ": weight_map['", name, "'] names '", f,
                                  "', not a file beside the index"));
    by_file[f].push_back(name);
  }
  for (const auto& [f, names] : by_file) {
    LOOM_RETURN_IF_ERROR(ckpt->AddFile(path + "/" + f));
    for (const auto& name : names) {
      auto it = ckpt->tensors_.find(name);
      if (it == ckpt->tensors_.end() || it->second.file != path + "/" + f)
        return DataLossError(StrCat(index, ": tensor '", name, "' is mapped to ", f,
                                    " but that shard does not hold it"));
    }
  }
  if (ckpt->tensors_.size() != entries.size())
    return DataLossError(StrCat(index, ": the shards hold ", ckpt->tensors_.size(),
                                " tensors but the weight_map lists ", entries.size()));
  return ckpt;
}

Status Checkpoint::AddFile(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(auto map, MappedFile::Open(path));
  LOOM_ASSIGN_OR_RETURN(auto views, ParseSafetensors(map->bytes(), path));
  for (auto& v : views) {
    if (tensors_.count(v.name))
      return DataLossError(StrCat(path, ": tensor '", v.name, "' is also in ",
                                  tensors_.find(v.name)->second.file));
    std::string name = v.name;
    tensors_.emplace(std::move(name), std::move(v));
  }
  files_.push_back(path);
  maps_.push_back(std::move(map));
  return OkStatus();
}

const TensorView* Checkpoint::Find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

StatusOr<const TensorView*> Checkpoint::Get(std::string_view name) const {
  const TensorView* t = Find(name);
  if (t == nullptr) {
    std::string where = files_.empty() ? "checkpoint" : files_.front();
    return DataLossError(StrCat(where, ": missing tensor '", name, "'"));
  }
  return t;
}

std::string SerializeSafetensors(const std::vector<TensorData>& tensors) {
  Json header = Json::object();
  size_t offset = 0;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", std::string(DTypeName(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0) text.push_back(' ');  // keep the data 8-byte aligned
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += text;
  for (const auto& t : tensors) out += t.bytes;
  return out;
}

Status WriteSafetensors(const std::string& path, const std::vector<TensorData>& tensors) {
  return WriteFileAtomically(path, SerializeSafetensors(tensors));
}

TensorData F32Tensor(std::string name, std::vector<int64_t> shape, std::span<const float> v) {
  TensorData t{std::move(name), DType::kF32, std::move(shape), std::string()};
  t.bytes.assign(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  return t;
}

}  // namespace loom::phi
