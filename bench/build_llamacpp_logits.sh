#!/usr/bin/env bash
# Compiles bench/llamacpp_logits.cc against a llama.cpp build made outside this repo.
#
#   bench/build_llamacpp_logits.sh LLAMA_CPP_SRC LLAMA_BUILD_DIR OUT_BINARY
#
# LLAMA_CPP_SRC gives include/llama.h and ggml/include; LLAMA_BUILD_DIR the static libraries
# (src/libllama.a, ggml/src/libggml*.a: BUILD_SHARED_LIBS=OFF, GGML_OPENMP=ON).
set -euo pipefail
src=${1:?usage: $0 LLAMA_CPP_SRC LLAMA_BUILD_DIR OUT_BINARY}
build=${2:?usage: $0 LLAMA_CPP_SRC LLAMA_BUILD_DIR OUT_BINARY}
out=${3:?usage: $0 LLAMA_CPP_SRC LLAMA_BUILD_DIR OUT_BINARY}
here=$(cd "$(dirname "$0")/.." && pwd)
for f in "$src/include/llama.h" "$build/src/libllama.a" "$build/ggml/src/libggml.a"; do
  [[ -e $f ]] || { echo "build_llamacpp_logits: $f not found" >&2; exit 2; }
done
c++ -O2 -std=c++17 -I"$src/include" -I"$src/ggml/include" "$here/bench/llamacpp_logits.cc" \
  -o "$out" "$build/src/libllama.a" "$build/ggml/src/libggml.a" \
  "$build/ggml/src/libggml-cpu.a" "$build/ggml/src/libggml-base.a" -ldl -lm -lgomp -lpthread
