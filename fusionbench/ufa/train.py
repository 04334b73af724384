"""Training UFA-Fuse on synthetic multi-focus pairs (paper Sec. III-A, IV-A).

Loss (Eq. 1): ``lam * L1 + (1 - lam) * (1 - SSIM)`` between the fused output and the ground
truth, SSIM with an 11x11 Gaussian window (sigma 1.5), C1 = 0.01^2, C2 = 0.03^2 for data in
[0, 1], averaged over the valid window positions and the three channels. Adam; the paper's
schedule (lr 1e-4, divided by 10 after 200 of 300 epochs) is scaled to the step budget: by
default the learning rate drops by ``lr_factor`` at 2/3 of ``steps``.

A run lives in one folder: ``config.json``, ``checkpoint.pt`` (model + Adam state + step;
written atomically every few minutes, at the end and on SIGTERM/SIGINT), ``log.jsonl`` (one
JSON object per line: training lines with step, loss, l1, ssim, lr, images_per_s; validation
lines with val_psnr, val_ssim, val_l1, val_loss on held-out pairs; events) and, when the
run is complete, ``<method>.safetensors``. Batch ``k`` holds dataset samples
``k*batch .. k*batch + batch - 1`` and samples depend only on (seed, index), so
``resume=True`` continues bit for bit: N steps straight equal N/2 + resume + N/2.

On CUDA the forward pass runs under bf16 autocast (loss in float32); on CPU in float32.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np

__all__ = ["TrainConfig", "TrainResult", "train", "export_weights", "ssim", "fusion_loss", "parse_crop_schedule", "read_log"]

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
LOG = "log.jsonl"
VALIDATION_SEED = 2021


@dataclass
class TrainConfig:
    """Everything that determines the trained weights (plus monitoring settings).

    ``crop``: crop-size schedule ``"SIZE[@FROM_STEP],..."``, e.g. ``"64,128@6000"`` (64x64
    crops for steps 0..5999, then 128x128). ``lr_milestones``: steps at which the learning
    rate is multiplied by ``lr_factor`` (default: 2/3 of ``steps``). ``init``: weight
    initialisation (:meth:`~fusionbench.ufa.model.UFAFuse.initialize`). ``micro_batch_pixels``:
    a batch is processed in chunks of at most this many pixels and the gradients summed
    (same gradient, less memory traffic on CPU).
    """

    variant: str = "full"
    data: str = "skimage"
    data_dir: str | None = None
    lam: float = 0.2
    steps: int = 1000
    batch: int = 8
    crop: str = "256"
    lr: float = 1e-4
    lr_milestones: list[int] | None = None
    lr_factor: float = 0.1
    seed: int = 0
    init: str = "kaiming"
    micro_batch_pixels: int = 32768
    # monitoring only (free to change on resume)
    val_pairs: int = 8
    val_crop: int = 192
    val_every: int = 250
    log_every: int = 10
    checkpoint_minutes: float = 5.0

    MONITORING = ("val_pairs", "val_crop", "val_every", "log_every", "checkpoint_minutes", "data_dir")

    def __post_init__(self) -> None:
        from .model import VARIANTS

        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose one of {VARIANTS}")
        if not 0.0 <= self.lam <= 1.0:
            raise ValueError(f"lambda must be in [0, 1], got {self.lam}")
        if self.steps < 1 or self.batch < 1:
            raise ValueError("steps and batch must be positive")
        parse_crop_schedule(self.crop)
        if self.lr_milestones is None:
            self.lr_milestones = [max(1, round(self.steps * 2 / 3))]
        self.lr_milestones = sorted(int(m) for m in self.lr_milestones)

    def crop_at(self, step: int) -> int:
        return max((start, size) for size, start in parse_crop_schedule(self.crop) if start <= step)[1]

    def lr_at(self, step: int) -> float:
        return self.lr * self.lr_factor ** sum(step >= m for m in self.lr_milestones)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def parse_crop_schedule(spec: str | int) -> list[tuple[int, int]]:
    """``"64,128@6000"`` -> ``[(64, 0), (128, 6000)]`` (size, first step)."""
    phases = []
    for part in str(spec).split(","):
        size, _, start = part.strip().partition("@")
        try:
            phases.append((int(size), int(start) if start else 0))
        except ValueError:
            raise ValueError(f"bad crop schedule {spec!r}; expected e.g. '128' or '64,128@6000'") from None
    if phases[0][1] != 0 or any(b[1] <= a[1] for a, b in zip(phases, phases[1:])):
        raise ValueError(f"bad crop schedule {spec!r}: the first phase starts at step 0, later ones at increasing steps")
    if any(size < 16 for size, _ in phases):
        raise ValueError(f"bad crop schedule {spec!r}: crops must be at least 16 pixels")
    return phases


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


def fusion_loss(fused, gt, lam: float):
    """``(loss, l1, ssim)`` of Eq. 1: ``lam * L1 + (1 - lam) * (1 - SSIM)``."""
    fused, gt = fused.float(), gt.float()
    l1 = (fused - gt).abs().mean()
    s = ssim(fused, gt)
    return lam * l1 + (1.0 - lam) * (1.0 - s), l1, s


class TrainResult(NamedTuple):
    status: str  # "done", "interrupted" (signal) or "paused" (max_minutes reached)
    step: int
    weights: Path | None
    sha256: str | None


def read_log(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The entries of a run's ``log.jsonl``."""
    path = Path(run_dir) / LOG
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no training log (is {run_dir} a training run folder?)")
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _save_checkpoint(run_dir: Path, model, optimizer, step: int, config: TrainConfig, wall_s: float) -> None:
    import torch

    tmp = run_dir / (CHECKPOINT + ".tmp")
    state = {
        "model": {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "step": step,
        "config": config.to_dict(),
        "wall_s": wall_s,
    }
    torch.save(state, tmp)
    os.replace(tmp, run_dir / CHECKPOINT)


def _merge_resume(saved: dict[str, Any], overrides: dict[str, Any], step: int) -> tuple[TrainConfig, dict]:
    """The config to continue with: the saved one, with the ``overrides`` it allows.

    Monitoring fields may change freely. ``steps``, ``crop`` and ``lr_milestones`` may change
    only where they do not rewrite the part already trained (so the resumed run equals a
    straight run with the new settings). Anything else must be unchanged.
    """
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(TrainConfig)})
    if unknown:
        raise ValueError(f"unknown training settings {unknown}")
    saved = {"init": "default", **saved}  # runs started before the option existed
    config = TrainConfig(**saved)
    requested = TrainConfig(**{**saved, **overrides})
    changes = {}
    for f in dataclasses.fields(TrainConfig):
        old, new = getattr(config, f.name), getattr(requested, f.name)
        if old == new:
            continue
        if f.name in TrainConfig.MONITORING:
            pass
        elif f.name == "steps":
            if new < step:
                raise ValueError(f"cannot resume with --steps {new}: the run is already at step {step}")
        elif f.name == "crop":
            if any(config.crop_at(s) != requested.crop_at(s) for s in range(step)):
                raise ValueError(f"cannot resume with crop schedule {new!r}: it changes the crops of steps already trained ({old!r})")
        elif f.name == "lr_milestones":
            if [m for m in old if m <= step] != [m for m in new if m <= step]:
                raise ValueError(f"cannot resume with lr milestones {new}: they change steps already trained ({old})")
        else:
            raise ValueError(f"cannot resume with a different {f.name} ({old!r} in the run, {new!r} requested)")
        changes[f.name] = [old, new]
        setattr(config, f.name, new)
    return config, changes


