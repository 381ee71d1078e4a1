#!/usr/bin/env bash
# loom phi vs llama.cpp, side by side on the same random weights, same precision, same threads.
#
#   bench/phi_vs_llamacpp.sh LLAMA_CPP_SRC LLAMA_BUILD_BIN [WORK_DIR]
#
# LLAMA_CPP_SRC: a llama.cpp source tree (its convert_hf_to_gguf.py is used for the GGUF files);
# LLAMA_BUILD_BIN: the folder holding its llama-bench and llama-quantize (built outside this
# repo). Env: LOOM (default build/release/tools/loom/loom), PYTHON (needs torch, numpy,
# safetensors: tools/golden/requirements.txt), PRESETS ("phi-2 phi-3-mini"), TYPES
# ("f32 f16 q8_0 q4_0"), LAYERS (2), PROMPT (64), GEN (16), THREADS (2), REPS (3).
#
# Both engines see the same token counts: llama-bench's pp${PROMPT} is a prefill of PROMPT
# tokens and tg${GEN} GEN decode steps; loom's bench does the same (prefill, then GEN steps).
# Q8_0/Q4_0 GGUFs come from llama-quantize --pure (every matrix in the named type, as loom
# quantizes every projection and the head). Prints one JSON line per (model, type) with both
# engines' tokens/s and the ratios loom / llama.cpp. Both warm up once and report the mean of
# REPS timed runs.
set -euo pipefail
src=${1:?usage: $0 LLAMA_CPP_SRC LLAMA_BUILD_BIN [WORK_DIR]}
bin=${2:?usage: $0 LLAMA_CPP_SRC LLAMA_BUILD_BIN [WORK_DIR]}
work=${3:-/tmp/loom-phi-vs-llamacpp}
here=$(cd "$(dirname "$0")/.." && pwd)
loom=${LOOM:-$here/build/release/tools/loom/loom}
python=${PYTHON:-python3}
presets=${PRESETS:-"phi-2 phi-3-mini"}
types=${TYPES:-"f32 f16 q8_0 q4_0"}
layers=${LAYERS:-2} prompt=${PROMPT:-64} gen=${GEN:-16} threads=${THREADS:-2} reps=${REPS:-3}
for f in "$loom" "$bin/llama-bench" "$bin/llama-quantize" "$src/convert_hf_to_gguf.py"; do
  [[ -e $f ]] || { echo "phi_vs_llamacpp: $f not found" >&2; exit 2; }
done
mkdir -p "$work"

for preset in $presets; do
  model=$work/$preset-l$layers
  [[ -f $model/config.json ]] ||
    "$loom" --seed 1 phi make-random --preset "$preset" --layers "$layers" --dtype F16 --out "$model"
  for type in $types; do
    gguf=$work/$preset-l$layers-$type.gguf
    if [[ ! -f $gguf ]]; then
      case $type in
        f32|f16) "$python" "$here/bench/phi_to_gguf.py" --llama-cpp "$src" --model "$model" \
                   --out "$gguf" --type "$type" >/dev/null 2>&1 ;;
        q8_0|q4_0)
          f32=$work/$preset-l$layers-f32.gguf
          [[ -f $f32 ]] || "$python" "$here/bench/phi_to_gguf.py" --llama-cpp "$src" \
                              --model "$model" --out "$f32" --type f32 >/dev/null 2>&1
          "$bin/llama-quantize" --pure "$f32" "$gguf" "${type^^}" >/dev/null 2>&1 ;;
      esac
    fi
    verify=--no-verify
    [[ $type == f32 ]] && verify=
    loom_json=$("$loom" --threads "$threads" --json phi bench --model "$model" --weights "$type" \
                  --prompt-tokens "$prompt" --gen-tokens "$gen" --reps "$reps" $verify)
    llama_json=$("$bin/llama-bench" -m "$gguf" -p "$prompt" -n "$gen" -t "$threads" \
                   -r "$reps" -o jsonl 2>/dev/null)
    "$python" - "$preset" "$type" "$loom_json" "$llama_json" <<'EOF'
import json, sys
preset, wtype, loom_text, llama_text = sys.argv[1:5]
loom = json.loads(loom_text.strip().splitlines()[-1])
rows = [json.loads(l) for l in llama_text.strip().splitlines() if l.startswith("{")]
pp = next(r["avg_ts"] for r in rows if r["n_prompt"] > 0 and r["n_gen"] == 0)
tg = next(r["avg_ts"] for r in rows if r["n_gen"] > 0 and r["n_prompt"] == 0)
print(json.dumps({
    "model": preset, "weights": wtype, "threads": loom["threads"],
    "loom_prefill_tok_s": round(loom["prefill_tok_s"], 2),
    "llamacpp_prefill_tok_s": round(pp, 2),
    "prefill_ratio": round(loom["prefill_tok_s"] / pp, 3),
    "loom_decode_tok_s": round(loom["decode_tok_s"], 2),
    "llamacpp_decode_tok_s": round(tg, 2),
    "decode_ratio": round(loom["decode_tok_s"] / tg, 3),
    "loom_decode_pct_of_roofline": round(loom["decode_pct_of_roofline"], 1),
    "llamacpp_decode_pct_of_roofline":
        round(100 * tg / loom["decode_roofline_tok_s"], 1),
}))
EOF
  done
done
