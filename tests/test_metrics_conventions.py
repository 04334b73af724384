"""Metric conventions: the API, the input transforms (hand-worked pixels), the alternative
definitions (hand-worked values and properties), and the reproduction of published numbers:
the UFA-Fuse paper's DRPL row (ufa-paper), CDDFuse's evaluator (cddfuse, values from its own
code) and VIFB's MATLAB metrics (vifb, values from Octave)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity as skimage_ssim

import fusionbench
from fusionbench.cli import main
from fusionbench.metrics import MetricInputs, get_metric
from fusionbench.metrics.conventions import CONVENTIONS, Convention, Rule, get_convention
from fusionbench.metrics.conventions import definitions as d
from fusionbench.metrics.conventions.transforms import (
    GRAY,
    GRAY_UNIT,
    OPENCV_GRAY,
    RED,
    RGB_CHANNELS,
    RGB_SIDE_BY_SIDE,
    opencv_gray_levels,
)

from .shared_crops import dataset_crops

DATA = Path(__file__).parent / "data"


def _rng_image(seed: int, shape=(48, 53, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# --- API -----------------------------------------------------------------------------------------


def test_reference_is_the_default_and_equals_the_plain_metrics() -> None:
    a, b, f = _rng_image(1), _rng_image(2), _rng_image(3)
    default = fusionbench.evaluate(a, b, f, metrics="seven")
    assert fusionbench.evaluate(a, b, f, metrics="seven", convention="reference") == default
    assert default["Qabf"] == get_metric("Qabf")(a, b, f)


def test_a_convention_changes_only_what_it_says() -> None:
    """ufa-paper's SEN is the reference SEN on the R channel; its VIFF the reference VIFF on [0, 1]."""
    a, b, f = _rng_image(4, (64, 70, 3)), _rng_image(5, (64, 70, 3)), _rng_image(6, (64, 70, 3))
    ours = fusionbench.evaluate(a, b, f, metrics="SEN,VIFF,Qm", convention="ufa-paper")
    assert ours["SEN"] == fusionbench.evaluate(a[..., 0], b[..., 0], f[..., 0], metrics="SEN")["SEN"]
    gray = [fusionbench.metrics.as_metric_array(x) / 255 for x in (a, b, f)]
    assert ours["VIFF"] == get_metric("VIFF").compute(MetricInputs(a=gray[0], b=gray[1], fused=gray[2]))
    assert ours["Qm"] == get_metric("Qm").compute(MetricInputs(a=gray[0], b=gray[1], fused=gray[2]))


def test_all_means_the_metrics_the_convention_defines() -> None:
    a, b, f = _rng_image(7, (64, 64, 3)), _rng_image(8, (64, 64, 3)), _rng_image(9, (64, 64, 3))
    scores = fusionbench.evaluate(a, b, f, metrics="all", convention="cddfuse")
    assert list(scores) == CONVENTIONS["cddfuse"].metrics()
    assert set(scores) == {"AVG", "STD", "SEN", "SF", "VIFF", "Qabf", "SCD", "MI", "VIFp_sum", "CC", "SSIMs"}


def test_unknown_convention_and_undefined_metric_are_named_errors() -> None:
    a = _rng_image(10)
    with pytest.raises(ValueError, match="unknown metric convention 'matlab'; conventions: reference, ufa-paper"):
        fusionbench.evaluate(a, a, a, metrics="AVG", convention="matlab")
    with pytest.raises(ValueError, match="Qc is not defined under convention 'cddfuse', which defines AVG, STD"):
        fusionbench.evaluate(a, a, a, metrics="Qc", convention="cddfuse")


def test_every_rule_names_a_registered_metric() -> None:
    for convention in CONVENTIONS.values():
        for name in convention.rules or {}:
            assert get_metric(name).name == name, (convention.name, name)


def test_a_convention_object_can_be_passed_directly() -> None:
    custom = Convention("std-whole", "whole-image std", "test", {"STD": Rule(GRAY, d.std_all_pixels, "std2")})
    f = np.array([[0, 255], [255, 0]], dtype=np.uint8)
    assert fusionbench.evaluate(fused=f, metrics="STD", convention=custom)["STD"] == pytest.approx(np.std([0, 255, 255, 0], ddof=1))
    assert get_convention(custom) is custom


def test_metrics_sharing_a_transform_share_intermediates() -> None:
    """One MetricInputs per transform: the R plane is built once for AVG, STD, SEN and Qabf."""
    calls = []

    def counting(images, context):
        calls.append(context)
        return RED.planes(images, context)

    counted = type(RED)(RED.name, RED.description, counting)
    rules = {name: Rule(counted, rule.compute, rule.definition) for name, rule in get_convention("ufa-paper").rules.items() if rule.transform is RED}
    scores = fusionbench.evaluate(_rng_image(11), _rng_image(12), _rng_image(13), metrics=list(rules), convention=Convention("counted", "", "", rules))
    assert len(calls) == 1 and list(scores) == ["AVG", "STD", "SEN", "Qabf"]


