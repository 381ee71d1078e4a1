#!/usr/bin/env python3
"""Builds tiny random phi / Phi-3 checkpoints with HF transformers and records their logits.

Dev-time only (tools/golden/requirements.txt). For every variant it:
  1. builds a tiny config (PhiConfig or Phi3Config) with attn_implementation="eager";
  2. re-initialises every parameter from N(0, 0.1) with a fixed seed (LayerNorm weights and
     biases and the lm_head bias included, so no path is the identity);
  3. optionally rounds the weights to F16/BF16 and saves in that dtype (the fp32 model then
     runs on exactly the rounded values), eval(), save_pretrained(safe_serialization=True);
  4. runs batch 2 full passes and token-by-token KV-cache decoding of sequence 0, storing
     fp32 little-endian logits and a manifest.json.
Output: <out>/<variant>/ (checkpoint + *.f32 + manifest.json). Usage:
  /work/venvs/phi/bin/python tools/golden/phi_goldens.py src/loom/phi/testdata/golden
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
import transformers
from transformers import Phi3Config, Phi3ForCausalLM, PhiConfig, PhiForCausalLM

VOCAB = 256


def phi_config(partial):
    return PhiConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=256,
                     num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=128,
                     partial_rotary_factor=partial, resid_pdrop=0.0, embd_pdrop=0.0,
                     attention_dropout=0.0, layer_norm_eps=1e-5, rope_theta=10000.0,
                     bos_token_id=1, eos_token_id=2, attn_implementation="eager")


def phi3_config(**kw):
    args = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                original_max_position_embeddings=128, rms_norm_eps=1e-5, rope_theta=10000.0,
                sliding_window=None, resid_pdrop=0.0, embd_pdrop=0.0, attention_dropout=0.0,
                bos_token_id=1, eos_token_id=2, pad_token_id=0, tie_word_embeddings=False,
                attn_implementation="eager")
    args.update(kw)
    return Phi3Config(**args)


def longrope(rot_half, seed):
    g = np.random.default_rng(seed)
    return {"type": "longrope",
            "short_factor": [float(x) for x in np.round(g.uniform(1.0, 1.5, rot_half), 4)],
            "long_factor": [float(x) for x in np.round(g.uniform(1.5, 8.0, rot_half), 4)]}


# name -> (model class, config, storage dtype, run lengths, shard size or None)
VARIANTS = {
    "phi15": (PhiForCausalLM, lambda: phi_config(0.5), torch.float32, [17], None),
    "phi2": (PhiForCausalLM, lambda: phi_config(0.4), torch.float16, [17], None),
    "phi3_mini": (Phi3ForCausalLM, lambda: phi3_config(), torch.float32, [17], "120KB"),
    "phi3_swa": (Phi3ForCausalLM, lambda: phi3_config(sliding_window=4), torch.float32, [12],
                 None),
    "phi3_longrope": (Phi3ForCausalLM,
                      lambda: phi3_config(max_position_embeddings=64,
                                          original_max_position_embeddings=16,
                                          rope_scaling=longrope(8, 7)),
                      torch.float32, [12, 40], None),
    "phi4": (Phi3ForCausalLM, lambda: phi3_config(num_key_value_heads=1, rope_theta=250000.0),
             torch.bfloat16, [17], None),
    "phi4_mini": (Phi3ForCausalLM,
                  lambda: phi3_config(partial_rotary_factor=0.75, tie_word_embeddings=True,
                                      max_position_embeddings=64,
                                      original_max_position_embeddings=16,
                                      rope_scaling=longrope(6, 11)),
                  torch.float32, [20], None),
}


def write_f32(path, tensor):
    arr = tensor.detach().to(torch.float32).cpu().numpy().astype("<f4")
    arr.tofile(path)
    return hashlib.sha256(arr.tobytes()).hexdigest()


def build(name, out_root):
    cls, make_config, dtype, lengths, shard = VARIANTS[name]
    torch.manual_seed(1234)
    config = make_config()
    model = cls(config)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.1)
            # Round to the storage dtype so the saved file holds exactly what we run.
            p.copy_(p.to(dtype).to(torch.float32))
    model.eval()
    out = os.path.join(out_root, name)
    os.makedirs(out, exist_ok=True)
    save_model = model if dtype == torch.float32 else cls(config).to(dtype)
    if save_model is not model:
        save_model.load_state_dict({k: v.to(dtype) for k, v in model.state_dict().items()})
    kwargs = {"safe_serialization": True}
    if shard:
        kwargs["max_shard_size"] = shard
    save_model.save_pretrained(out, **kwargs)
    runs = []
    g = torch.Generator().manual_seed(99)
    for length in lengths:
        ids = torch.randint(0, VOCAB, (2, length), generator=g)
        with torch.no_grad():
            full = model(ids, use_cache=False).logits
            past = None
            steps = []
            for t in range(length):
                o = model(ids[:1, t:t + 1], past_key_values=past, use_cache=True)
                past = o.past_key_values
                steps.append(o.logits[0, 0])
            dec = torch.stack(steps)
        run = {"length": length, "tokens": ids.tolist(),
               "full": f"full_{length}.f32", "full_shape": list(full.shape),
               "decode": f"decode_{length}.f32", "decode_shape": list(dec.shape)}
        run["full_sha256"] = write_f32(os.path.join(out, run["full"]), full)
        run["decode_sha256"] = write_f32(os.path.join(out, run["decode"]), dec)
        runs.append(run)
    manifest = {"variant": name, "architecture": cls.__name__, "storage_dtype": str(dtype),
                "seed": 1234, "token_seed": 99, "init": "normal(0, 0.1) on every parameter",
                "torch": torch.__version__, "transformers": transformers.__version__,
                "runs": runs}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(name, [r["length"] for r in runs], "ok")


def main():
    out_root = sys.argv[1]
    names = sys.argv[2:] or list(VARIANTS)
    torch.set_grad_enabled(False)
    for n in names:
        build(n, out_root)


if __name__ == "__main__":
    main()
