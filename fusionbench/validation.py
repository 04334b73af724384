"""Validate a reimplemented fusion method against the original authors' fused images.

``reference-results/mfifb-lytro/lytro_XX_<METHOD>.jpg`` (see that folder's README) are the
outputs of the authors' own code on ``datasets/mfifb/lytro_XX-A/-B``. For each pair we fuse
the same sources, quantise to 8 bits (as the authors' code writes uint8) and compute the PSNR
against their image over all channels (peak 255). Their files are JPEGs, so an exact
reimplementation still differs by the compression error; the column ``jpeg_floor_db`` gives
the PSNR between our output and our output itself saved as JPEG with the same settings
(quality 75, 4:2:0 chroma: MATLAB ``imwrite``'s defaults, which these files use) - roughly
what a perfect reimplementation would score on that pair - and ``jpeg_psnr_db`` compares
that JPEG-compressed output of ours with the authors' file: if the two methods agree before
compression, this is high (only encoder differences remain).

With ``--metrics`` (e.g. ``seven``, the UFA-Fuse paper's set) each pair's metrics are computed
for both images, ours and the authors' file (under ``--convention``, by default the reference
MATLAB definitions), and tabulated with their means and the relative difference of the means.
``--maps PAIRS --maps-out FILE.png`` draws, for those pairs, the sources, the method's own
weight map (for methods with a ``maps(a, b)`` giving ``"weights"``) and the weight of source A
estimated from each fused image (:func:`weights_from_fused`, the same estimate for ours and the
authors'), so the decision maps can be compared side by side. Reference patterns take
``{pair}`` (``lytro_01``) or ``{pair_dash}`` (``lytro-01``, the naming of some authors'
repositories).

Command line (writes the Markdown table with the command that made it)::

    python -m fusionbench.validation gff --reference-pattern '{pair}_GFF.jpg' \\
        --data-dir ../shared/datasets --out reports/validation/gff.md
"""

from __future__ import annotations

import argparse
import io
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .io import read_image, read_image_native, to_uint8
from .registry import FusionMethod, check_inputs, create_method

__all__ = ["PairComparison", "LYTRO_PAIRS", "psnr_u8", "compare_with_reference", "format_markdown", "weights_from_fused",
           "decision_map_figure", "main"]

LYTRO_PAIRS = tuple(f"lytro_{k:02d}" for k in range(1, 21))


@dataclass(frozen=True)
class PairComparison:
    pair: str
    psnr_db: float  # ours (8-bit) vs the authors' file
    jpeg_floor_db: float  # ours vs ours after a JPEG round trip (quality 75, 4:2:0)
    jpeg_psnr_db: float  # ours after that JPEG round trip vs the authors' file
    max_abs_diff: int  # largest 8-bit difference, any channel
    seconds: float  # our fuse time
    ours_scores: dict[str, float] = field(default_factory=dict)  # metrics of our 8-bit output
    their_scores: dict[str, float] = field(default_factory=dict)  # the same metrics of the authors' file
    ours_jpeg_scores: dict[str, float] = field(default_factory=dict)  # ... of our output after the JPEG round trip


def psnr_u8(x: np.ndarray, y: np.ndarray) -> float:
    """PSNR in dB between two uint8 images of the same shape, peak 255, all channels."""
    mse = float(np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def _jpeg_round_trip(image: np.ndarray, quality: int = 75) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality, subsampling="4:2:0")
    buffer.seek(0)
    return np.asarray(Image.open(buffer))


def _source(folder: Path, pair: str, role: str) -> Path:
    matches = sorted(folder.glob(f"{pair}-{role}.*"))
    if not matches:
        raise FileNotFoundError(f"no source image {folder}/{pair}-{role}.* (expected the MFIFB layout <pair>-A.<ext>)")
    return matches[0]


def _reference_file(folder: str | Path, pattern: str, pair: str) -> Path:
    return Path(folder) / pattern.format(pair=pair, pair_dash=pair.replace("_", "-"))


def compare_with_reference(
    method: FusionMethod,
    sources_dir: str | Path,
    reference_dir: str | Path,
    reference_pattern: str,
    pairs: Sequence[str] = LYTRO_PAIRS,
    metrics: str | Sequence[str] | None = None,
    convention: str = "reference",
) -> list[PairComparison]:
    """Fuse each pair's ``<sources_dir>/<pair>-A.*`` and ``-B.*`` with ``method`` and compare
    with ``<reference_dir>/<reference_pattern>`` (``{pair}``: ``lytro_01``, ``{pair_dash}``:
    ``lytro-01``); with ``metrics``, score both
    fused images (8-bit, against the 8-bit sources) under ``convention``."""
    from .metrics import evaluate

    sources_dir, reference_dir = Path(sources_dir), Path(reference_dir)
    rows = []
    for pair in pairs:
        a_path, b_path = _source(sources_dir, pair, "A"), _source(sources_dir, pair, "B")
        a, b = read_image(a_path), read_image(b_path)
        start = time.perf_counter()
        fused = method.fuse(a, b, pair_name=pair)
        seconds = time.perf_counter() - start
        ours = to_uint8(fused)
        reference = read_image_native(_reference_file(reference_dir, reference_pattern, pair))
        if reference.shape != ours.shape:
            raise ValueError(f"{pair}: reference is {reference.shape}, ours {ours.shape}")
        diff = int(np.abs(ours.astype(np.int16) - reference.astype(np.int16)).max())
        ours_jpeg = _jpeg_round_trip(ours)
        scores: tuple[dict[str, float], ...] = ({}, {}, {})
        if metrics is not None:
            a8, b8 = read_image_native(a_path), read_image_native(b_path)
            scores = tuple(evaluate(a8, b8, image, metrics, convention=convention) for image in (ours, reference, ours_jpeg))
        rows.append(
            PairComparison(pair, psnr_u8(ours, reference), psnr_u8(ours, ours_jpeg), psnr_u8(ours_jpeg, reference), diff,
                           seconds, *scores)
        )
    return rows


