"""Score regression guard for CI: a recorded baseline and a check that recomputes it.

``update_baseline`` runs methods x metrics on (a subset of) a dataset and writes the mean of
each method x metric to ``reports/baselines/<dataset>.csv`` with an absolute tolerance per
row (``rel_tol`` x |value| by default; edit a row or pass ``tolerances={"Qc": 0.01}`` to set
one metric's relative tolerance). The header lines record the pairs, methods and metrics so
that :func:`regress` recomputes exactly that, always without the cache (so a code change to
a method or metric is seen), and fails when any value moved by more than its tolerance, a
value became NaN, a row is missing, or a task failed.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from .runner import parse_method_specs, run

__all__ = ["RegressionReport", "baseline_path", "read_baseline", "regress", "update_baseline"]

DEFAULT_FOLDER = Path("reports") / "baselines"


def baseline_path(dataset: str, path: str | os.PathLike | None = None) -> Path:
    return Path(path) if path else DEFAULT_FOLDER / f"{Path(str(dataset)).name}.csv"


def update_baseline(
    dataset: str,
    methods: str,
    metrics: str | Sequence[str] = "seven",
    path: str | os.PathLike | None = None,
    pairs: Sequence[str] | None = None,
    limit: int | None = None,
    data_dir: str | os.PathLike | None = None,
    rel_tol: float = 1e-3,
    tolerances: dict[str, float] | None = None,
    quiet: bool = True,
) -> Path:
    """Compute and write the baseline; returns its path."""
    result = run(dataset, methods, metrics=metrics, data_dir=data_dir, pairs=pairs, limit=limit, use_cache=False, quiet=quiet)
    if result.failed:
        first = result.failed[0]
        raise RuntimeError(f"baseline not written: {len(result.failed)} task(s) failed, e.g. {first.method} on {first.pair}: {first.errors}")
    means = result.frame.groupby(["method", "metric"], sort=False)["value"].mean().reset_index()
    relative = {**{m: rel_tol for m in result.metrics}, **(tolerances or {})}
    means["tolerance"] = [max(relative[m] * abs(v), 1e-12) if math.isfinite(v) else 0.0 for m, v in zip(means["metric"], means["value"])]
    target = baseline_path(dataset, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    spec_text = ",".join(_spec_text(s) for s in result.methods)
    header = [
        f"# fusionbench score baseline. Regenerate: fusionbench baseline update --dataset {dataset} --methods '{spec_text}' --metrics {','.join(result.metrics)} --pairs {','.join(p.name for p in result.dataset.pairs)}",
        f"# dataset: {dataset}",
        f"# pairs: {','.join(p.name for p in result.dataset.pairs)}",
        f"# methods: {spec_text}",
        f"# metrics: {','.join(result.metrics)}",
        "# value: mean over the pairs; tolerance: largest accepted absolute difference",
    ]
    body = means.to_csv(index=False, float_format="%.12g")
    target.write_text("\n".join(header) + "\n" + body)
    return target


def _spec_text(spec) -> str:
    if not spec.params:
        return spec.name if spec.label == spec.name else f"{spec.label}={spec.name}"
    params = ",".join(f"{k}={v}" for k, v in spec.params.items())
    return f"{spec.label}={spec.name}[{params}]"


def read_baseline(path: str | os.PathLike) -> tuple[dict[str, str], pd.DataFrame]:
    """The header fields (dataset, pairs, methods, metrics) and the rows of a baseline file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no baseline; create it with `fusionbench baseline update --dataset ... --methods ...`")
    text = path.read_text()
    fields = {}
    for line in text.splitlines():
        if line.startswith("# ") and ": " in line and not line.startswith("# fusionbench"):
            key, _, value = line[2:].partition(": ")
            fields[key.strip()] = value.strip()
    missing = [k for k in ("dataset", "pairs", "methods", "metrics") if k not in fields]
    if missing:
        raise ValueError(f"{path}: header lacks {missing}; regenerate it with `fusionbench baseline update`")
    rows = pd.read_csv(io.StringIO(text), comment="#")
    return fields, rows


@dataclass
class RegressionReport:
    ok: bool
    text: str
    table: pd.DataFrame


def regress(
    dataset: str,
    path: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    workers: int = 1,
    quiet: bool = True,
) -> RegressionReport:
    """Recompute the baseline's scores (no cache) and compare; ``ok`` is False when any row
    moved beyond its tolerance, became non-finite, is missing, or a task failed."""
    target = baseline_path(dataset, path)
    fields, baseline = read_baseline(target)
    specs = parse_method_specs(fields["methods"])
    result = run(fields["dataset"], specs, metrics=fields["metrics"], data_dir=data_dir, pairs=fields["pairs"].split(","), use_cache=False, workers=workers, quiet=quiet)
    now = result.frame.groupby(["method", "metric"], sort=False)["value"].mean()
    rows = []
    for _, row in baseline.iterrows():
        value = float(now.get((row["method"], row["metric"]), math.nan))
        expected, tolerance = float(row["value"]), float(row["tolerance"])
        diff = value - expected
        if math.isfinite(expected):
            status = "ok" if math.isfinite(value) and abs(diff) <= tolerance else "MOVED"
        else:
            status = "ok" if not math.isfinite(value) else "MOVED"
        rows.append([row["method"], row["metric"], expected, value, diff, tolerance, status])
    table = pd.DataFrame(rows, columns=["method", "metric", "baseline", "now", "difference", "tolerance", "status"])
    moved = table[table["status"] != "ok"]
    lines = [f"regress {fields['dataset']} ({len(result.dataset.pairs)} pairs, {len(specs)} methods, {len(fields['metrics'].split(','))} metrics) against {target}"]
    if len(moved):
        lines.append(f"{len(moved)} of {len(table)} scores moved beyond their tolerance:")
        lines.append(moved.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    else:
        lines.append(f"all {len(table)} scores within tolerance")
    for failed in result.failed:
        lines.append(f"FAILED {failed.method} on {failed.pair}: {failed.errors}")
    ok = not len(moved) and not result.failed
    return RegressionReport(ok, "\n".join(lines), table)
