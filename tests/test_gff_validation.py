"""GFF against the authors' own MATLAB outputs on the 20 Lytro pairs (MFIFB's fused images,
JPEG quality 75). The issue's target is a mean PSNR >= 38 dB; DTCWT fusion already reaches
~38 dB against these files and LP ~36.5 dB (reports/validation/gff.md, controls), so a
stricter 45 dB bound is checked too: only a faithful GFF gets there (ours: 47.8 dB, the
JPEG round trip of our own output is 48.9 dB)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fusionbench
from fusionbench.validation import LYTRO_PAIRS, compare_with_reference

pytestmark = pytest.mark.needs_data


def test_gff_reproduces_the_authors_outputs(data_dir: Path, reference_results_dir: Path) -> None:
    rows = compare_with_reference(
        fusionbench.create_method("gff"),
        data_dir / "mfifb",
        reference_results_dir / "mfifb-lytro",
        "{pair}_GFF.jpg",
        LYTRO_PAIRS,
    )
    psnr = np.array([r.psnr_db for r in rows])
    assert len(rows) == 20
    assert psnr.mean() >= 38.0, f"mean PSNR {psnr.mean():.2f} dB"
    assert psnr.mean() >= 45.0, f"mean PSNR {psnr.mean():.2f} dB: no better than an unrelated method"
    # Each pair is within 2.5 dB of what JPEG compression alone costs our own output.
    worst = min(rows, key=lambda r: r.psnr_db - r.jpeg_floor_db)
    assert worst.psnr_db > worst.jpeg_floor_db - 2.5, worst
