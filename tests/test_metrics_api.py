"""The metric API for every registered metric: evaluate()'s selection rules, the plain-function
form, input conversion (paths, colour, uint16, float32 8-bit data) and the ValueError that
names the metric and the problem for unusable input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fusionbench
import fusionbench.metrics as fm
from fusionbench.io import to_gray
from fusionbench.metrics import METRIC_SETS, get_metric

ALL_METRICS = fusionbench.list_metrics()
SIZE = (36, 44)


def _triple(seed: int = 0) -> dict[str, np.ndarray]:
    """A small multi-focus-like uint8 set: smooth scene + texture, blurred halves, fused
    = average, gt = the scene."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    scene = ndimage.gaussian_filter(rng.random(SIZE) * 255, 2) + rng.normal(0, 8, SIZE)
    scene = np.clip((scene - scene.min()) / np.ptp(scene) * 255, 0, 255)
    blurred = ndimage.gaussian_filter(scene, 2)
    left = np.arange(SIZE[1])[None, :] < SIZE[1] // 2
    a = np.where(left, scene, blurred)
    b = np.where(left, blurred, scene)
    to8 = lambda x: np.floor(x + 0.5).astype(np.uint8)  # noqa: E731
    return {"a": to8(a), "b": to8(b), "fused": to8((a + b) / 2), "gt": to8(scene)}


TRIPLE = _triple()


