#!/usr/bin/env python3
"""Trains a tiny SentencePiece BPE model with byte fallback (Llama-2 / Phi-3 settings) and
records ids for a varied text set: ordinary text from `sentencepiece` itself, and text with
Phi-3's added tokens from transformers' LlamaTokenizer (legacy=False, no BOS), whose rules
loom follows (added tokens split first; role tokens rstrip; only the first segment gets the
dummy prefix). Dev-time only (requirements.txt beside this file).
Usage: /work/venvs/phi/bin/python tools/golden/spm_goldens.py src/loom/phi/testdata/tokenizers/spm
"""
import io
import json
import os
import sys

import sentencepiece as spm
import transformers
from transformers import AddedToken, LlamaTokenizer

sys.path.insert(0, os.path.dirname(__file__))
from tokenizer_goldens import TEXTS, corpus  # noqa: E402

# Phi-3's added tokens (ids follow the base vocabulary in this order; rstrip as published
# for the role and end tokens).
ADDED = [("<|endoftext|>", False), ("<|assistant|>", True), ("<|placeholder1|>", True),
         ("<|placeholder2|>", True), ("<|placeholder3|>", True), ("<|placeholder4|>", True),
         ("<|system|>", True), ("<|end|>", True), ("<|placeholder5|>", True),
         ("<|placeholder6|>", True), ("<|user|>", True)]

SPECIAL_TEXTS = [
    "<|user|>\nHow are you?<|end|>\n<|assistant|>\n",
    "<|system|>\nBe brief.<|end|>\n<|user|>\n  indented text<|end|>\n<|assistant|>\nSure<|end|>",
    "plain then <|endoftext|> after",
    "<|endoftext|><|endoftext|>x",
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([l for p in corpus() for l in p.split("\n") if l.strip()]),
        model_writer=model, vocab_size=400, model_type="bpe", byte_fallback=True,
        split_digits=True, add_dummy_prefix=True, remove_extra_whitespaces=False,
        normalization_rule_name="identity", allow_whitespace_only_pieces=True,
        character_coverage=0.9995, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1)
    path = os.path.join(out, "tokenizer.model")
    with open(path, "wb") as f:
        f.write(model.getvalue())
    sp = spm.SentencePieceProcessor(model_file=path)
    base = sp.get_piece_size()
    tok = LlamaTokenizer(vocab_file=path, legacy=False, add_bos_token=False,
                         add_eos_token=False, clean_up_tokenization_spaces=False)
    tok.add_tokens([AddedToken(t, rstrip=r, lstrip=False, normalized=False, special=True)
                    for t, r in ADDED], special_tokens=True)
    added = {}
    for t, r in ADDED:
        added[str(tok.convert_tokens_to_ids(t))] = {"content": t, "rstrip": r, "lstrip": False,
                                                     "special": True}
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "LlamaTokenizer", "legacy": False,
                   "add_bos_token": False, "added_tokens_decoder": added}, f, indent=1)
    golden = {"sentencepiece": spm.__version__, "transformers": transformers.__version__,
              "base_vocab": base, "ordinary": [], "special": []}
    for t in TEXTS:
        if "<|" in t or not t:
            continue
        ids = sp.encode(t)
        golden["ordinary"].append({"text": t, "ids": ids, "decoded": sp.decode(ids)})
    for t in SPECIAL_TEXTS + [x for x in TEXTS if x and "<|" not in x][:5]:
        ids = tok.encode(t, add_special_tokens=False)
        golden["special"].append({"text": t, "ids": ids})
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False, indent=0)
    print("spm", base, "pieces;", len(golden["ordinary"]), "+", len(golden["special"]), "texts")


if __name__ == "__main__":
    main()
