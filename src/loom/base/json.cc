#include "loom/base/json.h"

#include <cmath>

#include "loom/base/file_io.h"

namespace loom {
namespace {

// Maximum bracket nesting, ignoring brackets inside strings. nlohmann's parser recurses per
// level, so unbounded nesting from a hostile file would overflow the stack.
int MaxNesting(std::string_view text) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return max_depth;
}

// Line and column (1-based) of a byte offset.
std::pair<size_t, size_t> LineColumn(std::string_view text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

}  // namespace

std::string_view JsonTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "number";
    case Json::value_t::binary: return "binary";
    case Json::value_t::discarded: return "discarded";
  }
  return "unknown";
}

JsonValue::JsonValue(std::shared_ptr<const Json> root, const Json* node, std::string source,
                     std::string path)
    : root_(std::move(root)), node_(node), source_(std::move(source)), path_(std::move(path)) {}

std::string JsonValue::ChildPath(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

Status JsonValue::Error(std::string_view what) const {
  std::string where = path_.empty() ? std::string("top level") : "field '" + path_ + "'";
  return InvalidArgumentError(source_ + ": " + where + ": " + std::string(what));
}

bool JsonValue::Has(std::string_view key) const {
  return node_->is_object() && node_->find(key) != node_->end();
}

StatusOr<JsonValue> JsonValue::Get(std::string_view key) const {
  if (!node_->is_object())
    return Error("expected an object with field '" + std::string(key) + "', got " +
                 std::string(JsonTypeName(*node_)));
  auto it = node_->find(key);
  if (it == node_->end()) {
    return InvalidArgumentError(source_ + ": missing field '" + ChildPath(key) + "'");
  }
  return JsonValue(root_, &*it, source_, ChildPath(key));
}

std::optional<JsonValue> JsonValue::Find(std::string_view key) const {
  if (!node_->is_object()) return std::nullopt;
  auto it = node_->find(key);
  if (it == node_->end()) return std::nullopt;
  return JsonValue(root_, &*it, source_, ChildPath(key));
}

StatusOr<JsonValue> JsonValue::At(size_t index) const {
  if (!node_->is_array()) return Error("expected an array, got " + std::string(JsonTypeName(*node_)));
  if (index >= node_->size())
    return Error("index " + std::to_string(index) + " out of range (size " +
                 std::to_string(node_->size()) + ")");
  return JsonValue(root_, &(*node_)[index], source_, path_ + "[" + std::to_string(index) + "]");
}

StatusOr<std::vector<JsonValue>> JsonValue::Elements() const {
  if (!node_->is_array()) return Error("expected an array, got " + std::string(JsonTypeName(*node_)));
  std::vector<JsonValue> out;
  out.reserve(node_->size());
  for (size_t i = 0; i < node_->size(); ++i)
    out.emplace_back(root_, &(*node_)[i], source_, path_ + "[" + std::to_string(i) + "]");
  return out;
}

StatusOr<std::vector<std::pair<std::string, JsonValue>>> JsonValue::Members() const {
  if (!node_->is_object())
    return Error("expected an object, got " + std::string(JsonTypeName(*node_)));
  std::vector<std::pair<std::string, JsonValue>> out;
  for (auto it = node_->begin(); it != node_->end(); ++it)
    out.emplace_back(it.key(), JsonValue(root_, &it.value(), source_, ChildPath(it.key())));
  return out;
}

StatusOr<double> JsonValue::AsDouble() const {
  if (!node_->is_number()) return Error("expected a number, got " + std::string(JsonTypeName(*node_)));
  return node_->get<double>();
}

StatusOr<int64_t> JsonValue::AsInt() const {
  if (node_->is_number_integer()) {
    if (node_->is_number_unsigned() && node_->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
      return Error("integer out of range");
    return node_->get<int64_t>();
  }
  if (node_->is_number_float()) {
    double d = node_->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
      return static_cast<int64_t>(d);
    return Error("expected an integer, got " + node_->dump());
  }
  return Error("expected an integer, got " + std::string(JsonTypeName(*node_)));
}

StatusOr<std::string> JsonValue::AsString() const {
  if (!node_->is_string()) return Error("expected a string, got " + std::string(JsonTypeName(*node_)));
  return node_->get<std::string>();
}

StatusOr<bool> JsonValue::AsBool() const {
  if (!node_->is_boolean()) return Error("expected true or false, got " + std::string(JsonTypeName(*node_)));
  return node_->get<bool>();
}

StatusOr<double> JsonValue::GetDouble(std::string_view key) const {
  LOOM_ASSIGN_OR_RETURN(JsonValue v, Get(key));
  return v.AsDouble();
}
StatusOr<int64_t> JsonValue::GetInt(std::string_view key) const {
  LOOM_ASSIGN_OR_RETURN(JsonValue v, Get(key));
  return v.AsInt();
}
StatusOr<std::string> JsonValue::GetString(std::string_view key) const {
  LOOM_ASSIGN_OR_RETURN(JsonValue v, Get(key));
  return v.AsString();
}
StatusOr<bool> JsonValue::GetBool(std::string_view key) const {
  LOOM_ASSIGN_OR_RETURN(JsonValue v, Get(key));
  return v.AsBool();
}

StatusOr<double> JsonValue::GetDouble(std::string_view key, double fallback) const {
  auto v = Find(key);
  if (!v || v->IsNull()) return fallback;
  return v->AsDouble();
}
StatusOr<int64_t> JsonValue::GetInt(std::string_view key, int64_t fallback) const {
  auto v = Find(key);
  if (!v || v->IsNull()) return fallback;
  return v->AsInt();
}
StatusOr<std::string> JsonValue::GetString(std::string_view key, std::string fallback) const {
  auto v = Find(key);
  if (!v || v->IsNull()) return fallback;
  return v->AsString();
}
StatusOr<bool> JsonValue::GetBool(std::string_view key, bool fallback) const {
  auto v = Find(key);
  if (!v || v->IsNull()) return fallback;
  return v->AsBool();
}

StatusOr<JsonValue> ParseJson(std::string_view text, std::string_view source) {
  std::string src(source);
  if (MaxNesting(text) > kMaxJsonDepth)
    return InvalidArgumentError(src + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                " levels");
  auto root = std::make_shared<Json>();
  try {
    *root = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    auto [line, col] = LineColumn(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 1, column 2: ".
    size_t colon = what.find(": ");
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    return InvalidArgumentError(src + ":" + std::to_string(line) + ":" + std::to_string(col) +
                                ": invalid JSON: " + detail);
  } catch (const Json::exception& e) {
    return InvalidArgumentError(src + ": invalid JSON: " + e.what());
  }
  const Json* node = root.get();
  return JsonValue(std::move(root), node, src, "");
}

StatusOr<JsonValue> ReadJsonFile(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseJson(text, path);
}

Status WriteJsonFile(const std::string& path, const Json& value, int indent) {
  std::string text;
  try {
    text = value.dump(indent);
  } catch (const Json::exception& e) {
    return InvalidArgumentError("cannot serialise JSON for '" + path + "': " + e.what());
  }
  text += '\n';
  return WriteFileAtomically(path, text);
}

}  // namespace loom
