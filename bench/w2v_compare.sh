#!/usr/bin/env bash
# loom w2v vs word2vec.c, side by side on one corpus, one vocabulary file, the same
# hyper-parameters and threads (docs/systems/w2v.md targets G1-G4). word2vec.c is built
# OUTSIDE this repository from its public source and passed in; nothing is fetched here.
#
#   bench/w2v_compare.sh --word2vec /work/anchors/word2vec/word2vec \
#       --corpus corpus.txt --questions questions-words.txt [--loom build/native/tools/loom/loom]
#       [--threads 1] [--sizes "100 200"] [--models "sg cbow"] [--iter 1] [--modes "exact batched"]
#       [--seeds "1 2 3"] [--wordsim wordsim353.tsv] [--word2vec-seeded]
#
# Per configuration it first checks both outputs (vector files load, analogy accuracy through
# loom's compute-accuracy-compatible evaluator at threshold 30000, WordSim353 Spearman with
# --wordsim), then prints one JSON line: words per CPU-second (train_words * iter / user+sys
# seconds of the whole run, vocabulary read included on both sides) and the ratio
# loom / word2vec.c. With --seeds every configuration runs once per seed (loom --seed S; word2vec.c
# has no seed flag, so it simply runs again: with more than one thread its Hogwild schedule
# differs run to run, with one it repeats itself), and a final table gives the means over seeds
# and the G4 verdict (analogy within 1.0 point and Spearman within 0.02 of word2vec.c).
# --word2vec-seeded: the word2vec binary is a dev-time build (outside the repository) patched to
# read the environment variable W2V_SEED=S and start its LCGs where loom --seed S starts them
# (init LCG at S, thread t at (S-1)*0x9E3779B97F4A7C15 + t; unset = word2vec.c's 1 and t); the
# script then exports W2V_SEED per seed, so both tools draw the same seeds, not only loom.
set -euo pipefail
w2v= corpus= questions= loom=build/release/tools/loom/loom threads=1 sizes="100" models="sg cbow"
iter=1 modes="exact" sample=1e-3 negative=5 window=5 seeds=1 wordsim= work= seeded=0
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
    --seed|--seeds) seeds=$2; shift 2 ;;
    --wordsim) wordsim=$2; shift 2 ;;
    --workdir) work=$2; shift 2 ;;
    --word2vec-seeded) seeded=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$w2v" && -f "$corpus" && -x "$loom" ]] || { echo "need --word2vec BIN --corpus FILE (and a built loom)" >&2; exit 2; }
[[ -n "$work" ]] || work=$(mktemp -d)
mkdir -p "$work"
: > "$work/runs.jsonl"
vocab="$work/vocab.txt"
"$w2v" -train "$corpus" -save-vocab "$vocab" -min-count 5 -output "" -threads 1 >/dev/null
train_words=$(awk '{s += $2} END {print s}' "$vocab")

