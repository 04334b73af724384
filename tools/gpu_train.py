"""UFA-Fuse on one GPU in one command (issue 13): the main `ufa` at 256x256, the lambda sweep of
the paper's Table III and the ablation of Table IV, then GPU inference timing; results packed
into at most 8 files of at most 16 MiB under --out (the device tool's $OUT).

    python3 tools/gpu_train.py --out "$OUT" --data .gpu-data            # the GPU run (~8.5 min)
    python3 tools/gpu_train.py --check --out "$OUT" --data .gpu-data    # ~1 min: versions, throughput
    python3 tools/gpu_train.py --smoke --out /tmp/smoke --data DATA     # the same on CPU, tiny (tests)
    python3 tools/gpu_train.py --plan                                   # the plan and its FLOP count

Timeline of the GPU run (`--train-minutes T`, default 7): phase 1 trains the main model alone
for 0.4 T (batch 64, lr 1e-3 * sqrt(64 / 8)); phase 2 trains the nine sweep runs concurrently
for 0.6 T (batch 32, lr 1e-3 * sqrt(32 / 8)): lambda in {0, 0.2, 0.4, 0.6, 0.8, 1} (full model) and
the variants no-ca, no-sa, no-ufa (lambda 0.2; the ablation's `full` is the lambda-0.2 run). With
the GPU's throughput R shared by the nine, each sweep run sees R * 0.6 T / 9 pairs = 1/6 of the
main run's R * 0.4 T. Every run is a `fusionbench train ufa` process with `--time-budget`: it ends
on time with its weights (lr x0.1 at 2/3 of its time, a 100- or 50-step warm-up). The sweep starts
before the main run ends so that its start-up overlaps; a run that outlives its budget by 60 s is
sent SIGTERM (it checkpoints) and its weights are exported from the checkpoint. Then inference
timing (ms per 520x520 pair, bf16, batch 1 and batched) and packing:

    main.tar      runs/main: ufa.safetensors, log.jsonl, config.json, checkpoint.pt, stdout.log
    lambda.tar    runs/lam0.0 ... runs/lam1.0: weights, log, config, stdout
    ablation.tar  runs/no-ca, runs/no-sa, runs/no-ufa: the same
    timing.json   inference timing
    suite.json    per run: status, steps, pairs by crop, pairs/s, wall time; the plan; the GPU
    suite.log     this driver's log

Runs on the device image (Python 3.12, torch 2.11, numpy 2): it imports only fusionbench's
networks (`python3 -m fusionbench.nets.cli`), numpy, scipy, Pillow, safetensors and torch.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MAX_FILE = 16 * 1024 * 1024  # what the device tool returns per file
BASE_LR, BASE_BATCH = 1e-3, 8  # the CPU-trained ufa's Adam lr at batch 8 (reports/training/ufa.md)
SWEEP_LAMBDAS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
SWEEP_VARIANTS = ("no-ca", "no-sa", "no-ufa")
MAIN_SHARE = 0.4  # of the training window; the sweep gets the rest (see the module docstring)


def shm_workers(workers: int, batch: int, crop: int, processes: int, log) -> int:
    """``workers`` data processes per training process, fewer if /dev/shm cannot hold the batches
    in flight (each worker holds 2 batches of a, b, gt and mask: 10 float32 planes per pixel)."""
    if workers == 0:
        return 0
    try:
        stat = os.statvfs("/dev/shm")
        free = stat.f_bavail * stat.f_frsize
    except OSError:
        log("no /dev/shm: data made in the training processes (workers 0)")
        return 0
    per_worker = 2 * batch * crop * crop * 10 * 4
    fitting = int(0.5 * free // (per_worker * processes))
    if fitting < workers:
        log(f"/dev/shm has {free / 2**30:.1f} GiB free: {fitting} data workers per process instead of {workers}")
    return min(workers, fitting)


def scaled_lr(batch: int) -> float:
    """Square-root scaling of Adam's learning rate with the batch (Malladi et al., NeurIPS 2022),
    from the CPU run's 1e-3 at batch 8."""
    return BASE_LR * math.sqrt(batch / BASE_BATCH)


