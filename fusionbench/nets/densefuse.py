"""DenseFuse (H. Li and X.-J. Wu, "DenseFuse: A Fusion Approach to Infrared and Visible Images",
IEEE Transactions on Image Processing 28(5):2614-2623, 2019), Sec. III of the paper.

Network (gray images, (N, 1, H, W) in [0, 1]; every convolution 3x3, stride 1, reflection
padding as in the authors' code, ReLU after each except the last):

* encoder: C1 1->16, then a dense block DC1 16->16, DC2 32->16, DC3 48->16, each layer seeing
  the concatenation of all earlier outputs; the features are that concatenation, 64 channels;
* decoder: C2 64->64, C3 64->32, C4 32->16, C5 16->1 (no activation).

It is trained as an autoencoder (fusion plays no part in training): loss
``MSE(O, I) + lam * (1 - SSIM(O, I))``, ``lam = 100`` (the paper's chosen weight, 1e2).

Fusion (Sec. III-C) of the encoder features phi_1, phi_2 (k = 2 sources, M = 64 channels):

* ``"add"``: f = phi_1 + phi_2 (DenseFuse-ADD);
* ``"l1"`` (DenseFuse-L1): activity C_i(x, y) = ||phi_i^{1:M}(x, y)||_1 (over the channels),
  block average over a (2r+1) x (2r+1) window, r = 1, giving C^_i (the window is clipped at
  the image border), weights w_i = C^_i / sum_n C^_n (the paper's "soft-max" step is this
  normalisation, not an exponential one; the authors' code does the same) and
  f = sum_i w_i phi_i; equal weights where both activities are 0.

The decoder turns f into the fused image. The authors' code then stretches it linearly to the
full 8-bit range (its minimum to 0, its maximum to 255: scipy's ``imsave`` does it in their
TensorFlow code, an explicit min-max normalisation in their PyTorch code); without it the
ADD rule's doubled features would make the image about twice as bright. :func:`stretch`
does the same to the joint range of the two sources, which is the full range for typical
8-bit sources and Y's legal range [16, 235] / 255 when fusionbench's colour policy hands the
network luminance.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["RULES", "SSIM_WEIGHT", "BLOCK_RADIUS", "DenseFuse", "fuse_features", "l1_weights", "stretch", "RECEPTIVE_RADIUS"]

RULES = ("add", "l1")
SSIM_WEIGHT = 100.0  # lambda of the loss, the paper's 1e2
BLOCK_RADIUS = 1  # r of the l1-norm rule's block average
FEATURES = 64
GROWTH = 16
# Four 3x3 convolutions before fusion, the 3x3 block average, four after.
RECEPTIVE_RADIUS = 4 + BLOCK_RADIUS + 4


def _conv(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=3, padding=1, padding_mode="reflect")


class DenseFuse(nn.Module):
    """The DenseFuse autoencoder (see the module docstring); :meth:`fuse` fuses two images."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _conv(1, GROWTH)
        self.dense = nn.ModuleList([_conv(GROWTH * (i + 1), GROWTH) for i in range(3)])
        self.decoder = nn.ModuleList([_conv(64, 64), _conv(64, 32), _conv(32, 16), _conv(16, 1)])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) -> (N, 64, H, W): C1, then the dense block's concatenated outputs."""
        features = F.relu_(self.conv1(x))
        for layer in self.dense:
            features = torch.cat([features, F.relu_(layer(features))], dim=1)
        return features

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        """(N, 64, H, W) -> (N, 1, H, W), not clipped."""
        for layer in self.decoder[:-1]:
            features = F.relu_(layer(features))
        return self.decoder[-1](features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction (training): decode(encode(x))."""
        return self.decode(self.encode(x))

    def fuse(self, a: torch.Tensor, b: torch.Tensor, rule: str = "add") -> torch.Tensor:
        """Fuse (N, 1, H, W) images with ``rule`` (:data:`RULES`) -> (N, 1, H, W), the decoder's
        output before :func:`stretch`."""
        n = a.shape[0]
        features = self.encode(torch.cat([a, b], dim=0))
        return self.decode(fuse_features(features[:n], features[n:], rule))


def l1_weights(phi_1: torch.Tensor, phi_2: torch.Tensor, radius: int = BLOCK_RADIUS) -> tuple[torch.Tensor, torch.Tensor]:
    """DenseFuse's l1-norm weights (N, 1, H, W) of two feature maps (N, M, H, W); they sum to 1."""
    activity = [phi.abs().sum(dim=1, keepdim=True) for phi in (phi_1, phi_2)]
    if radius > 0:
        size = 2 * radius + 1
        activity = [F.avg_pool2d(c, size, stride=1, padding=radius, count_include_pad=False) for c in activity]
    total = activity[0] + activity[1]
    w1 = torch.where(total > 0, activity[0] / total.clamp_min(torch.finfo(total.dtype).tiny), 0.5)
    return w1, 1.0 - w1


def stretch(decoded: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map ``decoded`` linearly so that its minimum becomes ``low`` and its maximum ``high`` (the
    authors' min-max normalisation of the decoder output); a constant image is clipped instead."""
    lo, hi = float(decoded.min()), float(decoded.max())
    if not hi - lo > 1e-12:
        return np.clip(decoded, low, high)
    return ((decoded - lo) * ((high - low) / (hi - lo)) + low).astype(np.float32)


def fuse_features(phi_1: torch.Tensor, phi_2: torch.Tensor, rule: str) -> torch.Tensor:
    """The fusion layer: ``"add"`` (sum) or ``"l1"`` (l1-norm weighted average)."""
    if rule == "add":
        return phi_1 + phi_2
    if rule == "l1":
        w1, w2 = l1_weights(phi_1, phi_2)
        return w1 * phi_1 + w2 * phi_2
    raise ValueError(f"unknown DenseFuse fusion rule {rule!r}; choose one of {RULES}")


# --- training (fusionbench train densefuse) -------------------------------------------------

from dataclasses import dataclass  # noqa: E402  (training declarations below the network)

from .data import ReconstructionDataset, resolve_source  # noqa: E402
from .init import he_normal_  # noqa: E402
from .losses import psnr, ssim  # noqa: E402
from .network import Curve, Network, TrainConfig, float32, option  # noqa: E402


@dataclass
class DenseFuseConfig(TrainConfig):
    """:class:`~fusionbench.nets.network.TrainConfig` plus the SSIM weight lambda of the loss
    (paper: 1e2). The paper trains on 256x256 gray images, batch 2, Adam lr 1e-4."""

    ssim_weight: float = option(SSIM_WEIGHT, "lambda: loss = MSE + lambda * (1 - SSIM)", flag="--lambda")
    crop: str = option("256", "crop size, or schedule SIZE[@STEP],... (paper: 256)")
    batch: int = option(2, "images per step (paper: 2)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ssim_weight < 0:
            raise ValueError(f"lambda must be >= 0, got {self.ssim_weight}")


def reconstruction_loss(out, image, ssim_weight: float):
    """``(loss, mse, ssim)``: ``MSE(out, image) + ssim_weight * (1 - SSIM(out, image))`` (paper Eq. 1-3)."""
    out, image = out.float(), image.float()
    mse = ((out - image) ** 2).mean()
    s = ssim(out, image)
    return mse + ssim_weight * (1.0 - s), mse, s


class DenseFuseNetwork(Network):
    name = "densefuse"
    config_class = DenseFuseConfig
    summary = "DenseFuse (Li & Wu, IEEE TIP 2019): autoencoder on gray natural-image crops"
    curves = (
        Curve("loss", "training loss  MSE + λ(1−SSIM)"),
        Curve("mse", "training MSE"),
        Curve("ssim", "training 1 − SSIM", transform=lambda s: 1.0 - s),
        Curve("val_psnr", "validation reconstruction PSNR (dB)", log=False),
    )

    def build(self, config: DenseFuseConfig):
        return he_normal_(DenseFuse())

    def dataset(self, config: DenseFuseConfig, role: str, crop: int, seed: int):
        return ReconstructionDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed, channels=1)

    def loss(self, model, batch: dict, config: DenseFuseConfig) -> dict:
        out = model(batch["image"])
        with float32(out):
            loss, mse, s = reconstruction_loss(out, batch["image"], config.ssim_weight)
        return {"loss": loss, "mse": mse, "ssim": s}

    def validate(self, model, batch: dict, config: DenseFuseConfig) -> dict[str, float]:
        out = model(batch["image"]).float().clamp(0, 1)
        loss, mse, s = reconstruction_loss(out, batch["image"], config.ssim_weight)
        return {"val_psnr": psnr(out, batch["image"]), "val_ssim": float(s), "val_loss": float(loss)}

    def run_label(self, config: DenseFuseConfig) -> str:
        return f"densefuse, λ={config.ssim_weight:g}"
