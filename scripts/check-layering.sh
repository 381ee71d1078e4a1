#!/usr/bin/env bash
# Enforces the layering contract: a source file under src/loom/<module>/ may include only
#   - headers of its own module (including its own internal/),
#   - public headers of the loom modules its target declares in DEPS (cmake/LoomHelpers.cmake).
# Test files (*_test.cc) may also use the DEPS of the module's loom_test targets, benchmarks
# (*_bench.cc) those of loom_bench, fuzz targets (*_fuzz.cc) those of loom_fuzz.
# Including another module's internal/ header is always a violation.
#
# Usage: scripts/check-layering.sh [ROOT]    (ROOT defaults to the repository root)
# Exit status 0 when clean; 1 with one line per violation otherwise.
set -euo pipefail

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
src="$root/src"
[[ -d "$src/loom" ]] || { echo "check-layering: no src/loom under $root" >&2; exit 2; }

declare -A module_dir      # module name -> dir relative to src (e.g. loom/comm/thread)
declare -A dir_module      # dir -> module name
declare -A deps            # "<module>:<kind>" -> space-separated deps (kind: lib test bench fuzz)

# Emits "kind name dep dep ..." for each loom_* call in a CMakeLists.txt (comments stripped).
parse_calls() {
  sed 's/#.*$//' "$1" | tr '\n' ' ' | grep -oE 'loom_(library|test|bench|fuzz)\([^)]*\)' |
    while read -r call; do
      kind=${call%%(*}; kind=${kind#loom_}
      body=${call#*(}; body=${body%)}
      # shellcheck disable=SC2086
      set -- $body
      name=$1; shift
      in_deps=0; out=""
      for tok in "$@"; do
        case "$tok" in
          DEPS) in_deps=1 ;;
          SRCS|EXTERNAL|PRIVATE_EXTERNAL|LABELS|TIMEOUT|MPI_RANKS|CORPUS|ITERATIONS|HEADER_ONLY|NO_MAIN) in_deps=0 ;;
          *) [[ $in_deps == 1 ]] && out+=" $tok" ;;
        esac
      done
      [[ $kind == library ]] && kind=lib
      echo "$kind $name$out"
    done
}

while IFS= read -r cml; do
  dir=$(dirname "${cml#"$src"/}")
  lib=""
  declare -A kind_deps=()
  while read -r kind name rest; do
    [[ -z "$kind" ]] && continue
    if [[ $kind == lib ]]; then
      lib=$name
      deps["$name:lib"]="$rest"
    else
      kind_deps[$kind]+=" $rest"
    fi
  done < <(parse_calls "$cml")
  if [[ -n "$lib" ]]; then
    module_dir[$lib]=$dir
    dir_module[$dir]=$lib
    for k in test bench fuzz; do deps["$lib:$k"]="${kind_deps[$k]:-}"; done
  fi
  unset kind_deps
done < <(find "$src/loom" -name CMakeLists.txt | sort)

# The module owning a path relative to src: the longest module dir that prefixes it.
owner_of() {
  local d=$1
  while [[ "$d" == */* || -n "${dir_module[$d]:-}" ]]; do
    if [[ -n "${dir_module[$d]:-}" ]]; then echo "${dir_module[$d]}"; return; fi
    [[ "$d" == */* ]] || break
    d=${d%/*}
  done
  echo ""
}

violations=0
while IFS= read -r file; do
  rel=${file#"$src"/}
  mod=$(owner_of "$(dirname "$rel")")
  [[ -z "$mod" ]] && continue
  base=$(basename "$file")
  allowed=" $mod ${deps[$mod:lib]:-} "
  case "$base" in
    *_test.cc) allowed+=" ${deps[$mod:test]:-} " ;;
    *_bench.cc) allowed+=" ${deps[$mod:bench]:-} " ;;
    *_fuzz.cc) allowed+=" ${deps[$mod:fuzz]:-} " ;;
  esac
  lineno=0
  while IFS= read -r line; do
    lineno=$((lineno + 1))
    [[ "$line" =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"(loom/[^\"]+)\" ]] || continue
    inc=${BASH_REMATCH[1]}
    target=$(owner_of "$(dirname "$inc")")
    if [[ -z "$target" ]]; then
      echo "$rel:$lineno: includes \"$inc\", which belongs to no loom module"
      violations=$((violations + 1))
    elif [[ "$target" != "$mod" && "$inc" == */internal/* ]]; then
      echo "$rel:$lineno: includes \"$inc\": module '$target' internal/ is private to it"
      violations=$((violations + 1))
    elif [[ "$allowed" != *" $target "* ]]; then
      echo "$rel:$lineno: module '$mod' includes \"$inc\" from module '$target', which it does not declare in DEPS"
      violations=$((violations + 1))
    fi
  done < "$file"
done < <(find "$src/loom" -type f \( -name '*.h' -o -name '*.cc' -o -name '*.cu' -o -name '*.cuh' \) | sort)

if [[ $violations -gt 0 ]]; then
  echo "check-layering: $violations violation(s)"
  exit 1
fi
echo "check-layering: ${#module_dir[@]} modules, no violations"
