"""Tables and the HTML report of a run: results.csv, summary.{csv,md,tex}, report.html, run.log.

* ``results.csv``: the long results frame (dataset, pair, method, metric, value,
  fuse_seconds, error), full precision.
* ``summary.csv``: mean, std (sample, N-1), n (values averaged), failures and NaN values
  (a metric's documented undefined case) per method x metric, plus the mean fuse time per
  method as metric ``fuse_seconds``.
* ``summary.md`` / ``summary.tex``: one row per method, one column per metric, "mean ± std";
  a mean over fewer than all pairs says so, e.g. "(18/20: 1 failed, 1 NaN)". Per column the
  best mean is bold and the second best underlined, by the metric's direction in the
  registry (higher or lower is better; no marks for metrics without a direction). LaTeX uses
  booktabs (``\\usepackage{booktabs}``).
* ``report.html``: one self-contained page (no external files: charts are inline SVG, image
  grids lossless WebP): summary table, one line per metric saying what it measures and which
  way is better, notes on methods with known caveats (:meth:`FusionMethod.caveat`, e.g.
  under-trained weights), failures, bar charts from zero and box plots, comparison grids with
  zoomed insets, per-pair table.

Every file is written atomically (:func:`fusionbench.io.write_atomic`), results.csv first: a
full disk or an interrupt leaves each file either whole and new or whole and as it was, and
the error names the file.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import math
import platform
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pandas as pd

from .io import write_atomic
from .metrics import get_metric

if TYPE_CHECKING:
    from .cache import Cache
    from .runner import MethodSpec, RunResult

__all__ = [
    "CONVENTION_NOTE",
    "Cell",
    "summarise",
    "summary_cells",
    "markdown_table",
    "latex_table",
    "html_table",
    "write_outputs",
    "rank_marks",
    "method_caveats",
    "metric_definition",
]

TIME = "fuse_seconds"
CONVENTION_NOTE = (
    "Metrics are computed on each fused image quantised to 8 bits as saved (x255, rounded half "
    "away from zero, clipped), with the sources as read from their files; colour is converted to "
    "gray with MATLAB's rgb2gray. Time is the mean wall time of the method's fuse() per pair "
    "(reading, caching and scoring excluded)."
)


def metric_direction(metric: str) -> bool | None:
    """True: higher is better; False: lower; None: no direction. Fuse time is lower-is-better."""
    if metric == TIME:
        return False
    try:
        return get_metric(metric).higher_is_better
    except KeyError:
        return None


# One plain line per metric for a report's readers: what it measures (the registry's
# descriptions give the exact computation). A metric not listed shows its description's
# first clause.
METRIC_LINES = {
    "AVG": "average gradient: mean local change of gray level, i.e. sharpness",
    "STD": "standard deviation of the gray levels: contrast",
    "SEN": "Shannon entropy of the gray-level histogram, in bits: information content",
    "SF": "spatial frequency: root mean square of the row and column differences, overall activity",
    "EI": "edge intensity: mean Sobel gradient magnitude",
    "VIFF": "visual information fidelity for fusion: the sources' visual information kept, by a model of human vision",
    "Qabf": "share of the sources' edge strength and orientation kept in the fused image (Q^AB/F)",
    "Qc": "Chen-Blum: the sources' local contrast kept, as a human contrast-sensitivity model sees it",
    "Qm": "the sources' edge information kept across wavelet scales",
    "SCD": "sum of the correlations of differences: F - B against A plus F - A against B",
    "MI": "normalised mutual information between the fused image and the sources",
    "NCIE": "nonlinear correlation information entropy of the sources and the fused image",
    "TE": "Tsallis-entropy mutual information between the fused image and the sources",
    "FMI": "mutual information of the edge features of the fused image and the sources",
    "PSNR": "peak signal-to-noise ratio against the ground truth, in dB",
    "SSIM": "structural similarity to the ground truth",
    "Qp": "similarity of phase-congruency features (edges, corners) to the sources",
    "Qw": "Piella's weighted quality index: Qs weighted by each window's salience",
    "Qy": "Yang's quality: local SSIM to the sources, salience-weighted where they agree, else to the closer one",
    "Qcvejic": "Cvejic's quality: local SSIM to each source, weighted by its share of the covariance with the fused image",
    "Qs": "Piella's quality index: local universal image quality index to the sources, weighted by their variance",
    "Qe": "Piella's edge-dependent quality: Qw on the images times Qw on their edge images",
    "Qcv": "Chen-Varshney: contrast-sensitivity-filtered difference from the sources, weighted by salience",
    "Nabf": "fusion artifacts: gradient strength in the fused image found in neither source",
    "VIFp_A": "pixel-domain visual information fidelity against source A",
    "VIFp_B": "pixel-domain visual information fidelity against source B",
    "VIFp_sum": "pixel-domain visual information fidelity against source A plus against source B",
    "CC": "mean correlation coefficient of the fused image with each source",
    "SSIMs": "mean structural similarity of the fused image to each source",
    "MS_SSIM": "mean multi-scale structural similarity of the fused image to each source",
}


def metric_definition(metric: str) -> str:
    """One line: what ``metric`` measures, which way is better, its range and its source, e.g.
    "Qabf ↑: share of the sources' edge strength ... kept (Q^AB/F); higher is better, 0 to 1;
    Xydeas & Petrović 2000, Electronics Letters 36(4)"."""
    if metric == TIME:
        return "Time (s) ↓: mean wall time of the method's fuse() per pair (- for images made elsewhere, which are not timed); lower is better"
    m = get_metric(metric)
    what = METRIC_LINES.get(m.name) or re.split(r"[.:;(]|``", m.description, maxsplit=1)[0].strip() or m.name
    direction = {True: "higher is better", False: "lower is better"}.get(m.higher_is_better, "no better direction")
    low, high = m.range
    extent = f", {low:g} to {high:g}" if math.isfinite(low) and math.isfinite(high) else (f", at least {low:g}" if math.isfinite(low) else "")
    source = m.reference.split(";")[0].strip()
    arrow = {True: " ↑", False: " ↓"}.get(m.higher_is_better, "")
    return f"{m.name}{arrow}: {what}; {direction}{extent}" + (f"; {source}" if source else "")


