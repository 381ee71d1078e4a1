#!/usr/bin/env bash
# G6: distributed w2v convergence per combiner. Trains the same corpus with P ranks (comm's
# thread backend, or with --backend mpi one process per rank under mpirun) and each combiner, then evaluates analogy accuracy (threshold
# 30000) with loom's compute-accuracy-compatible evaluator. One JSON line per run.
#
#   bench/w2v_distributed.sh --corpus corpus.txt --questions questions-words.txt \
#       [--loom build/release/tools/loom/loom] [--ranks "1 2 4"] [--combiners "adasum average touched-average sum"]
#       [--rounds 4] [--iter 1] [--dist-iter E] [--mode batched] [--backend thread|mpi]
#       [--threads 1] [--alpha 0.025 | --alphas "0.025 0.05"] [--scale-alpha] [--jsonl FILE]
# --iter is the sequential (P = 1) run's epochs, --dist-iter the distributed runs' (default
# --iter). Every base alpha in --alphas gets its own sequential run, so that the comparison is
# honest: at the end a table gives each run's accuracy beside the sequential run at the same base
# alpha AND beside the best sequential run over all the alphas given, with the G6 verdict
# (within 1.0 point in <= 1.1x the epochs) against each. Each line notes the 1-minute load average.
# --scale-alpha trains a P-rank run at P times its base alpha (the learning-rate-scaling
# alternative to touched-average for the average combiner) for every combiner; a combiner
# written NAME:scaled (e.g. "adasum average:scaled") scales only that one. The sequential runs
# keep the base alpha.
set -euo pipefail
corpus= questions= loom=build/release/tools/loom/loom ranks="1 2 4" combiners="adasum average touched-average sum"
rounds=4 iter=1 dist_iter= threads=1 mode=batched size=100 backend=thread alpha=0.025 scale_alpha=0 jsonl=
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
    --alpha|--alphas) alpha=$2; shift 2 ;;
    --scale-alpha) scale_alpha=1; shift ;;
    --jsonl) jsonl=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -f "$corpus" && -f "$questions" && -x "$loom" ]] || { echo "need --corpus and --questions" >&2; exit 2; }
dist_iter=${dist_iter:-$iter}
"$loom" --log-level warning w2v train -train "$corpus" -save-vocab "$work/vocab" -min-count 5 >/dev/null
first_combiner=${combiners%% *}
for p in $ranks; do
 for base in $alpha; do
  for spec in $combiners; do
    [[ $p == 1 && $spec != "$first_combiner" ]] && continue  # P = 1 exchanges nothing: one run covers all
    c=${spec%:scaled}
    launch=("$loom") ranks_flag=(--ranks "$p")
    if [[ $backend == mpi ]]; then
      launch=(mpirun --oversubscribe --allow-run-as-root -np "$p" "$loom") ranks_flag=(--distributed)
    fi
    e=$dist_iter; [[ $p == 1 ]] && e=$iter
    a=$base
    if [[ $scale_alpha == 1 || $spec == *:scaled ]]; then a=$(awk -v a="$base" -v p="$p" 'BEGIN {print a * p}'); fi
    # A run that diverges (loom stops with "training diverged ...") is recorded as such.
    if run=$("${launch[@]}" --json --log-level warning w2v train -train "$corpus" -read-vocab "$work/vocab" \
      -output "$work/v.bin" -binary 1 -size "$size" -cbow 0 -threads "$threads" -iter "$e" -min-count 5 \
      -alpha "$a" --mode "$mode" "${ranks_flag[@]}" --combiner "$c" --rounds-per-epoch "$rounds" 2>"$work/err"); then
      acc=$("$loom" --json w2v eval "$work/v.bin" --questions "$questions" --threshold 30000)
    else
      run=$(python3 -c 'import json, sys; print(json.dumps({"ranks": int(sys.argv[1]), "combiner": sys.argv[2], "rounds_per_epoch": int(sys.argv[3]), "error": sys.argv[4]}))' \
        "$p" "$c" "$rounds" "$(grep -m1 'error' "$work/err" || tail -1 "$work/err")")
      acc='{"analogy": null}'
    fi
    python3 - "$run" "$acc" "$e" "$(cut -d' ' -f1 /proc/loadavg)" "$a" "$base" <<'PY' | tee -a "$work/runs.jsonl"
