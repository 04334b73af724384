"""Peak memory of one ``fuse`` of a network method on a large colour pair, each method in a
fresh process (the peak resident set size of that process, interpreter and torch included).

The pair is the embedded example (``fusionbench.example``) tiled to ``SIDE x SIDE``. Usage::

    .venv/bin/python benchmarks/network_peak_memory.py cnn,sesf,drpl,mffgan 2048

Prints, per method, the wall time of the call and the peak resident memory in MB, or the error
a method raises instead (e.g. ``ImageTooLargeError``).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time

import numpy as np


def measure(name: str, side: int) -> str:
    import fusionbench

    example = fusionbench.example(color=True)
    a, b = (np.tile(x, (side // x.shape[0] + 1, side // x.shape[1] + 1, 1))[:side, :side] for x in (example.a, example.b))
    start = time.perf_counter()
    try:
        fusionbench.fuse(a, b, method=name)
    except Exception as error:  # reported, not raised: the point is what a user would see
        return f"{name} {side}x{side}: {type(error).__name__}: {error}"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return f"{name} {side}x{side}: {time.perf_counter() - start:.1f} s, peak {peak_mb} MB"


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--one":
        print(measure(argv[1], int(argv[2])), flush=True)
        return 0
    if len(argv) != 2:
        print(__doc__)
        return 2
    for name in argv[0].split(","):
        subprocess.run([sys.executable, __file__, "--one", name, argv[1]], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