def method_caveats(specs: Sequence["MethodSpec"]) -> dict[str, str]:
    """Label -> caveat for the methods of a run that declare one (:meth:`FusionMethod.caveat`,
    e.g. the shipped ``ufa`` weights are under-trained), in run order."""
    from .registry import create_method

    caveats = {}
    for spec in specs:
        caveat = create_method(spec.name, **spec.params).caveat()
        if caveat:
            caveats[spec.label] = caveat
    return caveats


def summarise(frame: pd.DataFrame, methods: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """Mean, std (N-1) and n of the finite values per method x metric, in the given order, with
    the number of pairs (``n_pairs``), of failed tasks (``n_failed``) and of values a metric
    gave as NaN or infinite without an error (``n_nan``, e.g. VIFF of an image too small for its
    scales), which the mean skips; plus one ``fuse_seconds`` row per method (mean over the
    pairs whose fuse succeeded and was timed)."""
    rows = []
    for method in methods:
        part = frame[frame["method"] == method]
        for metric in metrics:
            values = part.loc[part["metric"] == metric, "value"]
            failed = (part.loc[part["metric"] == metric, "error"].fillna("") != "").to_numpy()
            finite = values[np.isfinite(values)]
            not_finite = ~np.isfinite(values.to_numpy())
            rows.append([method, metric, finite.mean() if len(finite) else math.nan, finite.std(ddof=1) if len(finite) > 1 else math.nan,
                         len(finite), len(values), int(failed.sum()), int((not_finite & ~failed).sum())])
        per_pair = part.drop_duplicates("pair")["fuse_seconds"]
        finite = per_pair[np.isfinite(per_pair)]
        rows.append([method, TIME, finite.mean() if len(finite) else math.nan, finite.std(ddof=1) if len(finite) > 1 else math.nan, len(finite), len(per_pair), 0, 0])
    return pd.DataFrame(rows, columns=["method", "metric", "mean", "std", "n", "n_pairs", "n_failed", "n_nan"])


def rank_marks(means: dict[str, float], higher_is_better: bool | None) -> dict[str, str]:
    """``"best"`` / ``"second"`` / ``""`` per key: the best and second-best distinct values in
    the metric's direction (ties share the mark; NaN is never marked, an infinity can be, e.g.
    the PSNR of a perfect result); nothing without a direction."""
    marks = {key: "" for key in means}
    if higher_is_better is None:
        return marks
    distinct = sorted({v for v in means.values() if v is not None and not math.isnan(v)}, reverse=higher_is_better)
    for key, value in means.items():
        if distinct and value == distinct[0]:
            marks[key] = "best"
        elif len(distinct) > 1 and value == distinct[1]:
            marks[key] = "second"
    return marks


@dataclass(frozen=True)
class Cell:
    text: str
    mark: str = ""  # "best", "second" or ""


def _format(value: float, digits: int) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def summary_cells(summary: pd.DataFrame, methods: Sequence[str], metrics: Sequence[str], with_std: bool = True) -> tuple[list[str], list[list[Cell]]]:
    """Header (with direction arrows) and rows of cells for the wide summary table."""
    columns = [*metrics, TIME]
    table = summary.set_index(["method", "metric"])
    header = ["Method"]
    for metric in columns:
        arrow = {True: " ↑", False: " ↓"}.get(metric_direction(metric), "")
        header.append(("Time (s)" if metric == TIME else metric) + arrow)
    marks = {}
    for metric in columns:
        means = {m: float(table.loc[(m, metric), "mean"]) for m in methods}
        marks[metric] = rank_marks(means, metric_direction(metric))
    rows = []
    for method in methods:
        row = [Cell(method)]
        for metric in columns:
            mean, std = table.loc[(method, metric), ["mean", "std"]]
            digits = 3 if metric == TIME else 4
            text = _format(mean, digits)
            if with_std and math.isfinite(mean) and math.isfinite(std):
                text += f" ± {_format(std, digits)}"
            skipped = [f"{count} {what}" for what, count in (("failed", table.loc[(method, metric), "n_failed"]), ("NaN", table.loc[(method, metric), "n_nan"])) if count]
            if skipped:
                text += f" ({table.loc[(method, metric), 'n']}/{table.loc[(method, metric), 'n_pairs']}: {', '.join(skipped)})"
            row.append(Cell(text, marks[metric][method]))
        rows.append(row)
    return header, rows


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """GitHub Markdown; best **bold**, second <u>underlined</u>."""
    def fmt(cell: Cell) -> str:
        text = cell.text.replace("|", "\\|")
        return {"best": f"**{text}**", "second": f"<u>{text}</u>"}.get(cell.mark, text)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _tex(text: str) -> str:
    text = "".join(_TEX_ESCAPES.get(ch, ch) for ch in text)
    return text.replace("±", r"$\pm$").replace("↑", r"$\uparrow$").replace("↓", r"$\downarrow$")


def latex_table(header: Sequence[str], rows: Sequence[Sequence[Cell]], caption: str = "") -> str:
    """A booktabs table; best \\textbf, second \\underline."""
    def fmt(cell: Cell) -> str:
        text = _tex(cell.text)
        return {"best": f"\\textbf{{{text}}}", "second": f"\\underline{{{text}}}"}.get(cell.mark, text)

    lines = ["% Needs \\usepackage{booktabs}. Best per column bold, second underlined.", "\\begin{table}[t]", "\\centering"]
    if caption:
        lines.append(f"\\caption{{{_tex(caption)}}}")
    lines += [f"\\begin{{tabular}}{{l{'r' * (len(header) - 1)}}}", "\\toprule", " & ".join(_tex(h) for h in header) + " \\\\", "\\midrule"]
    lines += [" & ".join(fmt(c) for c in row) + " \\\\" for row in rows]
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def html_table(header: Sequence[str], rows: Sequence[Sequence[Cell]], css_class: str = "") -> str:
    def fmt(cell: Cell) -> str:
        text = html.escape(cell.text)
        return {"best": f"<b>{text}</b>", "second": f"<u>{text}</u>"}.get(cell.mark, text)

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ---------------------------------------------------------------- writing a run's outputs


def write_outputs(result: "RunResult", cache: "Cache", figure_pairs: int | Sequence[str] = 3, reports: bool = True, save_fused: bool = False, convention: str | None = None) -> Path:
    """Write a run's files into ``result.out``; returns the report's path (results.csv when
    ``reports`` is False)."""
    out = result.out
    assert out is not None
    methods = [s.label for s in result.methods]
    caveats = method_caveats(result.methods)
    write_atomic(out / "results.csv", result.frame.to_csv(index=False))
    summary = summarise(result.frame, methods, result.metrics)
    write_atomic(out / "summary.csv", summary.to_csv(index=False))
    write_atomic(out / "run.log", _log_text(result, convention, caveats))
    if save_fused:
        _save_fused(result, out / "fused")
    if not reports:
        return out / "results.csv"
    header, rows = summary_cells(summary, methods, result.metrics)
    caption = f"{result.dataset.name}: mean ± std over {len(result.dataset.pairs)} pairs"
    notes = "".join(f"\nNote on {label}: {caveat}.\n" for label, caveat in caveats.items())
    write_atomic(out / "summary.md", f"{caption}. Best **bold**, second <u>underlined</u>.\n\n{markdown_table(header, rows)}\n{CONVENTION_NOTE}\n{notes}")
    write_atomic(out / "summary.tex", latex_table(header, rows, caption) + "".join(f"% Note on {label}: {caveat}.\n" for label, caveat in caveats.items()))
    report = out / "report.html"
    write_atomic(report, _html_report(result, summary, header, rows, _grid_pairs(result, figure_pairs), convention, caveats))
    return report


def _grid_pairs(result: "RunResult", figure_pairs: int | Sequence[str]) -> list[str]:
    names = [p.name for p in result.dataset.pairs]
    if isinstance(figure_pairs, int):
        preferred = [p for p in (result.dataset.descriptor.figure_pairs if result.dataset.descriptor else ()) if p in names]
        return (preferred + [n for n in names if n not in preferred])[:figure_pairs]
    return [p for p in figure_pairs if p in names]


def _safe_names(texts: Sequence[str]) -> dict[str, str]:
    """File-system-safe names, distinct where the texts are: ``a b`` and ``a_b`` would both be
    ``a_b`` (and ``A`` and ``a`` one file on a case-insensitive disk), so those get a short hash
    of the original text appended."""
    safe = {text: re.sub(r"[^A-Za-z0-9_.-]+", "_", text) for text in texts}
    folded = [name.lower() for name in safe.values()]
    return {
        text: f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:6]}" if folded.count(name.lower()) > 1 else name
        for text, name in safe.items()
    }


