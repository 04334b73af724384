"""Properties every registered metric must have (hypothesis), parametrized over the registry so
that a newly registered metric is covered without editing this file:

* on random images the value is finite and inside the registered range;
* metrics whose definition is symmetric in the two sources give the same value with a and b
  swapped (ASYMMETRIC lists the exceptions, each with its reason);
* fused == a == b (and gt == fused) gives the metric's ideal value where it has one (IDEAL);
* constant images give a finite value or NaN, without warnings.

Images are small but odd-sized (64 x 67: VIFF's four-scale pyramid of 'valid' windows needs
about 64 x 64 and gives NaN below, as the reference code does) and example counts low, to keep
the suite fast.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage

import fusionbench
from fusionbench.metrics import MetricInputs, get_metric

# Metrics that need larger images than SHAPE, and where their properties are tested instead.
NEEDS_LARGER: dict[str, str] = {
    "MS_SSIM": "five scales of an 11 x 11 window need a side of at least 176 (tests/test_metrics_extra.py)",
}
ALL_METRICS = [m for m in fusionbench.list_metrics() if m not in NEEDS_LARGER]
SHAPE = (64, 67)

# Metrics whose value changes when the two sources are swapped, and why. (FMI is not here:
# fmi.m processes A first and reuses the normalised fused window for B, but for binary edge
# windows that only moves values by rounding, see fusionbench.metrics.feature_mi.)
ASYMMETRIC: dict[str, str] = {
    "VIFF": "VIFF_Public.m takes, per pixel, the source with the smaller gain g and B on ties; "
    "g is clipped to 0 where a source and the fused image are anti-correlated, so ties are "
    "common when the fused image is unrelated to both sources",
}

# Xydeas-Petrovic with metricXydeas.m's constants: identical images give G = A = 1 everywhere,
# so Q = Gamma_g / (1 + exp(k_g (1 - s_g))) * Gamma_a / (1 + exp(k_a (1 - s_a))) < 1.
_QABF_IDEAL = 0.9994 / (1 + math.exp(-15 * (1 - 0.5))) * 0.9879 / (1 + math.exp(-22 * (1 - 0.8)))

# Value for fused == a == b (and gt == fused), from each metric's definition.
IDEAL: dict[str, float] = {
    "MI": 2.0,  # I(A;F) = H(A) = H(F): 2 (1/2 + 1/2)
    "FMI": 1.0,  # every window pair is identical
    "PSNR": math.inf,  # zero error
    "SSIM": 1.0,
    "Qabf": _QABF_IDEAL,
    "Qc": 1.0,  # contrast-preservation ratio 1, weights sum to 1
    "Qcv": 0.0,  # no difference to penalise (lower is better)
    "Qcvejic": 1.0,  # SSIM maps are 1
    "Qy": 1.0,
    "Qw": 1.0,
    "Qs": 1.0,
    "Qe": 1.0,
    "Qm": 3.0,  # every edge-preservation term exp(0) = 1 in the three bands: 3^(2/3) 3^(1/3)
    "VIFF": 1.0,  # each band's fused information equals the source's (see IDEAL_TOLERANCE)
    "Nabf": 0.0,  # no fused edge is stronger than both sources' (lower is better)
    "VIFp_A": 1.0,  # vifp_mscale(A, A): num = den up to the 1e-10 guards (see IDEAL_TOLERANCE)
    "VIFp_B": 1.0,
    "VIFp_sum": 2.0,
    "CC": 1.0,
    "SSIMs": 1.0,
}
# Wider tolerances than 1e-9 for the ideal value, and why.
IDEAL_TOLERANCE: dict[str, float] = {
    "VIFF": 1e-6,  # g = s12 / (s1^2 + 1e-10) and the 1e-7 added to each sum keep it below 1
    "VIFp_A": 1e-6,  # g = s12 / (s1^2 + 1e-10) and sv^2 >= 1e-10 keep it just below 1
    "VIFp_B": 1e-6,
    "VIFp_sum": 1e-6,
}
# Metrics that have no ideal value for identical inputs, and why.
NO_IDEAL: dict[str, str] = {
    "NCIE": "depends on the image's entropy: NCC(A,A) = H(A)/8 is 1 only for a uniform histogram",
    "SCD": "corr2(F - B + 1e-5, A) of the constant difference is a rounding-level value: SCD ~ 0",
    "TE": "Tsallis entropy of (A, A) depends on A's histogram, like NCIE",
    "Qp": "metricZhao.m correlates the masked source feature maps (zero where phase congruency <= 0.1) "
    "with the unmasked fused map, so identical images score below 1 (Octave: 0.98743 on a 64x64 case)",
}
NO_REFERENCE = [m for m in ALL_METRICS if get_metric(m).needs == ("fused",)]

EXAMPLES = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _image(rng: np.random.Generator, kind: str) -> np.ndarray:
    """A non-constant uint8 image of one of several kinds of content."""
    if kind == "noise":
        image = rng.integers(0, 256, SHAPE)
    elif kind == "smooth":
        field = ndimage.gaussian_filter(rng.random(SHAPE), rng.uniform(1, 4))
        image = (field - field.min()) / max(np.ptp(field), 1e-12) * 255
    elif kind == "blocks":
        coarse = rng.integers(0, 256, (4, 5))
        block = (-(-SHAPE[0] // 4), -(-SHAPE[1] // 5))
        image = np.kron(coarse, np.ones(block))[: SHAPE[0], : SHAPE[1]]
    elif kind == "low_contrast":
        image = rng.integers(100, 120, SHAPE)
    else:  # binary
        image = (rng.random(SHAPE) < 0.3) * 255
    image = np.asarray(np.floor(image + 0.5), dtype=np.uint8)
    image[0, 0], image[-1, -1] = 0, 255  # never constant
    return image


KINDS = st.sampled_from(["noise", "smooth", "blocks", "low_contrast", "binary"])


@st.composite
def image_sets(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """Random sources and a fused image that is either a mix of them or unrelated."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a, b = _image(rng, draw(KINDS)), _image(rng, draw(KINDS))
    how = draw(st.sampled_from(["average", "max", "select", "unrelated"]))
    if how == "average":
        fused = np.floor((a.astype(float) + b) / 2 + 0.5).astype(np.uint8)
    elif how == "max":
        fused = np.maximum(a, b)
    elif how == "select":
        fused = np.where(rng.random(SHAPE) < 0.5, a, b)
    else:
        fused = _image(rng, draw(KINDS))
    gt = _image(rng, draw(KINDS)) if draw(st.booleans()) else a
    return {"a": a, "b": b, "fused": fused, "gt": gt}


