#!/usr/bin/env bash
# G6: distributed w2v convergence per combiner. Trains the same corpus with P ranks (comm's
# thread backend, or with --backend mpi one process per rank under mpirun) and each combiner, then evaluates analogy accuracy (threshold
# 30000) with loom's compute-accuracy-compatible evaluator. One JSON line per run.
#
#   bench/w2v_distributed.sh --corpus corpus.txt --questions questions-words.txt \
#       [--loom build/release/tools/loom/loom] [--ranks "1 2 4"] [--combiners "adasum average touched-average sum"]
#       [--rounds 4] [--iter 1] [--dist-iter E] [--mode batched] [--backend thread|mpi]
#       [--threads 1] [--alpha 0.025] [--scale-alpha]
# --iter is the sequential (P = 1) run's epochs, --dist-iter the distributed runs' (default
# --iter); at the end a table gives each run's accuracy beside the sequential one and the G6
# verdict (within 1.0 point in <= 1.1x the epochs). Each line notes the 1-minute load average.
# --scale-alpha trains a P-rank run at P times --alpha (the learning-rate-scaling alternative to
# touched-average for the average combiner); the sequential run keeps --alpha.
set -euo pipefail
corpus= questions= loom=build/release/tools/loom/loom ranks="1 2 4" combiners="adasum average touched-average sum"
rounds=4 iter=1 dist_iter= threads=1 mode=batched size=100 backend=thread alpha=0.025 scale_alpha=0
work=$(mktemp -d)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --corpus) corpus=$2; shift 2 ;;
    --questions) questions=$2; shift 2 ;;
    --loom) loom=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --combiners) combiners=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --iter) iter=$2; shift 2 ;;
    --dist-iter) dist_iter=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    --alpha) alpha=$2; shift 2 ;;
    --scale-alpha) scale_alpha=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -f "$corpus" && -f "$questions" && -x "$loom" ]] || { echo "need --corpus and --questions" >&2; exit 2; }
dist_iter=${dist_iter:-$iter}
"$loom" --log-level warning w2v train -train "$corpus" -save-vocab "$work/vocab" -min-count 5 >/dev/null
for p in $ranks; do
  for c in $combiners; do
    [[ $p == 1 && $c != "${combiners%% *}" ]] && continue  # P = 1 exchanges nothing: one run covers all
    launch=("$loom") ranks_flag=(--ranks "$p")
    if [[ $backend == mpi ]]; then
      launch=(mpirun --oversubscribe --allow-run-as-root -np "$p" "$loom") ranks_flag=(--distributed)
    fi
    e=$dist_iter; [[ $p == 1 ]] && e=$iter
    a=$alpha; [[ $scale_alpha == 1 ]] && a=$(awk -v a="$alpha" -v p="$p" 'BEGIN {print a * p}')
    run=$("${launch[@]}" --json --log-level warning w2v train -train "$corpus" -read-vocab "$work/vocab" \
      -output "$work/v.bin" -binary 1 -size "$size" -cbow 0 -threads "$threads" -iter "$e" -min-count 5 \
      -alpha "$a" --mode "$mode" "${ranks_flag[@]}" --combiner "$c" --rounds-per-epoch "$rounds")
    acc=$("$loom" --json w2v eval "$work/v.bin" --questions "$questions" --threshold 30000)
    python3 - "$run" "$acc" "$e" "$(cut -d' ' -f1 /proc/loadavg)" "$a" <<'PY' | tee -a "$work/runs.jsonl"
import json, sys
r = json.loads(sys.argv[1]); a = json.loads(sys.argv[2])["analogy"]
print(json.dumps({"bench": "w2v_distributed", "backend": r.get("backend"), "ranks": r["ranks"], "combiner": r["combiner"],
                  "epochs": int(sys.argv[3]), "load1": float(sys.argv[4]), "alpha": float(sys.argv[5]),
                  "rounds_per_epoch": r["rounds_per_epoch"], "train_seconds": round(r["train_seconds"], 2),
                  "rows_sent_rank0": r["rows_sent_rank0"], "rows_total_rank0": r["rows_total_rank0"],
                  "accuracy": round(a["accuracy"], 2), "semantic": round(a["semantic"], 2),
                  "syntactic": round(a["syntactic"], 2), "seen": a["seen"], "total": a["total"]}))
PY
  done
done
python3 - "$work/runs.jsonl" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
seq = next((r for r in runs if r["ranks"] == 1), None)
print("| P | combiner | alpha | epochs | accuracy % (sem, syn) | vs sequential | epochs ratio | G6 | rows sent rank 0 | train s | load |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in runs:
    acc = f'{r["accuracy"]:.2f} ({r["semantic"]:.2f}, {r["syntactic"]:.2f})'
    sent = f'{100 * r["rows_sent_rank0"] / max(1, r["rows_total_rank0"]):.0f}%'
    if seq is None or r is seq:  # without a P = 1 run there is nothing to compare with
        name = "sequential" if r is seq else r["combiner"]
        print(f'| {r["ranks"]} | {name} | {r["alpha"]} | {r["epochs"]} | {acc} | - | - | - | - | {r["train_seconds"]} | {r["load1"]} |')
        continue
    d = r["accuracy"] - seq["accuracy"]
    ratio = r["epochs"] / seq["epochs"]
    ok = "met" if d >= -1.0 and ratio <= 1.1 else "missed"
    print(f'| {r["ranks"]} | {r["combiner"]} | {r["alpha"]} | {r["epochs"]} | {acc} | {d:+.2f} | {ratio:.2f} | {ok} | {sent} | {r["train_seconds"]} | {r["load1"]} |')
PY
rm -rf "$work"