def test_cli_evaluate_and_metrics_conventions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = []
    for seed, role in ((14, "a"), (15, "b"), (16, "f")):
        path = tmp_path / f"{role}.png"
        Image.fromarray(_rng_image(seed, (64, 64, 3))).save(path)
        paths.append(str(path))
    assert main(["evaluate", *paths, "--metrics", "AVG,STD", "--convention", "ufa-paper", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == fusionbench.evaluate(*paths, metrics="AVG,STD", convention="ufa-paper")
    assert main(["evaluate", *paths, "--metrics", "Qc", "--convention", "cddfuse"]) == 2
    assert "not defined under convention 'cddfuse'" in capsys.readouterr().err
    assert main(["metrics", "--conventions", "STD"]) == 0
    listing = capsys.readouterr().out
    assert "ufa-paper: Table V of the UFA-Fuse paper" in listing
    assert "STD  [R] standard deviation of all pixels, N-1" in listing
    assert "AVG" not in listing.split("ufa-paper")[1]


# --- input transforms ----------------------------------------------------------------------------


def test_red_takes_the_first_channel_and_keeps_gray_images() -> None:
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1] = 10, 200
    gray = np.full((2, 3), 7, dtype=np.uint8)
    (plane,) = RED({"fused": rgb, "a": gray})
    np.testing.assert_array_equal(plane.fused, np.full((2, 3), 10.0))
    np.testing.assert_array_equal(plane.a, np.full((2, 3), 7.0))


def test_gray_unit_is_rounded_rgb2gray_over_255() -> None:
    rgb = np.array([[[10, 20, 30], [255, 0, 0]]], dtype=np.uint8)
    (plane,) = GRAY_UNIT({"fused": np.repeat(rgb, 2, axis=0)})
    # rgb2gray: 0.298936 * 10 + 0.587043 * 20 + 0.114021 * 30 = 18.1502 -> 18; 0.298936 * 255 = 76.23 -> 76
    np.testing.assert_array_equal(plane.fused[0], [18 / 255, 76 / 255])


def test_opencv_gray_rounds_half_to_even_where_rgb2gray_rounds_up() -> None:
    # B = 250: 0.114 * 250 = 28.5 exactly (in float32 too) -> np.round gives 28; MATLAB's
    # rgb2gray weights B by 0.114020904255103 -> 28.505 -> 29. (10, 20, 30) -> 18.15 -> 18.
    rgb = np.array([[[0, 0, 250], [10, 20, 30]], [[1, 0, 0], [0, 0, 0]]], dtype=np.float64)
    np.testing.assert_array_equal(opencv_gray_levels(rgb), [[28, 18], [0, 0]])
    (plane,) = GRAY({"fused": rgb.astype(np.uint8)})
    assert plane.fused[0, 0] == 29
    (plane,) = OPENCV_GRAY({"fused": rgb.astype(np.uint8)})
    assert plane.fused[0, 0] == 28


def test_vifb_planes_reuse_a_gray_source_for_every_channel() -> None:
    vis, fused = _rng_image(17, (4, 5, 3)), _rng_image(18, (4, 5, 3))
    ir = _rng_image(19, (4, 5))
    planes = RGB_CHANNELS({"a": vis, "b": ir, "fused": fused})
    assert len(planes) == 3
    for k, plane in enumerate(planes):
        np.testing.assert_array_equal(plane.a, vis[..., k])
        np.testing.assert_array_equal(plane.b, ir)
        np.testing.assert_array_equal(plane.fused, fused[..., k])
    (single,) = RGB_CHANNELS({"a": ir, "b": ir, "fused": ir})
    np.testing.assert_array_equal(single.fused, ir)
    (side,) = RGB_SIDE_BY_SIDE({"a": vis, "b": ir, "fused": fused})
    np.testing.assert_array_equal(side.fused, np.concatenate([fused[..., 0], fused[..., 1], fused[..., 2]], axis=1))


def test_transforms_check_sizes() -> None:
    with pytest.raises(ValueError, match="image sizes differ"):
        RED({"a": _rng_image(20, (4, 5, 3)), "fused": _rng_image(21, (5, 5, 3))})


# --- definitions: hand-worked values -------------------------------------------------------------

# 2 x 3 image: forward differences dx = [[3, 5]], dy = [[2, 4]] on the 1 x 2 valid grid.
SMALL = np.array([[0.0, 3.0, 8.0], [2.0, 7.0, 12.0]])


def _fused(image: np.ndarray) -> MetricInputs:
    return MetricInputs(fused=np.asarray(image, dtype=np.float64))


def test_avg_forward_valid_by_hand() -> None:
    expected = (math.sqrt((9 + 4) / 2) + math.sqrt((25 + 16) / 2)) / 2
    assert d.avg_forward_valid(_fused(SMALL)) == pytest.approx(expected, rel=1e-15)


def test_central_difference_averages_by_hand() -> None:
    # gradient along columns: [3, 4, 5] and [5, 5, 5]; along rows: [2, 4, 4] in both rows.
    gx = np.array([[3, 4, 5], [5, 5, 5]], dtype=float)
    gy = np.array([[2, 4, 4], [2, 4, 4]], dtype=float)
    s = np.sqrt((gx**2 + gy**2) / 2)
    assert d.cddfuse_ag(_fused(SMALL)) == pytest.approx(s.mean(), rel=1e-6)  # float32
    assert d.vifb_ag(_fused(SMALL)) == pytest.approx(s.sum() / (1 * 2), rel=1e-15)


def test_standard_deviations_by_hand() -> None:
    values = SMALL.ravel()
    assert d.std_all_pixels(_fused(SMALL)) == pytest.approx(np.sqrt(np.sum((values - values.mean()) ** 2) / 5), rel=1e-15)
    assert d.vifb_sd(_fused(SMALL)) == pytest.approx(np.sqrt(np.sum((values - values.mean()) ** 2) / 6), rel=1e-15)
    assert d.cddfuse_sd(_fused(SMALL)) == pytest.approx(d.vifb_sd(_fused(SMALL)), rel=1e-6)


def test_mi_in_nats_by_hand() -> None:
    # Two-level images equal to each other: MI = H = ln 2 each; F independent of B: 0.
    a = np.array([[0.0, 0.0], [255.0, 255.0]])
    b = np.array([[0.0, 255.0], [0.0, 255.0]])
    x = MetricInputs(a=a, b=b, fused=a)
    assert d.mi_nats_sum(x) == pytest.approx(math.log(2), rel=1e-15)
    assert d.vifb_mi(x) == pytest.approx(math.log(2), rel=1e-15)


def test_vifb_entropy_floors_non_integer_values() -> None:
    f = np.array([[0.2, 0.9], [1.0, 1.7]])  # floors: 0, 0, 1, 1 -> 1 bit (EN.m would round: 0, 1, 1, 2)
    assert d.vifb_entropy(_fused(f)) == pytest.approx(1.0, rel=1e-15)


def test_cddfuse_ssim_is_scikit_image_with_data_range_2_summed() -> None:
    a, b, f = (_rng_image(seed, (40, 45)).astype(np.float32) for seed in (22, 23, 24))
    expected = skimage_ssim(f, a, data_range=2.0) + skimage_ssim(f, b, data_range=2.0)
    assert d.cddfuse_ssim(MetricInputs(a=a, b=b, fused=f)) == pytest.approx(expected, rel=1e-6)
    x = MetricInputs(a=f, b=f, fused=f)
    assert d.cddfuse_ssim(x) == pytest.approx(2.0, rel=1e-6)


def test_summed_variants_are_twice_the_mean_for_identical_sources() -> None:
    a = _rng_image(25, (64, 64)).astype(np.float64)
    f = _rng_image(26, (64, 64)).astype(np.float64)
    x = MetricInputs(a=a, b=a, fused=f)
    assert d.vifb_ssim(x) == pytest.approx(2 * get_metric("SSIMs").compute(x), rel=1e-14)
    assert d.cddfuse_vif(x) == pytest.approx(get_metric("VIFp_sum").compute(x), rel=1e-14)


def test_cddfuse_vif_counts_a_constant_source_as_one() -> None:
    a = np.full((64, 64), 100.0)
    f = _rng_image(27, (64, 64)).astype(np.float64)
    x = MetricInputs(a=a, b=f, fused=f)
    assert math.isnan(x.run(get_metric("VIFp_sum")))
    assert x.run(get_metric("VIFF"), d.cddfuse_vif) == pytest.approx(1.0 + x.run(get_metric("VIFp_B")), rel=1e-14)


def test_online_qabf_uses_g_f_where_strengths_are_equal() -> None:
    """F = A = B: the reference gives the same Q at every pixel, the online code's G = g_F
    (not 1) makes pixels with weak edges (g_F < 1/2 would be penalised, large g_F not)."""
    f = np.zeros((9, 9))
    f[:, 5:] = 1.0  # Sobel magnitudes 4 inside (x = 4 along the step), borders from zero padding
    x = MetricInputs(a=f, b=f, fused=f)
    g = np.hypot(*fusionbench.metrics._shared.sobel_filter2(x, "fused"))
    q_g = 0.9994 / (1 + np.exp(-15 * (g - 0.5)))
    q_a = 0.9879 / (1 + np.exp(-22 * (1 - 0.8)))
    expected = np.sum(q_g * q_a * g) / np.sum(g)
    assert d.vifb_qabf(MetricInputs(a=f / 255, b=f / 255, fused=f / 255)) == pytest.approx(expected, rel=1e-12)
    assert d.cddfuse_qabf(x) == pytest.approx(expected, rel=1e-6)


# --- reproductions -------------------------------------------------------------------------------


def test_ufa_paper_reproduces_the_drpl_row_of_table5(data_dir: Path, reference_results_dir: Path) -> None:
    """MFIFB's published DPRL images (the paper's DRPL row) under ufa-paper: every one of AVG,
    STD, SEN, VIFF, Qabf, Qm within 0.05 % of the values the issue derived from the paper."""
    expected = {"AVG": 8.3086, "STD": 62.3017, "SEN": 7.5750, "VIFF": 0.9642, "Qabf": 0.7343, "Qm": 2.9675}
    rows = [
        fusionbench.evaluate(
            data_dir / "mfifb" / f"lytro_{i:02d}-A.jpg",
            data_dir / "mfifb" / f"lytro_{i:02d}-B.jpg",
            reference_results_dir / "mfifb-lytro" / f"lytro_{i:02d}_DPRL.jpg",
            metrics=list(expected),
            convention="ufa-paper",
        )
        for i in range(1, 21)
    ]
    for metric, value in expected.items():
        mean = float(np.mean([row[metric] for row in rows]))
        assert abs(mean - value) <= 5e-4 * value, (metric, mean, value)


def _cddfuse_rows() -> list[dict[str, str]]:
    with open(DATA / "cddfuse_reference.csv", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


CDDFUSE_ROWS = _cddfuse_rows()
CDDFUSE_NAMES = {"EN": "SEN", "SD": "STD", "SF": "SF", "AG": "AVG", "MI": "MI", "SCD": "SCD", "VIF": "VIFF", "Qabf": "Qabf", "SSIM": "SSIMs", "CC": "CC"}
_cddfuse_scores: dict[str, dict[str, float]] = {}


@pytest.mark.parametrize("case_id", sorted({row["case_id"] for row in CDDFUSE_ROWS}))
def test_cddfuse_matches_its_evaluator(case_id: str, request: pytest.FixtureRequest) -> None:
    rows = [row for row in CDDFUSE_ROWS if row["case_id"] == case_id]
    shared = request.getfixturevalue("golden_dir").parent if rows[0]["a"].startswith("golden/") else request.getfixturevalue("data_dir").parent
    images = [shared / rows[0][role] for role in ("a", "b", "fused")]
    scores = fusionbench.evaluate(*images, metrics=list(CDDFUSE_NAMES.values()), convention="cddfuse")
    for row in rows:
        expected, value = float(row["value"]), scores[CDDFUSE_NAMES[row["metric"]]]
        assert abs(value - expected) <= 1e-6 * abs(expected), (row["call"], value, expected)


def _vifb_rows() -> list[dict[str, str]]:
    with open(DATA / "octave_vifb" / "values.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("case_id", sorted({row["case_id"] for row in _vifb_rows()}))
def test_vifb_matches_its_matlab_code(case_id: str, data_dir: Path) -> None:
    rows = [row for row in _vifb_rows() if row["case_id"] == case_id]
    a, b, f = dataset_crops(data_dir)[case_id]
    scores = fusionbench.evaluate(a, b, f, metrics=[row["metric"] for row in rows], convention="vifb")
    for row in rows:
        expected = float(row["value"])
        assert abs(scores[row["metric"]] - expected) <= 1e-9 * max(1.0, abs(expected)), (row["call"], scores[row["metric"]], expected)


def test_every_variant_of_the_conventions_report_evaluates() -> None:
    """`fusionbench paper conventions` compares each metric's variants with its first, the reference."""
    from fusionbench.conventions_report import VARIANTS

    a, b, f = (_rng_image(seed, (64, 64, 3)) for seed in (28, 29, 30))
    first: dict[str, str] = {}
    for metric, label, convention in VARIANTS:
        if first.setdefault(metric, label) == label:
            assert convention == "reference", label
        assert math.isfinite(fusionbench.evaluate(a, b, f, metrics=[metric], convention=convention)[metric]), label
