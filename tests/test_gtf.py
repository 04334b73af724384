"""GTF (methods/gtf.py) against the authors' code run in GNU Octave, and properties of its solver.

``tests/data/octave_gtf/``: two small infrared/visible pairs and the authors' GTF outputs
for them (see the README there); the TNO and CT-MRI comparison is reports/validation/gtf.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fusionbench
import fusionbench.methods.gtf as gtf_module
from fusionbench.io import to_uint8

DATA = Path(__file__).parent / "data" / "octave_gtf"
LAM = 4.0


def _pair(name: str) -> tuple[np.ndarray, np.ndarray]:
    return tuple(np.asarray(Image.open(DATA / f"{name}-{role}.png")) for role in ("IR", "VIS"))


def _energy(y: np.ndarray, s: np.ndarray, lam: float) -> float:
    """The L1-TV functional ||y - s||_1 + lam TV(y) that GTF minimises (y = x - v, s = u - v)."""
    gx, gy = np.zeros_like(y), np.zeros_like(y)
    gx[:, :-1] = np.diff(y, axis=1)
    gy[:-1, :] = np.diff(y, axis=0)
    return float(np.abs(y - s).sum() + lam * np.sqrt(gx * gx + gy * gy).sum())


@pytest.mark.parametrize("name", ["blobs", "odd"])
def test_matches_the_authors_code_in_octave(name: str, monkeypatch) -> None:
    infrared, visible = _pair(name)
    theirs = np.fromfile(DATA / f"{name}.f64", dtype=np.float64).reshape(infrared.shape)
    their_cg = np.loadtxt(DATA / f"{name}.itstat", ndmin=2)[:, 8].astype(int).tolist()  # irntv's pcgit column
    our_cg = []
    solve = gtf_module._conjugate_gradient

    def counting(*args):
        z, iterations = solve(*args)
        our_cg.append(iterations)
        return z, iterations

    monkeypatch.setattr(gtf_module, "_conjugate_gradient", counting)
    ours = fusionbench.create_method("gtf").fuse(infrared, visible)
    assert our_cg == their_cg, "conjugate-gradient iterations per IRN loop differ from the authors' run"
    # CG on these ill-conditioned systems amplifies rounding (Octave's BLAS sums in another order):
    # agreement is ~1e-8 on 'blobs' and ~4e-5 on 'odd'; a changed constant or rule moves it by >= 1e-3.
    assert np.abs(ours - theirs).max() < 1e-4
    np.testing.assert_array_equal(to_uint8(ours), np.round(theirs * 255).astype(np.uint8))


def test_lowers_the_l1_tv_energy_loop_after_loop() -> None:
    infrared, visible = (x / 255.0 for x in _pair("blobs"))
    s = infrared - visible
    energies = [_energy(gtf_module.l1tv_irn(s, LAM, loops), s, LAM) for loops in (1, 5, 20)]
    keep_infrared, keep_visible = _energy(s, s, LAM), _energy(np.zeros_like(s), s, LAM)  # x = u, x = v
    assert energies[0] < min(keep_infrared, keep_visible)
    assert energies[2] < energies[1] < energies[0]


def test_a_constant_difference_is_returned_exactly() -> None:
    # u - v constant: TV(u - v) = 0, so x = u is the exact minimiser (the authors' code stops with
    # an error there: its histogram of gradients has no range).
    visible = np.random.default_rng(3).random((20, 24)).astype(np.float32) * np.float32(0.75)
    for infrared in (visible, visible + np.float32(0.125)):
        np.testing.assert_allclose(fusionbench.fuse(infrared, visible, method="gtf"), infrared, atol=1e-7)


def test_adaptive_threshold_counts_a_boundary_value_in_the_lower_bin() -> None:
    # Octave 7.3: c = 0:1/999:1; b0 = (c(1)+c(2))/2; hist([0 0 0 b0 b0 b0 b0 1], c) has 7 in bin 1,
    # so with a 50 % cut-off pos = 1 and fF_adapt's threshold is c(2) (MATLAB's hist, which counts
    # b0 in bin 2, would give c(3)).
    centres = np.arange(1000) / 999.0
    boundary = (centres[0] + centres[1]) / 2
    values = np.array([0.0] * 3 + [boundary] * 4 + [1.0])
    assert gtf_module._adaptive_threshold(values, 0.5, first_positive=False, fallback=1.0) == centres[1]
    assert gtf_module._adaptive_threshold(values, 0.5, first_positive=True, fallback=1.0) == centres[1]  # c(1) = 0


@pytest.mark.parametrize(
    "a,b",
    [
        (np.zeros((8, 8)), np.ones((8, 8))),
        (np.pad(np.ones((1, 1)), 5), np.zeros((11, 11))),
        (np.random.default_rng(0).random((2, 2)), np.random.default_rng(1).random((2, 2))),
        (np.full((16, 16), 0.3), np.random.default_rng(2).random((16, 16))),
    ],
    ids=["constant-pair", "single-pixel", "2x2", "constant-infrared"],
)
def test_degenerate_inputs_give_finite_output(a: np.ndarray, b: np.ndarray) -> None:
    with np.errstate(divide="raise", invalid="raise", over="raise"):  # no 0/0, x/0 or overflow on the way
        fused = fusionbench.fuse(a.astype(np.float32), b.astype(np.float32), method="gtf")
    assert fused.shape == a.shape and np.isfinite(fused).all()


@pytest.mark.parametrize(
    "params",
    [{"lam": 0}, {"lam": -1.0}, {"lam": float("nan")}, {"lam": float("inf")}, {"loops": 0}, {"cg_max_iterations": 0}],
)
def test_rejects_parameters_out_of_range(params: dict) -> None:
    with pytest.raises(ValueError, match="^gtf: "):
        fusionbench.create_method("gtf", **params)


@pytest.mark.parametrize("params", [{"lam": "4"}, {"lam": True}, {"loops": 2.5}, {"loops": True}])
def test_rejects_parameters_of_the_wrong_type(params: dict) -> None:
    with pytest.raises(TypeError, match="^method 'gtf': parameter"):
        fusionbench.create_method("gtf", **params)


def test_bad_input_is_reported_with_the_method_name() -> None:
    a = np.random.default_rng(4).random((10, 10)).astype(np.float32)
    with pytest.raises(ValueError, match="gtf: input b contains NaN"):
        fusionbench.fuse(a, np.where(a > 0.5, np.nan, a), method="gtf")
    with pytest.raises(ValueError, match="gtf: inputs differ in size"):
        fusionbench.fuse(a, a[:, :9], method="gtf")
