"""Fixtures shared by the benchmark modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import fusionbench


@pytest.fixture(scope="module")
def lytro_pair():
    """The 520x520 colour Lytro pair ``lytro-01`` (A, B) as float32 [0, 1]; skipped without
    FUSIONBENCH_DATA."""
    data = os.environ.get("FUSIONBENCH_DATA")
    if not data:
        pytest.skip("FUSIONBENCH_DATA is not set (folder of the real datasets)")
    folder = Path(data) / "lytro"
    return fusionbench.read_image(folder / "lytro-01-A.jpg"), fusionbench.read_image(folder / "lytro-01-B.jpg")