def _truncate_log(path: Path, step: int) -> None:
    """Drop log entries written after the checkpoint at ``step`` (they will be redone)."""
    if not path.is_file():
        return
    kept = [line for line in path.read_text().splitlines() if line.strip() and json.loads(line).get("step", 0) <= step]
    _atomic_write_text(path, "".join(line + "\n" for line in kept))


def _hardware(device) -> dict[str, Any]:
    import torch

    info = {"device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _weights_info(config: TrainConfig, step: int, wall_s: float, hardware: dict | None = None) -> dict[str, Any]:
    """What goes into a weights file's metadata: the training settings and progress."""
    info = {k: v for k, v in config.to_dict().items() if k not in TrainConfig.MONITORING}
    info.update(step=step, wall_s=round(wall_s, 1))
    if hardware is not None:
        info["hardware"] = hardware
    return info


def _batch(dataset, start: int, size: int):
    import torch

    items = [dataset[start + j] for j in range(size)]
    return tuple(torch.stack([it[k] for it in items]) for k in range(3))


def _validate(model, pairs, device, lam: float, memory_format) -> dict[str, float]:
    import torch

    psnrs, ssims, l1s, losses = [], [], [], []
    with torch.inference_mode():
        for a, b, gt in pairs:
            a, b, gt = (t[None].to(device).contiguous(memory_format=memory_format) for t in (a, b, gt))
            out = model(a, b).float().clamp(0, 1)
            loss, l1, s = fusion_loss(out, gt, lam)
            mse = float(((out - gt) ** 2).mean())
            psnrs.append(10 * math.log10(1.0 / max(mse, 1e-12)))
            ssims.append(float(s))
            l1s.append(float(l1))
            losses.append(float(loss))
    return {"val_psnr": float(np.mean(psnrs)), "val_ssim": float(np.mean(ssims)),
            "val_l1": float(np.mean(l1s)), "val_loss": float(np.mean(losses))}


def train(
    config: TrainConfig | None,
    out: str | os.PathLike,
    *,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    device: str = "auto",
    max_minutes: float | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train a new run (``config``) or resume the run in folder ``out``; see the module docstring.

    With ``resume=True`` the saved config is used (``config`` is ignored) with the allowed
    ``overrides`` (e.g. ``{"steps": 12000}``; see :func:`_merge_resume`). ``max_minutes``:
    stop cleanly (checkpoint, status ``"paused"``) after this much wall time in this call.
    ``progress`` is called with every log entry.
    """
    import torch

    from .data import MultiFocusDataset, resolve_source
    from .model import UFAFuse
    from .weights import method_name, save_weights

    run_dir = Path(out)
    checkpoint_path = run_dir / CHECKPOINT
    log_path = run_dir / LOG
    state = None
    if resume:
        if not checkpoint_path.is_file():
            raise FileNotFoundError(f"{checkpoint_path}: nothing to resume (no checkpoint in {run_dir})")
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        config, changes = _merge_resume(state["config"], overrides or {}, state["step"])
    else:
        if config is None:
            raise ValueError("a config is needed to start a new run")
        if checkpoint_path.exists():
            raise FileExistsError(f"{run_dir} already holds a run ({CHECKPOINT}); pass --resume to continue it, "
                                  "or choose another --out")
        changes = {}
    run_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(run_dir / CONFIG, json.dumps(config.to_dict(), indent=2) + "\n")

    dev = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)
    memory_format = torch.channels_last
    torch.manual_seed(config.seed)
    model = UFAFuse(config.variant).initialize(config.init)
    step, wall_before = 0, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        step, wall_before = int(state["step"]), float(state["wall_s"])
    model = model.to(dev, memory_format=memory_format).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        _truncate_log(log_path, step)
    del state

    train_source = resolve_source(config.data, "train", config.data_dir)
    datasets: dict[int, MultiFocusDataset] = {}
    val_source = resolve_source(config.data, "validation", config.data_dir)
    val_set = MultiFocusDataset(val_source, crop=config.val_crop, seed=VALIDATION_SEED)
    val_pairs = [val_set[i] for i in range(config.val_pairs)]
    autocast = dev.type == "cuda"

    log_file = open(log_path, "a")

    def log(entry: dict[str, Any]) -> None:
        log_file.write(json.dumps(entry) + "\n")
        log_file.flush()
        if progress is not None:
            progress(entry)

    stop_signal: list[int] = []
    previous = {}

    def on_signal(signum, frame) -> None:  # finish the step, checkpoint, return
        stop_signal.append(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, on_signal)
        except ValueError:  # not in the main thread: no signal handling
            pass

    start = time.perf_counter()
    last_checkpoint = start
    log({"event": "resume" if resume else "start", "step": step, "config": config.to_dict(),
         "changes": changes, "hardware": _hardware(dev), "method": method_name(config.variant)})
    window = {"loss": 0.0, "l1": 0.0, "ssim": 0.0, "n": 0, "t": 0.0}
    status = "done"
    try:
        while step < config.steps:
            crop = config.crop_at(step)
            if crop not in datasets:
                datasets[crop] = MultiFocusDataset(train_source, crop=crop, seed=config.seed)
            t0 = time.perf_counter()
            a, b, gt = (t.to(dev).contiguous(memory_format=memory_format) for t in _batch(datasets[crop], step * config.batch, config.batch))
            lr = config.lr_at(step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            optimizer.zero_grad(set_to_none=True)
            chunk = max(1, min(config.batch, config.micro_batch_pixels // (crop * crop)))
            sums = [0.0, 0.0, 0.0]
            for i in range(0, config.batch, chunk):
                sl = slice(i, i + chunk)
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=autocast):
                    fused = model(a[sl], b[sl])
                loss, l1, s = fusion_loss(fused, gt[sl], config.lam)
                weight = a[sl].shape[0] / config.batch
                (loss * weight).backward()
                for k, v in enumerate((loss, l1, s)):
                    sums[k] += float(v.detach()) * weight
            optimizer.step()
            step += 1
            if not all(math.isfinite(v) for v in sums):
                raise FloatingPointError(f"training diverged at step {step} (loss {sums[0]}); lower --lr")
            window["loss"] += sums[0]
            window["l1"] += sums[1]
            window["ssim"] += sums[2]
            window["n"] += 1
            window["t"] += time.perf_counter() - t0
            if step % config.log_every == 0 or step == config.steps:
                n = window["n"]
                log({"step": step, "loss": window["loss"] / n, "l1": window["l1"] / n, "ssim": window["ssim"] / n,
                     "lr": lr, "crop": crop, "images_per_s": n * config.batch / window["t"],
                     "wall_s": round(wall_before + time.perf_counter() - start, 1)})
                window = {"loss": 0.0, "l1": 0.0, "ssim": 0.0, "n": 0, "t": 0.0}
            if step % config.val_every == 0 or step == config.steps:
                model.eval()
                log({"step": step, **_validate(model, val_pairs, dev, config.lam, memory_format)})
                model.train()
            now = time.perf_counter()
            if stop_signal:
                status = "interrupted"
            elif max_minutes is not None and now - start >= 60 * max_minutes and step < config.steps:
                status = "paused"
            if status != "done" or now - last_checkpoint >= 60 * config.checkpoint_minutes:
                _save_checkpoint(run_dir, model, optimizer, step, config, wall_before + now - start)
                last_checkpoint = now
                log({"event": "checkpoint", "step": step})
            if status != "done":
                break
        weights = sha = None
        wall = wall_before + time.perf_counter() - start
        if status == "done":
            _save_checkpoint(run_dir, model, optimizer, step, config, wall)
            weights = run_dir / f"{method_name(config.variant)}.safetensors"
            sha = save_weights(model, weights, _weights_info(config, step, wall, _hardware(dev)))
            log({"event": "done", "step": step, "wall_s": round(wall, 1), "weights": weights.name, "sha256": sha})
        else:
            log({"event": status, "step": step, "wall_s": round(wall, 1), "signal": stop_signal[0] if stop_signal else None})
        return TrainResult(status, step, weights, sha)
    finally:
        log_file.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def export_weights(run_dir: str | os.PathLike, path: str | os.PathLike) -> str:
    """Write the weights of a run's latest checkpoint (finished or not) to ``path``
    (safetensors, metadata as for a finished run); returns the sha256."""
    import torch

    from .model import UFAFuse
    from .weights import save_weights

    checkpoint = Path(run_dir) / CHECKPOINT
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: no checkpoint to export")
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    config = TrainConfig(**{"init": "default", **state["config"]})
    model = UFAFuse(config.variant)
    model.load_state_dict(state["model"])
    return save_weights(model, path, _weights_info(config, int(state["step"]), float(state["wall_s"])))
