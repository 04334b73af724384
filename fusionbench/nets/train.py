"""The training loop every network of fusionbench shares (:func:`train`).

A :class:`~fusionbench.nets.network.Network` declares the model, the loss and the data; the
loop does the rest. A run lives in one folder:

* ``config.json`` - the settings (the network's :class:`~fusionbench.nets.network.TrainConfig`);
* ``checkpoint.pt`` - network (and adversary) weights, optimiser states, step, torch RNG state,
  written atomically every ``checkpoint_minutes``, at the end and on SIGTERM/SIGINT (the
  step in progress is finished first); loaded with ``weights_only=True`` (no pickles);
* ``log.jsonl`` - one JSON object per line: training lines (step, every loss term averaged
  over ``log_every`` steps, lr, crop, images_per_s, wall_s), validation lines (``val_*`` on
  held-out samples) and events (start, resume, checkpoint, lr_milestone, done, ...);
* ``<weights_name>.safetensors`` when the run is complete (:mod:`fusionbench.nets.weights`;
  the metadata records the settings, step, wall time, ``device``, ``samples_seen`` per crop
  size and the hardware).

Batch ``k`` holds dataset samples ``k*batch .. k*batch + batch - 1``, samples depend only on
(seed, index) and the RNG state is checkpointed, so ``resume=True`` continues bit for bit:
N steps straight equal N/2 + resume + N/2 (on the same hardware), with or without data
worker processes. Loss values are read from the device only when logged, which is also when
a non-finite loss stops the run (``FloatingPointError``; the last checkpoint is kept). On CUDA the loss runs under
bf16 autocast (networks compute precision-sensitive terms inside
:func:`~fusionbench.nets.network.float32`) with cuDNN autotuning, so GPU runs are reproducible
only up to cuDNN's algorithm choice; validation runs in float32.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import signal
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

from .network import Network, TrainConfig, parse_crop_schedule

__all__ = ["TrainResult", "train", "export_weights", "read_log", "resolve_device", "device_label", "VALIDATION_SEED"]

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
LOG = "log.jsonl"
VALIDATION_SEED = 2021
DEFAULT_NETWORK = "ufa"  # runs made before the shared loop recorded their network


class TrainResult(NamedTuple):
    status: str  # "done", "interrupted" (signal) or "paused" (max_minutes reached)
    step: int
    weights: Path | None
    sha256: str | None


def _network(network: Network | str) -> Network:
    if isinstance(network, Network):
        return network
    from . import get_network

    return get_network(network)


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


def resolve_device(device: str = "auto"):
    """``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ``"cuda:1"`` ... as a torch device."""
    import torch

    return torch.device(("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device)


def device_label(device) -> str:
    """``"cpu"`` or ``"cuda:<GPU name>"`` (e.g. ``"cuda:NVIDIA H200"``), as recorded in weights."""
    import torch

    return f"cuda:{torch.cuda.get_device_name(device)}" if device.type == "cuda" else device.type


def _hardware(device) -> dict[str, Any]:
    import torch

    info = {"device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _weights_info(config: TrainConfig, step: int, wall_s: float, device: str, hardware: dict | None = None) -> dict[str, Any]:
    """What goes into a weights file's metadata: the training settings and progress."""
    info = {k: v for k, v in config.to_dict().items() if k not in config.MONITORING}
    info.update(step=step, wall_s=round(wall_s, 1), device=device, samples_seen=config.samples_seen(step))
    if hardware is not None:
        info["hardware"] = hardware
    return info


