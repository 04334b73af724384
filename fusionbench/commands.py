"""Command-line sub-commands of the runner: ``run``, ``datasets``, ``cache``, ``paper``,
``baseline`` and ``regress`` (registered into the ``fusionbench`` parser by
:func:`add_commands`; the work lives in the library modules)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .runner import RunResult

__all__ = ["add_commands", "default_dataset", "default_methods"]

MAIN_METHODS = ("ufa", "dwt", "gff")


def _table(headers: list[str], rows: list[list[object]]) -> str:
    from .cli import format_table

    return format_table(headers, rows)


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


# ---------------------------------------------------------------- run


def _workers(text: str) -> int:
    if text == "auto":
        return os.cpu_count() or 1
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of processes (0: in this process) or 'auto', got {text!r}")
    return value


def _positive(kind: type) -> Callable[[str], int | float]:
    """An argparse type: a number of ``kind`` greater than zero."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a {'whole ' if kind is int else ''}number greater than 0, got {text!r}")
        return value

    return parse


def _program() -> str:
    """How to type this command again: ``fusionbench`` when that is what runs, else the script
    as it was invoked (``.venv/bin/fusionbench`` under ``make run``, where .venv/bin is not on
    the PATH)."""
    script = sys.argv[0] if sys.argv and Path(sys.argv[0]).name == "fusionbench" else ""
    on_path = shutil.which("fusionbench")
    if not script or (on_path and Path(on_path).resolve() == Path(script).resolve()):
        return "fusionbench"
    return script


def default_dataset(data_dir: str | None) -> str:
    """``lytro`` when its files are under the data root, else the embedded ``synthetic`` set."""
    from .datasets import get_dataset
    from .paths import data_root

    root = data_root(data_dir)
    lytro = get_dataset("lytro")
    if all((root / f.file).is_file() for f in lytro.files):
        return "lytro"
    return "synthetic"


def default_methods() -> str:
    """ufa, dwt, gff - those that are registered (``average`` if none is)."""
    from .registry import list_methods

    available = set(list_methods())
    chosen = [m for m in MAIN_METHODS if m in available]
    return ",".join(chosen or ["average"])


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import run

    dataset = args.dataset or default_dataset(args.data_dir)
    methods = args.methods or default_methods()
    if not args.quiet and (args.dataset is None or args.methods is None):
        print(f"dataset: {dataset}{' (default)' if args.dataset is None else ''}; methods: {methods}{' (default)' if args.methods is None else ''}")
    if args.dataset is None and dataset == "synthetic":
        from .datasets import get_dataset
        from .paths import data_root

        lytro = get_dataset("lytro")
        print(
            f"No Lytro data under {data_root(args.data_dir)}: benchmarking the embedded synthetic set (6 generated pairs), "
            f"not a published benchmark. For the real one ({len(lytro.pair_names)} pairs, {lytro.total_bytes / 1e6:.0f} MB): "
            f"`{_program()} datasets fetch lytro`, then run this again; or point FUSIONBENCH_DATA (or --data-dir) at a "
            "folder that holds lytro/.",
            file=sys.stderr,
        )
    out = Path(args.out) if args.out else Path("results") / Path(str(dataset).rstrip("/\\")).name
    try:
        result = run(
            dataset,
            methods,
            metrics=args.metrics,
            out=out,
            data_dir=args.data_dir,
            cache_dir=args.cache_dir,
            use_cache=not args.no_cache,
            pairs=_split(args.pairs),
            limit=args.limit,
            workers=args.workers,
            task_timeout=args.task_timeout,
            executor=args.executor,
            scheduler=args.scheduler,
            device=args.device,
            convention=args.convention,
            quiet=args.quiet,
            figure_pairs=_split(args.figure_pairs) or 3,
            save_fused=args.save_fused,
            roles=_split(args.roles),
        )
    except KeyboardInterrupt:
        print("interrupted: finished tasks are cached; run the same command again to resume", file=sys.stderr)
        return 130
    return _finish(result, out, args.quiet)


def _finish(result: "RunResult", out: Path, quiet: bool) -> int:
    """Print a run's summary table and the methods' caveats (unless quiet), where its files
    are, and its exit status."""
    from .cli import caveat_notes
    from .reports import method_caveats

    if not quiet:
        _print_summary(result)
        for note in caveat_notes(method_caveats(result.methods)):
            print(note)
    computed = sum(r.computed for r in result.task_results)
    print(f"{len(result.task_results)} tasks ({computed} computed, {len(result.task_results) - computed} cached) in {result.wall_seconds:.1f} s")
    if result.failed:
        print(f"{len(result.failed)} task(s) FAILED - see the error column of {out / 'results.csv'} and {out / 'run.log'}", file=sys.stderr)
    print(f"Tables: {out / 'results.csv'} (every score), summary.md, summary.tex, summary.csv")
    print(f"Report: {result.report.resolve() if result.report else out}")
    return result.exit_code


