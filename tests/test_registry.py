"""The method registry: input checks, output checks, the shared colour policy, parameters."""

from __future__ import annotations

import numpy as np
import pytest

import fusionbench
from fusionbench import registry
from fusionbench.io import rgb_to_ycbcr, ycbcr_to_rgb
from fusionbench.registry import FusionMethod, MethodOutputError, register_method


@pytest.fixture
def temporary_methods():
    """Register test-only methods and remove them afterwards."""
    before = dict(registry._METHODS)
    yield
    registry._METHODS.clear()
    registry._METHODS.update(before)


RNG = np.random.default_rng(5)
GRAY = RNG.random((12, 9)).astype(np.float32)
RGB = RNG.random((12, 9, 3)).astype(np.float32)


@pytest.mark.parametrize(
    "a,b,message",
    [
        (GRAY, GRAY[:, :8], "inputs differ in size (a is 9x12, b is 8x12"),
        (np.where(GRAY > 0.5, np.nan, GRAY), GRAY, "input a contains NaN or infinite values"),
        (GRAY, np.where(GRAY > 0.5, np.inf, GRAY), "input b contains NaN or infinite values"),
        (GRAY * 255, GRAY, "float images must be in [0, 1]"),
        (GRAY.astype(np.int32), GRAY, "has dtype int32"),
        (RNG.random((12, 9, 4)), GRAY, "must have shape (H, W) or (H, W, 3)"),
        (GRAY[:1], GRAY[:1], "need at least 2x2 pixels"),
    ],
)
def test_bad_inputs_are_rejected_naming_the_method(a, b, message) -> None:
    with pytest.raises(ValueError) as info:
        fusionbench.fuse(a, b, method="dwt")
    assert message in str(info.value) and str(info.value).startswith("dwt:")


def test_integer_inputs_are_rescaled() -> None:
    a8 = (GRAY * 255).astype(np.uint8)
    a16 = a8.astype(np.uint16) * 257
    np.testing.assert_allclose(fusionbench.fuse(a8, a16, method="average"), a8 / 255.0, atol=1e-6)


def test_wrong_output_is_reported_with_the_method_name(temporary_methods) -> None:
    @register_method("test-bad-shape")
    class BadShape(FusionMethod):
        def fuse_gray(self, a, b):
            return a[:-1]

    @register_method("test-nan")
    class ReturnsNaN(FusionMethod):
        def fuse_gray(self, a, b):
            return np.full_like(a, np.nan)

    with pytest.raises(MethodOutputError, match="'test-bad-shape' returned shape"):
        fusionbench.fuse(GRAY, GRAY, method="test-bad-shape")
    with pytest.raises(MethodOutputError, match="'test-bad-shape' returned shape"):
        fusionbench.fuse(RGB, RGB, method="test-bad-shape")  # through the colour policy too
    with pytest.raises(MethodOutputError, match="'test-nan' returned NaN"):
        fusionbench.fuse(GRAY, GRAY, method="test-nan")


def _reference_policy(a: np.ndarray, b: np.ndarray, fuse_y) -> np.ndarray:
    """The colour policy written out in float64 with fusionbench.io's conversions."""
    ya, yb = (rgb_to_ycbcr(np.repeat(x[..., None], 3, axis=2) if x.ndim == 2 else x) for x in (a, b))
    y = fuse_y(ya[..., 0], yb[..., 0])
    wa, wb = np.abs(ya[..., 1:] - 128 / 255), np.abs(yb[..., 1:] - 128 / 255)
    total = wa + wb
    chroma = np.where(total > 0, (ya[..., 1:] * wa + yb[..., 1:] * wb) / np.where(total > 0, total, 1), 128 / 255)
    return np.clip(ycbcr_to_rgb(np.concatenate([y[..., None], chroma], axis=2)), 0, 1)


@pytest.mark.parametrize("name", ["average", "max", "lp"])
@pytest.mark.parametrize("kinds", [("rgb", "rgb"), ("gray", "rgb"), ("rgb", "gray")])
def test_colour_policy_fuses_y_and_weights_chroma(name, kinds) -> None:
    a = RGB if kinds[0] == "rgb" else GRAY
    b = RNG.random((12, 9, 3)).astype(np.float32) if kinds[1] == "rgb" else GRAY
    method = fusionbench.create_method(name)
    expected = _reference_policy(a, b, lambda ya, yb: method.fuse_gray(ya.astype(np.float32), yb.astype(np.float32)))
    fused = method.fuse(a, b)
    assert fused.shape == (12, 9, 3) and fused.dtype == np.float32
    np.testing.assert_allclose(fused, expected, atol=2e-6)


def test_gray_plus_colour_keeps_the_colour_sides_chroma() -> None:
    muted = np.float32(0.4) + np.float32(0.2) * RGB  # in gamut after fusion: no clipping
    fused = fusionbench.fuse(GRAY * np.float32(0.2) + np.float32(0.4), muted, method="average")
    np.testing.assert_allclose(rgb_to_ycbcr(fused)[..., 1:], rgb_to_ycbcr(muted)[..., 1:], atol=1e-5)


def test_native_methods_get_gray_replicated_next_to_colour(temporary_methods) -> None:
    seen = {}

    @register_method("test-native")
    class Native(FusionMethod):
        color = "native"

        def fuse_color(self, a, b):
            seen["shapes"] = (a.shape, b.shape)
            return a

    fused = fusionbench.fuse(GRAY, RGB, method="test-native")
    assert seen["shapes"] == ((12, 9, 3), (12, 9, 3))
    np.testing.assert_array_equal(fused, np.repeat(GRAY[..., None], 3, axis=2))


def test_parameters_are_checked_by_name(temporary_methods) -> None:
    with pytest.raises(TypeError, match=r"has no parameter\(s\) \['radius'\]; parameters: \['base_size', 'eps1'"):
        fusionbench.create_method("gff", radius=3)
    with pytest.raises(TypeError, match=r"needs the parameter\(s\) \['folder'\]"):
        fusionbench.create_method("precomputed")
    with pytest.raises(KeyError, match="unknown method 'nope'; available: average"):
        fusionbench.create_method("nope")
    method = fusionbench.create_method("gff", r1=9)
    assert method.identity() == {"method": "gff", "version": "1", "params": {**method.params(), "r1": 9}}
    assert method.params()["eps2"] == 1e-6


def test_list_methods_pattern_and_duplicate_names(temporary_methods) -> None:
    assert fusionbench.list_methods("D*") == sorted(n for n in fusionbench.list_methods() if n.startswith("d"))
    with pytest.raises(ValueError, match="'gff' is already registered by fusionbench.methods.gff"):

        @register_method("gff")
        class Impostor(FusionMethod):
            pass
