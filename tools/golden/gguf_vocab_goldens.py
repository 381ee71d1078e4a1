#!/usr/bin/env python3
"""Writes the three test tokenizers (tokenizer_goldens.py, spm_goldens.py) as GGUF vocabularies,
the way llama.cpp's converter stores them, so phi_test can check that loom's tokenizers built
from a GGUF give the same ids as those built from the HF files (golden.json). Dev-time only
(requirements.txt beside this file).

  gpt2, cl100k (tokenizer.json): tokenizer.ggml.model "gpt2", tokens in byte-level form by id,
      merges "a b", token_type 1 (normal) / 3 (control: special added tokens) / 4
      (user-defined: other added tokens, stored as raw text), pre "gpt-2" / "dbrx";
  spm (tokenizer.model + tokenizer_config.json): model "llama", pieces, scores and
      SentencePiece's types, then the added tokens of added_tokens_decoder (special -> 3,
      else 4) with score -1000, as the converter appends them.

Output <dir>/<name>/vocab.gguf (metadata only, no tensors).
Usage: /work/venvs/phi/bin/python tools/golden/gguf_vocab_goldens.py src/loom/phi/testdata/tokenizers
"""
import json
import os
import sys

import gguf
import sentencepiece as spm

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def write(path, model, tokens, types, scores=None, merges=None, pre=None):
    w = gguf.GGUFWriter(path, arch="phi2")
    w.add_tokenizer_model(model)
    if pre is not None:
        w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    if scores is not None:
        w.add_token_scores(scores)
    if merges is not None:
        w.add_token_merges(merges)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def bpe(dir_, pre):
    doc = json.load(open(os.path.join(dir_, "tokenizer.json"), encoding="utf-8"))
    vocab = doc["model"]["vocab"]
    size = max(vocab.values()) + 1
    for a in doc.get("added_tokens", []):
        size = max(size, a["id"] + 1)
    tokens = [f"[PAD{i}]" for i in range(size)]
    types = [UNUSED] * size
    for tok, i in vocab.items():
        tokens[i], types[i] = tok, NORMAL
    for a in doc.get("added_tokens", []):
        tokens[a["id"]] = a["content"]
        types[a["id"]] = CONTROL if a["special"] else USER_DEFINED
    merges = [m if isinstance(m, str) else " ".join(m) for m in doc["model"]["merges"]]
    write(os.path.join(dir_, "vocab.gguf"), "gpt2", tokens, types, merges=merges, pre=pre)


def spm_vocab(dir_):
    sp = spm.SentencePieceProcessor(model_file=os.path.join(dir_, "tokenizer.model"))
    tokens, scores, types = [], [], []
    for i in range(sp.vocab_size()):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        t = NORMAL
        if sp.is_unknown(i):
            t = UNKNOWN
        elif sp.is_control(i):
            t = CONTROL
        elif sp.is_unused(i):
            t = UNUSED
        elif sp.is_byte(i):
            t = BYTE
        types.append(t)
    config = json.load(open(os.path.join(dir_, "tokenizer_config.json"), encoding="utf-8"))
    for id_text, a in sorted(config.get("added_tokens_decoder", {}).items(), key=lambda kv: int(kv[0])):
        i = int(id_text)
        if i < len(tokens):
            continue
        assert i == len(tokens), "added tokens must follow the base vocabulary"
        tokens.append(a["content"])
        scores.append(-1000.0)
        types.append(CONTROL if a.get("special") else USER_DEFINED)
    write(os.path.join(dir_, "vocab.gguf"), "llama", tokens, types, scores=scores)


def main():
    out = sys.argv[1]
    bpe(os.path.join(out, "gpt2"), "gpt-2")
    bpe(os.path.join(out, "cl100k"), "dbrx")
    spm_vocab(os.path.join(out, "spm"))


if __name__ == "__main__":
    main()
