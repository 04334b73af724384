"""The Siamese focus classifier of Liu et al.'s CNN fusion (Y. Liu, X. Chen, H. Peng, Z. Wang,
"Multi-focus image fusion with a deep convolutional neural network", Information Fusion 36:
191-207, 2017).

Network (paper Fig. 2; the layers of the authors' released ``CNN_Fusion.m``): each of two
weight-sharing branches maps a gray patch to features with conv1 (64 filters 3x3), conv2 (128,
3x3), a 2x2 max-pooling of stride 2 and conv3 (256, 3x3), every convolution zero-padded to keep
the size and followed by ReLU. The two 256-channel maps are concatenated (512 channels) and
classified by two fully-connected layers, 256 and 2 outputs, then a softmax. On a 16x16 patch
pair the branch output is 8x8, so the first fully-connected layer is an 8x8 convolution: the
network applies fully-convolutionally to whole images and gives one score per 16x16 window,
every 2 pixels.

In the authors' inference code the fully-connected layers have no bias and no nonlinearity
between them, so they compose into one linear map from the 512x8x8 features to the two
logits; fusionbench trains that map directly (``fc``, one 8x8 convolution with two outputs):
the same functions, 65 thousand parameters instead of 8.4 million (weights of 1.5 MB instead
of 35 MB), and a whole-image pass about 100x cheaper than through a 256-channel layer.

Class 1 means "the first patch is the focused one" (the authors' ``outMap`` is the second
softmax output, and their decision map takes the first image where it exceeds 0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .data import PatchPairDataset, resolve_source
from .network import Curve, Network, TrainConfig, float32, option

__all__ = ["PATCH", "STRIDE", "CNNFocusNet", "CNNConfig", "CNNNetwork"]

PATCH = 16  # training patch size: one score per PATCH x PATCH window
STRIDE = 2  # the windows' spacing (one 2x2 max-pooling)


class CNNFocusNet(nn.Module):
    """Siamese focus classifier (see module docstring). ``forward(a, b)``: (N, 1, H, W) gray
    tensors in [0, 1] -> (N, 2, h, w) logits, ``h = ceil(H / 2) - 7``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 3, padding=1)
        self.conv2 = nn.Conv2d(64, 128, 3, padding=1)
        self.conv3 = nn.Conv2d(128, 256, 3, padding=1)
        self.fc = nn.Conv2d(512, 2, PATCH // STRIDE, bias=False)  # the paper's fc2 . fc1

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        # MATLAB's maxpooling_s2 pads odd sizes with zeros; after a ReLU that is ceil_mode.
        x = F.max_pool2d(x, 2, ceil_mode=True)
        return F.relu(self.conv3(x))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.cat((self.branch(a), self.branch(b)), 1))

    def focus_scores(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """P(``a`` is the focused one) for every 16x16 window (stride 2), (N, 1, h, w): the
        softmax's second output, ``sigmoid(logit_1 - logit_0)``, with one output channel (both
        branches in one batch)."""
        features = self.branch(torch.cat((a, b), 0))
        n = a.shape[0]
        difference = (self.fc.weight[1] - self.fc.weight[0])[None]
        return torch.sigmoid(F.conv2d(torch.cat((features[:n], features[n:]), 1), difference))

    def tiled_focus_scores(self, a: torch.Tensor, b: torch.Tensor, tile: int) -> torch.Tensor:
        """:meth:`focus_scores` computed ``tile`` x ``tile`` scores at a time, the same values
        (up to float rounding) with memory bounded by the tile. A score row ``r`` reads input
        rows ``2r - 4 .. 2r + 19`` (its 16-pixel window, the 3x3 convolutions on both sides of
        the pooling), so each tile takes input from 4 score rows before to 9 after it, starting
        on an even row so that the 2x2 pooling keeps its alignment; the scores next to a tile's
        cut edges, which see the zero padding there instead of the image, are not kept."""
        height, width = a.shape[2:]
        rows, cols = (height + 1) // 2 - (PATCH // STRIDE - 1), (width + 1) // 2 - (PATCH // STRIDE - 1)
        out = torch.empty((a.shape[0], 1, rows, cols), dtype=torch.float32, device=a.device)
        for r0 in range(0, rows, tile):
            r1 = min(rows, r0 + tile)
            y0, y1 = max(0, 2 * (r0 - 2)), min(height, 2 * r1 + 18)
            for c0 in range(0, cols, tile):
                c1 = min(cols, c0 + tile)
                x0, x1 = max(0, 2 * (c0 - 2)), min(width, 2 * c1 + 18)
                part = self.focus_scores(a[:, :, y0:y1, x0:x1], b[:, :, y0:y1, x0:x1])
                out[:, :, r0:r1, c0:c1] = part[:, :, r0 - y0 // 2 : r1 - y0 // 2, c0 - x0 // 2 : c1 - x0 // 2]
        return out


@dataclass
class CNNConfig(TrainConfig):
    """:class:`~fusionbench.nets.network.TrainConfig` with the paper's data: 16x16 patches of
    natural images, gray, and versions blurred ``1..levels`` times by a Gaussian of standard
    deviation ``sigma`` cut off to 7x7 (each level blurring the previous one); batches of 128."""

    crop: str = option(str(PATCH), f"patch size (the classifier needs {PATCH})")
    batch: int = option(128, "patch pairs per step")
    val_crop: int = option(PATCH, "validation patch size")
    val_pairs: int = option(512, "held-out validation patch pairs")
    sigma: float = option(2.0, "Gaussian blur standard deviation")
    levels: int = option(5, "blur levels (each blurs the previous one)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.crop != str(PATCH) or self.val_crop != PATCH:
            raise ValueError(f"cnn trains on {PATCH}x{PATCH} patches (crop and val_crop {PATCH}), got {self.crop!r}, {self.val_crop}")
        if not self.sigma > 0 or self.levels < 1:
            raise ValueError(f"sigma must be > 0 and levels >= 1, got {self.sigma}, {self.levels}")


class CNNNetwork(Network):
    """``fusionbench train cnn``: cross-entropy of the two-class softmax on (clear, blurred)
    patch pairs in random order (class 1: the first patch is the clear one)."""

    name = "cnn"
    config_class = CNNConfig
    summary = "CNN focus classifier (Liu et al., Information Fusion 2017) on 16x16 (clear, blurred) patch pairs"
    curves = (
        Curve("loss", "training cross-entropy"),
        Curve("accuracy", "training accuracy", log=False),
        Curve("val_accuracy", "validation accuracy, held-out patch pairs", log=False),
    )

    def build(self, config: CNNConfig) -> CNNFocusNet:
        return CNNFocusNet()

    def dataset(self, config: CNNConfig, role: str, crop: int, seed: int):
        return PatchPairDataset(resolve_source(config.data, role, config.data_dir), crop=PATCH, seed=seed,
                                channels=1, sigma=config.sigma, radius=3, max_level=config.levels)

    def loss(self, model, batch: dict, config: CNNConfig) -> dict:
        logits = model(batch["a"], batch["b"])[:, :, 0, 0]
        label = batch["label"].long()
        with float32(logits):
            loss = F.cross_entropy(logits.float(), label)
        return {"loss": loss, "accuracy": (logits.argmax(1) == label).float().mean()}

    def validate(self, model, batch: dict, config: CNNConfig) -> dict[str, float]:
        return {f"val_{k}": float(v) for k, v in self.loss(model, batch, config).items()}
