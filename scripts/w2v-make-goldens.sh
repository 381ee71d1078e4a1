#!/usr/bin/env bash
# Dev-time: regenerates the w2v exact-mode goldens in src/loom/w2v/testdata from a word2vec.c
# binary built OUTSIDE the repository (tmikolov/word2vec @20c129af), e.g.
#   gcc -O2 -ffp-contract=off word2vec.c -o /work/anchors/word2vec/word2vec-golden -lm -pthread
#   scripts/w2v-make-goldens.sh /work/anchors/word2vec/word2vec-golden
# The tiny corpus is generated here by a fixed grammar (no third-party text). Tests compare
# loom's reference trainer against these files bit for bit, and loom's K-means (-classes)
# against golden_classes_sg_ns.txt.
set -euo pipefail
w2v=${1:?usage: $0 PATH/TO/word2vec}
out=$(cd "$(dirname "$0")/../src/loom/w2v/testdata" && pwd)
python3 - "$out/tiny.txt" <<'PY'
import random, sys
r = random.Random(7)
subj = ["the king", "the queen", "a man", "a woman", "the boy", "the girl", "my father", "my mother"]
verb = ["rules", "sees", "likes", "walks to", "talks with", "finds"]
obj = ["the castle", "a river", "the city", "the forest", "a horse", "the sea", "the garden"]
lines = []
for i in range(2000):
    s = f"{r.choice(subj)} {r.choice(verb)} {r.choice(obj)}"
    if r.random() < 0.3: s += f" and {r.choice(subj)} {r.choice(verb)} {r.choice(obj)}"
    if r.random() < 0.05: s = ""
    lines.append(s)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
cd "$out"
"$w2v" -train tiny.txt -save-vocab tiny.vocab -min-count 2 -output "" -threads 1 >/dev/null
for cfg in "sg_ns 0 0 3" "cbow_ns 1 0 3" "sg_hs 0 1 0" "cbow_hsns 1 1 2"; do
  set -- $cfg
  "$w2v" -train tiny.txt -read-vocab tiny.vocab -min-count 2 -output "golden_$1.bin" -binary 1 \
    -size 12 -window 3 -sample 1e-2 -cbow "$2" -hs "$3" -negative "$4" -threads 1 -iter 1 \
    -alpha 0.05 >/dev/null
done
# -classes: word2vec.c's K-means over the sg_ns run's vectors (same training, so the test runs
# loom's K-means on golden_sg_ns.bin and compares with this file).
"$w2v" -train tiny.txt -read-vocab tiny.vocab -min-count 2 -output golden_classes_sg_ns.txt \
  -size 12 -window 3 -sample 1e-2 -cbow 0 -hs 0 -negative 3 -threads 1 -iter 1 -alpha 0.05 \
  -classes 5 >/dev/null
ls -l "$out"
