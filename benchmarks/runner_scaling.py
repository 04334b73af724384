"""Scaling and overhead of the runner, for reports/benchmarks/runner.md.

``scaling``: one Lytro pair (lytro-05, colour) resized to 256^2 .. 2048^2 (Lanczos); per
method and size, in a fresh process: the time of ``method.fuse`` (best of ``--repeat``
calls after one warm-up) and the peak resident memory it adds (ru_maxrss after the calls
minus before; the process's own baseline is reported separately), and once per size the time
of the seven metrics on the fused image.

``overhead``: what the runner adds per task over a plain loop doing the same work (read the
sources, fuse with DWT, quantise, read them as stored, score the seven metrics), on the 20
Lytro pairs: runner wall time (cold cache, no reports) minus the plain loop's, divided by
the number of tasks; best of ``--repeat`` alternating runs of each, in wall time and in CPU
time of the process (all threads; less sensitive to other processes on a shared machine).

    .venv/bin/python benchmarks/runner_scaling.py scaling --methods ufa,dwt,gff
    .venv/bin/python benchmarks/runner_scaling.py overhead
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (256, 512, 1024, 2048)


def _data_root() -> Path:
    from fusionbench.paths import data_root

    root = data_root()
    if not (root / "lytro").is_dir():
        shared = Path(__file__).resolve().parents[2] / "shared" / "datasets"
        if (shared / "lytro").is_dir():
            return shared
        raise SystemExit(f"Lytro not found under {root}; set FUSIONBENCH_DATA")
    return root


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def worker(method: str, size: int, repeat: int, folder: str) -> dict:
    """Runs in a fresh process: fuse timing and peak memory of one method at one size."""
    from fusionbench.io import read_image, to_uint8
    from fusionbench.registry import create_method
    from fusionbench.runner import parse_method_specs

    a = read_image(Path(folder) / f"s{size}-A.png")
    b = read_image(Path(folder) / f"s{size}-B.png")
    spec = parse_method_specs(method)[0]  # a name or NAME[key=value,...]
    fuser = create_method(spec.name, **spec.params)
    before = _peak_mb()
    fused = fuser.fuse(a, b)  # warm-up (lazy weights, caches)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fused = fuser.fuse(a, b)
        times.append(time.perf_counter() - start)
    result = {"method": method, "size": size, "fuse_s": min(times), "peak_extra_mb": _peak_mb() - before, "process_mb": before}
    if spec.name == "dwt":  # the metrics do not depend on the method: time them once per size
        from fusionbench.io import read_image_native
        from fusionbench.metrics import evaluate

        sources = [read_image_native(Path(folder) / f"s{size}-{r}.png") for r in "AB"]
        start = time.perf_counter()
        evaluate(*sources, to_uint8(fused), metrics="seven")
        result["seven_metrics_s"] = time.perf_counter() - start
    return result


def scaling(methods: list[str], repeat: int) -> None:
    """``methods``: names or specs such as ``ufa[weights=/path/ufa.safetensors]``."""
    from PIL import Image

    root = _data_root()
    with tempfile.TemporaryDirectory() as folder:
        for size in SIZES:
            for role in "AB":
                Image.open(root / "lytro" / f"lytro-05-{role}.jpg").resize((size, size), Image.Resampling.LANCZOS).save(Path(folder) / f"s{size}-{role}.png")
        print("| method | size | fuse (s) | peak extra memory (MB) | process before (MB) | seven metrics (s) |")
        print("|---|---:|---:|---:|---:|---:|")
        for method in methods:
            for size in SIZES:
                proc = subprocess.run(
                    [sys.executable, __file__, "worker", method, str(size), str(repeat), folder],
                    capture_output=True, text=True, timeout=3600,
                )
                if proc.returncode:
                    print(f"| {method} | {size} | failed: {proc.stderr.strip().splitlines()[-1]} | | | |")
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                metrics = f"{r['seven_metrics_s']:.2f}" if "seven_metrics_s" in r else ""
                print(f"| {method} | {size}² | {r['fuse_s']:.3f} | {r['peak_extra_mb']:.0f} | {r['process_mb']:.0f} | {metrics} |", flush=True)


def overhead(repeat: int, method: str = "dwt") -> None:
    from fusionbench.datasets import open_dataset
    from fusionbench.io import read_image, read_image_native, to_uint8
    from fusionbench.metrics import evaluate
    from fusionbench.registry import create_method
    from fusionbench.runner import run

    lytro = open_dataset("lytro", data_dir=_data_root())
    fuser = create_method(method)

    def plain() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for pair in lytro.pairs:
            fused = to_uint8(fuser.fuse(read_image(pair.a), read_image(pair.b), pair_name=pair.name))
            evaluate(read_image_native(pair.a), read_image_native(pair.b), fused, metrics="seven")
        return time.perf_counter() - wall, time.process_time() - cpu

    def runner() -> tuple[float, float]:
        with tempfile.TemporaryDirectory() as cache:
            wall, cpu = time.perf_counter(), time.process_time()
            run(lytro, method, metrics="seven", cache_dir=cache, quiet=True)
            return time.perf_counter() - wall, time.process_time() - cpu

    plain()  # warm-up: imports, first-call allocations
    plains, runners = [], []
    for _ in range(repeat):
        plains.append(plain())
        runners.append(runner())
    n = len(lytro.pairs)
    for clock, k in (("wall", 0), ("CPU", 1)):
        best_plain, best_runner = min(t[k] for t in plains), min(t[k] for t in runners)
        print(f"{clock} time, best of {repeat}: plain loop ({method} + seven metrics, {n} pairs) {best_plain:.2f} s "
              f"{[round(t[k], 2) for t in plains]}; runner (cold cache, no reports) {best_runner:.2f} s {[round(t[k], 2) for t in runners]}")
        print(f"  overhead per task: {(best_runner - best_plain) / n * 1000:.1f} ms = "
              f"{100 * (best_runner - best_plain) / best_plain:.1f} % of the plain per-pair time {best_plain / n * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("scaling")
    p.add_argument("--methods", default="ufa,dwt,gff")
    p.add_argument("--repeat", type=int, default=2)
    p = sub.add_parser("overhead")
    p.add_argument("--repeat", type=int, default=3)
    p = sub.add_parser("worker")
    p.add_argument("method")
    p.add_argument("size", type=int)
    p.add_argument("repeat", type=int)
    p.add_argument("folder")
    args = parser.parse_args()
    if args.command == "worker":
        print(json.dumps(worker(args.method, args.size, args.repeat, args.folder)))
    elif args.command == "scaling":
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        from fusionbench.runner import _split_top_level

        scaling(_split_top_level(args.methods), args.repeat)
    else:
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        overhead(args.repeat)


if __name__ == "__main__":
    main()
