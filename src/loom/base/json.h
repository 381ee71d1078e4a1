// JSON reading with errors that name the source and the field, over nlohmann-json (Debian).
//
//   LOOM_ASSIGN_OR_RETURN(auto doc, ReadJsonFile(path));
//   LOOM_ASSIGN_OR_RETURN(double alpha, doc.GetDouble("links[3]"...));
//
// Every error is InvalidArgument and reads like
//   "topo.json: field 'links[3].alpha': expected a number, got string".
// Parsing rejects nesting deeper than kMaxJsonDepth instead of overflowing the stack.
// Thread-safety: JsonValue is a read-only view; the Json it points into must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "loom/base/status.h"

namespace loom {

using Json = nlohmann::json;

inline constexpr int kMaxJsonDepth = 512;

class JsonValue {
 public:
  // `root` must outlive the view; `source` names the file or input for errors.
  JsonValue(std::shared_ptr<const Json> root, const Json* node, std::string source,
            std::string path);

  const Json& raw() const { return *node_; }
  const std::string& path() const { return path_; }
  const std::string& source() const { return source_; }

  bool IsNull() const { return node_->is_null(); }
  bool IsObject() const { return node_->is_object(); }
  bool IsArray() const { return node_->is_array(); }
  bool IsNumber() const { return node_->is_number(); }
  bool IsString() const { return node_->is_string(); }
  bool Has(std::string_view key) const;

  // Child access. Get fails when the key is missing or this is not an object.
  StatusOr<JsonValue> Get(std::string_view key) const;
  std::optional<JsonValue> Find(std::string_view key) const;
  StatusOr<JsonValue> At(size_t index) const;
  StatusOr<std::vector<JsonValue>> Elements() const;  // this must be an array
  StatusOr<std::vector<std::pair<std::string, JsonValue>>> Members() const;  // must be object
  size_t size() const { return node_->size(); }

  // Typed reads of this value.
  StatusOr<double> AsDouble() const;
  StatusOr<int64_t> AsInt() const;  // rejects non-integral numbers
  StatusOr<std::string> AsString() const;
  StatusOr<bool> AsBool() const;

  // Typed reads of a required member.
  StatusOr<double> GetDouble(std::string_view key) const;
  StatusOr<int64_t> GetInt(std::string_view key) const;
  StatusOr<std::string> GetString(std::string_view key) const;
  StatusOr<bool> GetBool(std::string_view key) const;
  // Typed reads of an optional member: the fallback when absent (or null), an error when
  // present with the wrong type.
  StatusOr<double> GetDouble(std::string_view key, double fallback) const;
  StatusOr<int64_t> GetInt(std::string_view key, int64_t fallback) const;
  StatusOr<std::string> GetString(std::string_view key, std::string fallback) const;
  StatusOr<bool> GetBool(std::string_view key, bool fallback) const;

  // An InvalidArgument naming source and field: "<source>: field '<path>': <what>".
  Status Error(std::string_view what) const;

 private:
  std::string ChildPath(std::string_view key) const;
  std::shared_ptr<const Json> root_;
  const Json* node_;
  std::string source_;
  std::string path_;
};

// Parses `text`; syntax errors name `source`, the line and the column.
StatusOr<JsonValue> ParseJson(std::string_view text, std::string_view source);
StatusOr<JsonValue> ReadJsonFile(const std::string& path);

// Serialises `value` (indent < 0: compact) and writes it atomically.
Status WriteJsonFile(const std::string& path, const Json& value, int indent = 2);

// The JSON type name of a value ("number", "string", ...), for messages.
std::string_view JsonTypeName(const Json& value);

}  // namespace loom
