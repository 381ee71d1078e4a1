#!/usr/bin/env bash
# loom tessel vs Tessel (zhiqi-0/Tessel, Python + Z3), side by side on the same placements
# (docs/systems/tessel.md §4 cases). Tessel is not on PyPI (the PyPI name `tessel` is an
# unrelated package): its source is checked out OUTSIDE this repository and run with a venv that
# has z3-solver, numpy and more_itertools from PyPI; both are passed in, nothing is fetched here.
#
#   bench/tessel_compare.sh --python /work/anchors/tessel-venv/bin/python \
#       --tessel /work/anchors/tessel-src [--loom build/release/tools/loom/loom]
#       [--cases "vshape:4:lazy vshape:20:fast kshape:20:fast mshape:20:fast nnshape:20:fast"]
#       [--timeout 600]
#
# Per case (placement:memory:mode) it runs Tessel's examples/simulator/cases_tessel.py, saves its
# schedule, checks it with `loom tessel show` (overlap and memory always; dependencies when the
# block ids line up with loom's placement of the same name), then runs `loom tessel search` on
# the same placement, memory cap and micro-batch count, and prints one JSON line with both
# makespans and both search times (Tessel's own "search e2e" timer; loom's wall time).
set -euo pipefail
py= tessel= loom=build/release/tools/loom/loom timeout_s=600
cases="vshape:4:lazy vshape:20:fast kshape:20:fast mshape:20:fast nnshape:20:fast"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --python) py=$2; shift 2 ;;
    --tessel) tessel=$2; shift 2 ;;
    --loom) loom=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x "$py" && -f "$tessel/examples/simulator/cases_tessel.py" ]] || {
  echo "need --python (venv with z3-solver numpy more_itertools) and --tessel (source dir)" >&2; exit 2; }
loom=$(readlink -f "$loom")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for c in $cases; do
  IFS=: read -r placement mem mode <<<"$c"
  out="$work/$placement.$mem.$mode"
  flags=(--placement "$placement" --ndevs 4 --memory "$mem" --save "$out.json")
  [[ $mode == fast ]] && flags+=(--fast-search)
  [[ $mode == lazy ]] && flags+=(--nmicros "$mem")
  if ! (cd "$tessel" && PYTHONPATH=. timeout "$timeout_s" "$py" examples/simulator/cases_tessel.py \
        "${flags[@]}" >"$out.log" 2>&1); then
    echo "{\"case\":\"$c\",\"tessel\":\"no answer within ${timeout_s} s\"}"
    continue
  fi
  t_ms=$(sed -n 's/.*search e2e : \([0-9.]*\) ms.*/\1/p' "$out.log" | head -1)
  phases=$(grep -o 'warmup nsteps: [0-9]*, repetend nsteps: [0-9]*, cooldown nsteps: [0-9]*' "$out.log" |
           grep -o '[0-9]*' | paste -sd/)
  # Validate Tessel's schedule in loom; dependencies only if the block ids match loom's placement.
  if show=$("$loom" --json tessel show "$out.json" --placement "$placement" 2>/dev/null); then
    checked="overlap+memory+dependencies"
  else
    show=$("$loom" --json tessel show "$out.json" --placement none)
    checked="overlap+memory (block ids differ from loom's $placement)"
  fi
  t_mk=$(sed -n 's/.*"makespan":\([0-9.e+-]*\).*/\1/p' <<<"$show" | head -1)
  micro=$(sed -n 's/.*"micro":\([0-9]*\).*/\1/p' <<<"$show" | head -1)
  start=$(date +%s.%N)
  mine=$("$loom" --json tessel search --placement "$placement" --devices 4 --mem "$mem" \
         --micro "$micro" --objective makespan --nodes 200000)
  end=$(date +%s.%N)
  l_mk=$(sed -n 's/.*"makespan":\([0-9.e+-]*\),"makespan_bound".*/\1/p' <<<"$mine")
  l_lb=$(sed -n 's/.*"makespan_bound":\([0-9.e+-]*\).*/\1/p' <<<"$mine")
  l_proven=$(sed -n 's/.*"proven":\([a-z]*\).*/\1/p' <<<"$mine")
  printf '{"case":"%s","micro":%s,"tessel_makespan":%s,"tessel_phases":"%s","tessel_search_s":%.2f,"tessel_checked":"%s","loom_makespan":%s,"loom_bound":%s,"loom_proven":%s,"loom_wall_s":%.3f}\n' \
    "$c" "$micro" "$t_mk" "$phases" "$(echo "$t_ms / 1000" | bc -l)" "$checked" "$l_mk" "$l_lb" \
    "$l_proven" "$(echo "$end - $start" | bc -l)"
done
