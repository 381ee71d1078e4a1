#!/usr/bin/env python3
"""Builds two tiny byte-level BPE tokenizer.json files with HF `tokenizers` and records the ids
they give on a varied text set. Dev-time only (requirements.txt beside this file).

  gpt2:   ByteLevel pre-tokenizer with the GPT-2 regex, trained BPE, <|endoftext|> special and
          38 CodeGen-style added whitespace tokens (runs of 2..31 spaces, 2..9 tabs), as in
          phi-1/1.5/2;
  cl100k: Split on the cl100k pattern (isolated) then ByteLevel without regex, specials
          <|endoftext|> <|im_start|> <|im_end|> <|im_sep|>, as in phi-4.

Output <out>/<name>/tokenizer.json and <out>/golden.json ({name: [{text, ids, decoded}]}).
Usage: /work/venvs/phi/bin/python tools/golden/tokenizer_goldens.py src/loom/phi/testdata/tokenizers
"""
import inspect
import json
import os
import sys
import textwrap

import tokenizers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

CL100K = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+"""
          r"""[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")

TEXTS = [
    "Hello world",
    "def add(a, b):\n    return a + b\n",
    "class Foo:\n\tdef bar(self):\n\t\tpass\n\n\n",
    "        deeply    indented   code          with runs",
    "line one\r\nline two\r\n\r\n  trailing   ",
    "I'm sure they'll say it's what we've done; YOU'RE RIGHT, DON'T IT'S",
    "1234567890 3.14159 x=42; y = -7e10 #1st 22nd",
    "日本語のテキスト、中文文本。한국어 텍스트",
    "emoji 😀🎉 and flags 🇺🇸 mixed with café naïve Ω≈ç√",
    "<|endoftext|>start<|endoftext|> middle <|endoftext|>end",
    "<|im_start|>user<|im_sep|>What is 2+2?<|im_end|><|im_start|>assistant<|im_sep|>",
    "   leading spaces and trailing\t\t",
    "symbols !!! ??? ... --- *** (((nested))) [x] {y} <z>",
    "Instruct: Write a poem about the sea.\nOutput:",
    "mixed\u00a0nbsp\u2003em-space\u3000ideographic",
    "'quoted' \"double\" `back` 's 'S 'll 'LL",
    "numbers12345abc 99bottles of beer",
    "\n\n\n",
    " ",
    "",
]


def corpus():
    import json.decoder
    import textwrap as tw
    import string
    parts = [inspect.getsource(m) for m in (json.decoder, tw, string)]
    parts += TEXTS * 3
    parts.append("The quick brown fox jumps over the lazy dog. " * 20)
    return parts


def build_gpt2():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=900, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>"], show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    ws = [" " * n for n in range(31, 1, -1)] + ["\t" * n for n in range(9, 1, -1)]
    tok.add_tokens([AddedToken(w, normalized=True, special=False) for w in ws])
    return tok


def build_cl100k():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(CL100K), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=900, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>",
                                                  "<|im_sep|>"], show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    return tok


# The published Phi-3.5-mini-instruct chat template (a public model file; only its renderings
# are committed). Given as an argument-free default path for the dev machine.
PHI3_TEMPLATE = os.environ.get("PHI3_TEMPLATE",
                               "/work/shared/data/tokenizers/microsoft-Phi-3.5-mini-instruct.jinja")
CHATS = [
    ([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi!"}], True),
    ([{"role": "system", "content": ""}, {"role": "user", "content": "2+2?"},
      {"role": "assistant", "content": "4"}, {"role": "user", "content": "and 3+3?"}], True),
    ([{"role": "user", "content": "line1\nline2  "}, {"role": "assistant", "content": "ok"}], False),
]


def render_phi3_chats():
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(open(PHI3_TEMPLATE).read())
    return [{"messages": m, "add_generation_prompt": g,
             "rendered": template.render(messages=m, add_generation_prompt=g,
                                         eos_token="<|endoftext|>")} for m, g in CHATS]


def main():
    out = sys.argv[1]
    golden = {"tokenizers": tokenizers.__version__}
    for name, build in (("gpt2", build_gpt2), ("cl100k", build_cl100k)):
        tok = build()
        os.makedirs(os.path.join(out, name), exist_ok=True)
        tok.save(os.path.join(out, name, "tokenizer.json"))
        tok = Tokenizer.from_file(os.path.join(out, name, "tokenizer.json"))
        cases = []
        for t in TEXTS:
            ids = tok.encode(t, add_special_tokens=False).ids
            cases.append({"text": t, "ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
        golden[name] = cases
        print(name, tok.get_vocab_size(), "tokens,", sum(len(c["ids"]) for c in cases), "ids")
    golden["phi3_chat"] = render_phi3_chats()
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