def _merge_resume(config_class: type[TrainConfig], saved: dict[str, Any], overrides: dict[str, Any], step: int):
    """The config to continue with: the saved one, with the ``overrides`` it allows.

    Monitoring fields may change freely. ``steps``, ``time_budget``, ``crop``,
    ``lr_milestones`` and ``warmup_steps`` may change only where they do not rewrite the part
    already trained (so the resumed run equals a straight run with the new settings).
    Anything else must be unchanged.
    """
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(config_class)})
    if unknown:
        raise ValueError(f"unknown training settings {unknown}")
    config = config_class.from_saved(saved)
    requested = config_class.from_saved({**saved, **overrides})
    schedule = ("lr_milestones", "warmup_steps")
    changes = {}
    for f in dataclasses.fields(config_class):
        old, new = getattr(config, f.name), getattr(requested, f.name)
        if old == new:
            continue
        if f.name in config.MONITORING or f.name == "time_budget":
            pass
        elif f.name == "steps":
            if new < step:
                raise ValueError(f"cannot resume with --steps {new}: the run is already at step {step}")
        elif f.name == "crop":
            if any(config.crop_at(s) != requested.crop_at(s) for s in range(step)):
                raise ValueError(f"cannot resume with crop schedule {new!r}: it changes the crops of steps already trained ({old!r})")
        elif f.name in schedule:
            if any(config.lr_at(s) != requested.lr_at(s) for s in range(step)):
                raise ValueError(f"cannot resume with {f.name} {new}: it changes the learning rate of steps already trained ({old})")
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


def _state(module) -> dict:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def _save_checkpoint(run_dir: Path, network: Network, parts: dict, step: int, config: TrainConfig, wall_s: float,
                     device: str) -> None:
    import torch

    state = {"network": network.name, "step": step, "config": config.to_dict(), "wall_s": wall_s, "device": device,
             "rng": torch.get_rng_state()}
    for name, (module, optimizer) in parts.items():
        state[name] = _state(module)
        state[f"{name}_optimizer" if name != "model" else "optimizer"] = optimizer.state_dict()
    tmp = run_dir / (CHECKPOINT + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, run_dir / CHECKPOINT)


class _Sampler:
    """Index lists of steps ``first .. last - 1`` (batch k = samples k*batch .. k*batch+batch-1)."""

    def __init__(self, first: int, last: int, batch: int) -> None:
        self.first, self.last, self.batch = first, last, batch

    def __iter__(self):
        for k in range(self.first, self.last):
            yield list(range(k * self.batch, (k + 1) * self.batch))

    def __len__(self) -> int:
        return self.last - self.first


def _batches(dataset, first: int, last: int, batch: int, workers: int, pin: bool):
    """Batches of steps ``first .. last - 1``, made here (``workers=0``) or by worker processes."""
    from .data import collate

    if workers == 0:
        for indices in _Sampler(first, last, batch):
            yield collate([dataset[i] for i in indices])
        return
    import torch
    from torch.utils.data import DataLoader

    # A private generator: worker seeding must not draw from the global RNG (checkpointed).
    loader = DataLoader(dataset, batch_sampler=_Sampler(first, last, batch), num_workers=workers, collate_fn=collate,
                        pin_memory=pin, prefetch_factor=2, generator=torch.Generator())
    yield from loader


def _to_device(batch: dict, device, memory_format) -> dict:
    return {k: v.to(device, non_blocking=True).contiguous(memory_format=memory_format) if v.dim() == 4
            else v.to(device, non_blocking=True) for k, v in batch.items()}


def _validate(network: Network, model, items: list[dict], config: TrainConfig, device, memory_format) -> dict[str, float]:
    import torch

    sums: dict[str, list[float]] = {}
    with torch.inference_mode():
        for item in items:
            batch = _to_device({k: v[None] for k, v in item.items()}, device, memory_format)
            for k, v in network.validate(model, batch, config).items():
                sums.setdefault(k, []).append(float(v))
    return {k: sum(v) / len(v) for k, v in sums.items()}


