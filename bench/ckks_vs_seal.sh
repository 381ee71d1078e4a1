#!/usr/bin/env bash
# Side-by-side CKKS op timings: loom vs SEAL 4.4, same machine, same run, same parameters.
#
#   bench/ckks_vs_seal.sh SEAL_PREFIX [LOOM_BINARY] [REPS]
#
# SEAL_PREFIX is a SEAL 4.4 install prefix built OUTSIDE this repository (generic x86-64
# flags, HEXL off), e.g. /work/anchors/seal/install. The anchor program
# bench/ckks_vs_seal/seal_ops.cc is compiled against it with the same -O3 flags loom's
# release build uses. Prints one table per parameter set with loom/SEAL ratios (< 1 = loom
# faster) and the JSON lines of both sides. ROUNDS (default 3) alternating runs per side.
set -euo pipefail
seal_prefix=${1:?usage: $0 SEAL_PREFIX [LOOM_BINARY] [REPS]}
here=$(cd "$(dirname "$0")" && pwd)
loom=${2:-$here/../build/release/tools/loom/loom}
reps=${3:-9}
inc=$(find "$seal_prefix/include" -maxdepth 1 -type d -name 'SEAL-*' | head -1)
lib=$(find "$seal_prefix/lib" -name 'libseal*.a' -o -name 'libseal*.so' | head -1)
[[ -n "$inc" && -n "$lib" ]] || { echo "no SEAL headers/library under $seal_prefix" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
g++ -O3 -DNDEBUG -std=c++17 -I"$inc" "$here/ckks_vs_seal/seal_ops.cc" "$lib" -lpthread -o "$work/seal_ops"

rounds=${ROUNDS:-3}
run_case() {  # N PRIMES SCALE_BITS
  local n=$1 primes=$2 scale=$3
  echo "== N=$n primes=$primes scale=2^$scale reps=$reps rounds=$rounds =="
  : > "$work/seal.json"
  : > "$work/loom.json"
  # Alternate the two sides so load changes on a shared machine hit both; per op the minimum
  # over rounds of the per-round medians is reported for each side.
  for ((r = 0; r < rounds; ++r)); do
    "$work/seal_ops" "$n" "$primes" "$reps" "$scale" >> "$work/seal.json"
    "$loom" --json ckks bench --n "$n" --primes "$primes" --reps "$reps" --scale-bits "$scale" \
      >> "$work/loom.json"
  done
  cat "$work/seal.json" "$work/loom.json"
  python3 - "$work/loom.json" "$work/seal.json" <<'PY'
import json, sys
def load(path):
    rows = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
    best = {}
    for r in rows:
        for op, us in r["median_cpu_us"].items():
            best[op] = min(best.get(op, float("inf")), us)
    return rows, best
loom_rows, loom = load(sys.argv[1])
seal_rows, seal = load(sys.argv[2])
print(f"{'op':16} {'loom us':>10} {'SEAL us':>10} {'loom/SEAL':>10}")
for op, s in seal.items():
    if op in loom:
        print(f"{op:16} {loom[op]:10.1f} {s:10.1f} {loom[op] / s:10.2f}")
bits = [r["precision_bits"] for r in loom_rows]
print(f"loom precision after depth-{loom_rows[0]['precision_depth']} chain: "
      f"{min(bits):.1f}..{max(bits):.1f} bits")
PY
}
run_case 8192 60,40,40,60 40
run_case 8192 default 43
run_case 16384 default 48
