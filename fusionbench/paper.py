"""Regenerate the tables of the UFA-Fuse paper with our values beside the published ones.

Zang, Zhou, Wang, Nie & Guo, "UFA-FUSE: A novel deep supervised and hybrid model for
multi-focus image fusion", IEEE TIM 70 (2021). The published numbers are package data,
``fusionbench/data/ufa_fuse_table{3..7}.csv``, each with its source in the header; the
``method`` column names the fusionbench method that reproduces a row (empty: we have none,
so the row shows the published values only).

=========  ===========================  ==============  ===========================
table      what                         dataset         metrics
=========  ===========================  ==============  ===========================
table3     loss weight lambda study     lytro           AVG STD SEN Qabf
table4     attention ablation           lytro           AVG SEN STD
table5     comparison of 19 methods     lytro           the seven + time
table6     infrared-visible             tno             AVG STD VIFF Qabf
table7     medical CT-MRI               medical-ct-mri  AVG STD VIFF Qabf
=========  ===========================  ==============  ===========================

Table V also gets rows scored from other authors' published fused images (MFIFB's outputs of
the authors' code, ``reference-results/mfifb-lytro/lytro_XX_<NAME>.jpg``) through the
``precomputed`` method, on MFIFB's byte-identical copies of the Lytro sources.

Our values are means over the pairs, computed by :func:`fusionbench.runner.run` (8-bit saved
fused images, sources as read). ``conventions`` picks how metrics are computed: ``None`` is
the reference convention; a convention name (e.g. ``"ufa-paper"``, which reproduces the
paper's colour/scale choices) adds one row per method computed that way. By default
(:func:`make_tables`, ``fusionbench paper``) every table shows ``ufa-paper`` rows, compared
with the published values, and ``reference`` rows beside them; ``--convention reference``
shows only the latter.
"""

from __future__ import annotations

import csv
import math
import os
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import pandas as pd

from .datasets import DatasetError, open_dataset
from .paths import data_root
from .registry import list_methods
from .runner import MethodSpec, parse_method_specs, run

__all__ = ["PaperTable", "TABLES", "DEFAULT_OUT", "published", "missing_data", "make_table", "make_tables"]

TIME = "Time"
# Regenerated tables go here unless --out says otherwise (git-ignored, like the run outputs):
# running the documented command never changes the committed reports/paper/.
DEFAULT_OUT = "results/paper"


@dataclass(frozen=True)
class PaperTable:
    name: str
    number: str
    title: str
    dataset: str
    metrics: tuple[str, ...]
    notes: str = ""


