#!/usr/bin/env bash
# Proves scripts/check-layering.sh catches violations: builds small trees with one planted
# violation each (and one clean tree) and checks the verdict and the message.
# Usage: planted_violation_test.sh path/to/check-layering.sh
set -euo pipefail
checker=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0

make_tree() {  # a clean two-module tree: b depends on a; b has internal/; b's test uses c
  local t=$1
  mkdir -p "$t/src/loom/a" "$t/src/loom/b/internal" "$t/src/loom/c"
  echo 'loom_library(a SRCS a.cc)' > "$t/src/loom/a/CMakeLists.txt"
  printf 'loom_library(b SRCS b.cc\n  DEPS a)  # comment\nloom_test(b_test SRCS b_test.cc DEPS b c)\n' \
    > "$t/src/loom/b/CMakeLists.txt"
  echo 'loom_library(c SRCS c.cc DEPS a)' > "$t/src/loom/c/CMakeLists.txt"
  echo '#include "loom/a/a.h"' > "$t/src/loom/a/a.cc"
  touch "$t/src/loom/a/a.h" "$t/src/loom/b/internal/detail.h" "$t/src/loom/c/c.h"
  printf '#include "loom/a/a.h"\n#include "loom/b/internal/detail.h"\n' > "$t/src/loom/b/b.cc"
  printf '#include "loom/b/b.h"\n#include "loom/c/c.h"\n' > "$t/src/loom/b/b_test.cc"
  echo '#include "loom/a/a.h"' > "$t/src/loom/c/c.cc"
}

expect() {  # expect <name> <tree> <0|1> [message regex]
  local name=$1 tree=$2 want=$3 pattern=${4:-}
  local out rc=0
  out=$("$checker" "$tree" 2>&1) || rc=$?
  if [[ $rc -ne $want ]]; then
    echo "FAIL $name: exit $rc, expected $want"; echo "$out"; fail=1; return
  fi
  if [[ -n "$pattern" ]] && ! grep -qE "$pattern" <<<"$out"; then
    echo "FAIL $name: output does not match /$pattern/"; echo "$out"; fail=1; return
  fi
  echo "ok   $name"
}

make_tree "$work/clean"
expect clean_tree_passes "$work/clean" 0

make_tree "$work/undeclared"
echo '#include "loom/b/b.h"' >> "$work/undeclared/src/loom/a/a.cc"
expect undeclared_dependency_fails "$work/undeclared" 1 \
  "a/a.cc:2: module 'a' includes \"loom/b/b.h\" from module 'b', which it does not declare"

make_tree "$work/internal"
echo '#include "loom/b/internal/detail.h"' >> "$work/internal/src/loom/c/c.cc"
expect foreign_internal_fails "$work/internal" 1 "internal/ is private"

make_tree "$work/testonly"
echo '#include "loom/c/c.h"' >> "$work/testonly/src/loom/b/b.cc"
expect test_only_dependency_in_library_fails "$work/testonly" 1 "module 'b' includes \"loom/c/c.h\""

make_tree "$work/unknown"
echo '#include "loom/zzz/x.h"' >> "$work/unknown/src/loom/a/a.cc"
expect unknown_module_fails "$work/unknown" 1 "belongs to no loom module"

# The real tree with one planted violation: base must not include the test helpers.
real_root=$(cd "$(dirname "$checker")/.." && pwd)
mkdir -p "$work/real"
cp -r "$real_root/src" "$work/real/"
echo '#include "loom/testing/temp_dir.h"' >> "$work/real/src/loom/base/status.cc"
expect real_tree_with_planted_violation_fails "$work/real" 1 "module 'base' includes \"loom/testing/temp_dir.h\""

exit $fail
