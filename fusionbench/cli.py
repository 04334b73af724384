"""The ``fusionbench`` command line.

Each sub-command is a small function ``cmd_<name>(args) -> int`` registered in
:func:`build_parser`; the work itself lives in the library modules.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import textwrap
import warnings
from pathlib import Path
from typing import Sequence

__all__ = ["main", "build_parser", "format_table"]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], width: int | None = None) -> str:
    """A plain-text table with aligned columns. With ``width`` (e.g. the terminal's), the
    widest columns are narrowed until every line fits, their cells wrapped at spaces onto
    continuation lines, and a blank line separates the rows that wrapped."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if width is not None:
        widths = _fit(widths, width - 2 * (len(widths) - 1), [len(h) for h in headers])
    lines = []
    for k, row in enumerate(cells):
        wrapped = [textwrap.wrap(c, w, break_on_hyphens=False) or [""] for c, w in zip(row, widths)]
        height = max(len(parts) for parts in wrapped)
        for j in range(height):
            lines.append("  ".join((parts[j] if j < len(parts) else "").ljust(w) for parts, w in zip(wrapped, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
        elif height > 1 and k < len(cells) - 1:
            lines.append("")
    return "\n".join(lines)


def _fit(widths: list[int], budget: int, headers: list[int], narrowest: int = 12) -> list[int]:
    """Narrow the widest columns, one character at a time, until they sum to ``budget``; no
    column gets narrower than its header or ``narrowest``."""
    widths = list(widths)
    while sum(widths) > budget:
        k = max(range(len(widths)), key=lambda i: widths[i])
        if widths[k] <= max(headers[k], narrowest):
            break  # cannot fit: let the lines be long rather than unreadable
        widths[k] -= 1
    return widths


def terminal_width() -> int:
    """Columns of the terminal (``$COLUMNS`` if set; 80 when output goes to a file or pipe)."""
    return shutil.get_terminal_size().columns


def caveat_notes(caveats: dict[str, str]) -> list[str]:
    """"Note on ufa, ufa-no-ca: ..." lines for methods' caveats (:meth:`FusionMethod.caveat`),
    methods with the same caveat on one line."""
    by_text: dict[str, list[str]] = {}
    for label, caveat in caveats.items():
        by_text.setdefault(caveat, []).append(label)
    return [f"Note on {', '.join(labels)}: {caveat}." for caveat, labels in by_text.items()]


def _arrow(higher_is_better: bool | None) -> str:
    return {True: "↑", False: "↓"}.get(higher_is_better, "")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return str(value)


def _parse_params(items: Sequence[str] | None) -> dict[str, object]:
    """``["r1=45", "eps1=0.3", "wavelet=db2"]`` -> typed dict (JSON literals where they parse)."""
    params: dict[str, object] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--param expects NAME=VALUE, got {item!r}")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


# ---------------------------------------------------------------- metrics


def cmd_metrics(args: argparse.Namespace) -> int:
    from .metrics import get_metric, list_metrics

    if args.conventions:
        return _print_conventions(args.pattern)
    rows = []
    for name in list_metrics(args.pattern):
        m = get_metric(name)
        lo, hi = m.range
        rows.append([m.name, ",".join(m.aliases), f"[{lo:g}, {hi:g}]", m.direction, "+".join(m.needs), m.reference])
    print(format_table(["metric", "aliases", "range", "better", "needs", "reference"], rows))
    return 0


def _print_conventions(pattern: str | None) -> int:
    """Per convention, each metric it defines with its input transform and definition."""
    from .metrics import list_metrics
    from .metrics.conventions import CONVENTIONS, describe

    wanted = set(list_metrics(pattern))
    for convention in CONVENTIONS.values():
        rules = [(name, rule) for name, rule in describe(convention) if name in wanted]
        print(f"{convention.name}: {convention.title}\n  source: {convention.source}")
        transforms = {rule.transform.name: rule.transform.description for _, rule in rules}
        for name, description in transforms.items():
            print(f"  input [{name}]: {description}")
        width = max((len(name) for name, _ in rules), default=0)
        for name, rule in rules:
            print(f"  {name:<{width}}  [{rule.transform.name}] {rule.definition}")
        print()
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .metrics import evaluate, get_metric

    scores = evaluate(args.a, args.b, args.fused, metrics=args.metrics, gt=args.gt, convention=args.convention)
    if args.json:
        print(json.dumps(scores, indent=2))
    else:
        words = {True: "↑ higher", False: "↓ lower", None: "-"}
        print(format_table(["metric", "value", "better"], [[name, value, words[get_metric(name).higher_is_better]] for name, value in scores.items()]))
    return 0


# ---------------------------------------------------------------- methods


def cmd_methods(args: argparse.Namespace) -> int:
    import dataclasses

    from .registry import get_method_class, list_methods, required_params

    rows, caveats = [], {}
    for name in list_methods(args.pattern):
        cls = get_method_class(name)
        required = required_params(cls)
        if not required and cls().caveat():
            caveats[name] = cls().caveat()
        params = ", ".join(
            f"{f.name} (required)" if f.name in required
            else f"{f.name}={f.default_factory() if f.default is dataclasses.MISSING else f.default!r}"
            for f in dataclasses.fields(cls)
        )
        rows.append([name, cls.family, "native" if cls.color == "native" else "YCbCr policy", params, cls.reference])
    print(format_table(["method", "family", "colour", "parameters", "reference"], rows, width=terminal_width()))
    for note in caveat_notes(caveats):
        print("\n" + textwrap.fill(note, terminal_width(), break_on_hyphens=False))
    return 0


def cmd_fuse(args: argparse.Namespace) -> int:
    from .io import read_image, write_image
    from .registry import create_method

    output = Path(args.output)
    for source in (args.a, args.b):
        if output.resolve() == Path(source).resolve():
            raise ValueError(f"-o {args.output} is the source image {source}; write the fused image to another file")
    method = create_method(args.method, **_parse_params(args.param))
    fused = method.fuse(read_image(args.a), read_image(args.b), pair_name=args.pair)
    write_image(args.output, fused)
    print(f"wrote {args.output} ({fused.shape[1]}x{fused.shape[0]}, method {args.method})")
    for note in caveat_notes({args.method: method.caveat()} if method.caveat() else {}):
        print(note, file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Fuse the embedded example with every method and score it, against the sources and the
    example's ground truth: works offline, no data. A progress bar on stderr names the method
    being fused (the whole demo takes about half a minute)."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .data import example
    from .metrics import evaluate, get_metric
    from .registry import create_method, get_method_class, list_methods, required_params
    from .reports import rank_marks

    pair = example(color=args.color)
    names = [n for n in list_methods() if not required_params(get_method_class(n))]  # e.g. precomputed needs a folder
    scores, seconds, caveats = {}, {}, {}
    columns = (TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("", total=len(names))
        for name in names:
            progress.update(task, description=f"fusing with {name}", refresh=True)
            method = create_method(name)
            started = time.perf_counter()
            fused = method.fuse(pair.a, pair.b)
            seconds[name] = time.perf_counter() - started
            scores[name] = evaluate(pair.a, pair.b, fused, metrics=args.metrics, gt=pair.gt)
            if method.caveat():
                caveats[name] = method.caveat()
            progress.advance(task)
    metrics = list(next(iter(scores.values())))
    directions = {m: get_metric(m).higher_is_better for m in metrics}
    marks = {m: rank_marks({n: scores[n][m] for n in names}, directions[m]) for m in metrics}
    time_marks = rank_marks(seconds, False)
    symbol = {"best": " *", "second": " +", "": ""}
    rows = [[n, *(f"{scores[n][m]:.4f}{symbol[marks[m][n]]}" for m in metrics), f"{seconds[n]:.3f}{symbol[time_marks[n]]}"] for n in names]
    picture = "astronaut (colour)" if args.color else "camera"
    print(f"Embedded example: scikit-image {picture}, left half sharp in A, right half in B; the sharp picture is the ground truth.")
    print(format_table(["method", *(f"{m} {_arrow(directions[m])}".rstrip() for m in metrics), "time (s) ↓"], rows, width=terminal_width()))
    with_gt = [m for m in metrics if "gt" in get_metric(m).needs]
    print(f"Best of each column *, second +." + (f" {', '.join(with_gt)} compare with the ground truth." if with_gt else ""))
    for note in caveat_notes(caveats):
        print(textwrap.fill(note, terminal_width(), break_on_hyphens=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fusionbench", description="Benchmarking suite for image fusion")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("metrics", help="list the metrics (name, aliases, range, direction, reference)")
    p.add_argument("pattern", nargs="?", help="glob filter, e.g. 'Q*'")
    p.add_argument("--conventions", action="store_true", help="print, per metric convention, how each metric is computed")
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("evaluate", help="score a fused image against its sources")
    p.add_argument("a", help="source image A")
    p.add_argument("b", help="source image B")
    p.add_argument("fused", help="fused image")
    p.add_argument("--gt", help="ground-truth image (enables PSNR/SSIM)")
    p.add_argument("--metrics", default=None, help="comma-separated names, 'seven' or 'all' (default: all that apply)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--convention",
        default="reference",
        help="score the way a paper/evaluator did: reference (default), ufa-paper, cddfuse, vifb "
        "(see `fusionbench metrics --conventions`)",
    )
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("methods", help="list the fusion methods")
    p.add_argument("pattern", nargs="?", help="glob filter")
    p.set_defaults(func=cmd_methods)

    p = sub.add_parser("fuse", help="fuse two images with one method")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("-m", "--method", default="average")
    p.add_argument("-o", "--output", required=True, help="output image (8-bit; format from the suffix)")
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="method parameter (repeatable)")
    p.add_argument("--pair", help="pair name, for methods that look results up by pair (precomputed)")
    p.set_defaults(func=cmd_fuse)

    p = sub.add_parser("demo", help="fuse and score the embedded example with every method, against its ground truth too (no data needed)")
    p.add_argument("--color", action="store_true", help="use the colour example")
    p.add_argument("--metrics", default="AVG,SEN,Qabf,VIFF,PSNR,SSIM", help="metrics to show (PSNR and SSIM against the ground truth; default AVG,SEN,Qabf,VIFF,PSNR,SSIM)")
    p.set_defaults(func=cmd_demo)

    from .commands import add_commands  # run, datasets, cache, paper, baseline, regress

    add_commands(sub)
    from .nets.cli import add_commands as add_network_commands  # train, plot-training

    add_network_commands(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Warnings as one line each, without the source location (a user reads them)."""
    print(f"fusionbench: warning: {message}", file=file or sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .registry import MethodOutputError

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `fusionbench methods | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141
    except (ValueError, KeyError, TypeError, OSError, MethodOutputError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"fusionbench {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
