#!/usr/bin/env bash
# loom's batched (HogBatch) skip-gram vs pWord2Vec (Intel Labs' HogBatch implementation, the
# G2 anchor), side by side: one corpus, one vocabulary file, the same hyper-parameters and
# threads, runs alternating (pWord2Vec, loom, pWord2Vec, loom, ...) so both see the same load.
# pWord2Vec is built OUTSIDE this repository from its public source and passed in; nothing is
# fetched here.
#
#   bench/w2v_vs_pword2vec.sh --pword2vec /work/anchors/pword2vec/pWord2Vec --corpus corpus.txt \
#       [--questions questions-words.txt] [--loom build/release/tools/loom/loom] [--threads 1]
#       [--size 100] [--iter 1] [--batch-size 11] [--repeat 2]
#
# Each run is checked first (its vector file loads; analogy accuracy at threshold 30000 when
# --questions is given), then one JSON line: words per CPU-second (train_words * iter / user+sys
# seconds of the whole run, vocabulary read included on both sides), the ratio loom / pWord2Vec
# and the 1-minute load average.
set -euo pipefail
pw= corpus= questions= loom=build/release/tools/loom/loom threads=1 size=100 iter=1 batch=11 repeat=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --pword2vec) pw=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --questions) questions=$2; shift 2 ;;
    --loom) loom=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --iter) iter=$2; shift 2 ;;
    --batch-size) batch=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$pw" && -f "$corpus" && -x "$loom" ]] || { echo "need --pword2vec BIN --corpus FILE (and a built loom)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
vocab="$work/vocab.txt"
"$loom" --log-level warning w2v train -train "$corpus" -save-vocab "$vocab" -min-count 5 >/dev/null
train_words=$(awk '{s += $2} END {print s}' "$vocab")
common=(-train "$corpus" -read-vocab "$vocab" -size "$size" -window 5 -sample 1e-3 -negative 5
        -threads "$threads" -iter "$iter" -min-count 5 -binary 1 -batch-size "$batch")

cpu_seconds() {  # runs "$@", prints user+sys seconds
  local t
  t=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
  awk -v a="${t% *}" -v b="${t#* }" 'BEGIN {printf "%.3f", a + b}'
}
check() {  # vectors.bin -> accuracy (or "na"); fails if the file does not load
  if [[ -z "$questions" ]]; then
    "$loom" --json w2v similar the --vectors "$1" >/dev/null && echo na
    return
  fi
  "$loom" --json w2v eval "$1" --questions "$questions" --threshold 30000 |
    python3 -c 'import json,sys; a=json.loads(sys.stdin.readline())["analogy"]; print("%.2f" % a["accuracy"])'
}
for ((i = 1; i <= repeat; i++)); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  t_pw=$(cpu_seconds "$pw" "${common[@]}" -alpha 0.025 -output "$work/pw.bin")
  t_loom=$(cpu_seconds "$loom" --log-level warning w2v train "${common[@]}" -cbow 0 -alpha 0.025 \
           --mode batched -output "$work/loom.bin")
  acc_pw=$(check "$work/pw.bin") acc_loom=$(check "$work/loom.bin")
  python3 - "$train_words" "$iter" "$t_pw" "$t_loom" "$acc_pw" "$acc_loom" "$load" "$threads" "$size" "$batch" <<'PY'
import json, sys
words, it, tp, tl = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
wp, wl = words * it / tp, words * it / tl
print(json.dumps({"bench": "w2v_vs_pword2vec", "threads": int(sys.argv[8]), "size": int(sys.argv[9]),
                  "batch_size": int(sys.argv[10]), "train_words": words, "iter": it,
                  "pword2vec_words_per_cpu_s": round(wp), "loom_words_per_cpu_s": round(wl),
                  "ratio": round(wl / wp, 2), "pword2vec_accuracy": sys.argv[5],
                  "loom_accuracy": sys.argv[6], "load1_at_start": float(sys.argv[7])}))
PY
done
