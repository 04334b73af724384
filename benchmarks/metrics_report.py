"""Turn the pytest-benchmark JSON of benchmarks/test_metrics_speed.py into the Markdown table of
reports/benchmarks/metrics.md, with the MATLAB/Octave reference timings of the golden set
(``octave_timing.csv``) and, optionally, the CDDFuse evaluator's timings
(``benchmarks/cddfuse_evaluator_timing.py`` output) as speed-up ratios.

    .venv/bin/python benchmarks/metrics_report.py .benchmarks/metrics.json \\
        --octave ../shared/golden/octave_timing.csv --cddfuse .benchmarks/cddfuse.csv
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

SEVEN = ("AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm")
# CDDFuse evaluator names for our metrics.
CDDFUSE_NAMES = {"SEN": "EN", "STD": "SD", "SF": "SF", "MI": "MI", "SCD": "SCD", "VIFF": "VIFF", "Qabf": "Qabf", "SSIM": "SSIM"}


def _read_timings(path: Path | None, key: str, value: str, scale: float) -> dict[str, float]:
    if path is None:
        return {}
    with open(path, newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return {row[key]: float(row[value]) * scale for row in csv.DictReader(lines)}


def _ratio(reference_ms: float | None, ours_ms: float) -> str:
    if reference_ms is None:
        return ""
    ratio = reference_ms / ours_ms
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2g}x"


def render(data: dict, octave_ms: dict[str, float], cddfuse_ms: dict[str, float]) -> str:
    benches = sorted(data["benchmarks"], key=lambda b: b["stats"]["median"])
    lines = [
        "| metric | median (ms) | min (ms) | rounds | target (ms) | within target (median) | load before/after "
        "| Octave reference (ms) | Octave / ours (min) | CDDFuse evaluator (ms) | CDDFuse / ours (min) |",
        "|---|---:|---:|---:|---:|:---:|---|---:|---:|---:|---:|",
    ]
    for bench in benches:
        stats, info = bench["stats"], bench["extra_info"]
        name = info.get("metric", bench["name"])
        median_ms, min_ms = stats["median"] * 1e3, stats["min"] * 1e3
        target = info.get("target_ms")
        verdict = "" if target is None else ("yes" if median_ms <= target else "**no**")
        octave = octave_ms.get(name)
        cddfuse = cddfuse_ms.get(CDDFUSE_NAMES.get(name, ""))
        load = "/".join(f"{x:.1f}" for x in info.get("load", []))
        lines.append(
            f"| {name} | {median_ms:.1f} | {min_ms:.1f} | {stats['rounds']} | {'' if target is None else f'{target:g}'} "
            f"| {verdict} | {load} | {'' if octave is None else f'{octave:,.1f}'} | {_ratio(octave, min_ms)} "
            f"| {'' if cddfuse is None else f'{cddfuse:,.1f}'} | {_ratio(cddfuse, min_ms)} |"
        )
    return "\n".join(lines) + "\n"


def render_cpu(cpu_ms: dict[str, float], octave_ms: dict[str, float]) -> str:
    """Table of single-thread CPU times, ours against the CDDFuse evaluator and Octave."""
    lines = [
        "| what | ours, CPU ms | CDDFuse evaluator, CPU ms | CDDFuse / ours | Octave reference, ms (wall, idle) | Octave / ours |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    groups = {
        "seven via evaluate": ("ours seven via evaluate", None, sum(octave_ms.get(m, 0.0) for m in SEVEN)),
        "CDDFuse's 8 via evaluate": ("ours CDDFuse's 8 via evaluate", "CDDFuse all 8", None),
    }
    rows = [(name, f"ours {name}", f"CDDFuse {CDDFUSE_NAMES[name]}" if name in CDDFUSE_NAMES else None, octave_ms.get(name))
            for name in [k.removeprefix("ours ") for k in cpu_ms if k.startswith("ours ")] if name not in groups]
    rows += [(label, ours, theirs, octave) for label, (ours, theirs, octave) in groups.items()]
    for label, ours_key, theirs_key, octave in rows:
        ours = cpu_ms.get(ours_key)
        if ours is None:
            continue
        theirs = cpu_ms.get(theirs_key) if theirs_key else None
        lines.append(
            f"| {label} | {ours:,.1f} | {'' if theirs is None else f'{theirs:,.1f}'} | {_ratio(theirs, ours)} "
            f"| {'' if octave is None else f'{octave:,.1f}'} | {_ratio(octave, ours)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark_json", type=Path)
    parser.add_argument("--octave", type=Path, help="octave_timing.csv of the golden set (seconds)")
    parser.add_argument("--cddfuse", type=Path, help="output of cddfuse_evaluator_timing.py (milliseconds)")
    parser.add_argument("--cpu", type=Path, help="output of cddfuse_evaluator_timing.py --clock cpu --ours")
    args = parser.parse_args()
    data = json.loads(args.benchmark_json.read_text())
    octave = _read_timings(args.octave, "metric", "seconds_per_call", 1e3)
    cddfuse = _read_timings(args.cddfuse, "metric", "milliseconds", 1.0)
    print(render(data, octave, cddfuse), end="")
    if args.cpu:
        print()
        print(render_cpu(_read_timings(args.cpu, "metric", "milliseconds", 1.0), octave), end="")


if __name__ == "__main__":
    main()
