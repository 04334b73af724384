"""Speed of UFA-Fuse inference with the shipped weights.

Run::

    FUSIONBENCH_DATA=../shared/datasets .venv/bin/pytest benchmarks/test_ufa_speed.py \\
        --benchmark-enable --benchmark-json=.benchmarks/ufa.json

* ``test_ufa_lytro_pair``: one 520x520 colour Lytro pair through ``fusionbench.fuse`` (the
  registered method: input checks, channels-last conversion, network, clipping). Target on
  the project's 2-core CPU: <= 2.5 s; on a GPU <= 5 ms (bf16), run with ``UFA_DEVICE=cuda``.
* ``test_ufa_network_forward``: the bare network forward on the same size, for comparison.

Fixed rounds (each call takes seconds on CPU). Numbers are recorded in
``reports/training/ufa.md`` with the machine load at the time.
"""

from __future__ import annotations

import os

import pytest

import fusionbench

DEVICE = os.environ.get("UFA_DEVICE", "cpu")
ROUNDS = 5 if DEVICE == "cpu" else 50


def _sync() -> None:
    if DEVICE.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def test_ufa_lytro_pair(benchmark, lytro_pair) -> None:
    a, b = lytro_pair
    method = fusionbench.create_method("ufa", device=DEVICE)
    method.fuse(a, b)  # load the weights once

    def run():
        fused = method.fuse(a, b)
        _sync()
        return fused

    benchmark.group = "UFA-Fuse 520x520 colour"
    benchmark.extra_info.update(device=DEVICE, load_before=os.getloadavg()[0], cpus=os.cpu_count())
    fused = benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    benchmark.extra_info["load_after"] = os.getloadavg()[0]
    assert fused.shape == a.shape


def test_ufa_network_forward(benchmark) -> None:
    import torch

    from fusionbench.nets.ufa.weights import load_model, shipped_weights

    model = load_model(shipped_weights("full")).to(DEVICE, memory_format=torch.channels_last)
    x = torch.rand(1, 3, 520, 520, device=DEVICE).contiguous(memory_format=torch.channels_last)
    y = torch.rand(1, 3, 520, 520, device=DEVICE).contiguous(memory_format=torch.channels_last)

    def run():
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=DEVICE.startswith("cuda")):
            out = model(x, y)
        _sync()
        return out

    benchmark.group = "UFA-Fuse 520x520 colour"
    benchmark.extra_info.update(device=DEVICE, load_before=os.getloadavg()[0])
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    benchmark.extra_info["load_after"] = os.getloadavg()[0]