TABLES = {
    "table3": PaperTable("table3", "III", "Metrics of UFA-Fuse trained with loss weight λ", "lytro", ("AVG", "STD", "SEN", "Qabf"), "The paper trains each λ for 50 epochs; ours were trained concurrently on one H200 for 4.2 minutes each (about 13,000 pairs at 256x256, 1/6 of the shipped ufa's; reports/training/ufa.md), the λ = 0.2 run being the ablation's full model."),
    "table4": PaperTable("table4", "IV", "Ablation of the unity fusion attention module", "lytro", ("AVG", "SEN", "STD"), "Our four variants were trained concurrently on one H200 with equal time (4.2 minutes each; the cheaper variants took more steps: UFA 13,120 pairs at 256x256, NO-CA 14,400, NO-SA 16,576, NO-UFA 18,784; reports/training/ufa.md, which adds Qabf); the UFA row uses that budget's full model (`ufa-ablation` weights, the λ = 0.2 run of Table III), not the shipped `ufa`."),
    "table5": PaperTable("table5", "V", "Comparison of fusion methods on Lytro", "lytro", ("AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm"), "Time: seconds per pair; the paper's on its hardware (MATLAB/GPU), ours the mean fuse() time on this machine's CPU when each image was computed (kept in the cache; noisy on a shared machine). The deep baselines are fusionbench's reimplementations trained for minutes on a CPU from BSDS500, not the authors' weights (reports/training/): CNN and SESF reproduce the authors' Lytro images to within their JPEG compression (reports/validation/), so their rows differ from the paper's as the authors' images do; DRPL, IFCNN and MFF-GAN are under-trained (IFCNN-MAX is 6 % below the authors' images on Qabf, trained from scratch without their ImageNet ResNet-101 layer and perceptual loss; MFF-GAN's adversarial training did not converge); our DeepFuse scores far above the paper's row because we trained it on multi-focus as well as exposure pairs (reports/training/deepfuse.md), whereas the authors trained DeepFuse for exposure fusion only."),
    "table6": PaperTable("table6", "VI", "Infrared-visible fusion (TNO)", "tno", ("AVG", "STD", "VIFF", "Qabf"), "The paper averages over 14 TNO pairs; our tno set is the 25-pair subset most papers use, so differences include the pair selection. DenseFuse, DeepFuse and IFCNN are fusionbench's reimplementations trained for minutes on a CPU (reports/training/); IFCNN-SUM was trained, as the authors did, on synthetic multi-focus pairs only, and from scratch (no ImageNet ResNet-101 first layer or perceptual loss here), which is the likeliest reason for its low Qabf on infrared-visible pairs."),
    "table7": PaperTable("table7", "VII", "Medical fusion (CT-MRI)", "medical-ct-mri", ("AVG", "STD", "VIFF", "Qabf"), "The paper averages over 8 CT-MRI pairs; our set has 21, so differences include the pair selection. DenseFuse, DeepFuse and IFCNN are fusionbench's reimplementations trained for minutes on a CPU (reports/training/); IFCNN-SUM was trained, as the authors did, on synthetic multi-focus pairs only, and from scratch (no ImageNet ResNet-101 first layer or perceptual loss here)."),
}
SOURCE_NOTE = "Published values: Zang et al., UFA-FUSE, IEEE TIM 70 (2021)"


def published(table: str) -> tuple[pd.DataFrame, str]:
    """The published table (one row per method/setting) and its source lines."""
    text = resources.files("fusionbench").joinpath(f"data/ufa_fuse_{table}.csv").read_text()
    lines = text.splitlines()
    # The header's first lines cite the source; the line starting "row:" only explains columns.
    source = " ".join(line.lstrip("# ").strip() for line in lines if line.startswith("#") and not line.lstrip("# ").startswith("row:"))
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    frame = pd.DataFrame(rows).fillna("")
    return frame, source


def _number(text: str) -> float:
    return float(text) if text not in ("", None) else math.nan


def _reference_folder(reference_results: str | os.PathLike | None, data_dir: str | os.PathLike | None) -> Path:
    if reference_results:
        return Path(reference_results)
    return data_root(data_dir).parent / "reference-results" / "mfifb-lytro"


def missing_data(
    names: Sequence[str],
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    reference_results: str | os.PathLike | None = None,
) -> list[str]:
    """What the tables ``names`` (``conventions`` included) need and do not find: one line
    per missing dataset or folder, with the fix. Empty when everything is there."""
    datasets = {TABLES[n].dataset for n in names if n in TABLES}
    needs_published = any(n in ("table5", "conventions") for n in names)
    if needs_published:
        datasets.add("mfifb")
    problems = []
    for dataset in sorted(datasets):
        try:
            open_dataset(dataset, data_dir=data_dir, cache_dir=cache_dir)
        except DatasetError as exc:
            problems.append(str(exc))
    folder = _reference_folder(reference_results, data_dir)
    if needs_published and not folder.is_dir():
        problems.append(f"{folder}: the authors' published fused Lytro images (MFIFB) are not there; pass --reference-results FOLDER")
    return problems


def _require_data(names: Sequence[str], data_dir, cache_dir, reference_results) -> None:
    problems = missing_data(names, data_dir, cache_dir, reference_results)
    if problems:
        listed = "\n  ".join(problems)
        raise DatasetError(f"cannot regenerate {', '.join(names)}; nothing was written:\n  {listed}")


