"""How the fused_* entries of tests/data/ufa_pinned.npz were re-recorded when the GPU-trained weights
replaced the CPU-trained ones (2026-12-04, reports/training/ufa.md): the same 20x24 crop of the
embedded example, fused by each shipped network with today's code, written back into the file;
the training pin (train_*) stays as tests/data/ufa_pinned.py recorded it at commit 3f035e4.
Prints the shipped weights' tensor digests for tests/test_ufa.py (PINNED_TENSORS).

    .venv/bin/python tests/data/ufa_pinned_outputs.py tests/data/ufa_pinned.npz
"""
import json
import sys

import numpy as np
import torch

import fusionbench
from fusionbench.nets.weights import WEIGHTS_DIR, read_metadata

torch.set_num_threads(1)
path = sys.argv[1]
pinned = dict(np.load(path))
a, b = pinned["input_a"], pinned["input_b"]
for name in ("ufa", "ufa-no-ca", "ufa-no-sa", "ufa-no-ufa"):
    pinned[f"fused_{name}"] = fusionbench.create_method(name).fuse(a, b)
pinned["fused_ufa-ablation"] = fusionbench.create_method("ufa", weights="ufa-ablation").fuse(a, b)
pinned["fused_ufa_gray"] = fusionbench.create_method("ufa").fuse(a[..., 1], b[..., 1])
pinned["fused_ufa_tiled"] = fusionbench.create_method("ufa", max_pixels=100, tile=8).fuse(a, b)
np.savez_compressed(path, **pinned)
print(json.dumps({p.stem: read_metadata(p)["tensors_sha256"] for p in sorted(WEIGHTS_DIR.glob("*.safetensors"))}, indent=1))