@dataclass
class Run:
    name: str
    group: str  # main, lambda or ablation (the archive it goes to)
    options: dict = field(default_factory=dict)


@dataclass
class Settings:
    device: str
    crop: int
    main_batch: int
    sweep_batch: int
    main_workers: int
    sweep_workers: int
    train_minutes: float
    startup_s: float  # lead time given to the sweep processes' start-up
    val_pairs: int
    val_crop: int
    val_every: int
    log_every: int
    timing_size: int
    timing_batches: tuple[int, ...]
    timing_reps: int
    threads: int
    grace_s: float  # a run may outlive its time budget by this much (start-up, validation, export) before SIGTERM


GPU = Settings(device="cuda", crop=256, main_batch=64, sweep_batch=32, main_workers=12, sweep_workers=2,
               train_minutes=7.0, startup_s=25.0, val_pairs=8, val_crop=192, val_every=500, log_every=20,
               timing_size=520, timing_batches=(1, 8, 32), timing_reps=30, threads=2, grace_s=60)
SMOKE = Settings(device="cpu", crop=32, main_batch=2, sweep_batch=2, main_workers=1, sweep_workers=0,
                 train_minutes=0.12, startup_s=2.0, val_pairs=1, val_crop=32, val_every=5, log_every=2,
                 timing_size=64, timing_batches=(1, 2), timing_reps=2, threads=1, grace_s=300)


def runs(settings: Settings) -> list[Run]:
    main = Run("main", "main", {"variant": "full", "lambda": 0.2, "batch": settings.main_batch,
                                "lr": scaled_lr(settings.main_batch), "warmup-steps": 100 if settings.device == "cuda" else 2,
                                "workers": settings.main_workers})
    sweep = [Run(f"lam{lam:.1f}", "lambda", {"variant": "full", "lambda": lam}) for lam in SWEEP_LAMBDAS]
    sweep += [Run(v, "ablation", {"variant": v, "lambda": 0.2}) for v in SWEEP_VARIANTS]
    for run in sweep:
        run.options.update({"batch": settings.sweep_batch, "lr": scaled_lr(settings.sweep_batch),
                            "warmup-steps": 50 if settings.device == "cuda" else 2, "workers": settings.sweep_workers})
    return [main] + sweep


