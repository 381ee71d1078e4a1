// `loom demo`: runs every module's demo stage on embedded defaults, in order, and ends with a
// summary table. Exit status is non-zero when any stage fails.
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "table.h"

namespace loom::cli {
namespace {

Status RunDemo(Context& ctx, const std::vector<std::string>& only, bool list) {
  auto stages = DemoStages();
  std::sort(stages.begin(), stages.end(), [](const DemoStage& a, const DemoStage& b) {
    return a.order != b.order ? a.order < b.order : a.name < b.name;
  });
  if (list) {
    for (const auto& s : stages) std::cout << s.name << "\n";
    return OkStatus();
  }
  for (const auto& name : only) {
    bool known = std::any_of(stages.begin(), stages.end(),
                             [&](const DemoStage& s) { return s.name == name; });
    if (!known) return InvalidArgumentError("demo: no stage named '" + name + "' (see --list)");
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> failed;
  Stopwatch total;
  for (const auto& stage : stages) {
    if (!only.empty() && std::find(only.begin(), only.end(), stage.name) == only.end()) continue;
    if (!ctx.globals.json) std::cout << "== " << stage.name << " ==\n" << std::flush;
    Stopwatch sw;
    StatusOr<DemoResult> result = stage.run(ctx);
    double seconds = sw.ElapsedSeconds();
    char secs[32];
    std::snprintf(secs, sizeof(secs), "%.2f", seconds);
    Json record = {{"stage", stage.name}, {"seconds", seconds}};
    if (result.ok()) {
      record["ok"] = true;
      record["verified"] = result->verified;
      record["headline"] = result->headline;
      record["metrics"] = result->metrics;
      rows.push_back({stage.name, result->verified ? "ok (verified)" : "ok", secs,
                      result->headline});
    } else {
      record["ok"] = false;
      record["error"] = result.status().ToString();
      rows.push_back({stage.name, "FAILED", secs, result.status().ToString()});
      failed.push_back(stage.name);
    }
    if (ctx.globals.json) ctx.Emit(record);
    else if (!result.ok()) std::cout << "  error: " << result.status() << "\n";
  }
  if (!ctx.globals.json) {
    std::cout << "\nloom demo summary (" << StrCat(static_cast<int>(total.ElapsedSeconds() + 0.5))
              << " s)\n"
              << FormatTable({"stage", "result", "seconds", "headline"}, rows);
  }
  if (!failed.empty()) {
    std::string names;
    for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
    return InternalError(StrCat("demo: ", failed.size(), " of ", rows.size(),
                                " stages failed: ", names));
  }
  return OkStatus();
}

}  // namespace

LOOM_REGISTER_COMMANDS(demo, "Run every module's demo on embedded defaults",
                       [](CLI::App& app, Context& ctx) {
                         auto only = std::make_shared<std::vector<std::string>>();
                         auto list = std::make_shared<bool>(false);
                         app.add_option("--only", *only, "Run only these stages");
                         app.add_flag("--list", *list, "List the stages and exit");
                         ctx.SetVerb(&app, [&ctx, only, list] { return RunDemo(ctx, *only, *list); });
                       });

}  // namespace loom::cli
