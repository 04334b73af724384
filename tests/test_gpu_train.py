"""tools/gpu_train.py, the prepared one-command GPU training of UFA-Fuse (issue 13), in its CPU
smoke mode: the same processes, deadlines, exports and packing as on the GPU, with tiny crops
and budgets."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _driver():
    spec = importlib.util.spec_from_file_location("gpu_train", ROOT / "tools" / "gpu_train.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A folder holding bsds500/ with three 40x48 images per split."""
    root = tmp_path_factory.mktemp("gpu-data")
    rng = np.random.default_rng(0)
    for split in ("train", "val", "test"):
        (root / "bsds500" / "images" / split).mkdir(parents=True)
        (root / "bsds500" / "segments" / split).mkdir(parents=True)
        for i in range(3):
            Image.fromarray((rng.random((40, 48, 3)) * 255).astype(np.uint8)).save(root / "bsds500" / "images" / split / f"{i}.jpg")
            labels = 1 + (np.arange(40)[:, None] // 20) * 2 + np.arange(48)[None, :] // 24
            Image.fromarray(labels.astype(np.uint8)).save(root / "bsds500" / "segments" / split / f"{i}.png")
    return root


def test_learning_rate_scaling_and_budget_split() -> None:
    gpu = _driver()
    assert gpu.scaled_lr(8) == pytest.approx(1e-3) and gpu.scaled_lr(32) == pytest.approx(2e-3)
    runs = gpu.runs(gpu.GPU)
    assert [r.name for r in runs] == ["main", "lam0.0", "lam0.2", "lam0.4", "lam0.6", "lam0.8", "lam1.0", "no-ca", "no-sa", "no-ufa"]
    sweep = len(runs) - 1
    # Each sweep run's share of the GPU is 1/6 of the main run's (same throughput shared by `sweep` runs).
    assert (1 - gpu.MAIN_SHARE) / sweep == pytest.approx(gpu.MAIN_SHARE / 6)
    plan = gpu.plan(gpu.GPU)
    assert plan["gflop_per_training_pair"] == pytest.approx(222.38, rel=1e-3)  # 3 x 74.3 GFLOP forward at 256x256
    assert plan["gflop_per_520_inference"] == pytest.approx(306.38, rel=1e-3)
    at200 = plan["expected"]["200 TFLOP/s"]
    assert at200["main_pairs"] == pytest.approx(6 * at200["sweep_pairs_each"], rel=1e-3)


def test_data_workers_fit_shared_memory(monkeypatch) -> None:
    gpu = _driver()
    messages = []

    class Stat:
        f_frsize = 4096
        f_bavail = 4 * 2**30 // 4096  # 4 GiB free

    monkeypatch.setattr(gpu.os, "statvfs", lambda path: Stat())
    # 2 batches of 64 256x256 samples (10 float32 planes) = 335 MiB per worker; half of 4 GiB holds 6.
    assert gpu.shm_workers(12, 64, 256, 1, messages.append) == 6 and "6 data workers" in messages[0]
    assert gpu.shm_workers(2, 32, 256, 9, messages.append) == 1  # nine processes share it: 168 MiB per worker
    assert gpu.shm_workers(1, 2, 32, 3, messages.append) == 1

    def missing(path):
        raise FileNotFoundError(path)

    monkeypatch.setattr(gpu.os, "statvfs", missing)
    assert gpu.shm_workers(12, 64, 256, 1, messages.append) == 0 and "no /dev/shm" in messages[-1]


@pytest.mark.slow
def test_smoke_run_packs_weights_logs_and_timing(data, tmp_path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_train.py"), "--smoke", "--out", str(out), "--work", str(work),
                           "--data", str(data), "--only", "main,no-ca"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == ["ablation.tar", "main.tar", "suite.json", "suite.log", "timing.json"]
    assert all((out / f).stat().st_size <= 16 * 2**20 for f in files)
    summary = json.loads((out / "suite.json").read_text())
    for name, weights in (("main", "ufa.safetensors"), ("no-ca", "ufa-no-ca.safetensors")):
        run = summary["runs"][name]
        assert run["returncode"] == 0 and run["weights"] == weights and run["device"] == "cpu"
        assert run["samples_seen"] == {"32": 2 * run["step"]} and run["step"] > 0
    from fusionbench.nets.weights import read_metadata

    with tarfile.open(out / "main.tar") as tar:
        assert {"runs/main/ufa.safetensors", "runs/main/log.jsonl", "runs/main/checkpoint.pt"} <= set(tar.getnames())
        tar.extractall(tmp_path / "unpacked", filter="data")
    meta = read_metadata(tmp_path / "unpacked" / "runs" / "main" / "ufa.safetensors")
    assert meta["info"]["time_budget"] > 0 and meta["info"]["batch"] == 2 and meta["info"]["lam"] == 0.2
    timing = json.loads((out / "timing.json").read_text())
    assert timing["forward_batch1_bfloat16_ms_per_pair"] > 0 and timing["forward_batch2_bfloat16_ms_per_pair"] > 0
    assert timing["fuse_arrays_ms_per_pair"] > 0


def test_check_needs_the_data(tmp_path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_train.py"), "--out", str(tmp_path), "--data", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "no bsds500/images/train inside" in done.stderr
