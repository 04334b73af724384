"""Loss and quality functions shared by the networks' training (torch, (N, C, H, W) in [0, 1])."""

from __future__ import annotations

import math

__all__ = ["ssim", "psnr"]


def _gaussian_window(size: int = 11, sigma: float = 1.5):
    import torch

    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(x, y, window_size: int = 11, sigma: float = 1.5):
    """Mean SSIM of two (N, C, H, W) tensors in [0, 1] (Wang et al. 2004: Gaussian window,
    C1 = 0.01^2, C2 = 0.03^2, valid positions only), averaged over channels and positions."""
    import torch
    import torch.nn.functional as F

    channels = x.shape[1]
    g = _gaussian_window(window_size, sigma).to(x.device, x.dtype)
    gh = g.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    gv = g.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(t, gh, groups=channels), gv, groups=channels)

    c1, c2 = 0.01**2, 0.03**2
    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x * mu_x
    syy = blur(y * y) - mu_y * mu_y
    sxy = blur(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + c1) * (2 * sxy + c2)
    den = (mu_x * mu_x + mu_y * mu_y + c1) * (sxx + syy + c2)
    return (num / den).mean()


def psnr(x, y) -> float:
    """PSNR in dB of two tensors in [0, 1] (peak 1; 120 dB for identical inputs)."""
    mse = float(((x.float() - y.float()) ** 2).mean())
    return 10 * math.log10(1.0 / max(mse, 1e-12))
