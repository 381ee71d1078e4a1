#include "loom/testing/temp_dir.h"

#include <cstdlib>
#include <filesystem>

#include "loom/base/check.h"

namespace loom::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/loom-test-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  LOOM_CHECK(made != nullptr) << "mkdtemp failed for " << tmpl;
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace loom::testing