def _save_fused(result: "RunResult", folder: Path) -> None:
    from .io import write_image

    methods = _safe_names([s.label for s in result.methods])
    pairs = _safe_names([p.name for p in result.dataset.pairs])
    for r in result.task_results:
        if r.fused_path:
            target = folder / methods[r.method] / f"{pairs[r.pair]}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            write_image(target, np.load(r.fused_path, allow_pickle=False))


def _brief(params: dict) -> dict:
    """Parameters for the log: a mapping (``precomputed``'s files by pair) as its size."""
    return {key: f"<{len(value)} entries>" if isinstance(value, dict) else value for key, value in params.items()}


def _log_text(result: "RunResult", convention: str | None, caveats: dict[str, str]) -> str:
    from . import __version__

    computed = sum(r.computed for r in result.task_results)
    corrupted = sum(r.corrupted for r in result.task_results)
    lines = [
        f"fusionbench {__version__} run, {_dt.datetime.now().isoformat(timespec='seconds')}, Python {platform.python_version()} on {platform.platform()}",
        f"dataset: {result.dataset.name} ({len(result.dataset.pairs)} pairs, folder {result.dataset.folder})",
        "methods: " + ", ".join(f"{s.label} = {s.name}{_brief(s.params) or ''}" for s in result.methods),
        f"metrics: {', '.join(result.metrics)}; convention: {convention or 'reference'}",
        f"tasks: {len(result.task_results)} ({computed} computed, {len(result.task_results) - computed} from the cache, {corrupted} corrupted cache entries recomputed)",
        f"failed tasks: {len(result.failed)}",
        f"wall time: {result.wall_seconds:.2f} s",
        *(f"note on {label}: {caveat}" for label, caveat in caveats.items()),
        "",
    ]
    lines += [f"WARNING {message}" for message in dict.fromkeys(m for r in result.task_results for m in r.warnings)]
    for r in result.failed:
        for what, message in r.errors.items():
            lines.append(f"FAILED {r.method} on {r.pair} ({what}): {message}")
    for r in result.failed:
        lines += ["", *r.tracebacks]
    return "\n".join(lines) + "\n"


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _html_report(result: "RunResult", summary: pd.DataFrame, header: list[str], rows: list[list[Cell]], grid_pairs: list[str], convention: str | None, caveats: dict[str, str]) -> str:
    from . import __version__
    from .figures import comparison_grid, image_bytes, metric_bars_svg, metric_boxes_svg
    from .io import read_image_native, to_uint8

    methods = [s.label for s in result.methods]
    directions = {m: metric_direction(m) for m in result.metrics}
    n_pairs = len(result.dataset.pairs)
    sections = []
    title = f"fusionbench: {result.dataset.name}"
    meta = (
        f"{n_pairs} pairs ({' / '.join(result.dataset.roles)}), {len(methods)} methods, "
        f"{len(result.metrics)} metrics, convention {convention or 'reference'}; fusionbench {__version__}, "
        f"{_dt.date.today().isoformat()}"
    )
    notes = "".join(f'<p class="caveat"><b>Note on {html.escape(label)}:</b> {html.escape(caveat)}.</p>' for label, caveat in caveats.items())
    definitions = "".join(
        f"<li><b>{html.escape(name)}</b>: {html.escape(rest)}</li>"
        for name, _, rest in (metric_definition(m).partition(": ") for m in [*result.metrics, TIME])
    )
    sections.append(
        f"<h2>Summary</h2><p>Mean ± std over the {n_pairs} pairs; best <b>bold</b>, second <u>underlined</u> per column "
        f"(↑ higher is better, ↓ lower).</p>{html_table(header, rows, 'summary')}{notes}"
        f'<h3>What the columns measure</h3><ul class="definitions">{definitions}</ul>'
        f'<p class="note">{html.escape(CONVENTION_NOTE)}</p>'
    )
    if result.failed:
        fail_rows = [[Cell(r.method), Cell(r.pair), Cell("; ".join(f"{k}: {v}" for k, v in r.errors.items()))] for r in result.failed]
        sections.append(f"<h2>Failures</h2><p>{len(result.failed)} task(s) failed; tracebacks in run.log.</p>{html_table(['Method', 'Pair', 'Error'], fail_rows, 'failures')}")
    scored = summary[summary["metric"] != TIME]
    if len(scored) and scored["mean"].notna().any():
        bars = metric_bars_svg(scored, directions, methods).encode()
        boxes = metric_boxes_svg(result.frame, directions, methods).encode()
        sections.append(
            f"<h2>Metrics</h2><p>Mean per method over the pairs, bars from zero (their lengths compare), "
            "whiskers ± 1 standard deviation; the number is the mean.</p>"
            f'<img class="chart" alt="bar charts of the mean of each metric per method" src="{_data_uri(bars, "image/svg+xml")}">'
            "<p>Distribution over the pairs: box from the first to the third quartile, line at the median, whiskers to the "
            "furthest value within 1.5 box lengths, circles beyond. Each axis spans that metric's values, not from zero.</p>"
            f'<img class="chart" alt="box plots of each metric per method over the pairs" src="{_data_uri(boxes, "image/svg+xml")}">'
        )
    grids = []
    by_key = {(r.pair, r.method): r for r in result.task_results}
    pairs = {p.name: p for p in result.dataset.pairs}
    for name in grid_pairs:
        pair = pairs[name]
        sources = [(f"source {result.dataset.roles[0]}", read_image_native(pair.a)), (f"source {result.dataset.roles[1]}", read_image_native(pair.b))]
        fused = []
        for method in methods:
            r = by_key.get((name, method))
            if r is not None and r.fused_path and Path(r.fused_path).is_file():
                fused.append((method, np.load(r.fused_path, allow_pickle=False)))
        if not fused:
            continue
        panels = [(label, to_uint8(image) if image.dtype != np.uint8 else image) for label, image in sources + fused]
        between = "the methods" if len(fused) > 1 else "the images"
        zoom_from = [im for _, im in panels[2:]] if len(fused) > 1 else [im for _, im in panels]
        many = len(panels) > 8  # e.g. 30 methods scored: smaller panels, more columns, a lighter page
        width = min(panels[0][1].shape[1], 340 if many else 520)
        figure = comparison_grid(panels, title=f"{result.dataset.name} / {name}", columns=6 if many else 4, panel_width=width, zoom_from=zoom_from)
        size = "full resolution" if width == panels[0][1].shape[1] else f"scaled to {width} pixels wide"
        grids.append(
            f'<figure><img class="grid" alt="sources and fused images of {html.escape(name)}" src="{_data_uri(image_bytes(figure, "webp"), "image/webp")}">'
            f"<figcaption>{html.escape(name)}: the sources and each fused image as saved (8 bits, {size}, losslessly encoded). "
            f"The framed box is where {between} differ most in local detail; the corner shows it magnified from the "
            "full-resolution image.</figcaption></figure>"
        )
    if grids:
        sections.append("<h2>Fused images</h2>" + "".join(grids))
    per_pair = result.frame.pivot_table(index=["pair", "method"], columns="metric", values="value", aggfunc="first", sort=False)
    times = result.frame.drop_duplicates(["pair", "method"]).set_index(["pair", "method"])["fuse_seconds"]
    pair_rows = []
    for (pair, method), values in per_pair.iterrows():
        cells = [Cell(str(pair)), Cell(str(method))] + [Cell(_format(values.get(m, math.nan), 4)) for m in result.metrics]
        pair_rows.append(cells + [Cell(_format(times.get((pair, method), math.nan), 3))])
    sections.append(f"<h2>Per pair</h2>{html_table(['Pair', 'Method', *result.metrics, 'Time (s)'], pair_rows, 'per-pair')}")
    body = "\n".join(f"<section>{s}</section>" for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }}
h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }} h2 {{ border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }}
table {{ border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }}
th, td {{ padding: 0.3em 0.7em; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }}
th:first-child, td:first-child, table.per-pair td:nth-child(2), table.failures td {{ text-align: left; }}
thead th {{ border-bottom: 2px solid #444; }}
table.failures td {{ white-space: normal; }}
img.chart {{ max-width: 100%; display: block; margin: 0.5em 0; }} img.grid {{ max-width: 100%; }}
figure {{ margin: 1em 0; }} figcaption {{ color: #555; font-size: 0.9em; }}
.meta, .note {{ color: #555; }}
ul.definitions {{ padding-left: 1.2em; margin: 0.3em 0; }} ul.definitions li {{ margin: 0.15em 0; }}
p.caveat {{ background: #fff4d6; border-left: 4px solid #e0a800; padding: 0.4em 0.8em; }}
h3 {{ font-size: 1.05em; margin: 1em 0 0.3em; }}
@media print {{ body {{ max-width: none; margin: 0; }} figure, img.chart, table.summary {{ break-inside: avoid; }} }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">{html.escape(meta)}</p>
{body}
</body></html>
"""
