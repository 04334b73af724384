"""Turn the pytest-benchmark JSON of benchmarks/test_methods_speed.py into the Markdown table
of reports/benchmarks/methods.md (see that file for the commands)."""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
from pathlib import Path


def render(data: dict, command: str) -> str:
    rows = sorted(data["benchmarks"], key=lambda b: b["stats"]["median"])
    machine = data.get("machine_info", {})
    lines = [
        "# Fusion methods: time per 520x520 colour Lytro pair",
        "",
        f"Made by `{rows[0]['extra_info'].get('command', '(pytest command not recorded)') if rows else ''}` then",
        f"`{command}`.",
        "",
        f"Machine: {machine.get('cpu', {}).get('brand_raw', platform.processor() or 'unknown CPU')}, "
        f"{rows[0]['extra_info'].get('cpus', '?') if rows else '?'} cores, Python {machine.get('python_version', '?')}; "
        f"run {data.get('datetime', '?')}. Pair `lytro-01` (A, B), input checks and colour handling included "
        "(`method.fuse(a, b)` end to end). `load` is the 1-minute load average before/after the "
        "method's rounds: this machine is shared, so numbers taken under load are slower than "
        "on an idle machine.",
        "",
        "`x average` is the median relative to the `average` method in the same run (input checks and",
        "colour conversion only): a load-independent view of each method's own cost.",
        "",
        "| method | family | median (ms) | min (ms) | mean ± std (ms) | x average | rounds | target (ms) | within target | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|:---:|---:|",
    ]
    baseline = next((b["stats"]["median"] for b in rows if b["extra_info"].get("method") == "average"), None)
    for bench in rows:
        stats, info = bench["stats"], bench["extra_info"]
        target = info.get("target_ms")
        median_ms = stats["median"] * 1e3
        relative = "" if baseline is None else f"{stats['median'] / baseline:.1f}"
        verdict = "" if target is None else ("yes" if median_ms <= target else "**no**")
        lines.append(
            f"| {info.get('method', bench['name'])} | {info.get('family', '')} | {median_ms:.1f} | {stats['min'] * 1e3:.1f} "
            f"| {stats['mean'] * 1e3:.1f} ± {stats['stddev'] * 1e3:.1f} "
            f"| {relative} | {stats['rounds']} | {'' if target is None else f'{target:g}'} "
            f"| {verdict} | {info.get('load_before', 0):.1f}/{info.get('load_after', 0):.1f} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("json", help="pytest-benchmark JSON (--benchmark-json)")
    parser.add_argument("--out", help="Markdown file to write (default: print)")
    parser.add_argument("--notes", default="", help="text appended under the table")
    args = parser.parse_args(argv)
    data = json.loads(Path(args.json).read_text())
    shown = list(argv if argv is not None else sys.argv[1:])
    if "--notes" in shown:  # the notes are printed under the table, not repeated here
        shown[shown.index("--notes") + 1] = "<the notes below the table>"
    command = "python benchmarks/methods_report.py " + " ".join(shlex.quote(a) for a in shown)
    text = render(data, command) + (("\n" + args.notes.strip() + "\n") if args.notes else "")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
