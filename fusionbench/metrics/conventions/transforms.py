"""Input transforms: how the user's images become the arrays a metric sees under a convention.

A transform turns the images of one evaluation (``{"a": ..., "b": ..., "fused": ...}``:
uint8/uint16 arrays, float arrays in [0, 1], or arrays read from files, gray or RGB) into one
or more *planes*, each a :class:`~fusionbench.metrics.inputs.MetricInputs`. A metric's value
under the convention is its definition evaluated on every plane, averaged over the planes
(one plane for gray transforms; three for VIFB's per-channel evaluation). Every plane has its
own memo, so metrics that share a transform share their intermediates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..inputs import MetricInputs, as_levels, as_metric_array, check_same_size

__all__ = ["InputTransform", "GRAY", "GRAY_UNIT", "RED", "OPENCV_GRAY", "RGB_CHANNELS", "RGB_SIDE_BY_SIDE"]

Images = dict[str, np.ndarray]


@dataclass(frozen=True)
class InputTransform:
    """A named way of turning user images into metric planes; ``description`` is one line."""

    name: str
    description: str
    planes: Callable[[Images, str], list[MetricInputs]]

    def __call__(self, images: Images, context: str = "evaluate") -> list[MetricInputs]:
        return self.planes(images, context)


def _per_image(convert: Callable[[np.ndarray, str, str], np.ndarray]) -> Callable[[Images, str], list[MetricInputs]]:
    """A one-plane transform applying ``convert(image, role, context)`` to each image."""

    def planes(images: Images, context: str) -> list[MetricInputs]:
        arrays = {role: convert(image, role, context) for role, image in images.items()}
        check_same_size(arrays, context)
        return [MetricInputs(**arrays)]

    return planes


def _gray_unit(image: np.ndarray, role: str, context: str) -> np.ndarray:
    return as_metric_array(image, role, context) / 255.0


def _first_channel(image: np.ndarray, role: str, context: str) -> np.ndarray:
    levels = as_levels(image, role, context)
    return levels[..., 0].copy() if levels.ndim == 3 else levels


# OpenCV's COLOR_BGR2GRAY coefficients, as float32.
_CV_R, _CV_G, _CV_B = np.float32(0.299), np.float32(0.587), np.float32(0.114)


def _fma32(x: np.ndarray, coefficient: np.float32, addend: np.ndarray) -> np.ndarray:
    """float32 fused multiply-add x * c + addend with one rounding (exact in float64 here:
    the product of two float32 values has at most 48 significant bits, and the sum of values
    below 2^9 stays within float64's 53)."""
    return (x.astype(np.float64) * np.float64(coefficient) + addend.astype(np.float64)).astype(np.float32)


def opencv_gray_levels(levels: np.ndarray) -> np.ndarray:
    """``np.round(cv2.cvtColor(bgr.astype('float32'), cv2.COLOR_BGR2GRAY))`` for colour
    levels on [0, 255] given as RGB: 0.299 R + 0.587 G + 0.114 B in float32 as OpenCV's
    vectorised code computes it, ``fma(R, 0.299, fma(B, 0.114, G * 0.587))`` (checked bit for
    bit against OpenCV 4.5.3 on AVX2 on the 60 Lytro/MFIFB colour images), then rounded half
    to even. Gray input is only rounded (OpenCV reads a gray file as three equal channels,
    whose weighted sum rounds back to the level)."""
    if levels.ndim == 2:
        return np.round(levels)
    r, g, b = (levels[..., k].astype(np.float32) for k in range(3))
    gray = _fma32(r, _CV_R, _fma32(b, _CV_B, g * _CV_G))
    return np.round(gray).astype(np.float64)


def _opencv_gray(image: np.ndarray, role: str, context: str) -> np.ndarray:
    return opencv_gray_levels(as_levels(image, role, context))


def _vifb_planes(images: Images, context: str) -> list[MetricInputs]:
    """VIFB's ``metricsXxx(imgVI, imgIR, fused)`` loop: with a colour fused image, one plane
    per channel k, each source contributing its channel k (a gray source, e.g. infrared, is
    used for every channel); with a gray fused image, one plane of gray images (colour
    sources converted with ``rgb2gray``)."""
    levels = {role: as_levels(image, role, context) for role, image in images.items()}
    check_same_size(levels, context)
    fused = levels.get("fused")
    if fused is None or fused.ndim == 2:
        gray = {role: as_metric_array(image, role, context) for role, image in images.items()}
        return [MetricInputs(**gray)]
    return [
        MetricInputs(**{role: (arr[..., k].copy() if arr.ndim == 3 else arr) for role, arr in levels.items()})
        for k in range(3)
    ]


def _side_by_side(images: Images, context: str) -> list[MetricInputs]:
    """VIFB's ``metricsSpatial_frequency``: ``[m, n] = size(fused)`` of an H x W x 3 array
    gives n = 3W, and its loops then index the channels as one H x 3W image [R G B]; a gray
    fused image is used as it is."""
    planes = _vifb_planes(images, context)
    if len(planes) == 1:
        return planes
    roles = [role for role in images if getattr(planes[0], role) is not None]
    return [MetricInputs(**{role: np.concatenate([p.image(role) for p in planes], axis=1) for role in roles})]


GRAY = InputTransform(
    "gray",
    "gray by MATLAB rgb2gray (rounded for integer data), 0..255",
    _per_image(as_metric_array),
)
GRAY_UNIT = InputTransform(
    "gray/255",
    "gray by MATLAB rgb2gray (rounded for integer data), scaled to [0, 1] (im2double)",
    _per_image(_gray_unit),
)
RED = InputTransform(
    "R",
    "first (R) channel of colour images (gray images as they are), 0..255",
    _per_image(_first_channel),
)
OPENCV_GRAY = InputTransform(
    "opencv-gray",
    "gray by OpenCV COLOR_BGR2GRAY in float32 (0.299 R + 0.587 G + 0.114 B), rounded half to even, 0..255",
    _per_image(_opencv_gray),
)
RGB_CHANNELS = InputTransform(
    "rgb-channels",
    "each colour channel separately (gray sources reused per channel), 0..255; the mean over channels",
    _vifb_planes,
)
RGB_SIDE_BY_SIDE = InputTransform(
    "rgb-side-by-side",
    "the channels of a colour fused image side by side as one H x 3W image [R G B], 0..255",
    _side_by_side,
)