def _print_summary(result: "RunResult") -> None:
    """The summary table of summary.md: mean ± std, direction arrows, the best of each column
    bold and the second underlined in a terminal (marked * and + in plain text)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .reports import summarise, summary_cells

    methods = [s.label for s in result.methods]
    header, rows = summary_cells(summarise(result.frame, methods, result.metrics), methods, result.metrics)
    caption = f"{result.dataset.name}: mean ± std over {len(result.dataset.pairs)} pairs"
    console = Console()
    if not console.is_terminal:
        print(_table(header, [[c.text + {"best": " *", "second": " +"}.get(c.mark, "") for c in row] for row in rows]))
        print(f"{caption}; best *, second +")
        return
    table = Table(box=box.SIMPLE_HEAD, caption=f"{caption}; best bold, second underlined")
    for i, title in enumerate(header):
        table.add_column(title, justify="left" if i == 0 else "right", no_wrap=True, overflow="fold")
    for row in rows:
        table.add_row(*(Text(c.text, style={"best": "bold", "second": "underline"}.get(c.mark, "")) for c in row))
    console.print(table)


def cmd_score(args: argparse.Namespace) -> int:
    from .score import score

    out = Path(args.out) if args.out else Path("results") / f"{Path(str(args.dataset).rstrip('/')).name}-scored"

    def show(matches: list) -> None:
        for match in matches:
            if match.missing or match.ambiguous or not args.quiet:
                print(match.describe(), file=sys.stderr)

    try:
        result, _ = score(
            args.dataset,
            args.folders,
            pattern=args.name_pattern,
            methods=_split(args.methods),
            pairs=_split(args.pairs),
            limit=args.limit,
            metrics=args.metrics,
            out=out,
            data_dir=args.data_dir,
            cache_dir=args.cache_dir,
            workers=args.workers,
            convention=args.convention,
            quiet=args.quiet,
            on_matches=show,
        )
    except KeyboardInterrupt:
        print("interrupted: finished tasks are cached; run the same command again to resume", file=sys.stderr)
        return 130
    return _finish(result, out, args.quiet)


# ---------------------------------------------------------------- datasets


def cmd_datasets_list(args: argparse.Namespace) -> int:
    from .datasets import get_dataset, list_datasets
    from .paths import data_root

    root = data_root(args.data_dir)
    rows = []
    for name in list_datasets():
        d = get_dataset(name)
        if d.generated:
            status, size = "generated on use", "-"
        else:
            present = sum((root / f.file).is_file() for f in d.files)
            status = "present" if present == len(d.files) else ("absent" if present == 0 else f"partial {present}/{len(d.files)}")
            size = f"{d.total_bytes / 1e6:.1f} MB"
        rows.append([name, len(d.pair_names), d.task, "/".join(d.roles), d.colour, status, size])
    print(f"data root: {root}")
    print(_table(["dataset", "pairs", "task", "roles", "colour", "status", "size"], rows))
    return 0


def cmd_datasets_verify(args: argparse.Namespace) -> int:
    from .datasets import verify

    checks = verify(args.name, data_dir=args.data_dir, cache_dir=args.cache_dir)
    bad = [c for c in checks if c.status != "ok"]
    for c in bad:
        print(f"{c.status.upper():8} {c.file}: {c.detail}")
    print(f"{args.name}: {len(checks) - len(bad)}/{len(checks)} files ok")
    return 1 if bad else 0


def cmd_datasets_fetch(args: argparse.Namespace) -> int:
    from .datasets import fetch
    from .paths import data_root

    def report(file: str, status: str) -> None:
        if status == "downloaded" and not args.quiet:
            print(f"downloaded {file}")

    result = fetch(args.name, data_dir=args.data_dir, mirror=args.mirror, on_file=report)
    print(f"{args.name}: {len(result.downloaded)} downloaded ({result.bytes_downloaded / 1e6:.1f} MB), {len(result.present)} already present, in {data_root(args.data_dir)}")
    return 0


# ---------------------------------------------------------------- cache


def cmd_cache(args: argparse.Namespace) -> int:
    from .cache import Cache
    from .paths import cache_root

    cache = Cache(cache_root(args.cache_dir))
    if args.action == "clear":
        info = cache.clear()
        print(f"removed {info.fused_entries} fused images and {info.score_entries} scores ({info.bytes / 1e6:.1f} MB) from {info.root}")
    else:
        info = cache.info()
        print(f"cache: {info.root}\nfused images: {info.fused_entries}\nscores: {info.score_entries}\nsize: {info.bytes / 1e6:.1f} MB")
    return 0


# ---------------------------------------------------------------- paper, baseline, regress


def cmd_paper(args: argparse.Namespace) -> int:
    from .paper import DEFAULT_OUT, TABLES, make_tables

    if args.table == "conventions":
        from .conventions_report import write_conventions_report

        path = write_conventions_report(args.out or DEFAULT_OUT, args.data_dir, args.cache_dir, args.reference_results, args.workers, args.quiet)
        print(f"wrote {path}")
        return 0
    names = list(TABLES) if args.table == "all" else [args.table]
    failed = make_tables(
        names,
        out=Path(args.out or DEFAULT_OUT),
        data_dir=args.data_dir,
        cache_dir=args.cache_dir,
        reference_results=args.reference_results,
        convention=args.convention,
        workers=args.workers,
        quiet=args.quiet,
        limit=args.limit,
    )
    return 1 if failed else 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from .regression import update_baseline

    path = update_baseline(
        args.dataset,
        args.methods,
        metrics=args.metrics,
        path=args.baseline,
        pairs=_split(args.pairs),
        limit=args.limit,
        data_dir=args.data_dir,
        rel_tol=args.rel_tol,
        tolerances=_tolerances(args.tolerance),
        quiet=args.quiet,
    )
    print(f"wrote {path}")
    return 0


def _tolerances(items: list[str] | None) -> dict[str, float]:
    tolerances = {}
    for item in items or ():
        metric, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--tolerance expects METRIC=RELATIVE, e.g. Qc=0.01; got {item!r}")
        tolerances[metric] = float(value)
    return tolerances


def cmd_regress(args: argparse.Namespace) -> int:
    from .regression import regress

    report = regress(args.dataset, path=args.baseline, data_dir=args.data_dir, workers=args.workers, quiet=args.quiet)
    print(report.text)
    return 0 if report.ok else 1


# ---------------------------------------------------------------- parser


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="data root (default: $FUSIONBENCH_DATA, else the user cache folder)")
    p.add_argument("--cache-dir", help="cache root (default: $FUSIONBENCH_CACHE, else the user cache folder)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the runner's sub-commands on the ``fusionbench`` parser."""
    p = sub.add_parser("run", help="fuse every pair of a dataset with each method, score, write tables and report.html")
    p.add_argument("--dataset", help="dataset name (see `fusionbench datasets list`) or folder of <pair>-<ROLE>.<ext> files (default: lytro if present, else synthetic)")
    p.add_argument("--methods", help="comma-separated, e.g. ufa,dwt,gff or dwt[levels=3] or GFF-authors=precomputed[folder=...] (default: ufa,dwt,gff that exist)")
    p.add_argument("--metrics", default="seven", help="'seven' (UFA-Fuse paper), 'all', or names, e.g. Qabf,VIFF (default: seven)")
    p.add_argument("--out", help="output folder (default: results/<dataset>)")
    p.add_argument("--workers", type=_workers, default=1, help="worker processes (local) or Dask workers: a number or 'auto' (= CPU cores); default 1; 0 runs the methods in this process (no crash isolation; for debugging)")
    p.add_argument("--task-timeout", type=_positive(float), metavar="SECONDS", help="kill a task (one method on one pair) that runs longer, record it as timed out, go on")
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--scheduler", help="address of a running Dask scheduler (with --executor dask)")
    p.add_argument("--device", default="cpu", help="device for methods with a device parameter: cpu, cuda, cuda:1 (default cpu)")
    p.add_argument("--no-cache", action="store_true", help="compute everything, keep nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar or tables (for CI)")
    p.add_argument("--pairs", help="comma-separated pair names or globs to run (default: all)")
    p.add_argument("--limit", type=_positive(int), help="only the first N pairs")
    p.add_argument("--figure-pairs", help="pairs shown as image grids in report.html (default: the dataset's, else the first 3)")
    p.add_argument("--save-fused", action="store_true", help="also write the fused images as PNG into <out>/fused/<method>/")
    p.add_argument("--roles", help="for a folder: the two roles in input order, e.g. VIS,IR")
    p.add_argument("--convention", help="metric convention (see `fusionbench metrics`), default: reference")
    _data_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("score", help="score fused images made elsewhere: one folder per method (or --name-pattern), files matched to the dataset's pairs by name")
    p.add_argument("folders", nargs="+", metavar="[LABEL=]DIR", help="folder of fused images; its name (or LABEL) labels the method")
    p.add_argument("--dataset", required=True, help="the dataset the images were fused from (name or folder of pairs)")
    p.add_argument("--name-pattern", metavar="PATTERN", help="file names of a folder holding many methods, e.g. '{pair}_{method}.jpg' ({pair} matched tolerantly)")
    p.add_argument("--methods", help="keep only these method labels (comma-separated globs), e.g. GFF,CNN")
    p.add_argument("--pairs", help="comma-separated pair names or globs to score (default: all)")
    p.add_argument("--limit", type=_positive(int), help="only the first N pairs")
    p.add_argument("--metrics", default="seven", help="'seven' (UFA-Fuse paper), 'all', or names (default: seven)")
    p.add_argument("--out", help="output folder (default: results/<dataset>-scored)")
    p.add_argument("--workers", type=_workers, default=1, help="worker processes, or 'auto'")
    p.add_argument("--convention", help="metric convention (see `fusionbench metrics --conventions`), default: reference")
    p.add_argument("--quiet", action="store_true")
    _data_options(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("datasets", help="list, verify or download datasets")
    dsub = p.add_subparsers(dest="action", required=True)
    q = dsub.add_parser("list", help="datasets with pairs, task, roles and whether they are present")
    _data_options(q)
    q.set_defaults(func=cmd_datasets_list)
    q = dsub.add_parser("verify", help="check the sha256 of every file of a dataset")
    q.add_argument("name")
    _data_options(q)
    q.set_defaults(func=cmd_datasets_verify)
    q = dsub.add_parser("fetch", help="download a dataset into the data root (sha256-verified, resumable)")
    q.add_argument("name")
    q.add_argument("--mirror", help="base URL of a copy laid out like the data root (instead of the source URLs)")
    q.add_argument("--quiet", action="store_true")
    _data_options(q)
    q.set_defaults(func=cmd_datasets_fetch)

    p = sub.add_parser("cache", help="show or clear the cache of fused images and scores")
    p.add_argument("action", choices=("info", "clear"))
    p.add_argument("--cache-dir", help="cache root (default: $FUSIONBENCH_CACHE, else the user cache folder)")
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser("paper", help="regenerate the UFA-Fuse paper's tables with our values beside the published ones")
    p.add_argument("table", choices=("table3", "table4", "table5", "table6", "table7", "all", "conventions"), help="a table, all of them, or 'conventions' (reports/paper/conventions.md: how metric conventions move Table V's values)")
    p.add_argument("--out", help="output folder (default results/paper, git-ignored; --out reports/paper updates the committed copy)")
    p.add_argument("--reference-results", help="folder of other authors' fused Lytro images (default: <data root>/../reference-results/mfifb-lytro)")
    p.add_argument("--convention", help="metric convention(s) for our values, e.g. reference or ufa-paper (default: ufa-paper,reference: the paper's convention, and the reference beside it)")
    p.add_argument("--limit", type=_positive(int), help="only the first N pairs (a quick look; not comparable with the paper)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--quiet", action="store_true")
    _data_options(p)
    p.set_defaults(func=cmd_paper)

    p = sub.add_parser("baseline", help="record reference scores for `fusionbench regress`")
    bsub = p.add_subparsers(dest="action", required=True)
    q = bsub.add_parser("update", help="compute and write reports/baselines/<dataset>.csv")
    q.add_argument("--dataset", required=True)
    q.add_argument("--methods", required=True)
    q.add_argument("--metrics", default="seven")
    q.add_argument("--pairs", help="pair names or globs (a small subset keeps CI fast)")
    q.add_argument("--limit", type=_positive(int), help="only the first N pairs")
    q.add_argument("--rel-tol", type=float, default=1e-3, help="relative tolerance written per row (default 1e-3)")
    q.add_argument("--tolerance", action="append", metavar="METRIC=REL", help="relative tolerance for one metric (repeatable)")
    q.add_argument("--baseline", help="baseline file (default reports/baselines/<dataset>.csv)")
    q.add_argument("--quiet", action="store_true")
    q.add_argument("--data-dir")
    q.set_defaults(func=cmd_baseline)

    p = sub.add_parser("regress", help="recompute a baseline's scores and fail when any moved beyond its tolerance")
    p.add_argument("--dataset", required=True)
    p.add_argument("--baseline", help="baseline file (default reports/baselines/<dataset>.csv)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--data-dir")
    p.set_defaults(func=cmd_regress)
