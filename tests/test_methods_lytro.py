"""The baselines of issue 4 on a real pair (Lytro 01, 520x520, colour and gray): the result is
a well-formed image and, for the multi-focus methods, sharper (average gradient, AVG) than
either source - each source is half out of focus (sources 4.33 and 3.84; fused 5.6-6.1;
average and max stay below 3.8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fusionbench
from fusionbench.io import read_image, to_gray

pytestmark = pytest.mark.needs_data

MULTIFOCUS = ["dwt", "swt", "dtcwt", "lp", "rp", "mp", "sf", "gff"]


@pytest.fixture(scope="module")
def lytro(data_dir: Path):
    a = read_image(data_dir / "lytro" / "lytro-01-A.jpg")
    b = read_image(data_dir / "lytro" / "lytro-01-B.jpg")
    sharpest = max(fusionbench.evaluate(a, b, x, metrics="AVG")["AVG"] for x in (a, b))
    return a, b, sharpest


@pytest.mark.parametrize("color", [True, False], ids=["color", "gray"])
@pytest.mark.parametrize("name", ["average", "max", *MULTIFOCUS])
def test_fuses_a_real_lytro_pair(lytro, name: str, color: bool) -> None:
    a, b, sharpest = lytro
    if not color:
        a, b = (to_gray(x).astype(np.float32) for x in (a, b))
    fused = fusionbench.fuse(a, b, method=name)
    assert fused.shape == a.shape and fused.dtype == np.float32
    assert 0.0 <= fused.min() and fused.max() <= 1.0
    sharpness = fusionbench.evaluate(a, b, fused, metrics="AVG")["AVG"]
    if name in MULTIFOCUS:
        assert sharpness > 1.2 * sharpest, f"{name}: AVG {sharpness:.3f} vs sharpest source {sharpest:.3f}"
    else:
        assert sharpness < sharpest  # no focus selection: no sharper than the sharper source
