"""What the worker processes cost a run: the same cold run (6 synthetic pairs, ``average``, AVG)
in the calling process (``workers=0``) and in one worker process (``workers=1``, the default).

    .venv/bin/python benchmarks/worker_startup.py [--repeat 3]

Prints the wall time of each run; each uses a fresh cache (the synthetic set is generated in a
first, untimed run). The difference is the worker's start (interpreter, imports) and the
tasks' round trips through it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

from fusionbench.runner import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    best: dict[int, float] = {}
    for _ in range(args.repeat):
        for workers in (0, 1):
            with tempfile.TemporaryDirectory() as cache:
                run("synthetic", "average", metrics="AVG", limit=6, cache_dir=cache, quiet=True)
                for entry in ("fused", "scores"):  # cold again, the generated pairs kept
                    shutil.rmtree(f"{cache}/{entry}")
                started = time.perf_counter()
                run("synthetic", "average", metrics="AVG", limit=6, cache_dir=cache, quiet=True, workers=workers)
                seconds = time.perf_counter() - started
                best[workers] = min(best.get(workers, seconds), seconds)
                print(f"workers={workers}: {seconds:.3f} s")
    print(f"best of {args.repeat}: workers=0 {best[0]:.3f} s, workers=1 {best[1]:.3f} s, difference {best[1] - best[0]:.3f} s")


if __name__ == "__main__":
    main()