def train(
    network: Network | str,
    config: TrainConfig | None,
    out: str | os.PathLike,
    *,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    device: str = "auto",
    max_minutes: float | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Train ``network`` (a :class:`Network` or its name) with ``config`` into the run folder
    ``out``, or resume the run there; see the module docstring.

    With ``resume=True`` the saved config is used (``config`` is ignored) with the allowed
    ``overrides`` (e.g. ``{"steps": 12000}``; see :func:`_merge_resume`). ``max_minutes``:
    stop cleanly (checkpoint, status ``"paused"``) after this much wall time in this call.
    ``progress`` is called with every log entry.
    """
    import torch

    from .weights import save_weights

    network = _network(network)
    run_dir = Path(out)
    checkpoint_path = run_dir / CHECKPOINT
    log_path = run_dir / LOG
    state = None
    if resume:
        if not checkpoint_path.is_file():
            raise FileNotFoundError(f"{checkpoint_path}: nothing to resume (no checkpoint in {run_dir})")
        state = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        saved_network = state.get("network", DEFAULT_NETWORK)
        if saved_network != network.name:
            raise ValueError(f"{run_dir} is a run of {saved_network!r}, not {network.name!r}: "
                             f"resume it with `fusionbench train {saved_network} --out {run_dir} --resume`")
        config, changes = _merge_resume(network.config_class, state["config"], overrides or {}, state["step"])
    else:
        if config is None:
            raise ValueError("a config is needed to start a new run")
        if not isinstance(config, network.config_class):
            raise TypeError(f"network {network.name!r} is configured by {network.config_class.__name__}, "
                            f"not {type(config).__name__}")
        if checkpoint_path.exists():
            raise FileExistsError(f"{run_dir} already holds a run ({CHECKPOINT}); pass --resume to continue it, "
                                  "or choose another --out")
        changes = {}
    run_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(run_dir / CONFIG, json.dumps(config.to_dict(), indent=2) + "\n")

    dev = resolve_device(device)
    label = device_label(dev)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    memory_format = torch.channels_last
    torch.manual_seed(config.seed)
    model = network.build(config)
    adversary = network.build_adversary(config)
    step, wall_before = 0, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        if adversary is not None:
            adversary.load_state_dict(state["adversary"])
        step, wall_before = int(state["step"]), float(state["wall_s"])
    # In update order: the adversary (if any) first, then the network.
    parts = {}
    if adversary is not None:
        parts["adversary"] = (adversary.to(dev, memory_format=memory_format).train(),
                              network.optimizer(adversary.parameters(), network.adversary_lr(config)))
    parts["model"] = (model.to(dev, memory_format=memory_format).train(), network.optimizer(model.parameters(), config.lr))
    if state is not None:
        for name, (_, optimizer) in parts.items():
            optimizer.load_state_dict(state[f"{name}_optimizer" if name != "model" else "optimizer"])
        if "rng" in state:
            torch.set_rng_state(state["rng"])
        _truncate_log(log_path, step)
    del state

    val_set = network.dataset(config, "validation", config.val_crop, VALIDATION_SEED)
    val_items = [val_set[i] for i in range(config.val_pairs)]
    autocast = dev.type == "cuda"
    bases = {"model": config.lr, "adversary": network.adversary_lr(config)}

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
        except ValueError:  # not the main thread: no signal handling
            pass

    start = time.perf_counter()
    last_checkpoint = start
    log({"event": "resume" if resume else "start", "step": step, "network": network.name, "config": config.to_dict(),
         "changes": changes, "hardware": _hardware(dev), "method": network.weights_name(config)})
    window: dict[str, Any] = {}
    window_steps, window_time = 0, 0.0
    stream, phase_end = None, 0
    status = "done"
    try:
        while step < config.steps:
            crop = config.crop_at(step)
            t0 = time.perf_counter()
            if stream is None or step >= phase_end:  # a new crop phase: a new dataset and batch stream
                phase_end = min([config.steps] + [first for _, first in parse_crop_schedule(config.crop) if first > step])
                stream = _batches(network.dataset(config, "train", crop, config.seed), step, phase_end,
                                  config.batch, config.workers, dev.type == "cuda")
            batch = _to_device(next(stream), dev, memory_format)
            chunk = max(1, min(config.batch, config.micro_batch_pixels // (crop * crop)))
            for name, (module, optimizer) in parts.items():
                lr = config.lr_at(step, bases[name])
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.zero_grad(set_to_none=True)
                prefix = "" if name == "model" else "adv_"
                sums: dict[str, Any] = {}
                for i in range(0, config.batch, chunk):
                    micro = {k: v[i : i + chunk] for k, v in batch.items()}
                    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=autocast):
                        if name == "model":
                            terms = network.loss(model, micro, config, **({"adversary": adversary} if adversary is not None else {}))
                        else:
                            terms = network.adversary_loss(model, adversary, micro, config)
                    weight = next(iter(micro.values())).shape[0] / config.batch
                    (terms["loss"] * weight).backward()
                    for k, v in terms.items():
                        sums[prefix + k] = sums.get(prefix + k, 0.0) + v.detach().double() * weight
                optimizer.step()
                for k, v in sums.items():  # no device sync here: the values are read when logged
                    window[k] = window.get(k, 0.0) + v
            step += 1
            window_steps += 1
            window_time += time.perf_counter() - t0
            wall = wall_before + time.perf_counter() - start
            if config.time_budget is not None:
                if config.lr_milestones is None and wall >= config.time_budget * 60 * 2 / 3:
                    config.lr_milestones = [step]
                    log({"event": "lr_milestone", "step": step, "wall_s": round(wall, 1)})
                if wall >= config.time_budget * 60 and step < config.steps:
                    config.steps = step  # the run ends here: record the steps it made
                    _atomic_write_text(run_dir / CONFIG, json.dumps(config.to_dict(), indent=2) + "\n")
            if step % config.log_every == 0 or step == config.steps:
                means = {k: float(v) / window_steps for k, v in window.items()}
                if not all(math.isfinite(v) for v in means.values()):
                    raise FloatingPointError(f"training diverged by step {step} (loss {means.get('loss')}); lower --lr")
                log({"step": step, **means, "lr": config.lr_at(step - 1), "crop": crop,
                     "images_per_s": window_steps * config.batch / window_time, "wall_s": round(wall, 1)})
                window, window_steps, window_time = {}, 0, 0.0
            if step % config.val_every == 0 or step == config.steps:
                model.eval()
                log({"step": step, **_validate(network, model, val_items, config, dev, memory_format)})
                model.train()
            now = time.perf_counter()
            if stop_signal:
                status = "interrupted"
            elif max_minutes is not None and now - start >= 60 * max_minutes and step < config.steps:
                status = "paused"
            if status != "done" or now - last_checkpoint >= 60 * config.checkpoint_minutes:
                _save_checkpoint(run_dir, network, parts, step, config, wall_before + now - start, label)
                last_checkpoint = now
                log({"event": "checkpoint", "step": step})
            if status != "done":
                break
        stream = None  # stops the data workers
        weights = sha = None
        wall = wall_before + time.perf_counter() - start
        if status == "done":
            _save_checkpoint(run_dir, network, parts, step, config, wall, label)
            weights = run_dir / f"{network.weights_name(config)}.safetensors"
            sha = save_weights(model, weights, network=network.name, metadata=network.weights_metadata(config),
                               info=_weights_info(config, step, wall, label, _hardware(dev)))
            log({"event": "done", "step": step, "wall_s": round(wall, 1), "weights": weights.name, "sha256": sha,
                 "samples_seen": config.samples_seen(step)})
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

    from .weights import save_weights

    checkpoint = Path(run_dir) / CHECKPOINT
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint}: no checkpoint to export")
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    network = _network(state.get("network", DEFAULT_NETWORK))
    config = network.config_class.from_saved(state["config"])
    model = network.build(config)
    model.load_state_dict(state["model"])
    info = _weights_info(config, int(state["step"]), float(state["wall_s"]), state.get("device", "cpu"))
    return save_weights(model, path, network=network.name, metadata=network.weights_metadata(config), info=info)
