#!/usr/bin/env bash
# Dev-time: llama.cpp's logits for the GGUF files its converter made from two goldens
# (testdata/golden/phi2/llamacpp_f16.gguf, phi4_mini/llamacpp_f32.gguf), for the golden's
# first token sequence as one batch, written as testdata/golden/<v>/llamacpp_logits_<len>.f32
# ([len x vocab] little-endian fp32) beside llamacpp_logits.json (llama.cpp commit, ids,
# command). gguf_test.cc checks loom's logits on the same files against them.
#
#   tools/golden/llamacpp_logit_goldens.sh LLAMA_CPP_SRC LLAMA_BUILD_DIR
#
# (phi3_longrope/llamacpp_f32.gguf is not included: llama.cpp at 0c1e570 refuses to load it.)
set -euo pipefail
src=${1:?usage: $0 LLAMA_CPP_SRC LLAMA_BUILD_DIR}
build=${2:?usage: $0 LLAMA_CPP_SRC LLAMA_BUILD_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
golden=$here/src/loom/phi/testdata/golden
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/bench/build_llamacpp_logits.sh" "$src" "$build" "$work/llamacpp_logits"
commit=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
for spec in phi2:llamacpp_f16.gguf phi4_mini:llamacpp_f32.gguf; do
  v=${spec%%:*} gguf=${spec#*:}
  ids=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['runs'][0]['tokens'][0])))" \
    "$golden/$v/manifest.json")
  len=$(awk -F, '{ print NF }' <<<"$ids")
  "$work/llamacpp_logits" "$golden/$v/$gguf" "$ids" "$golden/$v/llamacpp_logits_$len.f32" 1 >/dev/null 2>&1
  python3 -c "import json,sys; json.dump({'llama_cpp_commit': sys.argv[1], 'gguf': sys.argv[2], 'tokens': [int(t) for t in sys.argv[3].split(',')], 'logits': sys.argv[4], 'layout': '[tokens x vocab] little-endian fp32, one batch, fp32 KV cache, 1 thread', 'command': 'tools/golden/llamacpp_logit_goldens.sh LLAMA_CPP_SRC LLAMA_BUILD_DIR'}, open(sys.argv[5], 'w'), indent=1)" \
    "$commit" "$gguf" "$ids" "llamacpp_logits_$len.f32" "$golden/$v/llamacpp_logits.json"
  echo "$v: $len x $(( $(stat -c %s "$golden/$v/llamacpp_logits_$len.f32") / 4 / len )) logits"
done
