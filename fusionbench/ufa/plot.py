"""Training curves of UFA-Fuse runs (the paper's Fig. 6: loss against training progress)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .train import read_log

__all__ = ["plot_training"]


def _label(run_dir: Path, entries: list[dict]) -> str:
    config = next((e["config"] for e in entries if "config" in e), {})
    return f"{run_dir.name} ({config.get('variant', '?')}, λ={config.get('lam', '?')})"


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or len(values) < width:
        return values
    kernel = np.ones(width) / width
    return np.convolve(np.pad(values, (width // 2, width - 1 - width // 2), mode="edge"), kernel, mode="valid")


def plot_training(runs: Sequence[str | os.PathLike], output: str | os.PathLike, smooth: int = 5) -> Path:
    """Draw loss, L1, 1 - SSIM (training, moving average over ``smooth`` log lines) and the
    validation PSNR of one or more run folders against the step; write a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    panels = [("loss", "training loss  λ·L1 + (1−λ)(1−SSIM)"), ("l1", "training L1"),
              ("ssim_loss", "training 1 − SSIM"), ("val_psnr", "validation PSNR (dB), held-out pairs")]
    for run in runs:
        run_dir = Path(run)
        entries = read_log(run_dir)
        train = [e for e in entries if "loss" in e]
        val = [e for e in entries if "val_psnr" in e]
        if not train:
            raise ValueError(f"{run_dir}: the log has no training entries yet")
        label = _label(run_dir, entries)
        steps = np.array([e["step"] for e in train])
        series = {"loss": [e["loss"] for e in train], "l1": [e["l1"] for e in train],
                  "ssim_loss": [1.0 - e["ssim"] for e in train]}
        for ax, (key, title) in zip(axes.flat, panels):
            if key == "val_psnr":
                if val:
                    ax.plot([e["step"] for e in val], [e["val_psnr"] for e in val], marker="o", ms=3, label=label)
            else:
                ax.plot(steps, _smooth(np.asarray(series[key], dtype=float), smooth), label=label)
            ax.set_title(title, fontsize=10)
        crop_changes = [prev["step"] for e, prev in zip(train[1:], train[:-1]) if e["crop"] != prev["crop"]]
        lr_changes = [prev["step"] for e, prev in zip(train[1:], train[:-1]) if e["lr"] != prev["lr"]]
        for ax in axes.flat:
            for s in crop_changes:
                ax.axvline(s, color="gray", lw=0.7, ls=":")
            for s in lr_changes:
                ax.axvline(s, color="tab:red", lw=0.7, ls="--", alpha=0.6)
    for ax in axes.flat:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in axes.flat[:3]:
        ax.set_yscale("log")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("UFA-Fuse training (dotted: crop-size change, dashed red: learning-rate drop)", fontsize=11)
    fig.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=110)
    plt.close(fig)
    return output
