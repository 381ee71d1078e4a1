#!/usr/bin/env bash
# Side-by-side CKKS op timings: loom vs SEAL 4.4, same machine, same run, same parameters.
#
#   bench/ckks_vs_seal.sh SEAL_PREFIX [LOOM_BINARY] [REPS]
#
# SEAL_PREFIX is a SEAL 4.4 install prefix built OUTSIDE this repository (generic x86-64
# flags, HEXL off), e.g. /work/anchors/seal/install. The anchor program
# bench/ckks_vs_seal/seal_ops.cc is compiled against it with the same -O3 flags loom's
# release build uses. Prints one table per parameter set with loom/SEAL ratios (< 1 = loom
# faster) and the JSON lines of both sides.
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

run_case() {  # N PRIMES SCALE_BITS
  local n=$1 primes=$2 scale=$3
  echo "== N=$n primes=$primes scale=2^$scale reps=$reps =="
  "$work/seal_ops" "$n" "$primes" "$reps" "$scale" > "$work/seal.json"
  "$loom" --json ckks bench --n "$n" --primes "$primes" --reps "$reps" --scale-bits "$scale" \
    > "$work/loom.json"
  cat "$work/seal.json" "$work/loom.json"
  python3 - "$work/loom.json" "$work/seal.json" <<'PY'
import json, sys
loom = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
seal = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
print(f"{'op':16} {'loom us':>10} {'SEAL us':>10} {'loom/SEAL':>10}")
for op, s in seal["median_cpu_us"].items():
    l = loom["median_cpu_us"].get(op)
    if l is None: continue
    print(f"{op:16} {l:10.1f} {s:10.1f} {l / s:10.2f}")
print(f"loom precision after depth-{loom['precision_depth']} chain: {loom['precision_bits']:.1f} bits")
PY
}
run_case 8192 60,40,40,60 40
run_case 8192 default 43
run_case 16384 default 48
