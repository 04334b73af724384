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

With ``--metrics`` (e.g. ``seven``) the report adds the fusion metrics of our output and of
the authors' images (``--convention``, default the reference definitions), pair by pair and
on average, with our mean's difference from theirs; ``--also LABEL=PATH_PATTERN`` adds
another set of the authors' images (e.g. from their own repository) to the PSNR and metrics
comparison. Patterns take ``{pair}`` (``lytro_01``) and ``{pair_dash}`` (``lytro-01``).

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
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from .io import read_image, read_image_native, to_uint8
from .registry import FusionMethod, create_method

__all__ = [
    "PairComparison",
    "LYTRO_PAIRS",
    "psnr_u8",
    "compare_with_reference",
    "format_markdown",
    "score_references",
    "format_metrics_markdown",
    "main",
]

LYTRO_PAIRS = tuple(f"lytro_{k:02d}" for k in range(1, 21))


@dataclass(frozen=True)
class PairComparison:
    pair: str
    psnr_db: float  # ours (8-bit) vs the authors' file
    jpeg_floor_db: float  # ours vs ours after a JPEG round trip (quality 75, 4:2:0)
    jpeg_psnr_db: float  # ours after that JPEG round trip vs the authors' file
    max_abs_diff: int  # largest 8-bit difference, any channel
    seconds: float  # our fuse time


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
    outputs: dict[str, np.ndarray] | None = None,
) -> list[PairComparison]:
    """Fuse each pair's ``<sources_dir>/<pair>-A.*`` and ``-B.*`` with ``method`` and compare
    with ``<reference_dir>/<reference_pattern with {pair}>``. ``outputs``, when given,
    receives our 8-bit outputs by pair (to score them without fusing again)."""
    sources_dir, reference_dir = Path(sources_dir), Path(reference_dir)
    rows = []
    for pair in pairs:
        a = read_image(_source(sources_dir, pair, "A"))
        b = read_image(_source(sources_dir, pair, "B"))
        start = time.perf_counter()
        fused = method.fuse(a, b, pair_name=pair)
        seconds = time.perf_counter() - start
        ours = to_uint8(fused)
        if outputs is not None:
            outputs[pair] = ours
        reference = read_image_native(_reference_file(reference_dir, reference_pattern, pair))
        if reference.shape != ours.shape:
            raise ValueError(f"{pair}: reference is {reference.shape}, ours {ours.shape}")
        diff = int(np.abs(ours.astype(np.int16) - reference.astype(np.int16)).max())
        ours_jpeg = _jpeg_round_trip(ours)
        rows.append(
            PairComparison(pair, psnr_u8(ours, reference), psnr_u8(ours, ours_jpeg), psnr_u8(ours_jpeg, reference), diff, seconds)
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
) -> str:
    """The per-pair table; ``controls`` maps other methods to their mean PSNR against the
    same reference files (how far an unrelated method gets)."""
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
    return "\n".join(lines)


def score_references(
    outputs: dict[str, np.ndarray],
    sources_dir: str | Path,
    references: dict[str, tuple[str | Path, str]],
    metrics: str = "seven",
    convention: str = "reference",
) -> dict[str, dict[str, dict[str, float]]]:
    """Metrics of our 8-bit outputs (by pair) and of each reference set (``label -> (folder,
    pattern)``) against the sources as read from their files: ``{pair: {label: {metric:
    value}}}`` with our values under ``"ours"`` and, for each reference, ``"PSNR"`` (dB) of
    our output against it."""
    from .metrics import evaluate

    sources_dir = Path(sources_dir)
    scores: dict[str, dict[str, dict[str, float]]] = {}
    for pair, ours in outputs.items():
        a = read_image_native(_source(sources_dir, pair, "A"))
        b = read_image_native(_source(sources_dir, pair, "B"))
        scores[pair] = {"ours": evaluate(a, b, ours, metrics=metrics, convention=convention)}
        for label, (folder, pattern) in references.items():
            reference = read_image_native(_reference_file(folder, pattern, pair))
            if reference.shape != ours.shape:
                raise ValueError(f"{pair}: {label} image is {reference.shape}, ours {ours.shape}")
            values = evaluate(a, b, reference, metrics=metrics, convention=convention)
            scores[pair][label] = {**values, "PSNR": psnr_u8(ours, reference)}
    return scores


