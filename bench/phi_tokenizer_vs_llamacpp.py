#!/usr/bin/env python3
"""Side-by-side check of loom's GGUF-vocabulary tokenizers against the tokenizer tests that ship
with llama.cpp's source tree: models/ggml-vocab-<name>.gguf with <name>.gguf.inp (texts, each
ended by a line "__ggml_vocab_test__") and <name>.gguf.out (the ids Hugging Face's tokenizer
gives each text, one line per text). Dev-time only: the llama.cpp tree is an argument, nothing is
fetched, and no file of it enters the repository.

Usage: bench/phi_tokenizer_vs_llamacpp.py LOOM_BINARY LLAMA_CPP_SOURCE_DIR [NAME ...]
       (default names: phi-3 gpt-2 llama-spm)
Prints, per vocabulary, how many texts give identical ids, and the first mismatches.
"""
import json
import os
import subprocess
import sys
import tempfile

SEP = "\n__ggml_vocab_test__\n"


def cases(models, name):
    inp = open(os.path.join(models, f"ggml-vocab-{name}.gguf.inp"), encoding="utf-8").read()
    texts = inp.split(SEP)
    if texts and texts[-1] == "":
        texts.pop()
    outs = open(os.path.join(models, f"ggml-vocab-{name}.gguf.out"), encoding="utf-8").read()
    lines = outs.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(texts):
        sys.exit(f"{name}: {len(texts)} texts but {len(lines)} id lines")
    return [(t, [int(x) for x in l.split()]) for t, l in zip(texts, lines)]


def loom_ids(loom, vocab, text, tmp):
    path = os.path.join(tmp, "text")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    r = subprocess.run([loom, "phi", "tokenize", "--model", vocab, "--file", path, "--json"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    return json.loads(r.stdout)["ids"], ""


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    loom, src = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or ["phi-3", "gpt-2", "llama-spm"]
    models = os.path.join(src, "models")
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            vocab = os.path.join(models, f"ggml-vocab-{name}.gguf")
            same, shown, total = 0, 0, 0
            for text, want in cases(models, name):
                total += 1
                got, err = loom_ids(loom, vocab, text, tmp)
                if got == want:
                    same += 1
                elif shown < 5:
                    shown += 1
                    print(f"  {name}: {text!r}\n    llama.cpp/HF {want}\n    loom         {got} {err}")
            print(f"{name}: {same}/{total} texts give identical ids")
            failed += total - same
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
