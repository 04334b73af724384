"""Scoring at scale: the UFA-Fuse paper's seven metrics on MFIFB-lytro outputs (30 methods x 20
pairs), end to end (read the files, convert to gray, score), for reports/benchmarks/metrics.md.

fusionbench itself is timed through the CLI (``fusionbench run`` with ``precomputed[...]``
methods; the commands are in the report). This script times the same work with CDDFuse's
``utils/Evaluator.py`` (read from a local checkout, not vendored; its five metrics of the seven:
AG, EN, SD, VIFF, Qabf - it has no Qc or Qm) on the first ``--limit`` triples, and prints
``triples,seconds,seconds_per_triple``. The Octave reference is timed by ``metrics_at_scale.m``.

    FUSIONBENCH_DATA=../shared/datasets .venv/bin/python benchmarks/metrics_at_scale.py <MMIF-CDDFuse>/utils/Evaluator.py --limit 20
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import types
from pathlib import Path

import numpy as np
from PIL import Image

from fusionbench.io import to_gray

from cddfuse_evaluator_timing import _load_evaluator  # noqa: E402  (benchmarks/ is the script's folder)


def triples(data: Path, results: Path) -> list[tuple[Path, Path, Path]]:
    """(A, B, fused) paths of every MFIFB-lytro result, pairs then methods in name order."""
    out = []
    for fused in sorted(results.glob("lytro_*_*.jpg")):
        pair = "_".join(fused.stem.split("_")[:2])
        out.append((data / "mfifb" / f"{pair}-A.jpg", data / "mfifb" / f"{pair}-B.jpg", fused))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evaluator", type=Path, help="MMIF-CDDFuse/utils/Evaluator.py")
    parser.add_argument("--limit", type=int, default=20, help="time the first N triples")
    args = parser.parse_args()
    data = Path(os.environ["FUSIONBENCH_DATA"])
    # The five metrics timed here do not use scikit-learn (only its MI does): an empty stand-in.
    sys.modules.setdefault("sklearn", types.ModuleType("sklearn"))
    sys.modules.setdefault("sklearn.metrics", types.ModuleType("sklearn.metrics"))
    ev = _load_evaluator(args.evaluator)
    work = triples(data, data.parent / "reference-results" / "mfifb-lytro")[: args.limit]
    start = time.perf_counter()
    for paths in work:
        ir, vi, fi = (to_gray(np.asarray(Image.open(p))).astype(np.float64) for p in paths)
        [ev.AG(fi), ev.EN(fi), ev.SD(fi), ev.VIFF(fi, ir, vi), ev.Qabf(fi, ir, vi)]
    seconds = time.perf_counter() - start
    print("triples,seconds,seconds_per_triple")
    print(f"{len(work)},{seconds:.1f},{seconds / len(work):.3f}")


if __name__ == "__main__":
    main()
