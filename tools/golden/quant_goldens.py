#!/usr/bin/env python3
"""Records Q8_0 and Q4_0 blocks for fixed vectors with gguf-py's NumPy quantizer (an
independent implementation of ggml's reference quantize_row_q8_0 / q4_0). Dev-time only.
Output: <out>/input.f32 (all vectors, 256 floats each), <out>/q8_0.bin, <out>/q4_0.bin and
manifest.json. Usage: /work/venvs/phi/bin/python tools/golden/quant_goldens.py src/loom/phi/testdata/quant
"""
import json
import os
import sys

import gguf
import numpy as np
from gguf import quants

N = 256  # 8 blocks of 32 per vector


def vectors():
    g = np.random.default_rng(5)
    v = []
    v.append(g.standard_normal(N))                       # random
    v.append(g.standard_normal(N) * 1e-3)                # small
    v.append(np.zeros(N))                                # zeros
    v.append(np.full(N, 0.75))                           # constant
    x = g.standard_normal(N) * 0.1; x[37] = 50.0; v.append(x)   # one positive outlier
    x = g.standard_normal(N) * 0.1; x[70] = -50.0; v.append(x)  # one negative outlier
    x = np.tile(np.array([1.0, -1.0] * 16), N // 32); v.append(x)  # +-max ties
    x = np.tile(np.arange(32) - 15.5, N // 32) / 15.5 * 127 / 8; v.append(x)  # .5 boundaries
    x = np.tile((np.arange(32) - 16) / 2.0, N // 32); v.append(x)               # halves
    v.append(g.uniform(-1000, 1000, N))                  # large
    return np.stack(v).astype(np.float32)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    x = vectors()
    x.astype("<f4").tofile(os.path.join(out, "input.f32"))
    for name, t in (("q8_0", gguf.GGMLQuantizationType.Q8_0), ("q4_0", gguf.GGMLQuantizationType.Q4_0)):
        q = quants.quantize(x, t)
        q.tofile(os.path.join(out, name + ".bin"))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({"vectors": int(x.shape[0]), "length": N, "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.10.0",
                   "q8_0_block_bytes": 34, "q4_0_block_bytes": 18}, f, indent=1)
    print("vectors", x.shape)


if __name__ == "__main__":
    main()
