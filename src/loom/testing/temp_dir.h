// TempDir: a fresh directory under $TMPDIR (or /tmp) removed with its contents on
// destruction. For tests. Thread-safety: one owner.
#pragma once

#include <string>

namespace loom::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace loom::testing
