"""Turning user images into the arrays metrics see, and sharing work between metrics.

Every metric computes on grayscale float64 arrays on the [0, 255] scale (the MATLAB reference
code's ``double(imread(...))`` of 8-bit files). :func:`as_metric_array` converts:

* ``uint8``: used as is; ``uint16``: multiplied by 255/65535;
* float: must lie in [0, 1] (checked), multiplied by 255; when every value is within 1e-4
  (on that scale) of an integer - 8-bit data held as float32, as methods return it - the
  exact integers are used, so scores equal those of the 8-bit file;
* a path (``str`` / ``os.PathLike``): read at native bit depth, then as above;
* colour ``(H, W, 3)``: converted to gray by :func:`fusionbench.io.to_gray` (MATLAB
  ``rgb2gray``; integer data is rounded to integers first, as MATLAB does on uint8).

:class:`MetricInputs` holds the converted arrays plus a memo, so that intermediates (gradients,
filtered images, histograms) are computed once when several metrics are evaluated together.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Hashable

import numpy as np

from ..io import read_image_native, to_gray

if TYPE_CHECKING:
    from .registry import Metric

ROLES = ("a", "b", "fused", "gt")

ImageLike = Any  # np.ndarray | str | os.PathLike

# Float input within this distance (on the [0, 255] scale) of integers everywhere is 8-bit data.
_ON_8BIT_GRID = 1e-4


def _checked(image: ImageLike, where: str) -> np.ndarray:
    """The image as an array (read if a path), after the checks every conversion needs:
    integer or float dtype, (H, W) or (H, W, 3), at least 2 pixels (one row or one column is
    allowed: the reference code scores such images too, where its windows fit); ``ValueError`` naming
    ``where`` otherwise. Integer data other than uint8/uint16 must lie in 0..255 (returned
    as uint8); float data must be finite and lie in [0, 1]."""
    if isinstance(image, (str, os.PathLike)):
        image = read_image_native(image)
    image = np.asarray(image)
    if image.dtype == bool or not (
        np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)
    ):
        raise ValueError(f"{where} has dtype {image.dtype}; pass uint8, uint16 or float in [0, 1]")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.shape[2] == 4:
        raise ValueError(f"{where} has an alpha channel (H, W, 4); drop it first (image[..., :3])")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"{where} must have shape (H, W) or (H, W, 3), got {image.shape}")
    if image.shape[0] * image.shape[1] < 2:
        raise ValueError(f"{where} is {image.shape[0]}x{image.shape[1]}; metrics need at least 2 pixels")
    if np.issubdtype(image.dtype, np.integer):
        if image.dtype not in (np.uint8, np.uint16):
            lo, hi = int(image.min()), int(image.max())
            if lo < 0 or hi > 255:
                raise ValueError(
                    f"{where} is {image.dtype} with values {lo}..{hi}; pass uint8 (0..255), "
                    "uint16 (0..65535) or float in [0, 1]"
                )
            image = image.astype(np.uint8)
        return image
    image = image.astype(np.float64, copy=False)
    if not np.all(np.isfinite(image)):
        raise ValueError(f"{where} contains NaN or infinite values")
    lo, hi = float(image.min()), float(image.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(
            f"{where} is float with values in [{lo:g}, {hi:g}]; float images must be in [0, 1] "
            "(divide 0..255 data by 255, or pass it as uint8)"
        )
    return image


def as_levels(image: ImageLike, role: str = "image", context: str = "metric") -> np.ndarray:
    """Convert one image to float64 on the [0, 255] scale, keeping its colour channels
    (``(H, W)`` or ``(H, W, 3)``): uint8 as is, uint16 times 255/65535, float times 255
    (exact integer levels when on the 8-bit grid, as in :func:`as_metric_array`). For metric
    conventions that do not convert colour with ``rgb2gray``."""
    image = _checked(image, f"{context}: {role}")
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    if image.dtype == np.uint16:
        return image * (255.0 / 65535.0)
    scaled = image * 255.0
    levels = np.rint(scaled)
    return levels if np.abs(scaled - levels).max() <= _ON_8BIT_GRID else scaled


def as_metric_array(image: ImageLike, role: str = "image", context: str = "metric") -> np.ndarray:
    """Convert one image to a gray float64 array on [0, 255]; raise ``ValueError`` naming
    ``context`` (the metric or caller) and ``role`` when the input is unusable."""
    image = _checked(image, f"{context}: {role}")
    if np.issubdtype(image.dtype, np.integer):
        gray = to_gray(image).astype(np.float64)
        if image.dtype == np.uint16:
            gray *= 255.0 / 65535.0
        return gray
    scaled = image * 255.0
    levels = np.rint(scaled)
    if np.abs(scaled - levels).max() <= _ON_8BIT_GRID:
        # 8-bit data held as float32 (what methods return) misses k/255 by up to ~1e-5 on
        # this scale, enough to flip the exact ties of edge thinning (FMI); use the levels.
        return to_gray(levels.astype(np.uint8)).astype(np.float64)
    return scaled if image.ndim == 2 else to_gray(image) * 255.0


def check_same_size(arrays: dict[str, np.ndarray], context: str) -> None:
    """Raise ``ValueError`` naming ``context`` when the images' heights and widths differ."""
    shapes = {role: arr.shape[:2] for role, arr in arrays.items()}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{role} {h}x{w}" for role, (h, w) in shapes.items())
        raise ValueError(f"{context}: image sizes differ ({listed}); all images must be the same size")


class MetricInputs:
    """The arrays of one evaluation (gray float64 on [0, 255] under the reference convention;
    a convention's input transform may give others, e.g. one colour channel or [0, 1]), plus
    a memo of intermediates.

    Attributes ``a``, ``b``, ``fused``, ``gt`` are the arrays (``None`` when not given).
    Use :meth:`cached` for anything another metric may also need.
    """

    def __init__(self, **arrays: np.ndarray | None) -> None:
        unknown = set(arrays) - set(ROLES)
        if unknown:
            raise TypeError(f"unknown image roles {sorted(unknown)}; roles are {ROLES}")
        self.a = arrays.get("a")
        self.b = arrays.get("b")
        self.fused = arrays.get("fused")
        self.gt = arrays.get("gt")
        self._memo: dict[Hashable, Any] = {}

    @classmethod
    def from_images(cls, context: str = "evaluate", **images: ImageLike) -> "MetricInputs":
        """Convert user images (arrays or paths) and check that their sizes agree."""
        arrays = {
            role: as_metric_array(image, role, context)
            for role, image in images.items()
            if image is not None
        }
        check_same_size(arrays, context)
        return cls(**arrays)

    def image(self, role: str) -> np.ndarray:
        arr = getattr(self, role)
        if arr is None:
            raise ValueError(f"image {role!r} was not given")
        return arr

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Return the memoised value for ``key``, computing it once with ``compute()``."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def has(self, roles: tuple[str, ...]) -> bool:
        return all(getattr(self, role) is not None for role in roles)

    def run(self, metric: "Metric", compute: Callable[["MetricInputs"], float] | None = None) -> float:
        """Compute ``metric`` on these inputs, with its own definition or ``compute`` (a
        convention's; see :mod:`fusionbench.metrics.conventions`). Division warnings are
        silenced: degenerate inputs give the documented NaN/inf of the reference code instead
        of a warning flood."""
        for role in metric.needs:
            if getattr(self, role) is None:
                raise ValueError(f"{metric.name} needs image {role!r}")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return float((compute or metric.compute)(self))