def format_metrics_markdown(scores: dict[str, dict[str, dict[str, float]]], convention: str = "reference") -> str:
    """Tables of :func:`score_references`: the means (ours, each reference, ours' relative
    difference from each) and every pair's values."""
    pairs = list(scores)
    labels = list(scores[pairs[0]])
    metrics = list(scores[pairs[0]]["ours"])

    def mean(label: str, metric: str) -> float:
        return float(np.mean([scores[p][label][metric] for p in pairs]))

    lines = [f"## Fusion metrics ({convention} convention), ours and the authors' images", "",
             f"Means over {len(pairs)} pairs; sources as read from their files, every fused image as an 8-bit file.", "",
             "| images | " + " | ".join(metrics) + " | PSNR vs ours (dB) |",
             "|---|" + "---:|" * (len(metrics) + 1)]
    for label in labels:
        psnr = "-" if label == "ours" else f"{mean(label, 'PSNR'):.2f}"
        lines.append(f"| {label} | " + " | ".join(f"{mean(label, m):.4f}" for m in metrics) + f" | {psnr} |")
    for label in labels[1:]:
        lines.append(f"| ours vs {label} | " + " | ".join(
            f"{100 * (mean('ours', m) / mean(label, m) - 1):+.1f}%" for m in metrics) + " | |")
    lines += ["", "Per pair:", "", "| pair | images | " + " | ".join(metrics) + " | PSNR vs ours (dB) |",
              "|---|---|" + "---:|" * (len(metrics) + 1)]
    for pair in pairs:
        for label in labels:
            values = scores[pair][label]
            psnr = f"{values['PSNR']:.2f}" if "PSNR" in values else "-"
            lines.append(f"| {pair} | {label} | " + " | ".join(f"{values[m]:.4f}" for m in metrics) + f" | {psnr} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fusionbench.validation", description=__doc__.split("\n\n")[0])
    parser.add_argument("method", help="registered method name, e.g. gff")
    parser.add_argument("--reference-pattern", required=True, help="file name in the reference folder, e.g. '{pair}_GFF.jpg'")
    parser.add_argument("--data-dir", default="../shared/datasets", help="datasets folder (sources in <data-dir>/mfifb)")
    parser.add_argument("--reference-dir", help="default: <data-dir>/../reference-results/mfifb-lytro")
    parser.add_argument("--pairs", default=",".join(LYTRO_PAIRS), help="comma-separated pair names (default: the 20 Lytro pairs)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="method parameter (repeatable)")
    parser.add_argument("--title", help="report title")
    parser.add_argument("--notes", default="", help="text put under the command line in the report")
    parser.add_argument("--controls", default="", help="comma-separated other methods to score against the same references")
    parser.add_argument("--metrics", help="also score ours and the authors' images with these metrics, e.g. seven")
    parser.add_argument("--convention", default="reference", help="metric convention of --metrics (default reference)")
    parser.add_argument("--reference-label", default="authors", help="name of the --reference-dir images in the metrics tables")
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=PATH_PATTERN",
                        help="another set of the authors' images for --metrics, e.g. 'repo=/tmp/cmf/IFCNN-{pair_dash}.png'")
    parser.add_argument("--out", help="write the Markdown table here (default: print it)")
    args = parser.parse_args(argv)
    extra = {}
    for item in args.also:
        label, sep, path = item.partition("=")
        if not sep or "{pair" not in path:
            parser.error(f"--also {item!r}: expected LABEL=PATH_PATTERN with {{pair}} or {{pair_dash}} in the path")
        extra[label] = (Path(path).parent, Path(path).name)
    from .cli import _parse_params  # NAME=VALUE -> typed values, as `fusionbench fuse --param`

    data_dir = Path(args.data_dir)
    reference_dir = Path(args.reference_dir) if args.reference_dir else data_dir.parent / "reference-results" / "mfifb-lytro"
    method = create_method(args.method, **_parse_params(args.param))
    outputs: dict[str, np.ndarray] = {}
    rows = compare_with_reference(method, data_dir / "mfifb", reference_dir, args.reference_pattern, args.pairs.split(","),
                                  outputs=outputs)
    command = "python -m fusionbench.validation " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    title = args.title or f"{args.method} vs the authors' outputs ({args.reference_pattern})"
    controls = {}
    for name in filter(None, args.controls.split(",")):
        control_rows = compare_with_reference(create_method(name), data_dir / "mfifb", reference_dir, args.reference_pattern, args.pairs.split(","))
        controls[name] = float(np.mean([r.psnr_db for r in control_rows]))
    text = format_markdown(rows, title, command, args.notes, controls)
    if args.metrics:
        references = {args.reference_label: (reference_dir, args.reference_pattern), **extra}
        scores = score_references(outputs, data_dir / "mfifb", references, args.metrics, args.convention)
        text += "\n" + format_metrics_markdown(scores, args.convention)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
        print(f"wrote {args.out}: mean PSNR {np.mean([r.psnr_db for r in rows]):.2f} dB over {len(rows)} pairs")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
