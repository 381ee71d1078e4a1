#!/usr/bin/env bash
# Runs every benchmark binary of a build (Google Benchmark kernels, then bench/ drivers that
# print one JSON line per measurement). Results go to build/<preset>/bench-results/, one file
# per binary; copy the rows you report, with the command, into docs/benchmarks.md.
# Usage: scripts/run-benchmarks.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build/release}
out="$build/bench-results"
mkdir -p "$out"
found=0
while IFS= read -r bin; do
  found=1
  name=$(basename "$bin")
  echo "::: $name"
  if "$bin" --help 2>&1 | grep -q benchmark_filter; then
    "$bin" --benchmark_min_time=0.2 --benchmark_out="$out/$name.json" --benchmark_out_format=json
  else
    "$bin" | tee "$out/$name.jsonl"
  fi
done < <(find "$build" -type f -executable \( -name '*_bench' -o -name 'bench_*' \) | sort)
[[ $found == 1 ]] || { echo "run-benchmarks: no benchmarks in $build" >&2; exit 1; }
echo "run-benchmarks: results in $out"
