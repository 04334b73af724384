"""Training UFA-Fuse on synthetic multi-focus pairs (paper Sec. III-A, III-C, IV-A) with the
shared loop of :mod:`fusionbench.nets.train`: ``fusionbench train ufa ...``.

Loss (Eq. 1): ``lam * L1 + (1 - lam) * (1 - SSIM)`` between the fused output and the ground
truth, SSIM with an 11x11 Gaussian window (sigma 1.5), C1 = 0.01^2, C2 = 0.03^2 for data in
[0, 1], averaged over the valid window positions and the three channels (computed in float32).
Adam; the paper's schedule (lr 1e-4, divided by 10 after 200 of 300 epochs) is scaled to the
step budget: by default the learning rate drops by ``lr_factor`` at 2/3 of ``steps``.
Data: :class:`~fusionbench.nets.data.MultiFocusDataset` (RGB). Validation: PSNR, SSIM, L1
and loss of the clamped output on held-out pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..data import MultiFocusDataset, resolve_source
from ..losses import psnr, ssim
from ..network import Curve, Network, TrainConfig, float32, option, parse_crop_schedule
from .model import VARIANTS, UFAFuse
from .weights import method_name

__all__ = ["UFAConfig", "UFANetwork", "fusion_loss"]


@dataclass
class UFAConfig(TrainConfig):
    """:class:`~fusionbench.nets.network.TrainConfig` plus the network variant, the loss weight
    and the initialisation (:meth:`~fusionbench.nets.ufa.model.UFAFuse.initialize`)."""

    variant: str = option("full", "ablation variant", choices=VARIANTS)
    lam: float = option(0.2, "loss weight of L1", flag="--lambda")
    init: str = option("kaiming", "weight initialisation", choices=("kaiming", "default"))

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of {VARIANTS}")
        if not 0.0 <= self.lam <= 1.0:
            raise ValueError(f"lambda must be in [0, 1], got {self.lam}")
        if any(size < 16 for size, _ in parse_crop_schedule(self.crop)) or self.val_crop < 16:
            raise ValueError(f"UFA-Fuse crops must be at least 16 pixels (the SSIM window is 11), got {self.crop!r}")

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> "UFAConfig":
        return cls(**{"init": "default", **saved})  # runs started before the option existed used the default


def fusion_loss(fused, gt, lam: float):
    """``(loss, l1, ssim)`` of Eq. 1: ``lam * L1 + (1 - lam) * (1 - SSIM)``."""
    fused, gt = fused.float(), gt.float()
    l1 = (fused - gt).abs().mean()
    s = ssim(fused, gt)
    return lam * l1 + (1.0 - lam) * (1.0 - s), l1, s


class UFANetwork(Network):
    name = "ufa"
    config_class = UFAConfig
    summary = "UFA-Fuse (Zang et al., IEEE TIM 2021) on synthetic multi-focus pairs; --variant for Table IV"
    curves = (
        Curve("loss", "training loss  λ·L1 + (1−λ)(1−SSIM)"),
        Curve("l1", "training L1"),
        Curve("ssim", "training 1 − SSIM", transform=lambda s: 1.0 - s),
        Curve("val_psnr", "validation PSNR (dB), held-out pairs", log=False),
    )

    def build(self, config: UFAConfig):
        return UFAFuse(config.variant).initialize(config.init)

    def dataset(self, config: UFAConfig, role: str, crop: int, seed: int):
        return MultiFocusDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed)

    def loss(self, model, batch: dict, config: UFAConfig) -> dict:
        fused = model(batch["a"], batch["b"])
        with float32(fused):
            loss, l1, s = fusion_loss(fused, batch["gt"], config.lam)
        return {"loss": loss, "l1": l1, "ssim": s}

    def validate(self, model, batch: dict, config: UFAConfig) -> dict[str, float]:
        out = model(batch["a"], batch["b"]).float().clamp(0, 1)
        loss, l1, s = fusion_loss(out, batch["gt"], config.lam)
        return {"val_psnr": psnr(out, batch["gt"]), "val_ssim": float(s), "val_l1": float(l1), "val_loss": float(loss)}

    def weights_name(self, config: UFAConfig) -> str:
        return method_name(config.variant)

    def weights_metadata(self, config: UFAConfig) -> dict[str, str]:
        return {"variant": config.variant}

    def run_label(self, config: UFAConfig) -> str:
        return f"{config.variant}, λ={config.lam}"
