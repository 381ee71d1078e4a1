#!/usr/bin/env bash
# G6: distributed w2v convergence per combiner. Trains the same corpus with P ranks (comm's
# thread backend, or with --backend mpi one process per rank under mpirun) and each combiner, then evaluates analogy accuracy (threshold
# 30000) with loom's compute-accuracy-compatible evaluator. One JSON line per run.
#
#   bench/w2v_distributed.sh --corpus corpus.txt --questions questions-words.txt \
#       [--loom build/release/tools/loom/loom] [--ranks "1 2 4"] [--combiners "adasum average sum"]
#       [--rounds 4] [--iter 1] [--mode batched] [--backend thread|mpi]
set -euo pipefail
corpus= questions= loom=build/release/tools/loom/loom ranks="1 2 4" combiners="adasum average sum"
rounds=4 iter=1 mode=batched size=100 backend=thread work=$(mktemp -d)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --corpus) corpus=$2; shift 2 ;;
    --questions) questions=$2; shift 2 ;;
    --loom) loom=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --combiners) combiners=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --iter) iter=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -f "$corpus" && -f "$questions" && -x "$loom" ]] || { echo "need --corpus and --questions" >&2; exit 2; }
"$loom" --log-level warning w2v train -train "$corpus" -save-vocab "$work/vocab" -min-count 5 >/dev/null
for p in $ranks; do
  for c in $combiners; do
    [[ $p == 1 && $c != adasum ]] && continue  # P = 1 exchanges nothing: one run covers all
    launch=("$loom") ranks_flag=(--ranks "$p")
    if [[ $backend == mpi ]]; then
      launch=(mpirun --oversubscribe --allow-run-as-root -np "$p" "$loom") ranks_flag=(--distributed)
    fi
    run=$("${launch[@]}" --json --log-level warning w2v train -train "$corpus" -read-vocab "$work/vocab" \
      -output "$work/v.bin" -binary 1 -size "$size" -cbow 0 -threads 1 -iter "$iter" -min-count 5 \
      -alpha 0.025 --mode "$mode" "${ranks_flag[@]}" --combiner "$c" --rounds-per-epoch "$rounds")
    acc=$("$loom" --json w2v eval "$work/v.bin" --questions "$questions" --threshold 30000)
    python3 - "$run" "$acc" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); a = json.loads(sys.argv[2])["analogy"]
print(json.dumps({"bench": "w2v_distributed", "backend": r.get("backend"), "ranks": r["ranks"], "combiner": r["combiner"],
                  "rounds_per_epoch": r["rounds_per_epoch"], "train_seconds": round(r["train_seconds"], 2),
                  "rows_sent_rank0": r["rows_sent_rank0"], "rows_total_rank0": r["rows_total_rank0"],
                  "accuracy": round(a["accuracy"], 2), "semantic": round(a["semantic"], 2),
                  "syntactic": round(a["syntactic"], 2), "seen": a["seen"], "total": a["total"]}))
PY
  done
done
rm -rf "$work"
