"""`precomputed`: published fused images looked up by pair name, scored like any method."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fusionbench
from fusionbench.io import read_image, to_gray, write_image

A = np.random.default_rng(0).random((20, 30, 3)).astype(np.float32)
B = np.random.default_rng(1).random((20, 30, 3)).astype(np.float32)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_image(tmp_path / "pair1_M.png", A * 0.5 + B * 0.5)
    write_image(tmp_path / "graypair_M.png", A[..., 0])
    write_image(tmp_path / "small_M.png", A[:10])
    return tmp_path


def test_returns_the_stored_image_for_the_pair(folder: Path) -> None:
    method = fusionbench.create_method("precomputed", folder=folder, pattern="{pair}_M.png")
    fused = method.fuse(A, B, pair_name="pair1")
    assert fused.dtype == np.float32 and fused.shape == A.shape
    np.testing.assert_array_equal(fused, read_image(folder / "pair1_M.png"))
    np.testing.assert_array_equal(fusionbench.fuse(A, B, method="precomputed", folder=str(folder), pattern="{pair}_M.png", pair_name="pair1"), fused)


def test_channels_follow_the_sources(folder: Path) -> None:
    method = fusionbench.create_method("precomputed", folder=folder, pattern="{pair}_M.png")
    stored_gray = read_image(folder / "graypair_M.png")
    np.testing.assert_array_equal(method.fuse(A, B, pair_name="graypair"), np.repeat(stored_gray[..., None], 3, axis=2))
    stored_rgb = read_image(folder / "pair1_M.png")
    np.testing.assert_allclose(method.fuse(A[..., 0], B[..., 0], pair_name="pair1"), to_gray(stored_rgb), atol=1e-6)


def test_errors_name_the_file_and_the_fix(folder: Path) -> None:
    method = fusionbench.create_method("precomputed", folder=folder, pattern="{pair}_M.png")
    with pytest.raises(FileNotFoundError, match=r"pair 'nope'.*nope_M\.png does not exist"):
        method.fuse(A, B, pair_name="nope")
    with pytest.raises(ValueError, match=r"small_M\.png is 30x10 but the sources of pair 'small' are 30x20"):
        method.fuse(A, B, pair_name="small")
    with pytest.raises(ValueError, match="needs pair_name="):
        method.fuse(A, B)
    with pytest.raises(ValueError, match="must contain '{pair}'"):
        fusionbench.create_method("precomputed", folder=folder, pattern="fused.png")
    with pytest.raises(ValueError, match="may only use the field {pair}"):
        fusionbench.create_method("precomputed", folder=folder, pattern="{pair}_{method}.png")
    with pytest.raises(ValueError, match="input b"):  # the sources are still checked
        method.fuse(A, B * 2, pair_name="pair1")


@pytest.mark.needs_data
def test_scores_published_results_like_a_method(data_dir: Path, reference_results_dir: Path) -> None:
    a = read_image(data_dir / "mfifb" / "lytro_01-A.jpg")
    b = read_image(data_dir / "mfifb" / "lytro_01-B.jpg")
    method = fusionbench.create_method("precomputed", folder=reference_results_dir / "mfifb-lytro", pattern="{pair}_GFF.jpg")
    fused = method.fuse(a, b, pair_name="lytro_01")
    np.testing.assert_array_equal(fused, read_image(reference_results_dir / "mfifb-lytro" / "lytro_01_GFF.jpg"))
    scores = fusionbench.evaluate(a, b, fused, metrics="AVG,SF")
    assert scores["AVG"] > 0 and scores["SF"] > 0
