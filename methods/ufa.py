"""UFA-Fuse (Zang et al., IEEE TIM 2021): an end-to-end CNN for multi-focus fusion with a
"unity fusion attention" fusion strategy, trained by fusionbench on synthetic multi-focus
pairs (see :mod:`fusionbench.ufa` and ``reports/training/ufa.md``).

Four registered methods, one per trained network: ``ufa`` (the full model) and the ablation
variants of the paper's Table IV, ``ufa-no-ca``, ``ufa-no-sa``, ``ufa-no-ufa``. Weights ship
inside the package (``fusionbench/weights/<method>.safetensors``); ``weights=PATH`` uses
another file (e.g. from ``fusionbench train``). torch is imported only when a method fuses,
so listing methods stays fast.

The network fuses RGB: gray pairs are replicated to three channels and the output is
converted back to gray with MATLAB's ``rgb2gray`` coefficients.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fusionbench.io import RGB2GRAY_COEFFS
from fusionbench.registry import FusionMethod, register_method

__all__ = ["UFA", "UFANoChannelAttention", "UFANoSpatialAttention", "UFANoAttention"]

REFERENCE = "Zang et al., UFA-Fuse"


@functools.lru_cache(maxsize=16)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str:
    from fusionbench.ufa.weights import sha256_file

    return sha256_file(path)


@functools.lru_cache(maxsize=4)
def _cached_model(path: str, sha256: str, variant: str):
    from fusionbench.ufa.weights import load_model

    return load_model(path, variant)


@register_method("ufa", family="deep", reference=REFERENCE)
class UFA(FusionMethod):
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

    weights: str | None = None
    max_pixels: int = 1024 * 1024
    tile: int = 512
    device: str = "cpu"

    def weights_path(self) -> Path:
        from fusionbench.ufa.weights import WEIGHTS_DIR, shipped_weights

        if self.weights is None:
            return shipped_weights(self.variant)
        shipped = WEIGHTS_DIR / f"{self.weights}.safetensors"
        if os.sep not in self.weights and "/" not in self.weights and shipped.is_file():
            return shipped
        return Path(self.weights)

    def weights_sha256(self) -> str:
        from fusionbench.ufa.weights import WeightsError

        path = self.weights_path()
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise WeightsError(f"{path}: weights file of method {self.name!r} not found"
                               + ("" if self.weights else "; re-install fusionbench")) from None
        return _file_sha256(str(path), stat.st_mtime_ns, stat.st_size)

    def identity(self) -> dict[str, Any]:
        identity = super().identity()
        identity["weights_sha256"] = self.weights_sha256()
        return identity

    def caveat(self) -> str:
        from fusionbench.ufa.weights import WEIGHTS_DIR

        if self.weights_path().parent != WEIGHTS_DIR:  # the user's own weights
            return ""
        return ("the shipped weights are under-trained (CPU only, far below the paper's budget): the scores "
                "understate UFA-Fuse; reports/training/ufa.md says what was trained and how to retrain")

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from fusionbench.ufa.inference import fuse_arrays

        model = _cached_model(str(self.weights_path()), self.weights_sha256(), self.variant)
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
