"""Run the GTF authors' MATLAB code in GNU Octave and compare it with fusionbench's ``gtf``.

The authors' code (github.com/jiayi-ma/GTF: ``Demo.m`` and NUMIPAD's ``irntv.m``) is not part
of fusionbench; point ``--authors-code`` at a checkout (any folder with ``irntv.m`` below it).
For each pair this runs the GTF section of their ``Demo.m`` unchanged (``irntv(I-V, {}, 4,
pars_irn)`` with the demo's parameters, ``X = im2gray(U + V)``), writing
``<work>/<dataset>/<pair>.png`` (X in 8 bits, as MATLAB's ``imwrite`` stores a double image),
``<pair>.f64`` (X before quantisation, float64, row-major, channels last) and ``<pair>.itstat``
(their iteration table); then it fuses the same pair with ``gtf`` and prints Markdown tables:
PSNR of ours against theirs and the seven metrics of both (reference convention)::

    python tools/gtf_authors.py --authors-code /path/to/GTF --data-dir ../shared/datasets \\
        --dataset tno --dataset medical-ct-mri --work /tmp/gtf-work

``--dataset NAME[:PAIR,PAIR..]`` (repeatable): a dataset of the data folder (or a folder of
``<pair>-IR.*``/``-VIS.*`` files), all pairs or the listed ones; A is the infrared (intensity)
image, B the visible one. The demo fuses gray images: a source stored as RGB with equal
channels is read as gray by both sides (``gtf`` also fuses the RGB files through the colour
policy: column "ours, RGB files").

``--demo`` adds the authors' demo pair (``img/lake_IR.png``, ``img/lake_VIS.png`` of their
checkout) and compares with the fused image they published beside it (``lake_GTF.png``);
``--published DATASET/PAIR=FILE`` (repeatable) does that for any pair. ``--vifb DIR`` adds the VIFB
benchmark's 21 pairs from a checkout of github.com/xingchenzhang/VIFB: their Octave run
follows VIFB's ``run_GTF.m`` (sources as read, so a colour visible image makes ``I - V`` a
3-channel image and ``irntv`` uses its vector TV), compared with VIFB's published
``output/fused_images/<pair>_GTF.jpg`` (MATLAB outputs, JPEG quality 75).

Octave outputs are reused when present (delete ``--work`` to recompute). ``--octave`` names
the binary (default ``octave-cli``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import fusionbench
import fusionbench.methods.gtf as gtf_module
from fusionbench.datasets.catalog import Pair, open_dataset
from fusionbench.io import read_image_native, to_uint8
from fusionbench.validation import _jpeg_round_trip, psnr_u8

SEVEN = ("AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm")

_OCTAVE_HEADER = """
warning('off', 'all');
addpath('{numipad}');
nmpdef;
function x = gray_source(path)  % the demo's gray input; an RGB file must have equal channels
  x = imread(path);
  if ndims(x) == 3
    if any(any(x(:, :, 1) != x(:, :, 2))) || any(any(x(:, :, 1) != x(:, :, 3)))
      error('%s: colour image; the GTF demo fuses gray images', path);
    end
    x = x(:, :, 1);
  end
  x = double(x) / 255;
end
function x = as_read(path)  % VIFB's run_GTF.m: double(imread(path)) / 255
  x = double(imread(path)) / 255;
