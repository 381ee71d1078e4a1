// The base stage of `loom demo`: the foundation every module stands on, exercised and checked.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <numeric>
#include <vector>

#include "cli.h"
#include "loom/base/csprng.h"
#include "loom/base/file_io.h"
#include "loom/base/json.h"
#include "loom/base/strings.h"
#include "loom/base/thread_pool.h"
#include "loom/base/timer.h"

namespace loom::cli {
namespace {

StatusOr<DemoResult> BaseDemo(Context& ctx) {
  DemoResult result;
  // 1. ParallelFor over the default pool, checked against the closed form.
  constexpr int64_t kN = 1 << 25;
  std::vector<double> data(kN);
  std::iota(data.begin(), data.end(), 0.0);
  ThreadPool& pool = DefaultThreadPool();
  std::mutex mu;
  double sum = 0;  // partial sums are integers below 2^53, so the order does not matter
  Stopwatch sw;
  pool.ParallelFor(kN, 1 << 16, [&](int64_t b, int64_t e) {
    double s = 0;
    for (int64_t i = b; i < e; ++i) s += data[static_cast<size_t>(i)];
    std::lock_guard<std::mutex> lock(mu);
    sum += s;
  });
  double seconds = sw.ElapsedSeconds();
  double expected = static_cast<double>(kN) * static_cast<double>(kN - 1) / 2.0;
  if (sum != expected)
    return InternalError(StrCat("ParallelFor sum ", sum, " != closed form ", expected));
  double gbps = static_cast<double>(kN) * sizeof(double) / seconds / 1e9;

  // 2. Atomic write, then memory-mapped read of the same JSON, compared field by field.
  std::string dir = (std::filesystem::temp_directory_path() / "loom-demo-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return InternalError("cannot create a temporary directory");
  std::string path = dir + "/base-demo.json";
  SecureRandom csprng;
  Json doc = {{"threads", pool.num_threads()}, {"nonce", csprng.NextU64()}};
  LOOM_RETURN_IF_ERROR(WriteJsonFile(path, doc));
  LOOM_ASSIGN_OR_RETURN(auto mapped, MappedFile::Open(path));
  LOOM_ASSIGN_OR_RETURN(JsonValue back, ParseJson(mapped->view(), path));
  bool round_trip = back.raw() == doc;
  std::filesystem::remove_all(dir);
  if (!round_trip) return InternalError("atomic write + mmap read did not round-trip");

  char line[160];
  std::snprintf(line, sizeof(line), "ParallelFor on %d threads: %.1f GB/s; atomic write + mmap "
                "round trip ok", pool.num_threads(), gbps);
  if (!ctx.globals.json) std::cout << "  " << line << "\n";
  result.headline = line;
  result.verified = true;
  result.metrics = {{"threads", pool.num_threads()}, {"parallel_for_gbps", gbps}};
  return result;
}

}  // namespace

LOOM_REGISTER_DEMO_STAGE(base, 0, BaseDemo);

}  // namespace loom::cli
