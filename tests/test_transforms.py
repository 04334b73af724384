"""The multiscale transforms behind CVT and NSCT fusion, and the OMP behind SR fusion.

Perfect reconstruction (forward then inverse <= 1e-6 relative, on even, odd and non-square
sizes), tight-frame energy for the curvelets, directional selectivity of both transforms
(a plane wave lands in the subband of its orientation), and OMP against a direct
least-squares implementation on the explicit dictionary.
"""

from __future__ import annotations

import numpy as np
import pytest

from fusionbench.methods._curvelet import CurveletTransform
from fusionbench.methods._nsct import NSCTransform
from fusionbench.methods.sr import dct_dictionary, dct_dictionary_1d, orthogonal_matching_pursuit

SHAPES = [(64, 64), (77, 101), (90, 48)]


def _relative_error(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.linalg.norm(x - y) / np.linalg.norm(x))


def _image(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("n_angles", [8, 16])
def test_curvelet_perfect_reconstruction(shape, n_angles) -> None:
    x = _image(shape)
    transform = CurveletTransform(shape, n_angles_coarse=n_angles)
    coeffs = transform.forward(x)
    assert _relative_error(x, transform.inverse(coeffs)) <= 1e-6
    # tight frame: the stored half-plane wedges count twice (their mirror is implied)
    energy = sum(np.sum(np.abs(c) ** 2) * (2 if 0 < s < len(coeffs) - 1 else 1) for s, scale in enumerate(coeffs) for c in scale)
    assert energy == pytest.approx(np.sum(x**2), rel=1e-9)


def test_curvelet_layout_follows_curvelab() -> None:
    transform = CurveletTransform((520, 520))
    assert transform.n_scales == 7  # ceil(log2(520) - 3)
    assert transform.n_angles == [1, 16, 32, 32, 64, 64, 1]
    coeffs = transform.forward(_image((520, 520)))
    assert [len(scale) for scale in coeffs] == [1, 8, 16, 16, 32, 32, 1]  # half the wedges stored
    assert coeffs[-1][0].shape == (520, 520)


def _plane_wave(shape, angle_deg: float, period: float) -> np.ndarray:
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    theta = np.deg2rad(angle_deg)
    return np.cos(2 * np.pi * (rows * np.cos(theta) + cols * np.sin(theta)) / period)


def test_curvelet_wedges_are_directional() -> None:
    # a wave whose frequency vector points along +rows (the k1 axis) has pseudo-angle 1 or 5
    # (mid East side), i.e. wedges around n/8 of the stored n/2
    shape = (128, 128)
    transform = CurveletTransform(shape, n_scales=4)
    coeffs = transform.forward(_plane_wave(shape, 0.0, 128 / 24))  # 24 cycles: scale 2 ring
    energy = np.array([np.sum(np.abs(c) ** 2) for c in coeffs[2]])
    n = transform.n_angles[2]
    assert set(np.argsort(energy)[-2:]) == {n // 8 - 1, n // 8}
    assert energy[[n // 8 - 1, n // 8]].sum() > 0.95 * energy.sum()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("levels", [(2, 3), (0, 1, 4), (3,)])
def test_nsct_perfect_reconstruction(shape, levels) -> None:
    x = _image(shape, 1)
    transform = NSCTransform(shape, levels, pad=16)
    coeffs = transform.forward(x)
    assert [len(c) for c in coeffs[1:]] == [2**n for n in levels]
    assert all(c.shape == transform.canvas_shape for band in coeffs[1:] for c in band)
    assert _relative_error(x, transform.inverse(coeffs)) <= 1e-6


def test_nsct_directional_subbands_separate_orientations() -> None:
    # two waves of different orientation peak in different subbands of a 3-level NSDFB, and
    # each wave's energy is concentrated in few of the 8 subbands
    shape = (96, 96)
    transform = NSCTransform(shape, (3,), pad=0)
    peaks = []
    for angle in (20.0, 110.0):
        bands = transform.forward(_plane_wave(shape, angle, 3.0))[1]
        energy = np.sort([np.sum(b**2) for b in bands])[::-1]
        assert energy[:2].sum() > 0.9 * energy.sum()
        peaks.append(int(np.argmax([np.sum(b**2) for b in bands])))
    assert peaks[0] != peaks[1]


def _reference_omp(dictionary: np.ndarray, x: np.ndarray, tolerance: float, max_atoms: int):
    """Textbook OMP: pick the most correlated atom, refit by least squares, repeat."""
    selected: list[int] = []
    residual = x.copy()
    coefficients = np.zeros(0)
    while np.linalg.norm(residual) > tolerance and len(selected) < max_atoms:
        selected.append(int(np.argmax(np.abs(dictionary.T @ residual))))
        coefficients = np.linalg.lstsq(dictionary[:, selected], x, rcond=None)[0]
        residual = x - dictionary[:, selected] @ coefficients
    return selected, coefficients


def test_dct_dictionary() -> None:
    d = dct_dictionary()
    assert d.shape == (64, 256)
    np.testing.assert_allclose(np.linalg.norm(d, axis=0), 1.0)
    np.testing.assert_allclose(d[:, 0], 1 / 8)  # the constant atom
    np.testing.assert_allclose(d[:, 1:].sum(axis=0)[np.abs(d[:, 1:].sum(axis=0)) > 1e-9], [])  # other atoms zero-mean


@pytest.mark.parametrize("tolerance,max_atoms", [(0.05, 64), (0.0, 6), (0.3, 10)])
def test_omp_matches_reference(tolerance, max_atoms) -> None:
    rng = np.random.default_rng(3)
    atoms_1d = dct_dictionary_1d()
    dictionary = dct_dictionary()
    smooth = np.cumsum(np.cumsum(rng.normal(size=(30, 8, 8)), axis=1), axis=2) * 0.05
    signals = np.concatenate([smooth.reshape(30, 64), rng.normal(size=(6, 64)) * 0.2, np.zeros((1, 64))])
    codes = orthogonal_matching_pursuit(atoms_1d, signals, tolerance, max_atoms)
    for i, x in enumerate(signals):
        selected, coefficients = _reference_omp(dictionary, x, tolerance, max_atoms)
        n = len(selected)
        assert list(codes.indices[i, :n]) == selected
        assert np.all(codes.indices[i, n:] == -1)
        np.testing.assert_allclose(codes.coefficients[i, :n], coefficients, atol=1e-8)
        approximation = dictionary[:, selected] @ coefficients
        if n < max_atoms:
            assert np.linalg.norm(x - approximation) <= tolerance + 1e-12


def test_omp_recovers_a_sparse_combination() -> None:
    atoms_1d = dct_dictionary_1d()
    dictionary = dct_dictionary()
    support = [3, 40, 170]
    x = dictionary[:, support] @ np.array([1.0, -0.7, 0.4])
    codes = orthogonal_matching_pursuit(atoms_1d, x[np.newaxis], 1e-9, 10)
    used = codes.indices[0] >= 0
    assert sorted(codes.indices[0, used]) == support
    np.testing.assert_allclose(dictionary[:, codes.indices[0, used]] @ codes.coefficients[0, used], x, atol=1e-9)