end
"""

# The GTF section of the authors' Demo.m, per pair (I: infrared, V: visible, doubles in [0, 1]).
_OCTAVE_PAIR = """
I = {reader}('{a}'); V = {reader}('{b}');
pars_irn = irntvInputPars('l1tv');
pars_irn.adapt_epsR   = 1;
pars_irn.epsR_cutoff  = 0.01;
pars_irn.adapt_epsF   = 1;
pars_irn.epsF_cutoff  = 0.05;
pars_irn.pcgtol_ini = 1e-4;
pars_irn.loops      = 5;
pars_irn.U0         = I-V;
pars_irn.variant       = NMP_TV_SUBSTITUTION;
pars_irn.weight_scheme = NMP_WEIGHTS_THRESHOLD;
pars_irn.pcgtol_ini    = 1e-2;
pars_irn.adaptPCGtol   = 1;
tic; [U, itstat] = irntv(I-V, {{}}, 4, pars_irn); t = toc;
X = U + V;
X = im2gray(X);
imwrite(uint8(X * 255), '{out}.png', 'png');
fid = fopen('{out}.f64', 'w'); fwrite(fid, permute(X, [3 2 1]), 'double'); fclose(fid);
dlmwrite('{out}.itstat', itstat, ' ');
printf('%s: %.2f s, CG iterations per loop: %s\\n', '{name}', t, mat2str(itstat(:, 9).'));
"""


@dataclass(frozen=True)
class Job:
    dataset: str
    pair: Pair
    as_read: bool = False  # VIFB's recipe: sources as read (colour stays colour)
    published: Path | None = None  # the authors' (or a benchmark's) fused image of this pair

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.pair.name}"


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def run_authors_code(code_dir: Path, jobs: list[Job], work: Path, octave: str = "octave-cli") -> None:
    """Run the GTF section of the authors' Demo.m in Octave for every job whose output is missing."""
    found = sorted(code_dir.rglob("irntv.m"))
    if not found:
        raise SystemExit(f"{code_dir}: no irntv.m below it; pass a checkout of github.com/jiayi-ma/GTF")
    todo = [job for job in jobs if not (work / f"{job.name}.f64").is_file()]
    if not todo:
        return
    script = _OCTAVE_HEADER.format(numipad=_quote(found[0].parent))
    for job in todo:
        (work / job.dataset).mkdir(parents=True, exist_ok=True)
        reader = "as_read" if job.as_read else "gray_source"
        script += _OCTAVE_PAIR.format(reader=reader, a=_quote(job.pair.a), b=_quote(job.pair.b), out=_quote(work / job.name), name=job.name)
    path = work / "run_gtf.m"
    path.write_text(script)
    subprocess.run([octave, "--no-gui", "-q", str(path)], check=True)


def _gray(path: Path) -> np.ndarray:
    """The source as the demo reads it: gray (one channel of an equal-channel RGB file)."""
    image = read_image_native(path)
    if image.ndim == 3:
        if not (np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2])):
            raise SystemExit(f"{path}: colour image; the GTF demo fuses gray images (use --vifb's recipe for colour)")
        image = image[..., 0]
    return image