COLUMNS = """Columns: PSNR (peak 255, all channels) of our 8-bit output against the authors' file;
our output against itself after a JPEG round trip (quality 75, 4:2:0 - the settings of the
authors' files), about what a perfect reimplementation would score; our JPEG-compressed output
against the authors' file (high when the two agree before compression); the largest 8-bit
difference; our fuse time (shared machine: load-dependent)."""


def format_markdown(
    rows: Sequence[PairComparison],
    title: str,
    command: str,
    notes: str = "",
    controls: dict[str, float] | None = None,
    convention: str = "reference",
) -> str:
    """The per-pair table; ``controls`` maps other methods to their mean PSNR against the
    same reference files (how far an unrelated method gets). Rows with scores add a table of
    the metrics of both images (computed under ``convention``)."""
    lines = [f"# {title}", "", f"Generated by `{command}`.", ""]
    if notes:
        lines += [notes.strip(), ""]
    lines += [COLUMNS, "", 
        "| pair | PSNR ours vs authors (dB) | ours vs JPEG(ours) (dB) | JPEG(ours) vs authors (dB) "
        "| max abs diff (8-bit) | fuse time (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.pair} | {r.psnr_db:.2f} | {r.jpeg_floor_db:.2f} | {r.jpeg_psnr_db:.2f} | {r.max_abs_diff} | {r.seconds:.3f} |"
        )
    psnr = np.array([r.psnr_db for r in rows])
    means = [np.mean([getattr(r, k) for r in rows]) for k in ("jpeg_floor_db", "jpeg_psnr_db", "seconds")]
    lines.append(
        f"| **mean** | **{psnr.mean():.2f}** | {means[0]:.2f} | {means[1]:.2f} "
        f"| {max(r.max_abs_diff for r in rows)} (max) | {means[2]:.3f} |"
    )
    lines += ["", f"Minimum {psnr.min():.2f} dB ({rows[int(psnr.argmin())].pair}), maximum {psnr.max():.2f} dB.", ""]
    if controls:
        lines += ["Controls - other methods (default parameters) against the same reference files, mean PSNR:", ""]
        lines += [f"* `{name}`: {value:.2f} dB" for name, value in controls.items()]
        lines.append("")
    if rows and rows[0].ours_scores:
        lines += _metrics_table(rows, convention)
    return "\n".join(lines)


