"""``fusionbench train NETWORK ...`` and ``fusionbench plot-training`` (registered by
fusionbench.cli; also runnable alone as ``python -m fusionbench.nets.cli``, which imports
nothing of fusionbench beyond the networks, e.g. on a GPU machine with another environment).

The options of ``train NETWORK`` are the fields of that network's config dataclass
(:class:`~fusionbench.nets.network.TrainConfig` and its subclass), made when the network is
known: ``fusionbench train ufa --help`` lists UFA-Fuse's.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
import typing
from typing import Any, Sequence

__all__ = ["add_commands", "main", "train_parser"]


def _print_entry(entry: dict) -> None:
    if "loss" in entry:
        terms = "  ".join(f"{k} {v:.4f}" for k, v in entry.items()
                          if k not in ("step", "lr", "crop", "images_per_s", "wall_s"))
        print(f"step {entry['step']:>6}  {terms}  lr {entry['lr']:.2e}  crop {entry['crop']}  "
              f"{entry['images_per_s']:.2f} img/s  {entry['wall_s']:.0f} s", flush=True)
    elif any(k.startswith("val_") for k in entry):
        values = "  ".join(f"{k} {v:.4f}" for k, v in entry.items() if k.startswith("val_"))
        print(f"step {entry['step']:>6}  validation  {values}", flush=True)
    elif "event" in entry:
        extra = {k: v for k, v in entry.items() if k in ("step", "wall_s", "weights", "sha256", "changes", "samples_seen")}
        print(f"[{entry['event']}] {json.dumps(extra)}", flush=True)


def _int_list(text: str) -> list[int]:
    """``"2000,3000"`` -> ``[2000, 3000]``."""
    return [int(x) for x in text.split(",") if x.strip()]


def _option_type(annotation: Any):
    """argparse ``type`` of a config field: int, float, str, or a comma-separated int list."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        return _int_list
    return annotation if annotation in (int, float, str) else str


def train_parser(network) -> argparse.ArgumentParser:
    """The option parser of ``fusionbench train NAME``: the config's fields plus the run options."""
    config_class = network.config_class
    p = argparse.ArgumentParser(
        prog=f"fusionbench train {network.name}",
        description=f"{network.name}: {network.summary}. Trained with fusionbench's shared loop (fusionbench.nets.train). "
        "Options left out keep their defaults (new run) or the run's saved values (--resume).",
    )
    p.add_argument("--out", required=True, help="run folder (config.json, checkpoint.pt, log.jsonl, weights)")
    hints = typing.get_type_hints(config_class)
    for f in dataclasses.fields(config_class):
        meta = f.metadata
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        monitoring = " (monitoring: may change on --resume)" if f.name in config_class.MONITORING else ""
        p.add_argument(meta.get("flag", "--" + f.name.replace("_", "-")), dest=f.name, type=_option_type(hints[f.name]),
                       choices=meta.get("choices"),
                       help=meta.get("help", "") + ("" if default is None else f" (default {default})") + monitoring)
    p.add_argument("--resume", action="store_true", help="continue the run in --out (bit-for-bit)")
    p.add_argument("--max-minutes", type=float, help="stop cleanly (checkpoint, resumable) after this many minutes")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1, ...")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    return p


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from . import get_network
    from .train import train

    network = get_network(args.network)
    options = train_parser(network).parse_args(args.options)
    if options.threads:
        torch.set_num_threads(options.threads)
    fields = [f.name for f in dataclasses.fields(network.config_class)]
    given = {name: getattr(options, name) for name in fields if getattr(options, name) is not None}
    if options.resume:
        result = train(network, None, options.out, resume=True, overrides=given, device=options.device,
                       max_minutes=options.max_minutes, progress=_print_entry)
    else:
        result = train(network, network.config_class(**given), options.out, device=options.device,
                       max_minutes=options.max_minutes, progress=_print_entry)
    if result.status == "done":
        print(f"done: {result.step} steps; weights {result.weights} (sha256 {result.sha256})")
        return 0
    print(f"{result.status} at step {result.step}; continue with the same command plus --resume")
    return 0 if result.status == "paused" else 130


def cmd_plot_training(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .plot import plot_training

    output = args.output or str(Path(args.runs[0]) / "training.png")
    print(f"wrote {plot_training(args.runs, output, smooth=args.smooth)}")
    return 0


def add_commands(sub) -> None:
    from . import list_networks

    p = sub.add_parser(
        "train", help="train a network method (resumable): " + ", ".join(list_networks()),
        description="Train a network with fusionbench's shared loop. `fusionbench train NETWORK --help` lists its "
        "options. Trainable networks: " + ", ".join(list_networks()) + ".",
    )
    p.add_argument("network", choices=list_networks(), help="the network to train")
    p.add_argument("options", nargs=argparse.REMAINDER, help="the network's options (see NETWORK --help)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("plot-training", help="plot the loss and validation curves of training runs (PNG)")
    p.add_argument("runs", nargs="+", help="run folders (several: one curve each, e.g. a lambda sweep)")
    p.add_argument("-o", "--output", help="PNG to write (default RUN/training.png)")
    p.add_argument("--smooth", type=int, default=5, help="moving average over N log lines (default 5)")
    p.set_defaults(func=cmd_plot_training)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fusionbench.nets.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    add_commands(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