def flop_count(crop: int = 256) -> dict[str, float]:
    """FLOPs of one training pair (forward, backward, loss) and of one 520x520 inference, counted
    by torch's FlopCounterMode on meta tensors (convolutions and matrix products)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from fusionbench.nets.ufa.model import UFAFuse
    from fusionbench.nets.ufa.train import fusion_loss

    with torch.device("meta"):  # shapes only: counted without computing
        model = UFAFuse("full")
        a, b, gt, x, y = (torch.rand(1, 3, n, n) for n in (crop, crop, crop, 520, 520))
    with FlopCounterMode(display=False) as train_count:
        fusion_loss(model(a, b), gt, 0.2)[0].backward()
    with FlopCounterMode(display=False) as infer_count, torch.no_grad():
        model(x, y)
    return {"train_pair": float(train_count.get_total_flops()), "inference_520": float(infer_count.get_total_flops())}


def plan(settings: Settings) -> dict:
    """What the GPU run will do and, for assumed sustained throughputs, how many pairs each run sees."""
    window = settings.train_minutes * 60
    flops = flop_count(settings.crop)
    expected = {}
    for tflops in (100, 200, 300):
        rate = tflops * 1e12 / flops["train_pair"]  # pairs per second, whole GPU
        main = rate * MAIN_SHARE * window
        each = rate * (1 - MAIN_SHARE) * window / (len(SWEEP_LAMBDAS) + len(SWEEP_VARIANTS))
        expected[f"{tflops} TFLOP/s"] = {"pairs_per_s": round(rate), "main_pairs": round(main),
                                         "main_steps": round(main / settings.main_batch),
                                         "sweep_pairs_each": round(each), "sweep_steps_each": round(each / settings.sweep_batch)}
    return {"train_minutes": settings.train_minutes, "main_minutes": MAIN_SHARE * settings.train_minutes,
            "sweep_minutes": (1 - MAIN_SHARE) * settings.train_minutes, "crop": settings.crop,
            "gflop_per_training_pair": flops["train_pair"] / 1e9, "gflop_per_520_inference": flops["inference_520"] / 1e9,
            "runs": {r.name: r.options for r in runs(settings)}, "expected": expected}


class Driver:
    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args, self.s = args, settings
        self.out = Path(args.out)
        # Not under --out: the device tool returns everything there, and only 8 files.
        self.work = Path(args.work) if args.work else Path(tempfile.gettempdir()) / "fusionbench-gpu-train"
        # A folder per call: a check call before the real one may leave its run on a warm machine.
        self.runs_dir = self.work / f"{'check' if args.check else 'runs'}-{time.strftime('%Y%m%dT%H%M%S')}"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.log_file = open(self.out / "suite.log", "a")
        self.t0 = time.monotonic()
        self.summary: dict = {"settings": vars(args), "runs": {}}

    def log(self, message: str) -> None:
        line = f"[{time.monotonic() - self.t0:7.1f} s] {message}"
        print(line, flush=True)
        self.log_file.write(line + "\n")
        self.log_file.flush()

    def launch(self, run: Run, minutes: float) -> subprocess.Popen:
        s = self.s
        options = {"data": "bsds500", "data-dir": self.args.data, "crop": str(s.crop), "steps": 10**9,
                   "time-budget": round(minutes, 3), "val-pairs": s.val_pairs, "val-crop": s.val_crop,
                   "val-every": s.val_every, "log-every": s.log_every, "checkpoint-minutes": 1.0,
                   "micro-batch-pixels": max(s.main_batch, s.sweep_batch) * s.crop * s.crop, **run.options}
        command = [sys.executable, "-m", "fusionbench.nets.cli", "train", "ufa", "--out", str(self.runs_dir / run.name),
                   "--device", s.device, "--threads", str(s.threads)]
        for key, value in options.items():
            command += [f"--{key}", str(value)]
        (self.runs_dir / run.name).mkdir(parents=True, exist_ok=True)
        stdout = open(self.runs_dir / run.name / "stdout.log", "w")
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        self.log(f"start {run.name}: {minutes:.2f} min, " + " ".join(command[3:]))
        process = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT, cwd=REPO, env=env)
        process.run, process.budget_end = run, time.monotonic() + minutes * 60 + self.s.startup_s  # type: ignore[attr-defined]
        return process

    def wait(self, processes: list[subprocess.Popen], until: float | None = None) -> None:
        """Wait for ``processes`` (or until ``until``); SIGTERM a run ``grace_s`` after its budget, SIGKILL 30 s later."""
        while any(p.poll() is None for p in processes):
            now = time.monotonic()
            if until is not None and now >= until:
                return
            for p in processes:
                if p.poll() is None and now > p.budget_end + self.s.grace_s:
                    if not getattr(p, "terminated", False):
                        self.log(f"{p.run.name} overran its budget: SIGTERM")
                        p.send_signal(signal.SIGTERM)
                        p.terminated = now
                    elif now > p.terminated + 30:
                        self.log(f"{p.run.name} did not stop: SIGKILL")
                        p.kill()
            time.sleep(1.0)

    def collect(self, run: Run, returncode: int | None) -> None:
        """Record a finished run; export weights from its checkpoint if it did not finish."""
        from fusionbench.nets.train import export_weights, read_log
        from fusionbench.nets.weights import read_metadata

        folder = self.runs_dir / run.name
        record: dict = {"returncode": returncode, "group": run.group, "options": run.options}
        weights = sorted(folder.glob("*.safetensors"))
        if not weights and (folder / "checkpoint.pt").is_file():
            path = folder / ("ufa.safetensors" if run.options["variant"] == "full" else f"ufa-{run.options['variant']}.safetensors")
            export_weights(folder, path)
            record["exported_from_checkpoint"] = True
            weights = [path]
        if weights:
            info = read_metadata(weights[0])["info"]
            record.update(weights=weights[0].name, step=info["step"], samples_seen=info["samples_seen"],
                          wall_s=info["wall_s"], device=info["device"], lr_milestones=info["lr_milestones"])
            try:
                entries = read_log(folder)
                rates = [e["images_per_s"] for e in entries if "images_per_s" in e]
                record["pairs_per_s_median"] = sorted(rates)[len(rates) // 2] if rates else None
                record["last_validation"] = next((e for e in reversed(entries) if "val_psnr" in e), None)
            except (OSError, ValueError) as exc:
                record["log_error"] = str(exc)
        else:
            record["error"] = (folder / "stdout.log").read_text()[-3000:] if (folder / "stdout.log").is_file() else "no output"
        self.summary["runs"][run.name] = record
        self.log(f"{run.name}: exit {returncode}, step {record.get('step')}, pairs {record.get('samples_seen')}")

    def train(self) -> None:
        s = self.s
        window = s.train_minutes * 60
        all_runs = [r for r in runs(s) if not self.args.only or r.name in self.args.only.split(",")]
        main = [r for r in all_runs if r.group == "main"]
        sweep = [r for r in all_runs if r.group != "main"]
        for group, batch in ((main, s.main_batch), (sweep, s.sweep_batch)):
            for r in group:
                r.options["workers"] = shm_workers(r.options["workers"], batch, s.crop, len(group), self.log)
        train_end = self.t0 + s.startup_s + window
        main_minutes = MAIN_SHARE * window / 60
        processes = [self.launch(r, main_minutes) for r in main]
        # The sweep starts while the main run finishes, so that its start-up overlaps.
        self.wait(processes, until=self.t0 + MAIN_SHARE * window)
        sweep_minutes = max(0.05, (train_end - time.monotonic() - s.startup_s) / 60)
        sweep_processes = [self.launch(r, sweep_minutes) for r in sweep]
        self.wait(processes + sweep_processes)
        for p in processes + sweep_processes:
            self.collect(p.run, p.returncode)

    def timing(self) -> None:
        """ms per pair of UFA-Fuse inference, bf16 on CUDA (float32 on CPU), batch 1 and batched."""
        import numpy as np
        import torch

        from fusionbench.nets.ufa.inference import fuse_arrays
        from fusionbench.nets.ufa.weights import load_model, shipped_weights

        trained = self.runs_dir / "main" / "ufa.safetensors"
        model = load_model(trained if trained.is_file() else shipped_weights("full"))
        device = torch.device(self.s.device)
        model = model.to(device, memory_format=torch.channels_last).eval()
        size, reps = self.s.timing_size, self.s.timing_reps
        on_gpu = device.type == "cuda"
        result = {"device": str(device), "size": size, "torch": torch.__version__, "reps": reps,
                  "gpu": torch.cuda.get_device_name(device) if on_gpu else None, "weights": str(trained.name if trained.is_file() else "shipped ufa")}

        def clock(fn) -> float:
            fn()  # warm-up (cuDNN autotuning)
            fn()
            if on_gpu:
                torch.cuda.synchronize()
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(reps):
                    fn()
                end.record()
                torch.cuda.synchronize()
                return start.elapsed_time(end) / reps
            t = time.perf_counter()
            for _ in range(reps):
                fn()
            return (time.perf_counter() - t) * 1000 / reps

        torch.backends.cudnn.benchmark = True
        for batch in self.s.timing_batches:
            x = torch.rand(batch, 3, size, size, device=device).contiguous(memory_format=torch.channels_last)
            y = torch.rand(batch, 3, size, size, device=device).contiguous(memory_format=torch.channels_last)
            for dtype in ((torch.bfloat16, torch.float32) if batch == 1 else (torch.bfloat16,)):
                def forward(x=x, y=y, dtype=dtype):
                    with torch.inference_mode(), torch.autocast(device.type, dtype=dtype, enabled=on_gpu and dtype == torch.bfloat16):
                        return model(x, y)
                ms = clock(forward)
                result[f"forward_batch{batch}_{str(dtype).split('.')[-1]}_ms_per_pair"] = ms / batch
                self.log(f"timing: batch {batch} {dtype}: {ms / batch:.2f} ms per pair")
        rng = np.random.default_rng(0)
        a, b = (rng.random((size, size, 3), dtype=np.float32) for _ in range(2))
        result["fuse_arrays_ms_per_pair"] = clock(lambda: fuse_arrays(model, a, b, device=str(device)))
        self.summary["timing"] = result
        (self.out / "timing.json").write_text(json.dumps(result, indent=2) + "\n")

    def pack(self) -> None:
        """At most 8 files of at most 16 MiB: the runs in three archives, the summary, the log."""
        groups = {"main": "main.tar", "lambda": "lambda.tar", "ablation": "ablation.tar"}
        for group, archive in groups.items():
            names = [n for n, r in self.summary["runs"].items() if r["group"] == group]
            if not names:
                continue
            for heavy in (True, False):  # without the checkpoint if the archive would be too large
                path = self.out / archive
                with tarfile.open(path, "w") as tar:
                    for name in names:
                        for f in sorted((self.runs_dir / name).iterdir()):
                            if f.suffix in (".safetensors", ".jsonl", ".json", ".log") or (heavy and f.name == "checkpoint.pt"):
                                tar.add(f, arcname=f"runs/{name}/{f.name}")
                if path.stat().st_size <= MAX_FILE:
                    break
            self.log(f"packed {archive}: {path.stat().st_size / 2**20:.1f} MiB")
        self.summary["wall_s"] = round(time.monotonic() - self.t0, 1)
        (self.out / "suite.json").write_text(json.dumps(self.summary, indent=2, default=str) + "\n")

    def environment(self) -> None:
        import numpy
        import torch

        env = {"python": sys.version.split()[0], "numpy": numpy.__version__, "torch": torch.__version__,
               "cuda": torch.version.cuda, "cpu_count": os.cpu_count()}
        if torch.cuda.is_available():
            env["gpu"] = torch.cuda.get_device_name(0)
            env["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
        self.summary["environment"] = env
        self.log(f"environment: {env}")


def check(driver: Driver) -> None:
    """A short call before the real one: versions, the data, and the main run's throughput alone
    (20 s of training at the GPU settings)."""
    driver.environment()
    driver.summary["plan"] = plan(driver.s)
    run = runs(driver.s)[0]
    process = driver.launch(run, 20 / 60)
    driver.wait([process])
    driver.collect(run, process.returncode)
    (driver.out / "check.json").write_text(json.dumps(driver.summary, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="folder of the packed results ($OUT on the device)")
    parser.add_argument("--data", help="folder holding bsds500/ (e.g. .gpu-data, carried to the device)")
    parser.add_argument("--work", help="folder of the runs (default TMPDIR/fusionbench-gpu-train; not under --out)")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny crops and budgets (tests)")
    parser.add_argument("--check", action="store_true", help="versions, data and a 20-s throughput probe only")
    parser.add_argument("--plan", action="store_true", help="print the plan (FLOP count, expected pairs) and exit")
    parser.add_argument("--train-minutes", type=float, help="training window (default 7 on the GPU)")
    parser.add_argument("--only", help="comma-separated run names (main, lam0.0 ... lam1.0, no-ca, no-sa, no-ufa)")
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else GPU
    if args.train_minutes:
        settings.train_minutes = args.train_minutes
    if args.plan:
        print(json.dumps(plan(settings), indent=2))
        return 0
    if not args.out or not args.data:
        parser.error("--out and --data are needed (except with --plan)")
    if not (Path(args.data) / "bsds500" / "images" / "train").is_dir():
        parser.error(f"{args.data}: no bsds500/images/train inside; copy ../shared/datasets/bsds500 there")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    driver = Driver(args, settings)
    if args.check:
        check(driver)
        return 0
    driver.environment()
    driver.summary["plan"] = {k: v for k, v in plan(settings).items() if k != "expected"}
    try:
        driver.train()
        driver.timing()
    finally:
        driver.pack()
    failed = [n for n, r in driver.summary["runs"].items() if "weights" not in r]
    driver.log(f"done in {driver.summary['wall_s']} s; runs without weights: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