import json, sys
r = json.loads(sys.argv[1]); a = json.loads(sys.argv[2])["analogy"]
if a is None:
    print(json.dumps({"bench": "w2v_distributed", "ranks": r["ranks"], "combiner": r["combiner"], "epochs": int(sys.argv[3]),
                      "load1": float(sys.argv[4]), "alpha": float(sys.argv[5]), "base_alpha": float(sys.argv[6]),
                      "rounds_per_epoch": r["rounds_per_epoch"], "error": r["error"], "accuracy": None}))
    sys.exit(0)
print(json.dumps({"bench": "w2v_distributed", "backend": r.get("backend"), "ranks": r["ranks"], "combiner": r["combiner"],
                  "epochs": int(sys.argv[3]), "load1": float(sys.argv[4]), "alpha": float(sys.argv[5]),
                  "base_alpha": float(sys.argv[6]),
                  "rounds_per_epoch": r["rounds_per_epoch"], "train_seconds": round(r["train_seconds"], 2),
                  "rows_sent_rank0": r["rows_sent_rank0"], "rows_total_rank0": r["rows_total_rank0"],
                  "accuracy": round(a["accuracy"], 2), "semantic": round(a["semantic"], 2),
                  "syntactic": round(a["syntactic"], 2), "seen": a["seen"], "total": a["total"]}))
PY
  done
 done
done
python3 - "$work/runs.jsonl" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
seqs = {r["base_alpha"]: r for r in runs if r["ranks"] == 1 and r["accuracy"] is not None}
best = max(seqs.values(), key=lambda r: r["accuracy"], default=None)
def verdict(r, s):
    if s is None: return "-", "-"
    if r["accuracy"] is None: return "diverged", "missed"
    d = r["accuracy"] - s["accuracy"]
    return f'{d:+.2f}', ("met" if d >= -1.0 and r["epochs"] / s["epochs"] <= 1.1 else "missed")
print("| P | combiner | alpha (base) | epochs | accuracy % (sem, syn) | vs sequential, same base alpha | G6 | vs best sequential | G6 | rows sent rank 0 | train s | load |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in runs:
    if r["accuracy"] is None:  # diverged: print loom's message in the accuracy column
        r.update(semantic=0, syntactic=0, rows_sent_rank0=0, rows_total_rank0=0, train_seconds="-")
    acc = "diverged: " + r["error"] if r["accuracy"] is None else f'{r["accuracy"]:.2f} ({r["semantic"]:.2f}, {r["syntactic"]:.2f})'
    sent = f'{100 * r["rows_sent_rank0"] / max(1, r["rows_total_rank0"]):.0f}%'
    al = f'{r["alpha"]:g} ({r["base_alpha"]:g})'
    if r["ranks"] == 1:
        tag = " (best)" if r is best else ""
        print(f'| 1 | sequential{tag} | {al} | {r["epochs"]} | {acc} | - | - | - | - | - | {r["train_seconds"]} | {r["load1"]} |')
        continue
    d1, g1 = verdict(r, seqs.get(r["base_alpha"]))
    d2, g2 = verdict(r, best)
    print(f'| {r["ranks"]} | {r["combiner"]} | {al} | {r["epochs"]} | {acc} | {d1} | {g1} | {d2} (alpha {best["alpha"]:g}) | {g2} | {sent} | {r["train_seconds"]} | {r["load1"]} |' if best else
          f'| {r["ranks"]} | {r["combiner"]} | {al} | {r["epochs"]} | {acc} | - | - | - | - | {sent} | {r["train_seconds"]} | {r["load1"]} |')
PY
[[ -n "$jsonl" ]] && cp "$work/runs.jsonl" "$jsonl"
rm -rf "$work"
