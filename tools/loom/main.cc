// loom: one CLI for every module. `loom <module> <verb> [flags]`, `loom demo`, `loom info`.
// Global flags (--threads, --seed, --log-level, --json) may appear before or after the verb.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "build_info.h"
#include "cli.h"
#include "loom/base/logging.h"
#include "loom/base/thread_pool.h"
#include "loom/tensor/gemm.h"

namespace {

// The leaf subcommand the user selected (the verb), or nullptr.
CLI::App* SelectedLeaf(CLI::App* app) {
  CLI::App* leaf = nullptr;
  for (CLI::App* sub : app->get_subcommands()) {
    leaf = sub;
    if (CLI::App* deeper = SelectedLeaf(sub)) leaf = deeper;
  }
  return leaf;
}

std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// The first word that should name a command group but does not, or "".
std::string UnknownCommand(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--threads" || arg == "--seed" || arg == "--log-level") {
      ++i;  // skip the value
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    for (CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == arg) return "";
    return arg;
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  loom::tensor::ReexecWithPreferredBlasCore(argv);
  loom::cli::Context ctx;
  CLI::App app{"loom: collectives, synthesis, pipeline schedules, word2vec, phi models and FHE "
               "in one C++ toolkit",
               "loom"};
  app.set_version_flag("--version", std::string("loom ") + LOOM_VERSION_STRING + " (" +
                                        LOOM_GIT_REVISION + ", " + LOOM_BUILD_TYPE + ")");
  app.require_subcommand(1);
  app.fallthrough();  // global flags are accepted after the verb too
  app.add_option("--threads", ctx.globals.threads, "Worker threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", ctx.globals.seed, "Seed for every stochastic algorithm");
  app.add_option("--log-level", ctx.globals.log_level, "debug, info, warning, error or off");
  app.add_flag("--json", ctx.globals.json, "Print each result as one JSON object per line");

  CLI::App* help = app.add_subcommand("help", "Show help for loom or one command group");
  std::vector<std::string> help_topic;
  help->add_option("topic", help_topic, "Command group and verb");
  ctx.SetVerb(help, [&] {
    CLI::App* target = &app;
    for (const auto& name : help_topic) {
      CLI::App* next = nullptr;
      for (CLI::App* sub : target->get_subcommands({}))
        if (sub->get_name() == name) next = sub;
      if (next == nullptr)
        return loom::InvalidArgumentError("help: no command '" + name + "'");
      target = next;
    }
    std::cout << target->help();
    return loom::OkStatus();
  });

  CLI::App* info = app.add_subcommand("info", "Show the version, build features and threads");
  ctx.SetVerb(info, [&] {
    loom::Json record = {{"version", LOOM_VERSION_STRING},   {"revision", LOOM_GIT_REVISION},
                         {"build_type", LOOM_BUILD_TYPE},    {"compiler", LOOM_COMPILER},
                         {"features", LOOM_FEATURES},
                         {"threads", loom::DefaultThreadCount()}};
    ctx.Emit(record);
    return loom::OkStatus();
  });

  auto& groups = loom::cli::CommandGroups();
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (auto& group : groups) {
    CLI::App* sub = app.add_subcommand(group.name, group.description);
    group.registrar(*sub, ctx);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (argc == 1) {
      std::fputs(app.help().c_str(), stderr);
      return 2;
    }
    if (std::string unknown = UnknownCommand(app, argc, argv); !unknown.empty()) {
      std::fprintf(stderr, "loom: error: unknown command '%s' (see 'loom help')\n",
                   unknown.c_str());
      return 2;
    }
    std::fprintf(stderr, "loom: error: %s (see 'loom --help')\n", OneLine(e.what()).c_str());
    return 2;
  }

  auto level = loom::ParseLogLevel(ctx.globals.log_level);
  if (!level.ok()) {
    std::fprintf(stderr, "loom: error: --log-level: %s\n", level.status().message().c_str());
    return 2;
  }
  loom::SetLogLevel(*level);
  loom::SetDefaultThreadCount(ctx.globals.threads);

  CLI::App* leaf = SelectedLeaf(&app);
  const auto* verb = leaf ? ctx.FindVerb(leaf) : nullptr;
  if (verb == nullptr) {
    // A group without a verb: show what it offers.
    std::fprintf(stderr, "loom: error: '%s' needs a command; see 'loom help %s'\n",
                 leaf ? leaf->get_name().c_str() : "", leaf ? leaf->get_name().c_str() : "");
    return 2;
  }
  loom::Status status;
  try {
    status = (*verb)();
  } catch (const std::exception& e) {  // from third-party code only; loom code never throws
    status = loom::InternalError(std::string("unexpected exception: ") + e.what());
  }
  if (!status.ok()) {
    std::fprintf(stderr, "loom: error: %s\n", OneLine(status.ToString()).c_str());
    return 1;
  }
  return 0;
}
