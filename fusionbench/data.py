"""The embedded example: a synthetic multi-focus pair with ground truth, no download needed.

Built from images that ship inside scikit-image, so it works offline. Source ``a`` is sharp
on the left half and blurred on the right, ``b`` the opposite, and ``gt`` is the sharp image.
The blur is a ``blur`` x ``blur`` mean filter (the UFA-Fuse paper's training-pair generator
uses mean filters of 2..10 pixels).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

__all__ = ["Example", "example", "multifocus_pair"]


class Example(NamedTuple):
    """A multi-focus triple, float32 in [0, 1]: ``a`` (near), ``b`` (far), ``gt`` (all sharp)."""

    a: np.ndarray
    b: np.ndarray
    gt: np.ndarray


def multifocus_pair(gt: np.ndarray, focus: np.ndarray, blur: int = 7) -> Example:
    """Make a multi-focus pair from a sharp image and a focus mask.

    ``gt``: float [0, 1], (H, W) or (H, W, 3). ``focus``: bool (H, W), True where ``a`` is sharp.
    Each source is ``gt`` where it is in focus and the mean-filtered ``gt`` elsewhere.
    """
    gt = np.asarray(gt, dtype=np.float32)
    size = (blur, blur) if gt.ndim == 2 else (blur, blur, 1)
    blurred = ndimage.uniform_filter(gt, size=size, mode="reflect")
    mask = focus if gt.ndim == 2 else focus[..., np.newaxis]
    a = np.where(mask, gt, blurred).astype(np.float32)
    b = np.where(mask, blurred, gt).astype(np.float32)
    return Example(a, b, gt)


def example(color: bool = False, blur: int = 7) -> Example:
    """The embedded multi-focus example: scikit-image's ``camera`` (gray, 512x512) or
    ``astronaut`` (colour, 512x512), left half in focus in ``a``, right half in ``b``."""
    from skimage import data

    image = data.astronaut() if color else data.camera()
    gt = image.astype(np.float32) / np.float32(255)
    focus = np.zeros(gt.shape[:2], dtype=bool)
    focus[:, : gt.shape[1] // 2] = True
    return multifocus_pair(gt, focus, blur)