cpu_seconds() {  # runs "$@", prints user+sys seconds
  local t
  t=$( { TIMEFORMAT='%U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
  awk -v a="${t% *}" -v b="${t#* }" 'BEGIN {printf "%.3f", a + b}'
}
accuracy() {  # vectors.bin -> "total semantic syntactic seen/total spearman" (na where not asked)
  if [[ -z "$questions" && -z "$wordsim" ]]; then echo "na"; return; fi
  local args=()
  [[ -n "$questions" ]] && args+=(--questions "$questions" --threshold 30000)
  [[ -n "$wordsim" ]] && args+=(--wordsim "$wordsim")
  "$loom" --json w2v eval "$1" "${args[@]}" | python3 -c '
import json, sys
r = json.loads(sys.stdin.readline()); a = r.get("analogy"); w = r.get("wordsim")
out = "%.2f %.2f %.2f %d/%d" % (a["accuracy"], a["semantic"], a["syntactic"], a["seen"], a["total"]) if a else "na na na na"
print(out + (" %.4f" % w["spearman"] if w else " na"))'
}

for seed in $seeds; do
for model in $models; do
  cbow=$([[ $model == cbow ]] && echo 1 || echo 0)
  alpha=$([[ $model == cbow ]] && echo 0.05 || echo 0.025)
  for size in $sizes; do
    common=(-train "$corpus" -read-vocab "$vocab" -min-count 5 -binary 1 -size "$size" -window "$window"
            -sample "$sample" -hs 0 -negative "$negative" -threads "$threads" -iter "$iter" -cbow "$cbow" -alpha "$alpha")
    if [[ $seeded == 1 ]]; then export W2V_SEED=$seed; fi
    ref_s=$(cpu_seconds "$w2v" "${common[@]}" -output "$work/ref.bin")
    unset W2V_SEED
    ref_acc=$(accuracy "$work/ref.bin")
    ref_rate=$(awk -v w="$train_words" -v i="$iter" -v s="$ref_s" 'BEGIN {printf "%.0f", w * i / s}')
    for mode in $modes; do
      [[ $mode == batched && $model == cbow ]] && continue
      loom_s=$(cpu_seconds "$loom" --log-level warning w2v train "${common[@]}" -output "$work/loom.bin" --mode "$mode" --seed "$seed")
      loom_acc=$(accuracy "$work/loom.bin")
      loom_rate=$(awk -v w="$train_words" -v i="$iter" -v s="$loom_s" 'BEGIN {printf "%.0f", w * i / s}')
      ratio=$(awk -v a="$loom_rate" -v b="$ref_rate" 'BEGIN {printf "%.3f", a / b}')
      printf '{"bench":"w2v_compare","model":"%s","size":%s,"mode":"%s","threads":%s,"iter":%s,"seed":%s,"train_words":%s,"loom_cpu_s":%s,"word2vec_cpu_s":%s,"loom_words_per_cpu_s":%s,"word2vec_words_per_cpu_s":%s,"ratio":%s,"loom_analogy":"%s","word2vec_analogy":"%s","load1":%s}\n' \
        "$model" "$size" "$mode" "$threads" "$iter" "$seed" "$train_words" "$loom_s" "$ref_s" "$loom_rate" "$ref_rate" "$ratio" "$loom_acc" "$ref_acc" "$(cut -d' ' -f1 /proc/loadavg)" |
        tee -a "$work/runs.jsonl"
    done
  done
done
done
# Means over seeds per configuration (with the sample standard deviation over runs, the seed
# noise the G4 difference is to be judged against); analogy fields are "total sem syn seen/total spearman".
python3 - "$work/runs.jsonl" <<'PY'
import json, sys, collections, statistics
groups = collections.OrderedDict()
for line in open(sys.argv[1]):
    r = json.loads(line)
    groups.setdefault((r["model"], r["size"], r["mode"]), []).append(r)
def field(s, i):
    v = s.split()[i] if s != "na" else "na"
    return None if v == "na" else float(v)
def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None
def sd(xs):
    xs = [x for x in xs if x is not None]
    return statistics.stdev(xs) if len(xs) > 1 else None
def fmt(x, f):
    return "-" if x is None else f % x
def ms(xs, f):  # "mean +/- sd"
    return fmt(mean(xs), f) + ("" if sd(xs) is None else " +/- " + fmt(sd(xs), f))
print("| model | d | mode | seeds | loom analogy % (per seed) | word2vec.c analogy % (per run) | diff | loom WS353 (per seed) | word2vec.c WS353 (per run) | diff | G4 | words/CPU-s ratio |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for (model, size, mode), rs in groups.items():
    la = [field(r["loom_analogy"], 0) for r in rs]; wa = [field(r["word2vec_analogy"], 0) for r in rs]
    ls = [field(r["loom_analogy"], 4) for r in rs]; ws = [field(r["word2vec_analogy"], 4) for r in rs]
    da = None if mean(la) is None else mean(la) - mean(wa)
    ds = None if mean(ls) is None else mean(ls) - mean(ws)
    ok = (da is None or abs(da) <= 1.0) and (ds is None or abs(ds) <= 0.02)
    per = lambda xs, f: ", ".join(fmt(x, f) for x in xs)
    ratio = mean([r["ratio"] for r in rs])
    print(f"| {model} | {size} | {mode} | {len(rs)} | {ms(la, '%.2f')} ({per(la, '%.2f')}) | {ms(wa, '%.2f')} ({per(wa, '%.2f')}) | "
          f"{fmt(da, '%+.2f')} | {ms(ls, '%.4f')} ({per(ls, '%.3f')}) | {ms(ws, '%.4f')} ({per(ws, '%.3f')}) | {fmt(ds, '%+.4f')} | {'met' if ok else 'missed'} | {ratio:.2f}x |")
PY
