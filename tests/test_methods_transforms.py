"""Properties of the multi-scale baselines' transforms: perfect reconstruction (fusing an
image with itself returns it), the DTCWT against the ``dtcwt`` package, the pyramid
REDUCE/EXPAND against their direct definitions, the SF block measure against its formula."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

import fusionbench
from fusionbench.methods._pyramid import gaussian_expand, gaussian_reduce
from fusionbench.methods.dtcwt import dtcwt_forward, dtcwt_inverse
from fusionbench.methods.sf import block_spatial_frequency, majority_consistency

RNG = np.random.default_rng(3)
ODD_GRAY = RNG.random((45, 62)).astype(np.float32)
ODD_COLOR = RNG.random((37, 50, 3)).astype(np.float32)


@pytest.mark.parametrize(
    "name,params",
    [
        ("dwt", {}),
        ("dwt", {"wavelet": "bior2.2", "levels": 5}),
        ("swt", {}),
        ("dtcwt", {}),
        ("dtcwt", {"levels": 2, "biort": "legall", "qshift": "qshift_c"}),
        ("lp", {}),
        ("rp", {}),
        ("mp", {}),
    ],
)
@pytest.mark.parametrize("image", [ODD_GRAY, ODD_COLOR], ids=["gray", "color"])
def test_fusing_an_image_with_itself_returns_it(name: str, params: dict, image: np.ndarray) -> None:
    fused = fusionbench.fuse(image, image, method=name, **params)
    np.testing.assert_allclose(fused, image, atol=1e-5, rtol=0)


@pytest.fixture
def dtcwt_package(monkeypatch):
    """The ``dtcwt`` package (0.14) still calls np.asfarray / np.issubsctype, removed in
    NumPy 2; provide them for the duration of one test only."""
    dtcwt = pytest.importorskip("dtcwt")

    def asfarray(x, dtype=None):
        x = np.asarray(x)
        return x if np.issubdtype(x.dtype, np.inexact) else x.astype(np.float64)

    monkeypatch.setattr(np, "asfarray", asfarray, raising=False)
    monkeypatch.setattr(np, "issubsctype", lambda a, b: np.issubdtype(np.dtype(a), b), raising=False)
    return dtcwt


@pytest.mark.parametrize(
    "shape,levels,biort,qshift",
    [((64, 64), 3, "near_sym_b", "qshift_b"), ((37, 51), 3, "near_sym_b", "qshift_b"), ((70, 98), 4, "near_sym_a", "qshift_c")],
)
def test_dtcwt_matches_the_dtcwt_package(dtcwt_package, shape, levels, biort, qshift) -> None:
    x = np.random.default_rng(0).random(shape)
    transform = dtcwt_package.Transform2d(biort=biort, qshift=qshift)
    expected = transform.forward(x, nlevels=levels)
    ours = dtcwt_forward(x, levels, biort, qshift)
    np.testing.assert_allclose(ours.lowpass, expected.lowpass, atol=1e-12)
    assert len(ours.highpasses) == len(expected.highpasses)
    for got, want in zip(ours.highpasses, expected.highpasses):
        np.testing.assert_allclose(got, want, atol=1e-12)
    reconstructed = transform.inverse(expected)[: shape[0], : shape[1]]
    np.testing.assert_allclose(dtcwt_inverse(ours, biort, qshift), reconstructed, atol=1e-12)
    np.testing.assert_allclose(reconstructed, x, atol=1e-10)


KERNEL = np.array([1, 4, 6, 4, 1]) / 16


@pytest.mark.parametrize("shape", [(16, 16), (13, 22), (7, 5)])
def test_pyramid_reduce_and_expand_match_their_definitions(shape) -> None:
    x = np.random.default_rng(1).random(shape)
    # REDUCE: separable 5-tap low-pass, whole-sample symmetric borders, keep even samples.
    smooth = ndimage.correlate1d(ndimage.correlate1d(x, KERNEL, axis=0, mode="mirror"), KERNEL, axis=1, mode="mirror")
    small = gaussian_reduce(x)
    np.testing.assert_allclose(small, smooth[::2, ::2], atol=1e-12)
    # EXPAND: zeros between the samples, filtered with 2 x the kernel along each axis.
    zero_filled = np.zeros(shape)
    zero_filled[::2, ::2] = small
    expected = ndimage.correlate1d(ndimage.correlate1d(zero_filled, 2 * KERNEL, axis=0, mode="mirror"), 2 * KERNEL, axis=1, mode="mirror")
    np.testing.assert_allclose(gaussian_expand(small, shape), expected, atol=1e-12)


@pytest.mark.parametrize("shape", [(10, 7), (5, 9), (4, 4)])
def test_block_spatial_frequency_follows_the_formula(shape) -> None:
    x = np.random.default_rng(2).random(shape)
    sf = block_spatial_frequency(x, 4)
    row_blocks = [slice(i, i + 4) for i in range(0, shape[0], 4)]
    col_blocks = [slice(j, j + 4) for j in range(0, shape[1], 4)]
    assert sf.shape == (len(row_blocks), len(col_blocks))
    for i, rows in enumerate(row_blocks):
        for j, cols in enumerate(col_blocks):
            block = x[rows, cols] * 255
            rf2 = np.sum(np.diff(block, axis=1) ** 2) / block.size
            cf2 = np.sum(np.diff(block, axis=0) ** 2) / block.size
            assert sf[i, j] == pytest.approx(np.sqrt(rf2 + cf2), rel=1e-5)


def test_majority_consistency_switches_isolated_blocks_only() -> None:
    expected = np.ones((6, 6))
    expected[:, 3:] = -1  # left half from A, right half from B: a straight border stays
    choice = expected.copy()
    choice[2, 1] = -1  # a B block surrounded by A blocks
    choice[2, 4] = 1  # an A block surrounded by B blocks
    np.testing.assert_array_equal(majority_consistency(choice), expected)
    np.testing.assert_array_equal(majority_consistency(np.zeros((3, 3))), 0)  # averages stay
