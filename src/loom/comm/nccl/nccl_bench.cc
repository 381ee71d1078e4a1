// nccl_bench: loom's NCCL backend against NCCL called directly, same run, one rank per device
// (bench.h says what is timed and how). `loom comm bench --backend nccl` runs the same points.
//
//   nccl_bench [--ranks P] [--min-bytes 8] [--max-bytes 1GiB] [--factor 8] [--rounds 7]
//              [--collective NAME]... [--json FILE]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"
#include "loom/comm/nccl/bench.h"

namespace {

int Usage() {
  std::fprintf(
      stderr,
      "usage: nccl_bench [--ranks P] [--min-bytes N] [--max-bytes N] [--factor F] [--rounds R]\n"
      "                  [--collective allreduce|allgather|reducescatter|alltoall|broadcast]...\n"
      "                  [--json FILE]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace loom::comm::nccl;
  BenchOptions o;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    const char* v = argv[++i];
    if (a == "--ranks") {
      o.ranks = std::atoi(v);
    } else if (a == "--min-bytes" || a == "--max-bytes") {
      auto bytes = loom::ParseByteSize(v, a);
      if (!bytes.ok()) {
        std::fprintf(stderr, "nccl_bench: %s\n", bytes.status().ToString().c_str());
        return 2;
      }
      (a == "--min-bytes" ? o.min_bytes : o.max_bytes) = *bytes;
    } else if (a == "--factor") {
      o.factor = std::atof(v);
    } else if (a == "--rounds") {
      o.rounds = std::atoi(v);
    } else if (a == "--collective") {
      o.collectives.push_back(v);
    } else if (a == "--json") {
      json_path = v;
    } else {
      return Usage();
    }
  }
  std::string json;
  loom::Status s = RunBench(
      o,
      [&](const BenchSetup& setup) {
        std::printf(
            "# %d rank(s), one per device (%s), NCCL %d; us per call, median of %d rounds\n",
            setup.ranks, setup.device.c_str(), setup.nccl_version, o.rounds);
        std::printf("%-14s %12s %10s %10s %10s %10s %7s %7s %10s %10s\n", "collective", "bytes",
                    "nccl_us", "loom_us", "block_us", "nospin_us", "ratio", "r_block", "algbw_GBs",
                    "busbw_GBs");
      },
      [&](const BenchRow& row) {
        std::printf("%-14s %12llu %10.2f %10.2f %10.2f %10.2f %7.3f %7.3f %10.2f %10.2f\n",
                    row.collective.c_str(), static_cast<unsigned long long>(row.bytes), row.nccl_us,
                    row.loom_us, row.blocking_us, row.nospin_us, row.nccl_us / row.loom_us,
                    row.nccl_us / row.blocking_us, row.algbw_gbs, row.busbw_gbs);
        std::fflush(stdout);
        json += loom::StrCat(
            "{\"collective\":\"", row.collective, "\",\"ranks\":", row.ranks,
            ",\"bytes\":", row.bytes, ",\"nccl_us\":", row.nccl_us, ",\"loom_us\":", row.loom_us,
            ",\"loom_blocking_us\":", row.blocking_us, ",\"loom_nospin_us\":", row.nospin_us,
            ",\"ratio\":", row.nccl_us / row.loom_us,
            ",\"ratio_blocking\":", row.nccl_us / row.blocking_us, ",\"algbw_gbs\":", row.algbw_gbs,
            ",\"busbw_gbs\":", row.busbw_gbs, "}\n");
      });
  if (!json_path.empty()) {
    loom::Status w = loom::WriteFileAtomically(json_path, json);
    if (!w.ok()) {
      std::fprintf(stderr, "nccl_bench: %s\n", w.ToString().c_str());
      return 1;
    }
  }
  if (!s.ok()) {
    std::fprintf(stderr, "nccl_bench: %s\n", s.ToString().c_str());
    return s.code() == loom::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
