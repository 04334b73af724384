"""Training curves of runs of the shared loop (e.g. UFA-Fuse's Fig. 6: loss against progress).

The panels are the network's :attr:`~fusionbench.nets.network.Network.curves`, or by default
one per logged loss term and validation metric. Dotted lines mark crop-size changes, dashed
red lines learning-rate drops.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from .network import Curve
from .train import DEFAULT_NETWORK, read_log

__all__ = ["plot_training"]

_NOT_TERMS = ("step", "lr", "crop", "images_per_s", "wall_s")


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or len(values) < width:
        return values
    kernel = np.ones(width) / width
    return np.convolve(np.pad(values, (width // 2, width - 1 - width // 2), mode="edge"), kernel, mode="valid")


def _run(run: str | os.PathLike):
    """(folder, log entries, network, config) of a run folder."""
    from . import get_network

    run_dir = Path(run)
    entries = read_log(run_dir)
    start = next((e for e in entries if "config" in e), {})
    network = get_network(start.get("network", DEFAULT_NETWORK))
    config = network.config_class.from_saved(start["config"]) if "config" in start else None
    if not any("loss" in e for e in entries):
        raise ValueError(f"{run_dir}: the log has no training entries yet")
    return run_dir, entries, network, config


def _default_curves(entries: list[dict]) -> tuple[Curve, ...]:
    train = next(e for e in entries if "loss" in e)
    val = next((e for e in entries if any(k.startswith("val_") for k in e)), {})
    return tuple(Curve(k, f"training {k}") for k in train if k not in _NOT_TERMS) + tuple(
        Curve(k, f"validation {k[4:]}", log=False) for k in val if k.startswith("val_"))


def plot_training(runs: Sequence[str | os.PathLike], output: str | os.PathLike, smooth: int = 5) -> Path:
    """Draw the curves of one or more run folders against the step (training terms as moving
    averages over ``smooth`` log lines); write a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loaded = [_run(run) for run in runs]
    curves = loaded[0][2].curves or _default_curves(loaded[0][1])
    columns = 2 if len(curves) > 1 else 1
    rows = -(-len(curves) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 3.75 * rows), squeeze=False)
    panels = list(zip(axes.flat, curves))
    for run_dir, entries, network, config in loaded:
        train = [e for e in entries if "loss" in e]
        label = f"{run_dir.name} ({network.run_label(config) if config is not None else network.name})"
        for ax, curve in panels:
            points = [(e["step"], e[curve.key]) for e in (train if not curve.key.startswith("val_") else entries)
                      if curve.key in e]
            if not points:
                continue
            steps, values = (np.asarray(x, dtype=float) for x in zip(*points))
            if curve.transform is not None:
                values = np.asarray([curve.transform(v) for v in values])
            if curve.key.startswith("val_"):
                ax.plot(steps, values, marker="o", ms=3, label=label)
            else:
                ax.plot(steps, _smooth(values, smooth), label=label)
        changes = [(prev["step"], e["crop"] != prev["crop"], e["lr"] != prev["lr"]) for e, prev in zip(train[1:], train[:-1])]
        for ax, _ in panels:
            for step, crop_changed, lr_changed in changes:
                if crop_changed:
                    ax.axvline(step, color="gray", lw=0.7, ls=":")
                if lr_changed:
                    ax.axvline(step, color="tab:red", lw=0.7, ls="--", alpha=0.6)
    for ax, curve in panels:
        ax.set_title(curve.title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if curve.log:
            ax.set_yscale("log")
    for ax in axes.flat[len(curves):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    names = sorted({network.name for _, _, network, _ in loaded})
    fig.suptitle(f"{', '.join(names)} training (dotted: crop-size change, dashed red: learning-rate drop)", fontsize=11)
    fig.tight_layout()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=110)
    plt.close(fig)
    return output