@dataclass
class TableOutput:
    name: str
    markdown: str
    frame: pd.DataFrame  # long: row, source, metric, value
    failed: int


def make_table(
    name: str,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    reference_results: str | os.PathLike | None = None,
    conventions: Sequence[str | None] = (None,),
    workers: int = 1,
    quiet: bool = True,
    limit: int | None = None,
) -> TableOutput:
    """Compute our values for one paper table and lay them out beside the published ones
    (``limit``: only the first N pairs, for a quick look; the table says so)."""
    table = TABLES[name]
    paper, source = published(name)
    available = set(list_methods())
    ours: dict[tuple[str, str], dict[str, float]] = {}  # (row, source label) -> metric -> mean
    notes = [table.notes] if table.notes else []
    failed = 0
    specs = []
    for _, row in paper.iterrows():
        if row["method"]:
            spec = parse_method_specs(row["method"])[0]
            if spec.name in available:
                specs.append(MethodSpec(f"{row['row']}|fusionbench `{row['method']}`", spec.name, spec.params))
    _require_data([name], data_dir, cache_dir, reference_results)
    dataset = open_dataset(table.dataset, data_dir=data_dir, cache_dir=cache_dir, limit=limit)
    if limit is not None:
        notes.append(f"Our values use only the first {limit} pairs (--limit): not comparable with the paper's means.")
    if "ufa-paper" in conventions:
        notes.append(
            "Rows marked (ufa-paper) are computed the way the paper's values were (inferred from its Table V: AVG, STD, "
            "SEN, Qabf on the R channel, VIFF and Qm on gray [0, 1]; `fusionbench metrics --conventions`, docs/conventions.md); "
            "rows marked (reference) use the golden MATLAB definitions on gray images."
        )
    for convention in conventions:
        suffix = f" ({convention or 'reference'})" if len(conventions) > 1 else (f" ({convention})" if convention else "")
        if specs:
            result = run(dataset, specs, metrics=list(table.metrics), cache_dir=cache_dir, workers=workers, convention=convention, quiet=quiet)
            failed += len(result.failed)
            _collect(result, ours, suffix)
        if name == "table5":
            failed += _table5_published_images(paper, ours, suffix, data_dir, cache_dir, reference_results, convention, workers, quiet, limit)
    missing = [r for r in paper["row"] if not any(key[0] == r for key in ours)]
    if missing:
        notes.append(f"Rows without a value of ours (no such method in fusionbench yet): {', '.join(missing)}.")
    frame, markdown = _layout(table, paper, ours, source, notes)
    return TableOutput(name, markdown, frame, failed)


def _collect(result, ours: dict, suffix: str) -> None:
    means = result.frame.groupby(["method", "metric"], sort=False)["value"].mean()
    times = result.frame.drop_duplicates(["pair", "method"]).groupby("method", sort=False)["fuse_seconds"].mean()
    for spec in result.methods:
        row, label = spec.label.split("|", 1)
        values = {metric: float(means.get((spec.label, metric), math.nan)) for metric in result.metrics}
        if spec.name != "precomputed":
            values[TIME] = float(times.get(spec.label, math.nan))
        ours[(row, label + suffix)] = values


def _table5_published_images(paper, ours, suffix, data_dir, cache_dir, reference_results, convention, workers, quiet, limit) -> int:
    """Score the MFIFB fused images of the rows that name them (precomputed method)."""
    folder = _reference_folder(reference_results, data_dir)
    rows = paper[paper["mfifb_images"] != ""]
    specs = [
        MethodSpec(f"{row['row']}|authors' images (MFIFB `{row['mfifb_images']}`)", "precomputed", {"folder": str(folder), "pattern": "{pair}_" + row["mfifb_images"] + ".jpg"})
        for _, row in rows.iterrows()
    ]
    mfifb = open_dataset("mfifb", data_dir=data_dir, cache_dir=cache_dir, pairs=["lytro_*"], limit=limit)
    result = run(mfifb, specs, metrics=list(TABLES["table5"].metrics), cache_dir=cache_dir, workers=workers, convention=convention, quiet=quiet)
    _collect(result, ours, suffix)
    return len(result.failed)


