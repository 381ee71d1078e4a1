#include "cli.h"

#include <cstdio>
#include <iostream>

namespace loom::cli {

std::vector<CommandGroup>& CommandGroups() {
  static auto* groups = new std::vector<CommandGroup>();
  return *groups;
}

std::vector<DemoStage>& DemoStages() {
  static auto* stages = new std::vector<DemoStage>();
  return *stages;
}

Registration::Registration(std::string name, std::string description, CommandRegistrar registrar) {
  CommandGroups().push_back({std::move(name), std::move(description), std::move(registrar)});
}

Registration::Registration(std::string name, int order, DemoStageFn run) {
  DemoStages().push_back({std::move(name), order, std::move(run)});
}

void Context::Emit(const Json& record, const std::string& human) const {
  if (globals.json) {
    std::cout << record.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
  } else if (!human.empty()) {
    std::cout << human;
    if (human.back() != '\n') std::cout << '\n';
  } else if (record.is_object()) {
    for (auto it = record.begin(); it != record.end(); ++it) {
      std::cout << it.key() << ": "
                << (it->is_string() ? it->get<std::string>() : it->dump()) << '\n';
    }
  } else {
    std::cout << record.dump() << '\n';
  }
  std::cout.flush();
}

}  // namespace loom::cli
