// The loom CLI's registry. Each module contributes one file, tools/loom/<module>_cmd.cc, that
// registers its command group (`loom <module> <verb>`) and, optionally, a `loom demo` stage:
//
//   LOOM_REGISTER_COMMANDS(comm, [](CLI::App& app, loom::cli::Context& ctx) {
//     CLI::App* run = app.add_subcommand("run", "Execute a program on thread ranks");
//     ...
//     ctx.SetVerb(run, [&ctx, opts] { return RunProgram(ctx, *opts); });
//   });
//   LOOM_REGISTER_DEMO_STAGE(comm, 20, [](loom::cli::Context& ctx) { ... });
//
// Verbs return a Status; main prints a non-OK one as a single line on stderr and exits 1.
// Verbs that report results emit them through ctx.Emit (one JSON object per line under --json).
// Registration happens during static initialisation, before main; nothing here is thread-safe
// after that except Emit.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "loom/base/json.h"
#include "loom/base/status.h"

namespace loom::cli {

struct GlobalOptions {
  int threads = 0;        // 0 = hardware concurrency
  uint64_t seed = 1;      // for every stochastic algorithm
  std::string log_level = "info";
  bool json = false;      // machine-readable results on stdout
};

class Context {
 public:
  GlobalOptions globals;

  // Binds a verb (a leaf subcommand) to the function that runs it.
  void SetVerb(CLI::App* verb, std::function<Status()> fn) { verbs_[verb] = std::move(fn); }
  const std::function<Status()>* FindVerb(CLI::App* verb) const {
    auto it = verbs_.find(verb);
    return it == verbs_.end() ? nullptr : &it->second;
  }

  // Reports one result: under --json the record as one line on stdout, otherwise `human`
  // (a readable line or table; when empty, "key: value" lines derived from the record).
  void Emit(const Json& record, const std::string& human = "") const;

 private:
  std::map<CLI::App*, std::function<Status()>> verbs_;
};

// What a demo stage reports for the closing summary table.
struct DemoResult {
  std::string headline;  // one line: the measured result, e.g. "busbw 3.1 GB/s, verified"
  bool verified = false;  // the stage checked its own result against an oracle
  Json metrics = Json::object();
};

using CommandRegistrar = std::function<void(CLI::App& group, Context& ctx)>;
using DemoStageFn = std::function<StatusOr<DemoResult>(Context& ctx)>;

struct CommandGroup {
  std::string name;
  std::string description;
  CommandRegistrar registrar;
};

struct DemoStage {
  std::string name;
  int order;
  DemoStageFn run;
};

std::vector<CommandGroup>& CommandGroups();
std::vector<DemoStage>& DemoStages();

struct Registration {
  Registration(std::string name, std::string description, CommandRegistrar registrar);
  Registration(std::string name, int order, DemoStageFn run);
};

}  // namespace loom::cli

#define LOOM_CLI_CONCAT_INNER(a, b) a##b
#define LOOM_CLI_CONCAT(a, b) LOOM_CLI_CONCAT_INNER(a, b)

#define LOOM_REGISTER_COMMANDS(name, description, ...)                                 \
  static ::loom::cli::Registration LOOM_CLI_CONCAT(loom_cli_commands_, name)(#name,    \
                                                                              description, \
                                                                              __VA_ARGS__)

#define LOOM_REGISTER_DEMO_STAGE(name, order, ...) \
  static ::loom::cli::Registration LOOM_CLI_CONCAT(loom_cli_demo_, name)(#name, order, __VA_ARGS__)
