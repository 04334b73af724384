"""Shared fixtures. Tests that need the shared data read it in place, from the folders named
by FUSIONBENCH_DATA (datasets) and FUSIONBENCH_GOLDEN (MATLAB reference values); without
them those tests are skipped with the reason, never passed."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _env_dir(var: str) -> Path | None:
    value = os.environ.get(var)
    return Path(value) if value else None


GOLDEN_DIR = _env_dir("FUSIONBENCH_GOLDEN")
DATA_DIR = _env_dir("FUSIONBENCH_DATA")


def golden_rows() -> list[dict[str, str]]:
    """Rows of metrics_reference.csv, or [] when FUSIONBENCH_GOLDEN is not set."""
    if GOLDEN_DIR is None:
        return []
    with open(GOLDEN_DIR / "metrics_reference.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def read_gray_u8(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path), dtype=np.uint8)


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    if GOLDEN_DIR is None:
        pytest.skip("FUSIONBENCH_GOLDEN is not set (folder of MATLAB reference values)")
    if not GOLDEN_DIR.is_dir():
        pytest.fail(f"FUSIONBENCH_GOLDEN={GOLDEN_DIR} is not a folder")
    return GOLDEN_DIR


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if DATA_DIR is None:
        pytest.skip("FUSIONBENCH_DATA is not set (folder of the real datasets)")
    if not DATA_DIR.is_dir():
        pytest.fail(f"FUSIONBENCH_DATA={DATA_DIR} is not a folder")
    return DATA_DIR


@pytest.fixture(scope="session")
def reference_results_dir(data_dir: Path) -> Path:
    """../shared/reference-results, found beside the datasets folder."""
    folder = data_dir.parent / "reference-results"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found (other authors' fused images)")
    return folder


@pytest.fixture(scope="session")
def lytro_triple(golden_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 520x520 gray golden case lytro_01_CNN (A, B, F) as uint8."""
    return tuple(read_gray_u8(golden_dir / "inputs" / f"lytro_01_CNN-{r}.png") for r in "ABF")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread(request):
    """Modules that set ``ONE_TORCH_THREAD = True`` run torch on one thread: their tensors are
    tiny, and thread start-up and contention cost more than they save on a busy CPU."""
    if not getattr(request.module, "ONE_TORCH_THREAD", False):
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
