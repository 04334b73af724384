"""SESF-Fuse (B. Ma, Y. Zhu, X. Yin, X. Ban, H. Huang, M. Mukeshimana, "SESF-Fuse: an
unsupervised deep model for multi-focus image fusion", Neural Computing and Applications 33:
5793-5804, 2021).

The steps of the paper, in the order of the authors' ``SESF_Fuse.fuse`` (their Python code),
with the encoder of :mod:`fusionbench.nets.sesf` (trained by fusionbench for reconstruction on
BSDS500, ``reports/training/sesf.md``):

1. Gray sources in [0, 1] (scikit-image ``rgb2gray`` weights 0.2125, 0.7154, 0.0721 for
   colour), normalised with the authors' mean and standard deviation.
2. Activity: spatial frequency of the 64 deep feature maps, summed over an 11x11 window
   (``sf_radius`` = 5) and over the channels; decision ``D = 1`` where ``a``'s is larger.
3. Consistency verification: morphological opening with a disk of radius ``disk_radius`` = 5,
   removal of the 4-connected true regions smaller than ``area_ratio`` = 0.01 of the image,
   closing with the same disk, removal of the small false regions (scikit-image's
   ``binary_opening``, ``remove_small_holes``, ``binary_closing`` of the authors' time:
   outside the image counts as false for erosion too, so the closing strips ``disk_radius``
   pixels off every region of ``a`` that meets the border; on Lytro this is worth 5 dB of
   agreement with the authors' images).
4. Guided filter of ``D`` with radius ``gf_radius`` = 4, ``gf_eps`` = 0.1, guided by the
   initial fusion ``A D + B (1 - D)`` on the 0..255 scale. For colour it is the authors'
   per-channel variant (:func:`sesf_guided_filter`), not He et al.'s colour guided filter.
5. ``F = A W + B (1 - W)`` on the 0..255 values of every channel, clipped and truncated to
   8 bits (``astype(np.uint8)``), as the authors' code returns it.

Validation against the authors' outputs on Lytro: ``reports/validation/sesf.md``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import ndimage

from fusionbench.io import to_uint8
from fusionbench.nets.method import NetworkMethod
from fusionbench.registry import register_method

from ._common import box_counts, box_sum

__all__ = ["SESFFusion", "SKIMAGE_GRAY", "consistency_verification", "sesf_guided_filter"]

# scikit-image rgb2gray (ITU-R BT.709 luma), which the authors' code uses.
SKIMAGE_GRAY = (0.2125, 0.7154, 0.0721)
FOUR_CONNECTED = ndimage.generate_binary_structure(2, 1)


def _disk(radius: int) -> np.ndarray:
    """scikit-image ``morphology.disk``: ``x^2 + y^2 <= r^2``."""
    y, x = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return x * x + y * y <= radius * radius


def _fill_small_holes(mask: np.ndarray, area: float) -> np.ndarray:
    """scikit-image ``remove_small_holes(mask, area)``: false regions (4-connected) of fewer
    than ``area`` pixels become true."""
    labels, count = ndimage.label(~mask, structure=FOUR_CONNECTED)
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    small = sizes < area
    small[0] = False
    return mask | small[labels]


def consistency_verification(decision: np.ndarray, disk_radius: int = 5, area_ratio: float = 0.01) -> np.ndarray:
    """Step 3 of the module docstring on a boolean (H, W) decision map."""
    disk = _disk(disk_radius)
    area = area_ratio * decision.size
    # Outside the image counts as false for erosion and dilation alike (scipy's default, which
    # the scikit-image of the authors' time passed on; scikit-image >= 0.16 erodes with true).
    opened = ndimage.binary_dilation(ndimage.binary_erosion(decision, disk), disk)
    opened = ~_fill_small_holes(~opened, area)  # small true regions -> false
    closed = ndimage.binary_erosion(ndimage.binary_dilation(opened, disk), disk)
    return _fill_small_holes(closed, area)  # small false regions -> true


def sesf_guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """The authors' guided filter. Gray guide (H, W): He et al.'s. Colour guide (H, W, 3):
    per channel ``a_c = cov(I_c, p) / (var(I_c) + eps)``, ``b = mean(p) - sum_c a_c mean(I_c)``,
    ``q = sum_c mean(a_c) I_c + mean(b)`` (box means over the border-clipped window of radius
    ``r``). ``src`` (H, W); float64 out (H, W)."""
    guide = np.asarray(guide, dtype=np.float64)
    src = np.asarray(src, dtype=np.float64)
    colour = guide.ndim == 3
    count = box_counts(guide.shape, r)
    if colour:
        count3 = count[..., np.newaxis]
        src3 = src[..., np.newaxis]
    else:
        count3, src3 = count, src
    mean_i = box_sum(guide, r) / count3
    mean_p = box_sum(src, r) / count
    cov_ip = box_sum(guide * src3, r) / count3 - mean_i * (mean_p[..., np.newaxis] if colour else mean_p)
    var_i = box_sum(guide * guide, r) / count3 - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - ((a * mean_i).sum(axis=2) if colour else a * mean_i)
    mean_a = box_sum(a, r) / count3
    mean_b = box_sum(b, r) / count
    return ((mean_a * guide).sum(axis=2) if colour else mean_a * guide) + mean_b


@register_method("sesf", family="deep", reference="Ma et al., SESF-Fuse, Neural Comput. Appl. 33, 2021")
class SESFFusion(NetworkMethod):
    """SESF-Fuse: spatial frequency of deep features, consistency verification, guided filter."""

    color: ClassVar[str] = "native"
    bytes_per_pixel: ClassVar[int] = 1800  # measured: peak RSS at 2048x2048 on the CPU, less the interpreter's, plus ~15 %

    sf_radius: int = 5
    disk_radius: int = 5
    area_ratio: float = 0.01
    gf_radius: int = 4
    gf_eps: float = 0.1

    @classmethod
    def load_network(cls, path: str):
        from fusionbench.nets.sesf import SESFNet
        from fusionbench.nets.weights import load_state

        model = SESFNet()
        load_state(model, path, "the SESF-Fuse encoder-decoder")
        return model.eval()

    def __post_init__(self) -> None:
        for name in ("sf_radius", "disk_radius", "gf_radius"):
            if getattr(self, name) < 1:
                raise ValueError(f"sesf: {name} must be >= 1, got {getattr(self, name)!r}")
        if not 0 <= self.area_ratio < 1 or not self.gf_eps > 0:
            raise ValueError(f"sesf: area_ratio must be in [0, 1) and gf_eps > 0, got {self.area_ratio!r}, {self.gf_eps!r}")

    def maps(self, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
        """Intermediate maps (H, W): ``activity_a``, ``activity_b``, ``binary`` (step 2),
        ``decision`` (step 3), ``weights`` (step 4), and the 8-bit sources ``a``, ``b``."""
        import torch

        from fusionbench.nets.sesf import MEAN, STD, spatial_frequency

        self.check_memory(a.shape)
        a8, b8 = (to_uint8(x).astype(np.float64) for x in (a, b))
        model = self.network().to(self.device)
        activity = []
        with torch.inference_mode():
            for image in (a8, b8):
                gray = image / 255.0 if image.ndim == 2 else (image / 255.0) @ np.asarray(SKIMAGE_GRAY)
                x = torch.from_numpy(((gray.astype(np.float32) - np.float32(MEAN)) / np.float32(STD)))[None, None]
                activity.append(spatial_frequency(model.encode(x.to(self.device)), self.sf_radius)[0].cpu().numpy())
        binary = activity[0] > activity[1]
        decision = consistency_verification(binary, self.disk_radius, self.area_ratio)
        d = decision.astype(np.float64)
        d3 = d if a8.ndim == 2 else d[..., np.newaxis]
        weights = sesf_guided_filter(a8 * d3 + b8 * (1 - d3), d, self.gf_radius, self.gf_eps)
        return {"activity_a": activity[0], "activity_b": activity[1], "binary": binary, "decision": decision,
                "weights": weights, "a": a8, "b": b8}

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        maps = self.maps(a, b)
        w = maps["weights"] if a.ndim == 2 else maps["weights"][..., np.newaxis]
        fused = maps["a"] * w + maps["b"] * (1.0 - w)
        return np.clip(fused, 0, 255).astype(np.uint8)  # the authors' truncation to 8 bits