def _cell(value: float, paper_value: float, digits: int) -> str:
    if not math.isfinite(value):
        return "-"
    text = f"{value:.{digits}f}"
    if math.isfinite(paper_value) and paper_value != 0:
        text += f" ({100 * (value - paper_value) / abs(paper_value):+.1f}%)"
    return text


def _layout(table: PaperTable, paper: pd.DataFrame, ours: dict, source: str, notes: list[str]) -> tuple[pd.DataFrame, str]:
    columns = list(table.metrics) + ([TIME] if TIME in paper.columns else [])
    digits = {c: (2 if c == TIME else (3 if table.name in ("table6", "table7") else 4)) for c in columns}
    header = ["Method", "Source", *[c + (" (s)" if c == TIME else "") for c in columns]]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---", "---"] + ["---:"] * len(columns)) + "|"]
    long_rows = []
    for _, row in paper.iterrows():
        label = row["row"] + (f" ({row['reference']})" if row.get("reference") else "")
        published_values = {c: _number(row.get(c, "")) for c in columns}
        lines.append("| " + " | ".join([label, "paper", *[_cell(published_values[c], math.nan, digits[c]) for c in columns]]) + " |")
        long_rows += [[row["row"], "paper", c, published_values[c]] for c in columns]
        for (row_name, source_label), values in ours.items():
            if row_name != row["row"]:
                continue
            cells = [_cell(values.get(c, math.nan), published_values[c] if c != TIME else math.nan, digits[c]) for c in columns]
            lines.append("| " + " | ".join(["", source_label, *cells]) + " |")
            long_rows += [[row["row"], source_label, c, values.get(c, math.nan)] for c in columns]
    text = [
        f"# Table {table.number}: {table.title}",
        "",
        f"Dataset `{table.dataset}`; our values are means over its pairs, with the difference to the paper in parentheses.",
        "",
        *lines,
        "",
        f"{source}",
        "",
        "Our metrics are computed on each fused image quantised to 8 bits as saved, with the sources as read.",
    ]
    text += ["", *[f"- {n}" for n in notes]] if notes else []
    frame = pd.DataFrame(long_rows, columns=["row", "source", "metric", "value"])
    return frame, "\n".join(text) + "\n"


def make_tables(
    names: Sequence[str],
    out: str | os.PathLike = DEFAULT_OUT,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    reference_results: str | os.PathLike | None = None,
    convention: str | None = None,
    workers: int = 1,
    quiet: bool = False,
    limit: int | None = None,
) -> int:
    """Write ``<out>/<table>.md`` and ``<table>.csv`` for each table (and, for table5, the
    comparison grids of the paper's Figs. 7-9); returns the number of failed tasks. Raises
    :class:`DatasetError` naming every missing dataset and folder before anything is written
    (``out`` defaults to :data:`DEFAULT_OUT`; ``reports/paper`` updates the committed copy)."""
    _require_data(names, data_dir, cache_dir, reference_results)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # By default the paper's own convention (for the comparison) and the reference beside it.
    conventions = [None if c in ("", "reference") else c for c in (convention or "ufa-paper,reference").split(",")]
    failed = 0
    for name in names:
        result = make_table(name, data_dir, cache_dir, reference_results, conventions, workers, quiet, limit)
        (out / f"{name}.md").write_text(result.markdown)
        result.frame.to_csv(out / f"{name}.csv", index=False)
        failed += result.failed
        print(f"wrote {out / (name + '.md')}" + (f" ({result.failed} failed tasks)" if result.failed else ""))
        if name == "table5":
            for path in paper_figures(out, data_dir, cache_dir, reference_results, workers):
                print(f"wrote {path}")
    _write_index(out)
    if failed:
        print(f"{failed} task(s) failed; rerun `fusionbench run` on the dataset for the log", file=sys.stderr)
    return failed