def _args(metric_name: str, images: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [images[role] for role in get_metric(metric_name).needs]


def _same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or x == y


# ------------------------------------------------------------------------ metric selection


def test_default_selection_is_every_metric_whose_images_are_given() -> None:
    without_gt = fusionbench.evaluate(TRIPLE["a"], TRIPLE["b"], TRIPLE["fused"])
    assert list(without_gt) == [m for m in ALL_METRICS if "gt" not in get_metric(m).needs]
    with_gt = fusionbench.evaluate(TRIPLE["a"], TRIPLE["b"], TRIPLE["fused"], gt=TRIPLE["gt"])
    assert list(with_gt) == ALL_METRICS
    only_fused = fusionbench.evaluate(fused=TRIPLE["fused"])
    assert list(only_fused) == [m for m in ALL_METRICS if get_metric(m).needs == ("fused",)]
    assert list(only_fused) and all(_same(only_fused[k], with_gt[k]) for k in only_fused)


def test_names_and_aliases_are_case_insensitive_and_deduplicated() -> None:
    scores = fusionbench.evaluate(**{k: TRIPLE[k] for k in ("a", "b", "fused")}, metrics=" qmi, ag ,MI,avg")
    assert list(scores) == ["MI", "AVG"]
    listed = fusionbench.evaluate(**{k: TRIPLE[k] for k in ("a", "b", "fused")}, metrics=["EN", "sd"])
    assert list(listed) == ["SEN", "STD"]
    for name in ALL_METRICS:
        metric = get_metric(name)
        for key in (name, *metric.aliases):
            assert get_metric(key.lower()) is metric and get_metric(key.upper()) is metric


def test_all_selects_every_metric() -> None:
    scores = fusionbench.evaluate(TRIPLE["a"], TRIPLE["b"], TRIPLE["fused"], gt=TRIPLE["gt"], metrics="ALL")
    assert list(scores) == ALL_METRICS


def test_all_without_gt_selects_every_metric_that_applies() -> None:
    scores = fusionbench.evaluate(TRIPLE["a"], TRIPLE["b"], TRIPLE["fused"], metrics="all")
    expected = [m for m in ALL_METRICS if "gt" not in get_metric(m).needs]
    assert list(scores) == expected and len(expected) < len(ALL_METRICS)


def test_seven_is_the_papers_set() -> None:
    missing = [m for m in METRIC_SETS["seven"] if m not in ALL_METRICS]
    if missing:
        pytest.skip(f"metrics of the paper's set not registered yet: {missing}")
    scores = fusionbench.evaluate(TRIPLE["a"], TRIPLE["b"], TRIPLE["fused"], metrics="seven")
    assert list(scores) == ["AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm"]


def test_unknown_metric_is_a_key_error_listing_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown metric 'QXYZ'.*AVG"):
        fusionbench.evaluate(TRIPLE["a"], TRIPLE["b"], TRIPLE["fused"], metrics="QXYZ")


@pytest.mark.parametrize("name", [m for m in ALL_METRICS if get_metric(m).needs != ("fused",)])
def test_requesting_a_metric_without_its_images_names_them(name: str) -> None:
    missing = [role for role in get_metric(name).needs if role != "fused"]
    with pytest.raises(ValueError, match=rf"{name} needs image\(s\) \{missing}"):
        fusionbench.evaluate(fused=TRIPLE["fused"], metrics=name)


# ------------------------------------------------------------ plain-function form = evaluate


@pytest.mark.parametrize("name", ALL_METRICS)
def test_plain_function_equals_evaluate(name: str) -> None:
    metric = get_metric(name)
    function = getattr(fm, name.lower(), None)
    assert function is metric, f"fusionbench.metrics.{name.lower()} should be the {name} metric"
    value = metric(*_args(name, TRIPLE))
    assert _same(value, fusionbench.evaluate(**TRIPLE, metrics=name)[name])
    assert _same(value, metric(**{role: TRIPLE[role] for role in metric.needs}))
    with pytest.raises(TypeError, match=name):
        metric(*_args(name, TRIPLE), TRIPLE["gt"], TRIPLE["gt"], TRIPLE["gt"], TRIPLE["gt"])


def test_examples_of_the_plain_function_form() -> None:
    f = TRIPLE["fused"]
    assert fm.avg(f) == fusionbench.evaluate(fused=f, metrics="AVG")["AVG"]
    assert fm.mi(TRIPLE["a"], TRIPLE["b"], f) == fusionbench.evaluate(TRIPLE["a"], TRIPLE["b"], f, metrics="QMI")["MI"]
    assert fm.psnr(f, gt=TRIPLE["gt"]) == fm.psnr(f, TRIPLE["gt"])


# -------------------------------------------------------------------- input conversion


def test_paths_are_accepted(tmp_path: Path) -> None:
    paths = {}
    for role, image in TRIPLE.items():
        paths[role] = tmp_path / f"{role}.png"
        Image.fromarray(image).save(paths[role])
    from_arrays = fusionbench.evaluate(**TRIPLE)
    from_paths = fusionbench.evaluate(**{k: str(v) for k, v in paths.items()})
    from_pathlib = fusionbench.evaluate(**paths)
    assert all(_same(from_arrays[k], from_paths[k]) and _same(from_arrays[k], from_pathlib[k]) for k in from_arrays)


def test_colour_is_converted_with_matlab_rgb2gray() -> None:
    rng = np.random.default_rng(3)

    def tint(gray: np.ndarray) -> np.ndarray:
        colour = gray[..., None] * np.array([1.0, 0.9, 0.8]) + rng.integers(0, 20, size=(*gray.shape, 3))
        return np.clip(colour, 0, 255).astype(np.uint8)

    rgb = {role: tint(image) for role, image in TRIPLE.items()}
    gray = {role: to_gray(image) for role, image in rgb.items()}
    from_rgb = fusionbench.evaluate(**rgb)
    from_gray = fusionbench.evaluate(**gray)
    assert all(_same(from_rgb[k], from_gray[k]) for k in from_rgb)


def test_uint16_is_scaled_to_the_8bit_range() -> None:
    as16 = {role: image.astype(np.uint16) * 257 for role, image in TRIPLE.items()}
    from8 = fusionbench.evaluate(**TRIPLE)
    from16 = fusionbench.evaluate(**as16)
    assert all(_same(from8[k], from16[k]) for k in from8)


def test_float_inputs_are_on_the_0_1_scale() -> None:
    as_float32 = {role: image.astype(np.float32) / np.float32(255) for role, image in TRIPLE.items()}
    as_float64 = {role: image / 255.0 for role, image in TRIPLE.items()}
    from8 = fusionbench.evaluate(**TRIPLE)
    for converted in (as_float32, as_float64):
        scores = fusionbench.evaluate(**converted)
        # 8-bit data held as float is read back as the 8-bit levels: identical scores.
        assert all(_same(from8[k], scores[k]) for k in from8)
    # Genuinely non-integer float data is used as it is.
    off_grid = {role: (image + 0.5) / 256.0 for role, image in TRIPLE.items()}
    x = fusionbench.metrics.MetricInputs.from_images(**off_grid)
    np.testing.assert_allclose(x.fused, (TRIPLE["fused"] + 0.5) / 256.0 * 255.0, rtol=0, atol=1e-12)


def test_integer_arrays_in_the_8bit_range_are_accepted() -> None:
    as_int = {role: image.astype(np.int32) for role, image in TRIPLE.items()}
    from8 = fusionbench.evaluate(**TRIPLE)
    from_int = fusionbench.evaluate(**as_int)
    assert all(_same(from8[k], from_int[k]) for k in from8)


# ----------------------------------------------------------------------------- bad input


def _bad_inputs() -> list[tuple[str, np.ndarray, str]]:
    """(case id, unusable image, expected message)."""
    ok = TRIPLE["fused"]
    nan = ok / 255.0
    nan[3, 4] = np.nan
    inf = ok / 255.0
    inf[0, 0] = np.inf
    negative = ok.astype(np.int32)
    negative[0, 0], negative[1, 1] = -1, 254
    rgba = np.dstack([ok, ok, ok, ok])
    return [
        ("empty", np.zeros((0, 0), np.uint8), r"0x0.*at least 2 pixels"),
        ("1x1", np.zeros((1, 1), np.uint8), r"1x1.*at least 2 pixels"),
        ("nan", nan, "NaN or infinite"),
        ("inf", inf, "NaN or infinite"),
        ("bool", ok > 100, "dtype bool"),
        ("complex", ok.astype(np.complex128), "dtype complex128"),
        ("object", ok.astype(object), "dtype object"),
        ("int32-out-of-range", negative, r"int32 with values -1\.\.\d+"),
        ("int16-over-255", ok.astype(np.int16) * 2, r"int16 with values"),
        ("float-0-255", ok.astype(np.float64), r"float with values in \[.*\]; float images must be in \[0, 1\]"),
        ("float-negative", ok / 255.0 - 0.5, "float images must be in"),
        ("rgba", rgba, "alpha channel"),
        ("two-channels", np.dstack([ok, ok]), r"shape \(H, W\) or \(H, W, 3\)"),
        ("1-D", ok.ravel(), r"shape \(H, W\) or \(H, W, 3\)"),
        ("4-D", ok[None, :, :, None], r"shape \(H, W\) or \(H, W, 3\)"),
    ]


BAD = _bad_inputs()


@pytest.mark.parametrize("case_id, bad, message", BAD, ids=[b[0] for b in BAD])
@pytest.mark.parametrize("name", ALL_METRICS)
def test_bad_input_raises_value_error_naming_metric_and_problem(
    name: str, case_id: str, bad: np.ndarray, message: str
) -> None:
    args = _args(name, TRIPLE)
    args[-1] = bad  # the fused image (or gt for the full-reference metrics)
    with pytest.raises(ValueError, match=message) as info:
        get_metric(name)(*args)
    assert str(info.value).startswith(f"{name}: "), str(info.value)


@pytest.mark.parametrize("name", [m for m in ALL_METRICS if len(get_metric(m).needs) > 1])
def test_mismatched_shapes_raise_value_error_naming_metric(name: str) -> None:
    args = _args(name, TRIPLE)
    args[0] = args[0][:-1, :]
    with pytest.raises(ValueError, match=rf"^{name}: image sizes differ \(.*35x44.*36x44"):
        get_metric(name)(*args)


def test_evaluate_names_the_role_of_the_bad_image() -> None:
    with pytest.raises(ValueError, match=r"^evaluate: b contains NaN"):
        fusionbench.evaluate(TRIPLE["a"], np.full(SIZE, np.nan), TRIPLE["fused"], metrics="MI")
    with pytest.raises(ValueError, match=r"^evaluate: image sizes differ"):
        fusionbench.evaluate(TRIPLE["a"], TRIPLE["b"][:, :-2], TRIPLE["fused"], metrics="MI")


def test_missing_file_raises_image_read_error(tmp_path: Path) -> None:
    with pytest.raises(fusionbench.ImageReadError, match="no such file"):
        fusionbench.evaluate(fused=tmp_path / "nope.png", metrics="AVG")
