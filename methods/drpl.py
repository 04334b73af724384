"""DRPL, deep regression pair learning (J. Li, X. Guo, G. Lu, B. Zhang, Y. Xu, F. Wu, D. Zhang,
"DRPL: Deep regression pair learning for multi-focus image fusion", IEEE Trans. Image Process.
29: 4816-4831, 2020).

The network of :mod:`fusionbench.nets.drpl` (trained by fusionbench on synthetic multi-focus
pairs from BSDS500 with their binary masks, ``reports/training/drpl.md``) maps the RGB pair to
two focus masks ``M_a``, ``M_b``; as in the authors' ``test_net.py`` the fusion weight is
``W = (M_a + 1 - M_b) / 2`` and ``F = A W + B (1 - W)`` on every channel, with no other
post-processing. Gray pairs go through the network replicated to three channels.

``precision``: ``"float32"`` (default) or ``"bf16"`` (autocast; about 2x faster on CPUs with
AMX or AVX-512 BF16; the weights then differ by at most about 0.01, a few 8-bit levels).

Validation against the authors' outputs on Lytro (MFIFB's ``DPRL``): ``reports/validation/drpl.md``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from fusionbench.nets.method import NetworkMethod
from fusionbench.registry import register_method

__all__ = ["DRPLFusion"]


@register_method("drpl", family="deep", reference="Li et al., DRPL, IEEE TIP 29, 2020")
class DRPLFusion(NetworkMethod):
    """DRPL: the pair's two focus masks regressed by a residual CNN, averaged into one weight."""

    color: ClassVar[str] = "native"
    bytes_per_pixel: ClassVar[int] = 1500  # measured: peak RSS at 2048x2048 on the CPU, less the interpreter's, plus ~15 %
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

        self.check_memory(a.shape)

        def tensor(x: np.ndarray) -> torch.Tensor:
            x = np.repeat(x[..., np.newaxis], 3, axis=2) if x.ndim == 2 else x
            return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).permute(2, 0, 1)[None].to(self.device)

        device = torch.device(self.device)
        with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            model = self.network().to(device, memory_format=torch.channels_last)
            masks = model(*(tensor(x).contiguous(memory_format=torch.channels_last) for x in (a, b)))[0].float().cpu().numpy()
        return {"mask_a": masks[0], "mask_b": masks[1], "weights": (masks[0] + 1 - masks[1]) / 2}

    def fuse_color(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        w = self.maps(a, b)["weights"]
        if a.ndim == 3:
            w = w[..., np.newaxis]
        return a * w + b * (1 - w)