def _run(name: str, images: dict[str, np.ndarray]) -> float:
    metric = get_metric(name)
    return MetricInputs.from_images(**{role: images[role] for role in metric.needs}).run(metric)


@pytest.mark.parametrize("name", ALL_METRICS)
@EXAMPLES
@given(images=image_sets())
def test_value_is_finite_and_in_the_registered_range(name: str, images: dict[str, np.ndarray]) -> None:
    value = _run(name, images)
    lo, hi = get_metric(name).range
    assert math.isfinite(value), f"{name} = {value}"
    slack = 1e-9 * max(1.0, abs(lo) if math.isfinite(lo) else 1.0, abs(hi) if math.isfinite(hi) else 1.0)
    assert lo - slack <= value <= hi + slack, f"{name} = {value} outside [{lo}, {hi}]"


SOURCE_METRICS = [m for m in ALL_METRICS if {"a", "b"} <= set(get_metric(m).needs)]


@pytest.mark.parametrize("name", [m for m in SOURCE_METRICS if m not in ASYMMETRIC])
@EXAMPLES
@given(images=image_sets())
def test_symmetric_in_the_two_sources(name: str, images: dict[str, np.ndarray]) -> None:
    forward = _run(name, images)
    swapped = _run(name, {**images, "a": images["b"], "b": images["a"]})
    assert swapped == pytest.approx(forward, rel=1e-9, abs=1e-12, nan_ok=True)


def test_every_metric_with_sources_has_an_ideal_value_decision() -> None:
    undecided = [m for m in ALL_METRICS if m not in IDEAL and m not in NO_IDEAL and m not in NO_REFERENCE]
    assert not undecided, f"add these metrics to IDEAL or NO_IDEAL: {undecided}"


@pytest.mark.parametrize("name", [m for m in ALL_METRICS if m in IDEAL])
@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), kind=KINDS)
def test_identical_inputs_give_the_ideal_value(name: str, seed: int, kind: str) -> None:
    image = _image(np.random.default_rng(seed), kind)
    value = _run(name, {"a": image, "b": image, "fused": image, "gt": image})
    tolerance = IDEAL_TOLERANCE.get(name, 1e-9)
    assert value == pytest.approx(IDEAL[name], rel=tolerance, abs=tolerance)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name", ALL_METRICS)
@EXAMPLES
@given(levels=st.lists(st.sampled_from([0, 1, 128, 254, 255]), min_size=4, max_size=4), textured=st.booleans())
def test_constant_images_give_a_finite_value_or_nan_without_warnings(
    name: str, levels: list[int], textured: bool
) -> None:
    """Every image constant (or only the fused one, with textured sources): no exception,
    no warning, and a finite value or NaN (inf only for PSNR of identical images)."""
    rng = np.random.default_rng(sum(levels))
    images = {role: np.full(SHAPE, level, dtype=np.uint8) for role, level in zip(("a", "b", "fused", "gt"), levels)}
    if textured:
        images["a"], images["b"] = _image(rng, "smooth"), _image(rng, "noise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = _run(name, images)
    identical = levels[2] == levels[3]
    assert math.isnan(value) or math.isfinite(value) or (name == "PSNR" and identical and value == math.inf)
