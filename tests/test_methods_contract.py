"""The contract every fusion method meets, one row per method in METHOD_CASES.

On a synthetic multi-focus pair with known ground truth (left half sharp in A, right half in
B), the fused image must be closer to the ground truth than either source (PSNR), in gray and
in colour; fusion must be deterministic and return float32 [0, 1] of the input size.
Adding a method = one module in methods/ + one row here.
"""

from __future__ import annotations

import numpy as np
import pytest

import fusionbench
from fusionbench.data import multifocus_pair
from fusionbench.registry import get_method_class

# (method name, parameters used in the test). Every registered built-in method needs a row.
METHOD_CASES: list[tuple[str, dict]] = [
    ("average", {}),
    ("max", {}),
    ("dwt", {}),
    ("swt", {}),
    ("dtcwt", {}),
    ("lp", {}),
    ("rp", {}),
    ("mp", {}),
    ("sf", {}),
    ("gff", {}),
    ("dsift", {}),
    ("mwgf", {}),
    ("imf", {}),
    ("cvt", {}),
    ("nsct", {}),
    ("gtf", {}),
    ("sr", {"step": 4}),  # patches every 4 pixels instead of 2: the same algorithm, 4x fewer codes
    ("ufa", {}),  # the shipped weights
    ("ufa-no-ca", {}),
    ("ufa-no-sa", {}),
    ("ufa-no-ufa", {}),
    ("sesf", {}),
    ("cnn", {}),
    ("mffgan", {}),
    ("drpl", {}),
    ("densefuse", {}),  # rule=add
    ("densefuse", {"rule": "l1"}),
    ("deepfuse", {}),
    ("ifcnn", {}),  # rule=max
    ("ifcnn", {"rule": "sum"}),
]

# Methods that are not expected to beat the sources on a multi-focus pair (documented why).
NOT_MULTIFOCUS = {
    "average": "averaging halves the contrast of the in-focus detail; it is the lower bound",
    "max": "choose-max keeps the brighter pixel, not the sharper one",
    "gtf": "infrared-visible method: keeps a's intensities and b's gradients, not the sharper of the two",

}

SIZE = 96


def _texture(rng: np.random.Generator, color: bool) -> np.ndarray:
    """A band-limited random texture with structure at several scales, in [0, 1]. In colour,
    as in photographs, the fine structure is shared by the channels and the colour varies
    slowly (a texture whose channels are independent at every scale is nothing a network
    trained on natural images has seen)."""
    from scipy import ndimage

    noise = rng.random((SIZE, SIZE))
    img = sum(ndimage.gaussian_filter(noise, sigma=s) * w for s, w in ((0.7, 1.0), (2.0, 1.5), (5.0, 2.0)))
    img = (img - img.min()) / (img.max() - img.min())
    if color:
        tint = ndimage.gaussian_filter(rng.random((SIZE, SIZE, 3)), sigma=(8, 8, 0))
        tint = (tint - tint.min()) / (tint.max() - tint.min())
        img = img[..., np.newaxis] * (0.5 + 0.5 * tint)
    return img.astype(np.float32)


def _pair(color: bool):
    rng = np.random.default_rng(7)
    focus = np.zeros((SIZE, SIZE), dtype=bool)
    focus[:, : SIZE // 2] = True
    return multifocus_pair(_texture(rng, color), focus, blur=7)


def _psnr(x: np.ndarray, ref: np.ndarray) -> float:
    mse = float(np.mean((x.astype(np.float64) - ref.astype(np.float64)) ** 2))
    return 10 * np.log10(1.0 / mse)


def test_every_builtin_method_has_a_case() -> None:
    builtin = {n for n in fusionbench.list_methods() if get_method_class(n).__module__.startswith("fusionbench.methods")}
    missing = builtin - {name for name, _ in METHOD_CASES} - {"precomputed"}
    assert not missing, f"add a METHOD_CASES row for {sorted(missing)}"


@pytest.mark.parametrize("color", [False, True], ids=["gray", "color"])
@pytest.mark.parametrize("name,params", METHOD_CASES, ids=[c[0] for c in METHOD_CASES])
def test_fuses_multifocus_pair(name: str, params: dict, color: bool) -> None:
    pair = _pair(color)
    method = fusionbench.create_method(name, **params)
    fused = method.fuse(pair.a, pair.b)
    assert fused.dtype == np.float32
    assert fused.shape == pair.gt.shape
    assert fused.min() >= 0.0 and fused.max() <= 1.0
    np.testing.assert_array_equal(fused, method.fuse(pair.a, pair.b), err_msg="not deterministic")
    if name in NOT_MULTIFOCUS:
        return
    psnr_fused = _psnr(fused, pair.gt)
    best_source = max(_psnr(pair.a, pair.gt), _psnr(pair.b, pair.gt))
    assert psnr_fused > best_source, f"{name}: fused {psnr_fused:.2f} dB <= best source {best_source:.2f} dB"
