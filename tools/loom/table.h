// Plain-text tables for human output (column widths from the widest cell).
#pragma once

#include <string>
#include <vector>

namespace loom::cli {

std::string FormatTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace loom::cli
