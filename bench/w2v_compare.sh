#!/usr/bin/env bash
# loom w2v vs word2vec.c, side by side on one corpus, one vocabulary file, the same
# hyper-parameters and threads (docs/systems/w2v.md targets G1-G4). word2vec.c is built
# OUTSIDE this repository from its public source and passed in; nothing is fetched here.
#
#   bench/w2v_compare.sh --word2vec /work/anchors/word2vec/word2vec \
#       --corpus corpus.txt --questions questions-words.txt [--loom build/native/tools/loom/loom]
#       [--threads 1] [--sizes "100 200"] [--models "sg cbow"] [--iter 1] [--modes "exact batched"]
#
# Per configuration it first checks both outputs (vector files load, analogy accuracy through
# loom's compute-accuracy-compatible evaluator at threshold 30000), then prints one JSON line:
# words per CPU-second (train_words * iter / user+sys seconds of the whole run, vocabulary read
# included on both sides) and the ratio loom / word2vec.c.
set -euo pipefail
w2v= corpus= questions= loom=build/release/tools/loom/loom threads=1 sizes="100" models="sg cbow"
iter=1 modes="exact" sample=1e-3 negative=5 window=5 seed=1 work=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --word2vec) w2v=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --questions) questions=$2; shift 2 ;;
    --loom) loom=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --iter) iter=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --sample) sample=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --workdir) work=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$w2v" && -f "$corpus" && -x "$loom" ]] || { echo "need --word2vec BIN --corpus FILE (and a built loom)" >&2; exit 2; }
[[ -n "$work" ]] || work=$(mktemp -d)
mkdir -p "$work"
vocab="$work/vocab.txt"
"$w2v" -train "$corpus" -save-vocab "$vocab" -min-count 5 -output "" -threads 1 >/dev/null
train_words=$(awk '{s += $2} END {print s}' "$vocab")

cpu_seconds() {  # runs "$@", prints user+sys seconds
  local t
  t=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
  awk -v a="${t% *}" -v b="${t#* }" 'BEGIN {printf "%.3f", a + b}'
}
accuracy() {  # vectors.bin -> "total semantic syntactic seen/total"
  if [[ -z "$questions" ]]; then echo "na"; return; fi
  "$loom" --json w2v eval "$1" --questions "$questions" --threshold 30000 |
    python3 -c 'import json,sys; a=json.loads(sys.stdin.readline())["analogy"]; print("%.2f %.2f %.2f %d/%d" % (a["accuracy"], a["semantic"], a["syntactic"], a["seen"], a["total"]))'
}

for model in $models; do
  cbow=$([[ $model == cbow ]] && echo 1 || echo 0)
  alpha=$([[ $model == cbow ]] && echo 0.05 || echo 0.025)
  for size in $sizes; do
    common=(-train "$corpus" -read-vocab "$vocab" -min-count 5 -binary 1 -size "$size" -window "$window"
            -sample "$sample" -hs 0 -negative "$negative" -threads "$threads" -iter "$iter" -cbow "$cbow" -alpha "$alpha")
    ref_s=$(cpu_seconds "$w2v" "${common[@]}" -output "$work/ref.bin")
    ref_acc=$(accuracy "$work/ref.bin")
    ref_rate=$(awk -v w="$train_words" -v i="$iter" -v s="$ref_s" 'BEGIN {printf "%.0f", w * i / s}')
    for mode in $modes; do
      [[ $mode == batched && $model == cbow ]] && continue
      loom_s=$(cpu_seconds "$loom" --log-level warning w2v train "${common[@]}" -output "$work/loom.bin" --mode "$mode" --seed "$seed")
      loom_acc=$(accuracy "$work/loom.bin")
      loom_rate=$(awk -v w="$train_words" -v i="$iter" -v s="$loom_s" 'BEGIN {printf "%.0f", w * i / s}')
      ratio=$(awk -v a="$loom_rate" -v b="$ref_rate" 'BEGIN {printf "%.3f", a / b}')
      printf '{"bench":"w2v_compare","model":"%s","size":%s,"mode":"%s","threads":%s,"iter":%s,"train_words":%s,"loom_cpu_s":%s,"word2vec_cpu_s":%s,"loom_words_per_cpu_s":%s,"word2vec_words_per_cpu_s":%s,"ratio":%s,"loom_analogy":"%s","word2vec_analogy":"%s"}\n' \
        "$model" "$size" "$mode" "$threads" "$iter" "$train_words" "$loom_s" "$ref_s" "$loom_rate" "$ref_rate" "$ratio" "$loom_acc" "$ref_acc"
    done
  done
done
