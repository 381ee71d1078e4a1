// A small, strict XML reader for MSCCL algorithm files: elements, attributes (single or double
// quoted, the five predefined entities and numeric character references), comments, the
// `<?xml ...?>` declaration and whitespace. Text content other than whitespace, DOCTYPE,
// CDATA and processing instructions after the declaration are rejected. Depth and node count
// are bounded, so hostile input cannot exhaust the stack or memory. Errors name line:column.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/base/status.h"

namespace loom::comm::program::internal {

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;  // in file order
  std::vector<XmlElement> children;
  int line = 0;

  // nullptr when absent.
  const std::string* Find(std::string_view key) const;
};

// Parses a document with exactly one root element. `source` prefixes error messages.
StatusOr<XmlElement> ParseXml(std::string_view text, std::string_view source,
                              int max_depth = 16, size_t max_nodes = 1u << 22);

// Escapes &, <, >, " for an attribute value.
std::string XmlEscape(std::string_view value);

}  // namespace loom::comm::program::internal
