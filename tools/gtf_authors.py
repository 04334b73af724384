"""Run the GTF authors' MATLAB code in GNU Octave and compare it with fusionbench's ``gtf``.

The authors' code (github.com/jiayi-ma/GTF: ``Demo.m`` and NUMIPAD's ``irntv.m``) is not part
of fusionbench; point ``--authors-code`` at a checkout (any folder that contains ``irntv.m``).
For each pair this runs the GTF section of their ``Demo.m`` unchanged (``irntv(I-V, {}, 4,
pars_irn)`` with the demo's parameters, ``X = im2gray(U + V)``, ``imwrite``), writing
``<work>/<dataset>/<pair>.png`` (their 8-bit output), ``<pair>.f64`` (X before quantisation,
float64 row-major) and ``<pair>.itstat`` (their iteration table), then fuses the same pair
with ``gtf`` and writes the comparison (PSNR and the seven metrics of both, reference
convention) as Markdown::

    python tools/gtf_authors.py --authors-code /path/to/GTF --data-dir ../shared/datasets \\
        --dataset tno --dataset medical-ct-mri:01,02 --work /tmp/gtf-work --out reports/validation/gtf.md

``--dataset NAME[:PAIR,PAIR..]`` (repeatable): a dataset of the data folder, all pairs or
the listed ones; A is the infrared (intensity) image, B the visible one. Sources stored as
RGB with equal channels are read as gray by both sides (``gtf`` also runs on the RGB file
through the colour policy: column "ours (RGB file)"). Octave outputs are reused when present
(delete ``--work`` to recompute). ``--octave`` names the binary (default ``octave-cli``).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import fusionbench
from fusionbench.datasets.catalog import open_dataset
from fusionbench.io import read_image_native, to_uint8
from fusionbench.validation import psnr_u8

SEVEN = ("AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm")

# The GTF section of the authors' Demo.m, per pair (I: infrared, V: visible, doubles in [0, 1]).
_OCTAVE_PAIR = """
I = gtf_read('{a}'); V = gtf_read('{b}');
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
imwrite(uint8(X * 255), '{out}.png', 'png');  % 8 bits (rounded), as MATLAB's imwrite writes a double image
fid = fopen('{out}.f64', 'w'); fwrite(fid, X.', 'double'); fclose(fid);
dlmwrite('{out}.itstat', itstat, ' ');
printf('%s: %.2f s, CG iterations per loop: %s\\n', '{name}', t, mat2str(itstat(:, 9).'));
"""

_OCTAVE_HEADER = """
warning('off', 'all');
addpath('{numipad}');
nmpdef;
function x = gtf_read(path)
  x = imread(path);
  if ndims(x) == 3
    if any(any(x(:, :, 1) != x(:, :, 2))) || any(any(x(:, :, 1) != x(:, :, 3)))
      error('%s: colour image; the GTF demo fuses gray images', path);
    end
    x = x(:, :, 1);
  end
  x = im2double(x);
end
"""


@dataclass(frozen=True)
class Job:
    dataset: str
    pair: str
    a: Path
    b: Path

    @property
    def name(self) -> str:
        return f"{self.dataset}/{self.pair}"


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
        script += _OCTAVE_PAIR.format(a=_quote(job.a), b=_quote(job.b), out=_quote(work / job.name), name=job.name)
    path = work / "run_gtf.m"
    path.write_text(script)
    subprocess.run([octave, "--no-gui", "-q", str(path)], check=True)


def _gray(path: Path) -> np.ndarray:
    """The source as the authors' driver reads it: gray (one channel of an equal-channel RGB file)."""
    image = read_image_native(path)
    if image.ndim == 3:
        if not (np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 0], image[..., 2])):
            raise SystemExit(f"{path}: colour image; the GTF demo fuses gray images")
        image = image[..., 0]
    return image


def compare(jobs: list[Job], work: Path) -> list[dict]:
    method = fusionbench.create_method("gtf")
    rows = []
    for job in jobs:
        a, b = _gray(job.a), _gray(job.b)
        start = time.perf_counter()
        ours = method.fuse(a, b)
        seconds = time.perf_counter() - start
        ours_rgb = method.fuse(fusionbench.read_image(job.a), fusionbench.read_image(job.b))
        theirs = read_image_native(work / f"{job.name}.png")
        theirs_float = np.fromfile(work / f"{job.name}.f64", dtype=np.float64).reshape(a.shape)
        itstat = np.loadtxt(work / f"{job.name}.itstat", ndmin=2)
        ours8, rgb8 = to_uint8(ours), to_uint8(ours_rgb)
        rgb8 = rgb8[..., 0] if rgb8.ndim == 3 else rgb8
        rows.append(
            dict(
                name=job.name,
                psnr=psnr_u8(ours8, theirs),
                psnr_rgb=psnr_u8(rgb8, theirs),
                max_diff=int(np.abs(ours8.astype(int) - theirs.astype(int)).max()),
                float_max_diff=float(np.abs(ours.astype(np.float64) - theirs_float).max()),
                seconds=seconds,
                cg=" ".join(str(int(k)) for k in itstat[:, 8]),  # [loop, is]: is(8) = pcgit
                ours_metrics=fusionbench.evaluate(a, b, ours8, metrics=list(SEVEN)),
                their_metrics=fusionbench.evaluate(a, b, theirs, metrics=list(SEVEN)),
            )
        )
        print(f"{job.name}: PSNR {rows[-1]['psnr']:.2f} dB (RGB file {rows[-1]['psnr_rgb']:.2f} dB), {seconds:.2f} s", flush=True)
    return rows


def format_markdown(rows: list[dict], command: str) -> str:
    lines = [
        "| pair | PSNR ours vs authors (dB) | ours (RGB file) vs authors (dB) | max abs diff (8-bit) | max abs diff (float) | authors' CG iterations per loop | our fuse time (s) |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        psnr = "identical" if np.isinf(r["psnr"]) else f"{r['psnr']:.2f}"
        psnr_rgb = "identical" if np.isinf(r["psnr_rgb"]) else f"{r['psnr_rgb']:.2f}"
        lines.append(f"| {r['name']} | {psnr} | {psnr_rgb} | {r['max_diff']} | {r['float_max_diff']:.1e} | {r['cg']} | {r['seconds']:.2f} |")
    lines += ["", "Seven metrics (reference convention, `fusionbench.evaluate`), ours / authors':", ""]
    lines.append("| pair | " + " | ".join(SEVEN) + " |")
    lines.append("|---|" + "---:|" * len(SEVEN))
    for r in rows:
        cells = [f"{r['ours_metrics'][m]:.4f} / {r['their_metrics'][m]:.4f}" for m in SEVEN]
        lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _jobs(data_dir: Path, specs: list[str]) -> list[Job]:
    jobs = []
    for spec in specs:
        name, _, pairs = spec.partition(":")
        dataset = open_dataset(name, data_dir)
        wanted = set(filter(None, pairs.split(",")))
        for pair in dataset.pairs:
            if not wanted or pair.name in wanted:
                jobs.append(Job(dataset.name, pair.name, Path(pair.a), Path(pair.b)))
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authors-code", required=True, type=Path, help="checkout of github.com/jiayi-ma/GTF")
    parser.add_argument("--data-dir", required=True, type=Path, help="the datasets folder (FUSIONBENCH_DATA)")
    parser.add_argument("--dataset", action="append", required=True, help="NAME or NAME:PAIR,PAIR (repeatable)")
    parser.add_argument("--work", required=True, type=Path, help="folder for the Octave outputs")
    parser.add_argument("--octave", default="octave-cli")
    parser.add_argument("--out", type=Path, help="write the Markdown tables here (default: print)")
    args = parser.parse_args(argv)
    jobs = _jobs(args.data_dir, args.dataset)
    run_authors_code(args.authors_code, jobs, args.work, args.octave)
    text = format_markdown(compare(jobs, args.work), "")
    if args.out:
        args.out.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
