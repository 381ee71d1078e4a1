#!/usr/bin/env python3
"""Convert a loom random phi checkpoint (HF layout) to GGUF for the llama.cpp side-by-side.

Dev-time only: the build and the tests never run this. It drives llama.cpp's own converter
(convert_hf_to_gguf.py from the anchor source tree given with --llama-cpp) so the tensors,
names and hyper-parameters are exactly what llama.cpp expects, and replaces only the
vocabulary step: `loom phi make-random` writes no tokenizer, and the benchmark feeds token ids,
so a synthetic vocabulary of the checkpoint's vocab_size is enough. It keeps what llama.cpp's
loader looks for (byte tokens for the line feed, BOS/EOS ids, one merge for BPE).

  python3 bench/phi_to_gguf.py --llama-cpp /path/to/llama.cpp --model DIR --out x.gguf --type f16

Needs torch, numpy, safetensors and sentencepiece (tools/golden/requirements.txt covers them).
"""
import argparse
import json
import pathlib
import sys


def gpt2_byte_chars():
    # GPT-2's printable stand-ins for the 256 byte values (the byte-level BPE alphabet).
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in printable:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def bpe_vocab(writer, n_vocab, bos, eos):
    tokens = gpt2_byte_chars()
    tokens.append("Ġt")
    tokens = tokens[:n_vocab] + [f"[PAD{i}]" for i in range(len(tokens), n_vocab)]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([1] * n_vocab)  # NORMAL
    writer.add_token_merges(["Ġ t"])
    writer.add_bos_token_id(bos)
    writer.add_eos_token_id(eos)


def spm_vocab(writer, n_vocab, bos, eos):
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256  # UNKNOWN, CONTROL, BYTE
    tokens = tokens[:n_vocab] + [f"[PAD{i}]" for i in range(len(tokens), n_vocab)]
    types = types[:n_vocab] + [1] * (n_vocab - len(types))
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * n_vocab)
    writer.add_token_types(types)
    writer.add_bos_token_id(min(bos, n_vocab - 1))
    writer.add_eos_token_id(min(eos, n_vocab - 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llama-cpp", required=True, type=pathlib.Path, help="llama.cpp source tree")
    ap.add_argument("--model", required=True, type=pathlib.Path, help="HF checkpoint directory")
    ap.add_argument("--out", required=True, type=pathlib.Path)
    ap.add_argument("--type", default="f16", choices=["f32", "f16", "bf16", "q8_0"])
    args = ap.parse_args()

    converter = args.llama_cpp / "convert_hf_to_gguf.py"
    if not converter.is_file():
        sys.exit(f"phi_to_gguf: {converter} not found (pass llama.cpp's source tree)")
    config = json.loads((args.model / "config.json").read_text())
    n_vocab = int(config["vocab_size"])
    bos = int(config.get("bos_token_id", 1) or 1)
    eos = int(config.get("eos_token_id", 2) or 2)

    sys.path.insert(0, str(args.llama_cpp))
    import convert_hf_to_gguf  # noqa: E402  (the anchor's converter)
    from conversion import phi  # noqa: E402

    phi.Phi2Model.set_vocab = lambda self: bpe_vocab(self.gguf_writer, n_vocab, bos, eos)
    phi.Phi3MiniModel.set_vocab = lambda self: spm_vocab(self.gguf_writer, n_vocab, bos, eos)
    sys.argv = ["convert_hf_to_gguf.py", str(args.model), "--outfile", str(args.out),
                "--outtype", args.type]
    convert_hf_to_gguf.main()


if __name__ == "__main__":
    main()
