"""``fusionbench paper conventions``: how metric conventions move the numbers, measured on Lytro.

Writes ``reports/paper/conventions.md`` with

1. the rows of the UFA-Fuse paper's Table V that can be scored from other authors' published
   fused images (MFIFB's ``reference-results/mfifb-lytro/lytro_XX_<NAME>.jpg``): the paper's
   value, ours under the ``reference`` convention and ours under ``ufa-paper``, with the
   relative differences;
2. for each metric, the conventions found in the wild and what each does to the value: the
   mean over the 20 Lytro pairs of MFIFB's DPRL images under each variant, and its difference
   to the reference definition.

Scores of section 1 go through :func:`fusionbench.runner.run` (cached, like ``paper table5``);
section 2 calls :func:`fusionbench.evaluate` with single-rule conventions.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .datasets import open_dataset, select_pairs
from .metrics import evaluate
from .metrics.conventions import Convention, Rule
from .metrics.conventions import definitions as d
from .metrics.conventions.transforms import GRAY, RED
from .paper import DEFAULT_OUT, _reference_folder, _require_data, _write_index, published
from .runner import MethodSpec, run

__all__ = ["published_image_scores", "convention_effects", "write_conventions_report"]

SEVEN = ("AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm")
COMMAND = "fusionbench paper conventions --out reports/paper"


def _single(name: str, metric: str, rule: Rule) -> Convention:
    return Convention(name, name, "conventions report", {metric: rule})


# (metric, variant label, convention name or single-rule convention); the first of each
# metric is the reference, which the others are compared with.
VARIANTS: list[tuple[str, str, str | Convention]] = [
    ("AVG", "reference: AG.m - forward differences, last row/column 0, mean over H x W; rgb2gray", "reference"),
    ("AVG", "forward differences on the (H-1) x (W-1) grid; rgb2gray", _single("avg-valid-gray", "AVG", Rule(GRAY, d.avg_forward_valid, ""))),
    ("AVG", "ufa-paper: (H-1) x (W-1) grid, R channel", "ufa-paper"),
    ("AVG", "central differences, mean over H x W (CDDFuse's formula); rgb2gray", _single("avg-central-gray", "AVG", Rule(GRAY, d.cddfuse_ag, ""))),
    ("AVG", "cddfuse: central differences; OpenCV gray", "cddfuse"),
    ("AVG", "vifb: central differences, sum / ((H-1)(W-1)), mean over R, G, B", "vifb"),
    ("STD", "reference: SD.m - mean over columns of the column std (N-1); rgb2gray", "reference"),
    ("STD", "std of all pixels (N-1); rgb2gray", _single("std-all-gray", "STD", Rule(GRAY, d.std_all_pixels, ""))),
    ("STD", "ufa-paper: std of all pixels (N-1), R channel", "ufa-paper"),
    ("STD", "cddfuse: np.std of all pixels (N); OpenCV gray", "cddfuse"),
    ("STD", "vifb: std of all pixels (N), mean over R, G, B", "vifb"),
    ("SEN", "reference: EN.m, 256 levels; rgb2gray", "reference"),
    ("SEN", "ufa-paper: R channel", "ufa-paper"),
    ("SEN", "cddfuse: OpenCV gray", "cddfuse"),
    ("SEN", "vifb: mean over R, G, B", "vifb"),
    ("SF", "reference: SF.m, both sums / (H W); rgb2gray", "reference"),
    ("SF", "cddfuse: each mean over its own differences; OpenCV gray", "cddfuse"),
    ("SF", "vifb: SF.m's formula on [R G B] side by side", "vifb"),
    ("VIFF", "reference: VIFF_Public.m on 0..255; rgb2gray", "reference"),
    ("VIFF", "ufa-paper: VIFF_Public.m on [0, 1]", "ufa-paper"),
    ("VIFF", "cddfuse: 'VIFF' = VIFp(A,F) + VIFp(B,F) (pixel VIF, summed); OpenCV gray", "cddfuse"),
    ("Qabf", "reference: metricXydeas.m; rgb2gray", "reference"),
    ("Qabf", "ufa-paper: R channel", "ufa-paper"),
    ("Qabf", "cddfuse: the 'online' Qabf, float32; OpenCV gray", "cddfuse"),
    ("Qabf", "vifb: the 'online' Qabf, mean over R, G, B", "vifb"),
    ("Qc", "reference: metricChenBlum.m; rgb2gray", "reference"),
    ("Qc", "R channel", _single("qc-red", "Qc", Rule(RED, None, ""))),
    ("Qc", "vifb: mean over R, G, B", "vifb"),
    ("Qm", "reference: metricPWW.m on 0..255; rgb2gray", "reference"),
    ("Qm", "ufa-paper: metricPWW.m on [0, 1]", "ufa-paper"),
    ("MI", "reference: Hossny's normalised MI (QMI/NMI), bits; rgb2gray", "reference"),
    ("MI", "cddfuse: MI(F,A) + MI(F,B), un-normalised, nats; OpenCV gray", "cddfuse"),
    ("MI", "vifb: MI(A,F) + MI(B,F) of stretched images, nats, mean over R, G, B", "vifb"),
    ("SSIMs", "reference: mean of SSIM(A,F), SSIM(B,F); 11x11 Gaussian; rgb2gray", "reference"),
    ("SSIMs", "cddfuse: SSIM(F,A) + SSIM(F,B), 7x7 uniform, data_range 2; OpenCV gray", "cddfuse"),
    ("SSIMs", "vifb: SSIM(A,F) + SSIM(B,F), 11x11 Gaussian, mean over R, G, B", "vifb"),
    ("SCD", "reference: analysis_SCD.m; rgb2gray", "reference"),
    ("SCD", "cddfuse: float32, OpenCV gray", "cddfuse"),
    ("CC", "reference: mean of r(A,F), r(B,F); rgb2gray", "reference"),
    ("CC", "cddfuse: float32, OpenCV gray", "cddfuse"),
]


def _lytro_mfifb(data_dir: str | os.PathLike | None, cache_dir: str | os.PathLike | None):
    return select_pairs(open_dataset("mfifb", data_dir=data_dir, cache_dir=cache_dir), ["lytro_*"])


def published_image_scores(
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    reference_results: str | os.PathLike | None = None,
    conventions: Sequence[str] = ("reference", "ufa-paper"),
    workers: int = 1,
    quiet: bool = True,
) -> pd.DataFrame:
    """Mean over the 20 Lytro pairs of the seven Table V metrics of every Table V row that has
    published fused images, under each convention: columns row, images, convention, metric,
    value, paper."""
    paper, _ = published("table5")
    rows = paper[paper["mfifb_images"] != ""]
    folder = _reference_folder(reference_results, data_dir)
    specs = [
        MethodSpec(row["row"], "precomputed", {"folder": str(folder), "pattern": "{pair}_" + row["mfifb_images"] + ".jpg"})
        for _, row in rows.iterrows()
    ]
    dataset = _lytro_mfifb(data_dir, cache_dir)
    records = []
    for convention in conventions:
        result = run(dataset, specs, metrics=list(SEVEN), cache_dir=cache_dir, workers=workers, quiet=quiet,
                     convention=None if convention == "reference" else convention)
        if result.failed:
            raise RuntimeError(f"{len(result.failed)} scoring task(s) failed under {convention}; see `fusionbench run` logs")
        means = result.frame.groupby(["method", "metric"])["value"].mean()
        for _, row in rows.iterrows():
            for metric in SEVEN:
                records.append([row["row"], row["mfifb_images"], convention, metric, float(means[(row["row"], metric)]), float(row[metric])])
    return pd.DataFrame(records, columns=["row", "images", "convention", "metric", "value", "paper"])


def convention_effects(
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    reference_results: str | os.PathLike | None = None,
    images: str = "DPRL",
) -> pd.DataFrame:
    """Each :data:`VARIANTS` entry's mean over the 20 Lytro pairs of MFIFB's ``images`` fused
    images, and its relative difference to the first (reference) variant of its metric."""
    folder = _reference_folder(reference_results, data_dir)
    pairs = _lytro_mfifb(data_dir, cache_dir).pairs
    triples = [(pair.a, pair.b, folder / f"{pair.name}_{images}.jpg") for pair in pairs]
    records = []
    baseline: dict[str, float] = {}
    for metric, label, convention in VARIANTS:
        value = float(np.mean([evaluate(a, b, f, metrics=[metric], convention=convention)[metric] for a, b, f in triples]))
        baseline.setdefault(metric, value)
        records.append([metric, label, value, (value - baseline[metric]) / abs(baseline[metric])])
    return pd.DataFrame(records, columns=["metric", "variant", "value", "relative_to_reference"])


def _percent(value: float, reference: float) -> str:
    if not (math.isfinite(value) and math.isfinite(reference)) or reference == 0:
        return "-"
    return f"{100 * (value - reference) / abs(reference):+.2f} %"


def _scores_markdown(scores: pd.DataFrame) -> list[str]:
    lines = [
        "| Row (MFIFB images) | Metric | Paper | Ours, `reference` | vs paper | Ours, `ufa-paper` | vs paper |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    table = scores.pivot_table(index=["row", "images", "metric"], columns="convention", values="value", sort=False)
    papers = scores.drop_duplicates(["row", "metric"]).set_index(["row", "metric"])["paper"]
    for (row, images, metric), values in table.iterrows():
        paper = papers[(row, metric)]
        ref, ufa = values["reference"], values["ufa-paper"]
        lines.append(
            f"| {row} (`{images}`) | {metric} | {paper:.4f} | {ref:.4f} | {_percent(ref, paper)} | {ufa:.4f} | {_percent(ufa, paper)} |"
        )
    return lines


def _verdicts(scores: pd.DataFrame, worst_without_qc: pd.Series) -> list[str]:
    """Plain statements of which rows the ufa-paper convention reproduces, derived from the numbers."""
    ufa = scores[scores["convention"] == "ufa-paper"].set_index(["row", "metric"])
    exact = [row for row, worst in worst_without_qc.items() if worst <= 5e-4]
    close = [row for row, worst in worst_without_qc.items() if 5e-4 < worst <= 1e-2]
    far = [row for row, worst in worst_without_qc.items() if worst > 1e-2]
    lines = [
        f"* Reproduced (all six metrics other than Qc within 0.05 %): {', '.join(exact) or 'none'}.",
        f"* Within 1 % but not exact (the images the paper scored were probably not byte-identical to MFIFB's "
        f"published ones): {', '.join(close) or 'none'}.",
    ]
    for row in far:
        avg = ufa.loc[(row, "AVG")]
        change = (avg["paper"] - avg["value"]) / avg["value"]
        worst_metric = (ufa.loc[row].drop("Qc").eval("abs(value - paper) / abs(paper)")).idxmax()
        if change < -0.1:
            lines.append(
                f"* **{row}: not reproducible from these images.** The paper's AVG ({avg['paper']:.4f}) is "
                f"{-100 * change:.0f} % below that of the authors' published outputs ({avg['value']:.4f}): the images "
                "the paper scored were far blurrier, and VIFF and Qabf are correspondingly lower."
            )
        else:
            lines.append(f"* {row}: not reproduced (largest difference besides Qc: {worst_metric}).")
    qc = ufa.xs("Qc", level="metric").loc[exact + close]
    qc_change = 100 * (qc["value"] - qc["paper"]) / qc["paper"]
    lines.append(
        f"* Qc is not reproduced for any row: on the rows above that otherwise match, the reference Chen-Blum code "
        f"gives {qc_change.min():+.1f} % to {qc_change.max():+.1f} % relative to the paper; variants of the code are "
        "measured in `qc_variants.md` (`python benchmarks/qc_variants.py`)."
    )
    return lines


def _effects_markdown(effects: pd.DataFrame) -> list[str]:
    lines = ["| Metric | Convention / variant | Mean (20 pairs) | vs reference |", "|---|---|---:|---:|"]
    for _, row in effects.iterrows():
        change = "-" if row["variant"].startswith("reference") else f"{100 * row['relative_to_reference']:+.2f} %"
        lines.append(f"| {row['metric']} | {row['variant']} | {row['value']:.4f} | {change} |")
    return lines


def write_conventions_report(
    out: str | os.PathLike = DEFAULT_OUT,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    reference_results: str | os.PathLike | None = None,
    workers: int = 1,
    quiet: bool = True,
) -> Path:
    """Compute both sections and write ``<out>/conventions.md`` (and the two tables as CSV);
    raises :class:`~fusionbench.datasets.DatasetError` before writing when data are missing."""
    _require_data(["conventions"], data_dir, cache_dir, reference_results)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scores = published_image_scores(data_dir, cache_dir, reference_results, workers=workers, quiet=quiet)
    effects = convention_effects(data_dir, cache_dir, reference_results)
    scores.to_csv(out / "conventions_table5.csv", index=False)
    effects.to_csv(out / "conventions_effects.csv", index=False)
    mean_abs = scores.assign(rel=(scores["value"] - scores["paper"]).abs() / scores["paper"].abs())
    summary = mean_abs.groupby(["row", "convention"], sort=False)["rel"].max().unstack()
    text = [
        "# Metric conventions on Lytro: the UFA-Fuse paper's Table V and the conventions in the wild",
        "",
        f"Generated by `{COMMAND}` (`fusionbench/conventions_report.py`); data: MFIFB's Lytro sources and the published",
        "fused images in `reference-results/mfifb-lytro` (the authors' code run by MFIFB), means over the 20 pairs.",
        "Conventions: `fusionbench metrics --conventions`; explanations: `docs/conventions.md`.",
        "",
        "## 1. Table V rows scored from published images",
        "",
        "`reference` = the golden MATLAB definitions on rgb2gray images; `ufa-paper` = AVG, STD, SEN and Qabf on the",
        "R channel (AVG on the (H-1)x(W-1) forward-difference grid, STD of all pixels), VIFF and Qm on gray [0, 1].",
        "",
        "Largest relative difference to the paper over the seven metrics, per row:",
        "",
        "| Row | `reference` | `ufa-paper` | `ufa-paper` without Qc |",
        "|---|---:|---:|---:|",
    ]
    no_qc = mean_abs[mean_abs["metric"] != "Qc"].groupby(["row", "convention"], sort=False)["rel"].max().unstack()
    for row in summary.index:
        text.append(
            f"| {row} | {100 * summary.loc[row, 'reference']:.2f} % | {100 * summary.loc[row, 'ufa-paper']:.2f} % | "
            f"{100 * no_qc.loc[row, 'ufa-paper']:.2f} % |"
        )
    text += ["", *_verdicts(scores, no_qc["ufa-paper"]), "", *_scores_markdown(scores), ""]
    text += [
        "## 2. What each convention does to each metric",
        "",
        "Mean over the 20 Lytro pairs of MFIFB's DPRL fused images under each convention or single choice, and the",
        "difference to the reference definition (first line of each metric). `cddfuse` reproduces CDDFuse's",
        "`utils/Evaluator.py` (checked to 1e-6 against its output), `vifb` VIFB's MATLAB `metrics*.m`.",
        "",
        *_effects_markdown(effects),
        "",
    ]
    path = out / "conventions.md"
    path.write_text("\n".join(text))
    _write_index(out)
    return path