def _write_index(out: Path) -> None:
    """``<out>/README.md``: the tables and figures present in ``out``."""
    lines = [
        "# The UFA-Fuse paper's tables, regenerated",
        "",
        "Made by `fusionbench paper all --out reports/paper` (one table: `fusionbench paper table5 --out reports/paper`;",
        f"without `--out` the tables go to `{DEFAULT_OUT}/`). Each table shows the",
        "published values and ours beside them; published numbers and their source are in",
        "`fusionbench/data/ufa_fuse_table*.csv`.",
        "",
    ]
    for name, table in TABLES.items():
        if (out / f"{name}.md").is_file():
            lines.append(f"* [Table {table.number}: {table.title}]({name}.md) (`{table.dataset}`; values also in `{name}.csv`)")
    if (out / "conventions.md").is_file():
        lines.append("* [Metric conventions: which Table V rows are reproducible, and how each convention moves each metric](conventions.md) (`fusionbench paper conventions`)")
    if (out / "qc_variants.md").is_file():
        lines.append("* [Qc (Chen-Blum) variants on the DRPL row](qc_variants.md) (`python benchmarks/qc_variants.py`)")
    figures = sorted(out.glob("fig*_*.jpg"))
    if figures:
        lines += ["", "Figures 7-9 of the paper with our methods and the authors' published images (zoomed insets):", ""]
        lines += [f"* [{f.stem}]({f.name})" for f in figures]
    (out / "README.md").write_text("\n".join(lines) + "\n")


FIGURES = {"fig7": "lytro-05", "fig8": "lytro-20", "fig9": "lytro-12"}


def paper_figures(out: Path, data_dir, cache_dir, reference_results, workers: int = 1) -> list[Path]:
    """The paper's Figs. 7-9 with our methods: the three Lytro pairs, sources and every
    table-5 method we have plus the published images, with zoomed insets. Reads the fused
    images from the cache (computing any that are missing)."""
    import numpy as np

    from .figures import comparison_grid
    from .io import read_image_native

    paper, _ = published("table5")
    available = set(list_methods())
    specs = []
    for _, row in paper.iterrows():
        if row["method"] and parse_method_specs(row["method"])[0].name in available:
            spec = parse_method_specs(row["method"])[0]
            specs.append(MethodSpec(row["row"], spec.name, spec.params))
    if not specs:
        return []
    pairs = open_dataset("lytro", data_dir=data_dir, cache_dir=cache_dir, pairs=list(FIGURES.values()))
    result = run(pairs, specs, metrics=[], cache_dir=cache_dir, workers=workers, quiet=True)
    folder = _reference_folder(reference_results, data_dir)
    written = []
    for figure, pair_name in FIGURES.items():
        pair = next(p for p in pairs.pairs if p.name == pair_name)
        panels = [("source A", read_image_native(pair.a)), ("source B", read_image_native(pair.b))]
        fused = []
        for r in result.task_results:
            if r.pair == pair_name and r.fused_path:
                fused.append((r.method, np.load(r.fused_path, allow_pickle=False)))
        for _, row in paper[paper["mfifb_images"] != ""].iterrows():
            path = folder / f"{pair_name.replace('-', '_')}_{row['mfifb_images']}.jpg"
            if path.is_file():
                fused.append((f"{row['row']} (authors)", read_image_native(path)))
        grid = comparison_grid(panels + fused, title=f"Lytro {pair_name} (UFA-Fuse paper Fig. {figure[3:]})", columns=5, panel_width=300, zoom_from=[im for _, im in fused])
        path = out / f"{figure}_{pair_name}.jpg"
        grid.save(path, quality=85)
        written.append(path)
    return written
