#!/usr/bin/env bash
# loom phi logits vs llama.cpp's on the same GGUF files, for the same token ids.
#
#   bench/phi_logits_vs_llamacpp.sh LLAMA_CPP_SRC LLAMA_BUILD_DIR MODEL.gguf...
#
# LLAMA_CPP_SRC: a llama.cpp source tree (for include/llama.h and ggml/include);
# LLAMA_BUILD_DIR: its CMake build folder with the static libraries (src/libllama.a,
# ggml/src/libggml*.a; BUILD_SHARED_LIBS=OFF, GGML_OPENMP=ON as in the side-by-side anchor).
# bench/llamacpp_logits.cc is compiled against them (bench/build_llamacpp_logits.sh) into a
# temporary folder (nothing of llama.cpp enters the repo). Env: LOOM (default build/release/tools/loom/loom), PYTHON (needs
# numpy; default python3), TOKENS (how many ids, default 24), THREADS (2).
#
# The ids are a fixed pseudo-random sequence below 32000 (inside every phi vocabulary), so no
# tokenizer is involved. llama.cpp evaluates them as one batch; loom both as one batch (its
# prefill GEMMs) and one at a time through the KV cache (its decode kernels). Prints one JSON
# line per (model, loom path): max |loom - llama.cpp| over all positions and the columns both
# have, max |llama.cpp|, their ratio, and how many positions agree on the top-1 token.
set -euo pipefail
src=${1:?usage: $0 LLAMA_CPP_SRC LLAMA_BUILD_DIR MODEL.gguf...}
build=${2:?usage: $0 LLAMA_CPP_SRC LLAMA_BUILD_DIR MODEL.gguf...}
shift 2
[[ $# -gt 0 ]] || { echo "phi_logits_vs_llamacpp: no GGUF files given" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
loom=${LOOM:-$here/build/release/tools/loom/loom}
python=${PYTHON:-python3}
ntok=${TOKENS:-24} threads=${THREADS:-2}
[[ -x $loom ]] || { echo "phi_logits_vs_llamacpp: $loom not found" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/bench/build_llamacpp_logits.sh" "$src" "$build" "$work/llamacpp_logits"

ids=$(awk -v n="$ntok" 'BEGIN { x = 12345; for (i = 0; i < n; i++) {
  x = (x * 1103515245 + 12345) % 2147483648; printf "%s%d", (i ? "," : ""), x % 32000 } }')
for model in "$@"; do
  vocab_ref=$("$work/llamacpp_logits" "$model" "$ids" "$work/ref.f32" "$threads" 2>/dev/null | tail -1)
  for path in prefill decode; do
    flag=""; [[ $path == decode ]] && flag="--decode"
    vocab=$("$loom" --threads "$threads" --json phi logits --model "$model" --tokens "$ids" \
      --out "$work/loom.f32" $flag | "$python" -c 'import json,sys; print(json.load(sys.stdin)["vocab"])')
    "$python" - "$work/ref.f32" "$vocab_ref" "$work/loom.f32" "$vocab" "$model" "$path" <<'PY'
import json, sys
import numpy as np
ref_path, vr, got_path, vg, model, path = sys.argv[1:]
vr, vg = int(vr), int(vg)
ref = np.fromfile(ref_path, dtype="<f4").reshape(-1, vr)
got = np.fromfile(got_path, dtype="<f4").reshape(-1, vg)
v = min(vr, vg)
ref, got = ref[:, :v], got[:, :v]
diff = float(np.abs(got - ref).max())
scale = float(np.abs(ref).max())
agree = int((got.argmax(1) == ref.argmax(1)).sum())
print(json.dumps({"model": model.split("/")[-1], "loom_path": path, "positions": ref.shape[0],
                  "vocab_compared": v, "max_abs_diff": round(diff, 6),
                  "max_abs_llamacpp": round(scale, 4), "rel": round(diff / scale, 6),
                  "top1_agree": agree}))
PY
  done
done