def _fuse_counting_cg(method, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``method.fuse(a, b)`` and the conjugate-gradient iterations of each IRN loop."""
    solve, counts = gtf_module._conjugate_gradient, []

    def counting(*args):
        z, iterations = solve(*args)
        counts.append(iterations)
        return z, iterations

    gtf_module._conjugate_gradient = counting
    try:
        return method.fuse(a, b), counts
    finally:
        gtf_module._conjugate_gradient = solve


def _first_channel(image: np.ndarray) -> np.ndarray:
    return image[..., 0] if image.ndim == 3 else image


def _psnr_cell(value: float) -> str:
    return "identical" if np.isinf(value) else f"{value:.2f}"


def compare(jobs: list[Job], work: Path) -> list[dict]:
    """Per job: our output against the Octave run (and the published image), and the seven
    metrics of ours and theirs on the gray (demo) inputs."""
    method = fusionbench.create_method("gtf")
    rows = []
    for job in jobs:
        rgb_a, rgb_b = fusionbench.read_image(job.pair.a), fusionbench.read_image(job.pair.b)
        start = time.perf_counter()
        ours_rgb = to_uint8(method.fuse(rgb_a, rgb_b))  # as the runner fuses the files
        seconds = time.perf_counter() - start
        theirs_float = np.fromfile(work / f"{job.name}.f64", dtype=np.float64)
        theirs = to_uint8(theirs_float.reshape(ours_rgb.shape if job.as_read else ours_rgb.shape[:2]))
        itstat = np.loadtxt(work / f"{job.name}.itstat", ndmin=2)
        row = dict(name=job.name, seconds=seconds, cg=" ".join(str(int(k)) for k in itstat[:, 8]))  # is(8) = pcgit
        if job.as_read:  # colour: the Octave run is irntv's vector TV, ours the YCbCr policy
            a, b = rgb_a, rgb_b
            ours = ours_rgb
            row.update(psnr_rgb=psnr_u8(ours, theirs))
        else:
            a, b = _gray(job.pair.a), _gray(job.pair.b)
            ours_float, our_cg = _fuse_counting_cg(method, a, b)
            ours = to_uint8(ours_float)
            row.update(
                psnr=psnr_u8(ours, theirs),
                psnr_rgb=psnr_u8(_first_channel(ours_rgb), theirs),
                our_cg=" ".join(map(str, our_cg)),
                max_diff=int(np.abs(ours.astype(int) - theirs.astype(int)).max()),
                float_max_diff=float(np.abs(ours_float - theirs_float.reshape(ours.shape)).max()),
            )
        if job.published is not None:
            published = read_image_native(job.published)
            published = published if theirs.ndim == 3 else _first_channel(published)
            row.update(
                published_ours=psnr_u8(ours, published),
                published_octave=psnr_u8(theirs, published),
                published_floor=psnr_u8(theirs, _jpeg_round_trip(theirs)) if job.published.suffix.lower() == ".jpg" else None,
                published_octave_jpeg=psnr_u8(_jpeg_round_trip(theirs), published) if job.published.suffix.lower() == ".jpg" else None,
            )
        row.update(
            ours_metrics=fusionbench.evaluate(a, b, ours, metrics=list(SEVEN)),
            their_metrics=fusionbench.evaluate(a, b, theirs, metrics=list(SEVEN)),
        )
        rows.append(row)
        print(f"{job.name}: done ({seconds:.2f} s)", file=sys.stderr, flush=True)
    return rows


def format_markdown(rows: list[dict]) -> str:
    lines = []
    gray = [r for r in rows if "psnr" in r]
    if gray:
        lines += [
            "| pair | PSNR ours vs authors (dB) | ours, RGB files, vs authors (dB) | max abs diff (8-bit) | max abs diff (float) | CG iterations per loop, authors' | ours | our fuse time, RGB files (s) |",
            "|---|---:|---:|---:|---:|---|---|---:|",
        ]
        for r in gray:
            lines.append(
                f"| {r['name']} | {_psnr_cell(r['psnr'])} | {_psnr_cell(r['psnr_rgb'])} | {r['max_diff']} "
                f"| {r['float_max_diff']:.1e} | {r['cg']} | {'same' if r['our_cg'] == r['cg'] else r['our_cg']} | {r['seconds']:.2f} |"
            )
        lines.append("")
        for dataset, group in _by_dataset(gray).items():
            psnr = np.array([r["psnr"] for r in group])
            finite = psnr[np.isfinite(psnr)]
            lines.append(
                f"* {dataset}: {len(group)} pair(s), {int(np.isinf(psnr).sum())} identical in 8 bits, the others "
                + (f"{finite.min():.2f}..{finite.max():.2f} dB" if finite.size else "-")
                + f"; largest float difference {max(r['float_max_diff'] for r in group):.1e}; "
                + f"CG iterations as the authors' in every loop on {sum(r['our_cg'] == r['cg'] for r in group)}; "
                + f"RGB files through the colour policy: minimum {min(r['psnr_rgb'] for r in group):.2f} dB."
            )
        lines.append("")
    published = [r for r in rows if "published_ours" in r]
    if published:
        lines += [
            "| pair | ours vs published (dB) | authors' code in Octave vs published (dB) | Octave vs JPEG(Octave) (dB) | JPEG(Octave) vs published (dB) | ours vs Octave (dB) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in published:
            floor = "-" if r["published_floor"] is None else _psnr_cell(r["published_floor"])
            jpeg = "-" if r["published_octave_jpeg"] is None else _psnr_cell(r["published_octave_jpeg"])
            own = r["psnr"] if "psnr" in r else r["psnr_rgb"]
            lines.append(
                f"| {r['name']} | {_psnr_cell(r['published_ours'])} | {_psnr_cell(r['published_octave'])} | {floor} | {jpeg} | {_psnr_cell(own)} |"
            )
        lines.append("")
    lines += ["Seven metrics (reference convention, `fusionbench.evaluate`), ours / authors' (Octave run):", ""]
    lines.append("| pair | " + " | ".join(SEVEN) + " |")
    lines.append("|---|" + "---:|" * len(SEVEN))
    for dataset, group in _by_dataset(rows).items():
        for r in group:
            cells = [f"{r['ours_metrics'][m]:.4f} / {r['their_metrics'][m]:.4f}" for m in SEVEN]
            lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
        if len(group) > 1:
            means = [(np.mean([r["ours_metrics"][m] for r in group]), np.mean([r["their_metrics"][m] for r in group])) for m in SEVEN]
            lines.append(f"| **{dataset} mean** | " + " | ".join(f"**{o:.4f} / {t:.4f}**" for o, t in means) + " |")
    return "\n".join(lines) + "\n"


def _by_dataset(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["name"].split("/")[0], []).append(row)
    return groups


def _jobs(data_dir: Path, specs: list[str], published: dict[str, Path]) -> list[Job]:
    jobs = []
    for spec in specs:
        name, _, pairs = spec.partition(":")
        dataset = open_dataset(name, data_dir)
        wanted = set(filter(None, pairs.split(",")))
        for pair in dataset.pairs:
            if not wanted or pair.name in wanted:
                key = f"{dataset.name}/{pair.name}"
                jobs.append(Job(dataset.name, pair, published=published.get(key)))
    return jobs


def _vifb_jobs(vifb: Path) -> list[Job]:
    jobs = []
    for infrared in sorted((vifb / "input" / "IR").glob("*.jpg")):
        pair = Pair(infrared.stem, infrared, vifb / "input" / "VI" / infrared.name)
        jobs.append(Job("vifb", pair, as_read=True, published=vifb / "output" / "fused_images" / f"{infrared.stem}_GTF.jpg"))
    if not jobs:
        raise SystemExit(f"{vifb}: no input/IR/*.jpg; pass a checkout of github.com/xingchenzhang/VIFB")
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authors-code", required=True, type=Path, help="checkout of github.com/jiayi-ma/GTF")
    parser.add_argument("--data-dir", type=Path, help="the datasets folder (FUSIONBENCH_DATA)")
    parser.add_argument("--dataset", action="append", default=[], help="NAME or NAME:PAIR,PAIR (repeatable)")
    parser.add_argument("--published", action="append", default=[], metavar="DATASET/PAIR=FILE", help="a published fused image of a pair (repeatable)")
    parser.add_argument("--demo", action="store_true", help="the authors' demo pair and their lake_GTF.png")
    parser.add_argument("--vifb", type=Path, help="checkout of github.com/xingchenzhang/VIFB: its 21 pairs and fused images")
    parser.add_argument("--work", required=True, type=Path, help="folder for the Octave outputs")
    parser.add_argument("--octave", default="octave-cli")
    parser.add_argument("--out", type=Path, help="write the Markdown tables here (default: print)")
    args = parser.parse_args(argv)
    published = dict((key, Path(value)) for key, _, value in (item.partition("=") for item in args.published))
    jobs = _jobs(args.data_dir, args.dataset, published)
    if args.demo:
        images = args.authors_code / "img"
        jobs.append(Job("demo", Pair("lake", images / "lake_IR.png", images / "lake_VIS.png"), published=args.authors_code / "lake_GTF.png"))
    if args.vifb:
        jobs += _vifb_jobs(args.vifb)
    if not jobs:
        parser.error("nothing to compare: give --dataset, --demo or --vifb")
    run_authors_code(args.authors_code, jobs, args.work, args.octave)
    text = format_markdown(compare(jobs, args.work))
    if args.out:
        args.out.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