def _metrics_table(rows: Sequence[PairComparison], convention: str) -> list[str]:
    names = list(rows[0].ours_scores)
    lines = [f"## Metrics of both fused images ({convention} convention)", "",
             "Each cell: ours / ours after the JPEG round trip (the authors' files' compression) / the "
             "authors' file; 8-bit images, sources as read from their files.", "",
             "| pair | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for r in rows:
        lines.append(f"| {r.pair} | " + " | ".join(
            f"{r.ours_scores[n]:.4f} / {r.ours_jpeg_scores[n]:.4f} / {r.their_scores[n]:.4f}" for n in names) + " |")
    ours, jpeg, theirs = ({n: float(np.mean([getattr(r, key)[n] for r in rows])) for n in names}
                          for key in ("ours_scores", "ours_jpeg_scores", "their_scores"))
    lines.append("| **mean** | " + " | ".join(f"**{ours[n]:.4f}** / **{jpeg[n]:.4f}** / **{theirs[n]:.4f}**" for n in names) + " |")
    lines.append("| ours vs authors | " + " | ".join(f"{100 * (ours[n] / theirs[n] - 1):+.2f} %" for n in names) + " |")
    lines.append("| JPEG(ours) vs authors | " + " | ".join(f"{100 * (jpeg[n] / theirs[n] - 1):+.2f} %" for n in names) + " |")
    return lines + [""]


def weights_from_fused(a: np.ndarray, b: np.ndarray, fused: np.ndarray, min_difference: float = 8.0) -> np.ndarray:
    """The weight ``w`` of source A that best explains ``fused = w A + (1 - w) B`` at each
    pixel (least squares over the colour channels; 8-bit values), clipped to [0, 1]; NaN where
    the sources differ by less than ``min_difference`` levels (rms over the channels), where
    no weight can be read off. Works the same on any method's fused image."""
    a, b, fused = (np.asarray(x, dtype=np.float64) for x in (a, b, fused))
    if a.ndim == 2:
        a, b, fused = (x[..., np.newaxis] for x in (a, b, fused))
    difference = a - b
    power = (difference * difference).sum(axis=2)
    w = ((fused - b) * difference).sum(axis=2) / np.maximum(power, 1e-12)
    return np.where(power >= a.shape[2] * min_difference**2, np.clip(w, 0.0, 1.0), np.nan)


def decision_map_figure(
    method: FusionMethod, sources_dir: str | Path, reference_dir: str | Path, reference_pattern: str,
    pairs: Sequence[str], out: str | Path,
) -> Path:
    """PNG with one row per pair: A, B, the method's own weight map (if it has ``maps``),
    the weight of A estimated from our fused image and from the authors' (pink: undetermined)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources_dir, reference_dir = Path(sources_dir), Path(reference_dir)
    has_maps = hasattr(method, "maps")
    columns = ["source A", "source B"] + (["our weight map"] if has_maps else []) + [
        "weight of A read from our image", "weight of A read from the authors' image"]
    fig, axes = plt.subplots(len(pairs), len(columns), figsize=(2.6 * len(columns), 2.7 * len(pairs)), squeeze=False)
    cmap = plt.get_cmap("gray").with_extremes(bad=(0.85, 0.55, 0.55))  # undetermined: pink
    for row, pair in zip(axes, pairs):
        a8, b8 = (read_image_native(_source(sources_dir, pair, role)) for role in ("A", "B"))
        ours = to_uint8(method.fuse(a8, b8, pair_name=pair))
        theirs = read_image_native(_reference_file(reference_dir, reference_pattern, pair))
        panels = [a8, b8]
        if has_maps:  # maps() takes what fuse_color() takes: float images in [0, 1]
            panels.append(np.clip(method.maps(*check_inputs(a8, b8, method.name))["weights"], 0, 1))
        panels += [weights_from_fused(a8, b8, ours), weights_from_fused(a8, b8, theirs)]
        for ax, image, title in zip(row, panels, columns):
            ax.imshow(image, cmap=None if image.ndim == 3 else cmap, vmin=0, vmax=1 if image.dtype != np.uint8 else 255,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{pair}: {title}" if ax is row[0] else title, fontsize=8)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fusionbench.validation", description=__doc__.split("\n\n")[0])
    parser.add_argument("method", help="registered method name, e.g. gff")
    parser.add_argument("--reference-pattern", required=True, help="file name in the reference folder, e.g. '{pair}_GFF.jpg' ({pair}: lytro_01, {pair_dash}: lytro-01)")
    parser.add_argument("--data-dir", default="../shared/datasets", help="datasets folder (sources in <data-dir>/mfifb)")
    parser.add_argument("--reference-dir", help="default: <data-dir>/../reference-results/mfifb-lytro")
    parser.add_argument("--pairs", default=",".join(LYTRO_PAIRS), help="comma-separated pair names (default: the 20 Lytro pairs)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="method parameter (repeatable)")
    parser.add_argument("--title", help="report title")
    parser.add_argument("--notes", default="", help="text put under the command line in the report")
    parser.add_argument("--controls", default="", help="comma-separated other methods to score against the same references")
    parser.add_argument("--metrics", help="also score both images: metric names or 'seven'")
    parser.add_argument("--convention", default="reference", help="metric convention of --metrics (default: reference)")
    parser.add_argument("--maps", default="", help="comma-separated pairs for the weight-map figure (needs --maps-out)")
    parser.add_argument("--maps-out", help="PNG of the weight maps of --maps")
    parser.add_argument("--out", help="write the Markdown table here (default: print it)")
    args = parser.parse_args(argv)
    if bool(args.maps) != bool(args.maps_out):
        parser.error("--maps and --maps-out go together")
    from .cli import _parse_params  # NAME=VALUE -> typed values, as `fusionbench fuse --param`

    data_dir = Path(args.data_dir)
    reference_dir = Path(args.reference_dir) if args.reference_dir else data_dir.parent / "reference-results" / "mfifb-lytro"
    method = create_method(args.method, **_parse_params(args.param))
    rows = compare_with_reference(method, data_dir / "mfifb", reference_dir, args.reference_pattern, args.pairs.split(","),
                                  metrics=args.metrics, convention=args.convention)
    command = "python -m fusionbench.validation " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    title = args.title or f"{args.method} vs the authors' outputs ({args.reference_pattern})"
    controls = {}
    for name in filter(None, args.controls.split(",")):
        control_rows = compare_with_reference(create_method(name), data_dir / "mfifb", reference_dir, args.reference_pattern, args.pairs.split(","))
        controls[name] = float(np.mean([r.psnr_db for r in control_rows]))
    text = format_markdown(rows, title, command, args.notes, controls, args.convention)
    if args.maps:
        print(f"wrote {decision_map_figure(method, data_dir / 'mfifb', reference_dir, args.reference_pattern, args.maps.split(','), args.maps_out)}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print(f"wrote {args.out}: mean PSNR {np.mean([r.psnr_db for r in rows]):.2f} dB over {len(rows)} pairs")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
