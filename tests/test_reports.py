"""Summary tables (Markdown, LaTeX, HTML), the self-contained report (opened in headless
Chromium when it is installed), figures, and the paper tables' published data and layout."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fusionbench.cli import main
from fusionbench.datasets import DatasetError
from fusionbench.figures import add_inset, choose_zoom_box, comparison_grid, nice_ticks
from fusionbench.paper import TABLES, _layout, make_table, published
from fusionbench.reports import Cell, latex_table, markdown_table, rank_marks, summarise, summary_cells
from fusionbench.runner import run

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or "") if p and Path(p).exists()), None)


def _frame() -> pd.DataFrame:
    rows = []
    values = {"m1": [1.0, 3.0], "m2": [4.0, 4.0], "m3": [2.0, 2.0]}
    for method, vals in values.items():
        for pair, v in zip(("p1", "p2"), vals):
            rows.append(["d", pair, method, "AVG", v, 0.5 if method == "m3" else 1.0, ""])
            rows.append(["d", pair, method, "Qabf", v / 10, 0.5 if method == "m3" else 1.0, ""])
    return pd.DataFrame(rows, columns=["dataset", "pair", "method", "metric", "value", "fuse_seconds", "error"])


def test_summary_mean_std_and_time():
    summary = summarise(_frame(), ["m1", "m2", "m3"], ["AVG"]).set_index(["method", "metric"])
    assert summary.loc[("m1", "AVG"), "mean"] == 2.0
    assert summary.loc[("m1", "AVG"), "std"] == pytest.approx(math.sqrt(2.0))  # sample std (N-1)
    assert summary.loc[("m3", "fuse_seconds"), "mean"] == 0.5


def test_a_mean_over_fewer_than_all_pairs_says_how_many_it_skipped_and_why():
    rows = [["d", "p1", "m", "SCD", 1.5, 1.0, ""], ["d", "p2", "m", "SCD", math.nan, 1.0, ""],
            ["d", "p3", "m", "SCD", math.nan, math.nan, "crashed: its worker process was killed by SIGSEGV"]]
    frame = pd.DataFrame(rows, columns=["dataset", "pair", "method", "metric", "value", "fuse_seconds", "error"])
    summary = summarise(frame, ["m"], ["SCD"])
    row = summary.set_index(["method", "metric"]).loc[("m", "SCD")]
    assert (row["mean"], row["n"], row["n_pairs"], row["n_failed"], row["n_nan"]) == (1.5, 1, 3, 1, 1)
    header, cells = summary_cells(summary, ["m"], ["SCD"])
    assert cells[0][1].text == "1.5000 (1/3: 1 failed, 1 NaN)"


def test_rank_marks_follow_the_metric_direction_and_ties():
    assert rank_marks({"a": 1.0, "b": 3.0, "c": 2.0}, True) == {"a": "", "b": "best", "c": "second"}
    assert rank_marks({"a": 1.0, "b": 3.0, "c": 2.0}, False) == {"a": "best", "b": "", "c": "second"}
    assert rank_marks({"a": 1.0, "b": 1.0, "c": 0.5}, True) == {"a": "best", "b": "best", "c": "second"}
    assert rank_marks({"a": math.nan, "b": 2.0}, True) == {"a": "", "b": "best"}
    assert rank_marks({"a": 1.0, "b": 2.0}, None) == {"a": "", "b": ""}


def test_markdown_and_latex_mark_best_and_second_per_column():
    methods = ["m1", "m2", "m3"]
    header, rows = summary_cells(summarise(_frame(), methods, ["AVG", "Qabf"]), methods, ["AVG", "Qabf"])
    assert header == ["Method", "AVG ↑", "Qabf ↑", "Time (s) ↓"]
    md = markdown_table(header, rows)
    assert "| m2 | **4.0000 ± 0.0000** | **0.4000 ± 0.0000** | <u>1.000 ± 0.000</u> |" in md
    assert "| m1 | <u>2.0000 ± 1.4142</u> | <u>0.2000 ± 0.1414</u> | <u>1.000 ± 0.000</u> |" in md
    assert "| m3 | <u>2.0000 ± 0.0000</u> | <u>0.2000 ± 0.0000</u> | **0.500 ± 0.000** |" in md
    tex = latex_table(header, rows, caption="d_1: 50% & more")
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "m2 & \\textbf{4.0000 $\\pm$ 0.0000} & \\textbf{0.4000 $\\pm$ 0.0000} & \\underline{1.000 $\\pm$ 0.000} \\\\" in tex
    assert "\\caption{d\\_1: 50\\% \\& more}" in tex
    assert "AVG $\\uparrow$" in tex and "$\\pm$" in tex


def test_markdown_escapes_pipes():
    assert "a\\|b" in markdown_table(["Method"], [[Cell("a|b")]])


def test_zoom_box_finds_where_images_differ_and_inset_is_drawn():
    a = np.zeros((100, 120), np.uint8)
    b = a.copy()
    b[60:80, 10:30] = 200
    r, c, h, w = choose_zoom_box([a, b])
    assert h == w == 20 and (r, c) == (60, 10)
    out = add_inset(b, (r, c, h, w))
    assert out.shape == (100, 120, 3)
    assert (out[60, 10:30] == [230, 25, 25]).all()  # the box outline
    assert (out[0:40, 80:120, 0] > 0).any()  # the magnified copy sits in the far (top-right) corner
    grid = comparison_grid([("a", a), ("b", b), ("c", b)], title="t", columns=2, panel_width=60)
    assert grid.size[0] == 2 * 60 + 3 * 6


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(7.31, 7.58) == [7.35, 7.4, 7.45, 7.5, 7.55]
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(36.2, 61.9) == [40.0, 45.0, 50.0, 55.0, 60.0]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    run("synthetic", "average,dwt", metrics="AVG,STD,SEN,SF", out=out, cache_dir=out / "cache", limit=3, quiet=True, figure_pairs=2)
    return out / "report.html"


def test_report_is_self_contained_with_tables_charts_and_grids(report):
    text = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text)  # nothing external
    assert text.count("data:image/svg+xml;base64,") == 2  # bar chart and box plots
    assert text.count("data:image/jpeg;base64,") == 2  # two comparison grids
    assert "Summary" in text and "Per pair" in text and "quantised to 8 bits as saved" in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); screenshot test skipped")
def test_report_renders_in_headless_chromium(report, tmp_path):
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1800", f"--screenshot={shot}", report.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert image.shape == (1800, 1280)
    assert image.std() > 20  # text, charts and photos rendered, not a blank page
    assert (image < 60).mean() > 0.005  # dark pixels: text and image content


# ---------------------------------------------------------------- paper tables


def test_published_tables_are_complete_and_sourced():
    sizes = {"table3": 6, "table4": 4, "table5": 19, "table6": 6, "table7": 6}
    for name, table in TABLES.items():
        frame, source = published(name)
        assert len(frame) == sizes[name], name
        assert "UFA-FUSE" in source and f"Table {table.number} " in source
        for metric in table.metrics:
            assert pd.to_numeric(frame[metric]).notna().all(), (name, metric)
    table5, _ = published("table5")
    proposed = table5.set_index("row").loc["Proposed"]
    assert (proposed["AVG"], proposed["Qm"], proposed["Time"]) == ("8.3401", "2.9742", "0.26")
    assert set(table5.loc[table5["mfifb_images"] != "", "row"]) == {"GFF", "IMF", "MWGF", "DSIFT", "CNN", "IFCNN-MAX", "SESF", "DRPL"}


def test_paper_layout_puts_ours_beside_the_published_row():
    paper, source = published("table4")
    ours = {("UFA", "fusionbench `ufa`"): {"AVG": 8.0, "SEN": 7.5689, "STD": math.nan}}
    frame, markdown = _layout(TABLES["table4"], paper, ours, source, ["a note"])
    lines = markdown.splitlines()
    i = lines.index("| UFA | paper | 8.2149 | 7.5689 | 62.6244 |")
    assert lines[i + 1] == "|  | fusionbench `ufa` | 8.0000 (-2.6%) | 7.5689 (+0.0%) | - |"
    assert "| NO-SA | paper | 8.1956 | 7.5660 | 61.8769 |" in lines and "- a note" in lines
    assert len(frame) == 4 * 3 + 3


def test_paper_tables_without_data_fail_before_writing_anything(tmp_path, monkeypatch, capsys):
    """The documented command must not overwrite reports/paper/ with empty rows: missing data is
    an error naming each dataset and the fix, and nothing is written (by default not even
    into results/paper, which is where tables go unless --out says otherwise)."""
    monkeypatch.chdir(tmp_path)
    assert main(["paper", "table5", "--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "cannot regenerate table5; nothing was written" in err
    assert "dataset 'lytro'" in err and "fusionbench datasets fetch lytro" in err
    assert "dataset 'mfifb'" in err and "--reference-results" in err
    assert not (tmp_path / "results").exists()
    committed = tmp_path / "committed"
    committed.mkdir()
    (committed / "table6.md").write_text("committed")
    assert main(["paper", "table6", "--out", str(committed), "--data-dir", str(tmp_path / "data")]) == 2
    assert (committed / "table6.md").read_text() == "committed" and sorted(p.name for p in committed.iterdir()) == ["table6.md"]
    with pytest.raises(DatasetError, match="dataset 'tno'"):
        make_table("table6", data_dir=tmp_path / "data", cache_dir=tmp_path / "c")
