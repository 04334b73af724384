"""``fusionbench train`` and ``fusionbench plot-training`` (registered by fusionbench.cli)."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_commands"]

# TrainConfig fields settable from the command line; options default to None = "not given".
_TRAIN_OPTIONS = (
    "variant", "data", "data_dir", "lam", "steps", "batch", "crop", "lr", "lr_milestones", "lr_factor", "seed",
    "init", "micro_batch_pixels", "val_pairs", "val_crop", "val_every", "log_every", "checkpoint_minutes",
)


def _print_entry(entry: dict) -> None:
    if "loss" in entry:
        print(f"step {entry['step']:>6}  loss {entry['loss']:.4f}  L1 {entry['l1']:.4f}  SSIM {entry['ssim']:.4f}  "
              f"lr {entry['lr']:.2e}  crop {entry['crop']}  {entry['images_per_s']:.2f} img/s  {entry['wall_s']:.0f} s",
              flush=True)
    elif "val_psnr" in entry:
        print(f"step {entry['step']:>6}  validation PSNR {entry['val_psnr']:.2f} dB  SSIM {entry['val_ssim']:.4f}", flush=True)
    elif "event" in entry:
        extra = {k: v for k, v in entry.items() if k in ("step", "wall_s", "weights", "sha256", "changes")}
        print(f"[{entry['event']}] {json.dumps(extra)}", flush=True)


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from .train import TrainConfig, train

    if args.threads:
        torch.set_num_threads(args.threads)
    given = {name: getattr(args, name) for name in _TRAIN_OPTIONS if getattr(args, name) is not None}
    if args.resume:
        result = train(None, args.out, resume=True, overrides=given, device=args.device,
                       max_minutes=args.max_minutes, progress=_print_entry)
    else:
        result = train(TrainConfig(**given), args.out, device=args.device, max_minutes=args.max_minutes,
                       progress=_print_entry)
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
    p = sub.add_parser("train", help="train UFA-Fuse on synthetic multi-focus pairs (resumable)",
                       description="Train UFA-Fuse (loss lambda*L1 + (1-lambda)*(1-SSIM), Adam) on pairs generated on "
                       "the fly; see fusionbench.ufa.train. Options left out keep their defaults (new run) or the "
                       "run's saved values (--resume).")
    p.add_argument("model", choices=["ufa"], help="the network to train")
    p.add_argument("--data", help="bsds500 (under --data-dir or $FUSIONBENCH_DATA), skimage (offline, default), "
                   "or a folder laid out like DUTS (DUTS-TR-Image/, DUTS-TR-Mask/)")
    p.add_argument("--data-dir", help="folder holding bsds500/ (default $FUSIONBENCH_DATA)")
    p.add_argument("--out", required=True, help="run folder (checkpoint, log.jsonl, weights)")
    p.add_argument("--variant", choices=["full", "no-ca", "no-sa", "no-ufa"], help="ablation variant (default full)")
    p.add_argument("--lambda", dest="lam", type=float, help="loss weight of L1 (default 0.2)")
    p.add_argument("--steps", type=int, help="total optimisation steps (default 1000)")
    p.add_argument("--batch", type=int, help="pairs per step (default 8)")
    p.add_argument("--crop", help="crop size, or schedule SIZE[@STEP],... e.g. 64,128@6000 (default 256)")
    p.add_argument("--lr", type=float, help="initial Adam learning rate (default 1e-4)")
    p.add_argument("--lr-milestones", type=lambda s: [int(x) for x in s.split(",") if x],
                   help="steps at which the lr is multiplied by --lr-factor (default: 2/3 of --steps)")
    p.add_argument("--lr-factor", type=float, help="lr decay factor (default 0.1)")
    p.add_argument("--seed", type=int, help="seed of the initial weights and of the data (default 0)")
    p.add_argument("--init", choices=["kaiming", "default"], help="weight initialisation (default kaiming)")
    p.add_argument("--micro-batch-pixels", type=int, help="process a batch in chunks of this many pixels (default 32768)")
    p.add_argument("--val-pairs", type=int, help="held-out validation pairs (default 8)")
    p.add_argument("--val-crop", type=int, help="size of the validation pairs (default 192)")
    p.add_argument("--val-every", type=int, help="validate every N steps (default 250)")
    p.add_argument("--log-every", type=int, help="log every N steps (default 10)")
    p.add_argument("--checkpoint-minutes", type=float, help="checkpoint interval in minutes (default 5)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out (bit-for-bit)")
    p.add_argument("--max-minutes", type=float, help="stop cleanly (checkpoint) after this many minutes")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1, ...")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("plot-training", help="plot the loss curves of UFA-Fuse training runs (PNG)")
    p.add_argument("runs", nargs="+", help="run folders (several: one curve each, e.g. a lambda sweep)")
    p.add_argument("-o", "--output", help="PNG to write (default RUN/training.png)")
    p.add_argument("--smooth", type=int, default=5, help="moving average over N log lines (default 5)")
    p.set_defaults(func=cmd_plot_training)
