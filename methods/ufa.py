"""UFA-Fuse (Zang et al., IEEE TIM 2021): an end-to-end CNN for multi-focus fusion with a
"unity fusion attention" fusion strategy, trained by fusionbench on synthetic multi-focus
pairs (see :mod:`fusionbench.nets.ufa` and ``reports/training/ufa.md``).

Four registered methods, one per trained network: ``ufa`` (the full model) and the ablation
variants of the paper's Table IV, ``ufa-no-ca``, ``ufa-no-sa``, ``ufa-no-ufa``. Weights ship
inside the package (``fusionbench/weights/<method>.safetensors``); ``weights=PATH`` uses
another file (e.g. from ``fusionbench train ufa``).

The network fuses RGB: gray pairs are replicated to three channels and the output is
converted back to gray with MATLAB's ``rgb2gray`` coefficients.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from fusionbench.io import RGB2GRAY_COEFFS
from fusionbench.nets.method import NetworkMethod
from fusionbench.registry import register_method

__all__ = ["UFA", "UFANoChannelAttention", "UFANoSpatialAttention", "UFANoAttention"]

REFERENCE = "Zang et al., UFA-Fuse"


@register_method("ufa", family="deep", reference=REFERENCE)
class UFA(NetworkMethod):
    """UFA-Fuse, full model.

    ``weights``: a ``.safetensors`` file, or the name of one shipped in
    ``fusionbench/weights/`` without its suffix (e.g. ``"ufa-ablation"``, the full model
    trained with the ablation variants' budget); None: this method's shipped weights.
    ``max_pixels`` / ``tile``: pairs larger than ``max_pixels`` pixels are fused in
    ``tile`` x ``tile`` tiles with exact results (bounded memory).
    ``device``: ``"cpu"`` (float32) or a CUDA device such as ``"cuda"`` (bf16 autocast).
    """

    color: ClassVar[str] = "native"
    variant: ClassVar[str] = "full"
    shipped_weights_caveat: ClassVar[str] = (
        "the shipped weights are under-trained (minutes on one GPU, far below the paper's 300 epochs): the "
        "scores understate UFA-Fuse; reports/training/ufa.md says what was trained and how to retrain")

    max_pixels: int = 1024 * 1024
    tile: int = 512

    @classmethod
    def load_network(cls, path: str):
        from fusionbench.nets.ufa.weights import load_model

        return load_model(path, cls.variant)

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from fusionbench.nets.ufa.inference import fuse_arrays

        model = self.network()
        gray = a.ndim == 2
        if gray:
            a, b = (np.repeat(x[..., np.newaxis], 3, axis=2) for x in (a, b))
        fused = fuse_arrays(model, a, b, max_pixels=self.max_pixels, tile=self.tile, device=self.device)
        if gray:
            fused = fused @ np.asarray(RGB2GRAY_COEFFS, dtype=np.float32)
        return fused


@register_method("ufa-no-ca", family="deep", reference=REFERENCE + " (ablation: no channel attention)")
class UFANoChannelAttention(UFA):
    """UFA-Fuse without the channel attention block (paper Table IV, NO-CA)."""

    variant: ClassVar[str] = "no-ca"


@register_method("ufa-no-sa", family="deep", reference=REFERENCE + " (ablation: no spatial attention)")
class UFANoSpatialAttention(UFA):
    """UFA-Fuse without the spatial attention block (paper Table IV, NO-SA)."""

    variant: ClassVar[str] = "no-sa"


@register_method("ufa-no-ufa", family="deep", reference=REFERENCE + " (ablation: no UFA module)")
class UFANoAttention(UFA):
    """UFA-Fuse without the UFA module: FEB7 features concatenated directly (Table IV, NO-UFA)."""

    variant: ClassVar[str] = "no-ufa"
