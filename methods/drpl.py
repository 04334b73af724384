"""DRPL, deep regression pair learning (J. Li, X. Guo, G. Lu, B. Zhang, Y. Xu, F. Wu, D. Zhang,
"DRPL: Deep regression pair learning for multi-focus image fusion", IEEE Trans. Image Process.
29: 4816-4831, 2020).

The network of :mod:`fusionbench.nets.drpl` (trained by fusionbench on synthetic multi-focus
pairs from BSDS500 with their binary masks, ``reports/training/drpl.md``) maps the RGB pair to
two focus masks ``M_a``, ``M_b``; as in the authors' ``test_net.py`` the fusion weight is
``W = (M_a + 1 - M_b) / 2`` and ``F = A W + B (1 - W)`` on every channel, with no other
post-processing. Gray pairs go through the network replicated to three channels.

The network is local (receptive radius 33 pixels), so pairs above ``max_pixels`` pixels are
fused in ``tile`` x ``tile`` tiles with that halo, the same result with bounded memory.

``precision``: ``"float32"`` (default) or ``"bf16"`` (autocast; about 2x faster on CPUs with
AMX or AVX-512 BF16; the weights then differ by at most about 0.01, a few 8-bit levels).

Validation against the authors' outputs on Lytro (MFIFB's ``DPRL``): ``reports/validation/drpl.md``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from fusionbench.nets.method import LocalNetworkMethod
from fusionbench.registry import register_method

__all__ = ["DRPLFusion"]


@register_method("drpl", family="deep", reference="Li et al., DRPL, IEEE TIP 29, 2020")
class DRPLFusion(LocalNetworkMethod):
    """DRPL: the pair's two focus masks regressed by a residual CNN, averaged into one weight."""

    color: ClassVar[str] = "native"
    # 9x9 and two 3x3 convolutions in the head, 12 residual blocks of two 3x3, two 3x3 in the
    # tail, the 3x3 output: pairs above max_pixels are fused in exact tiles with this halo.
    radius: ClassVar[int] = 4 + 2 + 12 * 2 + 2 + 1
    shipped_weights_caveat: ClassVar[str] = (
        "the shipped weights are under-trained (45 minutes on a CPU, the loss still falling): their focus masks "
        "leave holes in large flat regions; reports/validation/drpl.md, reports/training/drpl.md")

    precision: Literal["float32", "bf16"] = "float32"

    @classmethod
    def load_network(cls, path: str):
        from fusionbench.nets.drpl import DRPLNet
        from fusionbench.nets.weights import load_state

        model = DRPLNet()
        load_state(model, path, "the DRPL network")
        return model.eval()

    def maps(self, a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
        """The network's masks ``mask_a``, ``mask_b`` and the fusion weight
        ``weights`` = ``(M_a + 1 - M_b) / 2``, float32 (H, W) in [0, 1]."""
        import torch

        def channels_first(x: np.ndarray) -> np.ndarray:  # (3, H, W) float32; gray replicated
            x = np.repeat(x[..., np.newaxis], 3, axis=2) if x.ndim == 2 else x
            return np.ascontiguousarray(np.moveaxis(x, 2, 0), dtype=np.float32)

        model = self.model()
        device_type = torch.device(self.device).type

        def masks_of(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                return model(x, y).float()

        masks = self.run(masks_of, channels_first(a), channels_first(b))
        return {"mask_a": masks[0], "mask_b": masks[1], "weights": (masks[0] + 1 - masks[1]) / 2}

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        w = self.maps(a, b)["weights"]
        if a.ndim == 3:
            w = w[..., np.newaxis]
        return a * w + b * (1 - w)
