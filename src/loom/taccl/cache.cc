#include "loom/taccl/cache.h"

#include <cstdio>
#include <filesystem>
#include <system_error>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"

namespace loom::taccl {
namespace {

// FNV-1a, 64 bit: stable across platforms and runs (std::hash is not).
uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Num(double x) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  return buf;
}

}  // namespace

int SizeBucket(uint64_t bytes) {
  int b = 0;
  while (b < 64 && (uint64_t{1} << b) < bytes) ++b;
  return b;
}

std::string CacheKey(const Topology& t, const Sketch& s, const SynthOptions& o, const std::string& extra) {
  std::string d = StrCat("v1|", t.num_nodes, "|", t.gpus_per_node, "|", t.nics_per_node, "|",
                         Num(t.nic_alpha_us), "|", Num(t.nic_beta_us_per_byte), "|");
  for (const Link& l : t.links)
    d += StrCat(l.src, ">", l.dst, ":", static_cast<int>(l.kind), ":", Num(l.alpha_us), ":", Num(l.beta_us_per_byte), ";");
  for (int g : t.gpu_nic) d += StrCat("n", g);
  for (const auto& sw : t.switches) {
    d += StrCat("|sw", sw.uc_max ? "max" : "min", Num(sw.beta_us_per_byte));
    for (int r : sw.ranks) d += StrCat(",", r);
  }
  d += StrCat("|sk", s.nnodes, ":", s.chunkup, ":", s.enforce_ordering ? 1 : 0);
  for (const auto& [snd, gs] : s.sender_rev_map) {
    d += StrCat("r", snd, "=");
    for (int g : gs) d += StrCat(g, ",");
  }
  for (auto [off, size] : s.symmetry_offsets) d += StrCat("y", off, "/", size);
  d += StrCat("|", CollectiveName(o.coll), "|b", SizeBucket(o.bytes), "|k", o.chunkup, "|r", o.root, "|m",
              o.use_milp ? 1 : 0, "|n", o.max_nodes, "|om", Num(o.order_milp_seconds), "/", o.order_milp_max_binaries, "|", o.include_ring ? 1 : 0, "|", Num(o.sim.chunk_eff_bytes),
              "|", extra);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(Fnv1a(d)));
  return hex;
}

StatusOr<std::optional<std::string>> CacheLookup(const std::string& dir, const std::string& key) {
  std::string path = dir + "/" + key + ".xml";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<std::string>();
  LOOM_ASSIGN_OR_RETURN(std::string xml, ReadFileToString(path));
  return std::optional<std::string>(std::move(xml));
}

Status CacheStore(const std::string& dir, const std::string& key, const std::string& xml) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError(StrCat("cache: cannot create ", dir, ": ", ec.message()));
  return WriteFileAtomically(dir + "/" + key + ".xml", xml);
}

}  // namespace loom::taccl
