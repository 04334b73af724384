"""The SESF-Fuse encoder-decoder (B. Ma, Y. Zhu, X. Yin, X. Ban, H. Huang, M. Mukeshimana,
"SESF-Fuse: an unsupervised deep model for multi-focus image fusion", Neural Computing and
Applications 33: 5793-5804, 2021) and its spatial-frequency activity on deep features.

Every convolution is 3x3, zero-padded, followed by ReLU and then batch normalisation (that
order, as in the authors' code). Encoder: conv 1->16 and a dense block of three convs
(16->16, 32->16, 48->16), each of the four outputs recalibrated by a squeeze-and-excitation
layer (global average pool, 16->2->16 without bias, ReLU, sigmoid); the features are the
concatenation of the four (64 channels). Decoder: convs 64->64->32->16->1. The network is
trained to reconstruct its (normalised) gray input, with no fusion in training.

Fusion uses only the encoder: :func:`spatial_frequency` of each source's 64 feature maps,
summed over channels, and the decision map takes the first source where its activity is
strictly larger (the post-processing is in ``methods/sesf.py``).

Inputs are gray images in [0, 1] normalised as the authors' (``(x - MEAN) / STD``).

Training (``fusionbench train sesf``, :class:`SESFNetwork`): reconstruction of gray crops
(:class:`~fusionbench.nets.data.ReconstructionDataset`), loss ``L1 + w (1 - SSIM)`` on the
normalised images, SSIM with a 5x5 Gaussian window (sigma 1.5). The authors' loss is
``sum |x - y| + 1000 (1 - SSIM)`` over batches of 48 images of 256x256, so per pixel the SSIM
term weighs ``w = 1000 / (48 * 256 * 256)`` (:data:`AUTHORS_SSIM_WEIGHT`) against the mean L1:
that ratio is the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .data import ReconstructionDataset, resolve_source
from .losses import psnr, ssim
from .network import Curve, Network, TrainConfig, float32, option

__all__ = ["MEAN", "STD", "SESFNet", "spatial_frequency", "SESFConfig", "SESFNetwork", "AUTHORS_SSIM_WEIGHT"]

# The authors' normalisation of their gray COCO training images.
MEAN = 0.4500517361627943
STD = 0.26465333914691797
# Weight of (1 - SSIM) against the mean L1 that the authors' summed L1 implies (see above).
AUTHORS_SSIM_WEIGHT = 1000 / (48 * 256 * 256)


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(out_channels))


class SqueezeExcitation(nn.Module):
    """Channel attention: ``x * sigmoid(W2 relu(W1 mean(x)))`` (16 -> 2 -> 16, no biases)."""

    def __init__(self, channels: int = 16, reduction: int = 8) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // reduction, bias=False)
        self.fc2 = nn.Linear(channels // reduction, channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * weights[:, :, None, None]


class SESFNet(nn.Module):
    """Encoder (:meth:`encode`, 64 feature channels) and decoder; ``forward`` reconstructs."""

    def __init__(self) -> None:
        super().__init__()
        self.features = _conv_block(1, 16)
        self.encode1 = _conv_block(16, 16)
        self.encode2 = _conv_block(32, 16)
        self.encode3 = _conv_block(48, 16)
        self.se = nn.ModuleList(SqueezeExcitation() for _ in range(4))
        self.decode = nn.Sequential(_conv_block(64, 64), _conv_block(64, 32), _conv_block(32, 16), _conv_block(16, 1))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        dense = self.se[0](self.features(x))
        for layer, se in zip((self.encode1, self.encode2, self.encode3), self.se[1:]):
            dense = torch.cat((dense, se(layer(dense))), 1)
        return dense

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def spatial_frequency(features: torch.Tensor, radius: int = 5) -> torch.Tensor:
    """SESF's activity: ``(f(y, x-1) - f)^2 + (f(y-1, x) - f)^2`` of each feature map (zero
    outside the image), summed over the ``(2 radius + 1)^2`` window around each pixel (zero
    padding) and over the channels. (N, C, H, W) -> (N, H, W)."""
    left = F.pad(features, (1, 0, 0, 0))[:, :, :, :-1]
    up = F.pad(features, (0, 0, 1, 0))[:, :, :-1, :]
    energy = ((left - features) ** 2 + (up - features) ** 2).sum(dim=1, keepdim=True)
    size = 2 * radius + 1
    window = torch.ones(1, 1, size, size, dtype=energy.dtype, device=energy.device)
    return F.conv2d(energy, window, padding=radius)[:, 0]


def normalise(gray: torch.Tensor) -> torch.Tensor:
    """Gray images in [0, 1] -> the network's input scale."""
    return (gray - MEAN) / STD


@dataclass
class SESFConfig(TrainConfig):
    """:class:`~fusionbench.nets.network.TrainConfig` plus the SSIM weight; batches are not
    split into micro-batches (batch normalisation sees the whole batch)."""

    crop: str = option("128", "crop size, or schedule SIZE[@STEP],...")
    batch: int = option(16, "crops per step")
    ssim_weight: float = option(AUTHORS_SSIM_WEIGHT, "weight of 1 - SSIM against the mean L1")
    micro_batch_pixels: int = option(1 << 22, "process a batch in chunks of this many pixels")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ssim_weight < 0:
            raise ValueError(f"ssim_weight must be >= 0, got {self.ssim_weight}")


class SESFNetwork(Network):
    """``fusionbench train sesf``: unsupervised reconstruction of gray natural-image crops."""

    name = "sesf"
    config_class = SESFConfig
    summary = "SESF-Fuse encoder-decoder (Ma et al., Neural Comput. Appl. 2021): gray reconstruction"
    curves = (
        Curve("loss", "training loss  L1 + w(1 − SSIM)"),
        Curve("l1", "training L1 (normalised units)"),
        Curve("val_psnr", "validation reconstruction PSNR (dB)", log=False),
    )

    def build(self, config: SESFConfig) -> SESFNet:
        return SESFNet()

    def dataset(self, config: SESFConfig, role: str, crop: int, seed: int):
        return ReconstructionDataset(resolve_source(config.data, role, config.data_dir), crop=crop, seed=seed, channels=1)

    def loss(self, model, batch: dict, config: SESFConfig) -> dict:
        x = normalise(batch["image"])
        out = model(x)
        with float32(out):
            out = out.float()
            l1 = (out - x).abs().mean()
            s = ssim(out, x, window_size=5)
        return {"loss": l1 + config.ssim_weight * (1 - s), "l1": l1, "ssim": s}

    def validate(self, model, batch: dict, config: SESFConfig) -> dict[str, float]:
        x = normalise(batch["image"])
        out = model(x).float()
        reconstruction = (out * STD + MEAN).clamp(0, 1)
        return {"val_psnr": psnr(reconstruction, batch["image"]), "val_l1": float((out - x).abs().mean())}
