#!/usr/bin/env bash
# Dev-time: checks that gensim reads loom's vector files. Trains on CORPUS with `loom w2v train`
# (text and binary output, plus -save-vocab), loads both with gensim's
# KeyedVectors.load_word2vec_format and checks: the vocabulary is loom's, in order; the binary
# file's vectors equal the raw float32 rows (parsed here from the format, docs/formats/
# word2vec-vectors.md) bit for bit; the text file's vectors equal them to its 6 decimals.
# gensim lives in a virtual environment OUTSIDE the repository; the build never needs it:
#   python3 -m venv /work/anchors/gensim-venv && /work/anchors/gensim-venv/bin/pip install gensim
#   scripts/w2v-gensim-check.sh build/release/tools/loom/loom /work/anchors/gensim-venv/bin/python
set -euo pipefail
loom=${1:?usage: $0 LOOM PYTHON_WITH_GENSIM [CORPUS]}
py=${2:?usage: $0 LOOM PYTHON_WITH_GENSIM [CORPUS]}
corpus=${3:-$(cd "$(dirname "$0")/.." && pwd)/src/loom/w2v/testdata/tiny.txt}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(-train "$corpus" -size 24 -window 3 -min-count 2 -iter 2 -threads 1 -cbow 0 -negative 3)
"$loom" w2v train "${common[@]}" -output "$tmp/v.bin" -binary 1 -save-vocab "$tmp/vocab" >/dev/null 2>"$tmp/log"
"$loom" w2v train "${common[@]}" -output "$tmp/v.txt" -binary 0 >/dev/null 2>>"$tmp/log"
"$py" - "$tmp/v.bin" "$tmp/v.txt" "$tmp/vocab" <<'PY'
import struct, sys
import numpy as np
import gensim
from gensim.models import KeyedVectors

bin_path, txt_path, vocab_path = sys.argv[1:4]
vocab = [line.split(b" ")[0].decode("utf-8") for line in open(vocab_path, "rb").read().splitlines()]

# Independent parse of the binary format: "<n> <dim>\n", then per word "<word> " + dim float32 + "\n".
raw = open(bin_path, "rb").read()
head_end = raw.index(b"\n")
n, dim = map(int, raw[:head_end].split())
pos, words, rows = head_end + 1, [], []
for _ in range(n):
    sp = raw.index(b" ", pos)
    words.append(raw[pos:sp].decode("utf-8"))
    pos = sp + 1
    rows.append(np.frombuffer(raw[pos:pos + 4 * dim], dtype="<f4"))
    pos += 4 * dim
    if raw[pos:pos + 1] == b"\n":
        pos += 1
assert pos == len(raw), f"trailing bytes after {n} rows"
rows = np.stack(rows)

kb = KeyedVectors.load_word2vec_format(bin_path, binary=True)
kt = KeyedVectors.load_word2vec_format(txt_path, binary=False)
assert kb.index_to_key == vocab, "binary: gensim's words differ from loom's vocabulary"
assert kt.index_to_key == vocab, "text: gensim's words differ from loom's vocabulary"
assert words == vocab, "raw parse: words differ from loom's vocabulary"
assert kb.vectors.shape == (n, dim) and kt.vectors.shape == (n, dim)
assert np.array_equal(kb.vectors, rows), "binary: gensim's vectors differ from the raw float32 rows"
text_err = float(np.max(np.abs(kt.vectors - rows)))
assert text_err <= 5e-7 + 1e-6 * float(np.max(np.abs(rows))), f"text: max |diff| {text_err}"
w = vocab[1]
print(f"gensim {gensim.__version__}: {n} words x {dim}: binary bit-identical, text max |diff| "
      f"{text_err:.2e}; most similar to '{w}': {kb.most_similar(w, topn=3)}")
PY
