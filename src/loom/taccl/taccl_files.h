// Readers for TACCL's own input files, taken as they are (taccl/examples/topo/*.json,
// taccl/examples/sketch/*.json), and for loom's custom-topology format
// (docs/formats/taccl_topology.md). Errors name the file and the JSON field. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "loom/base/status.h"
#include "loom/taccl/sketch.h"
#include "loom/taccl/topology.h"

namespace loom::taccl {

// A TACCL topology profile. The link matrix comes from the name (DGX2* / NDv2*, as TACCL's
// generic.py does); costs are per chunk of the profile's size and pre-scaled (1KB profiles
// x100, 32KB x10), converted here to physical alpha (us) and beta (us/byte).
StatusOr<NodeProfile> ParseTacclProfile(std::string_view text, std::string_view source);
StatusOr<NodeProfile> ReadTacclProfile(const std::string& path);

StatusOr<Sketch> ParseTacclSketch(std::string_view text, std::string_view source);
StatusOr<Sketch> ReadTacclSketch(const std::string& path);

// loom's custom topology: any link matrix, heterogeneous links, several NICs.
StatusOr<NodeProfile> ParseLoomTopology(std::string_view text, std::string_view source);

// `spec`: "ndv2", "dgx2", or a path to a TACCL profile or loom topology JSON file.
StatusOr<NodeProfile> LoadProfile(const std::string& spec);

}  // namespace loom::taccl
