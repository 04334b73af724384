"""Summary tables (Markdown, LaTeX, HTML), the self-contained report (opened in headless
Chromium when it is installed), figures, and the paper tables' published data and layout."""

from __future__ import annotations

import base64
import errno
import io
import math
import re
from collections import Counter
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage

from fusionbench.cli import main
from fusionbench.datasets import DatasetError
from fusionbench.figures import FRAME_COLOUR, choose_zoom_box, comparison_grid, image_bytes, metric_bars_svg, grid_positions, nice_ticks, zoomed_panel
from fusionbench.paper import TABLES, _layout, make_table, published
from fusionbench.registry import FusionMethod, _METHODS
from fusionbench.reports import Cell, latex_table, markdown_table, method_caveats, metric_definition, rank_marks, summarise, summary_cells
from fusionbench.runner import MethodSpec, OutputWriteError, run

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
    assert rank_marks({"a": math.inf, "b": 2.0, "c": 1.0}, True) == {"a": "best", "b": "second", "c": ""}  # PSNR of a perfect result
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


def test_zoom_box_covers_where_images_differ():
    a = np.zeros((100, 120), np.uint8)
    b = a.copy()
    b[60:80, 10:30] = 200
    r, c, h, w = choose_zoom_box([a, b])
    assert h == w == 20
    assert abs(r - 60) <= 4 and abs(c - 10) <= 4  # on the block and its edges


def test_zoom_box_prefers_differences_in_detail_to_a_flat_brightness_shift():
    """Methods that differ by blur on a textured area and by a brightness shift on a flat one:
    the box shows the detail (what tells fusion methods apart), not the flat area."""
    rng = np.random.default_rng(0)
    base = np.full((120, 160), 100.0)
    base[:, 80:] += rng.normal(0, 30, (120, 80))  # texture on the right half
    sharp = np.clip(base, 0, 255)
    blurred = sharp.copy()
    blurred[30:70, 100:140] = ndimage.uniform_filter(sharp, 7)[30:70, 100:140]
    brighter = sharp.copy()
    brighter[20:100, 5:70] += 60  # a flat area, shifted
    r, c, h, w = choose_zoom_box([sharp.astype(np.uint8), blurred.astype(np.uint8), brighter.astype(np.uint8)])
    assert c + w > 100 and c < 140 and r + h > 30 and r < 70, (r, c, h, w)


def test_zoom_box_on_identical_images_shows_detail_not_a_corner():
    image = np.full((100, 100), 128, np.uint8)
    image[60:90, 50:80] = np.random.default_rng(1).integers(0, 255, (30, 30))
    r, c, h, w = choose_zoom_box([image, image])
    assert 40 <= r <= 80 and 30 <= c <= 70


def test_zoomed_panel_frames_the_box_and_magnifies_the_native_pixels():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 255, (100, 100, 3), dtype=np.uint8)
    box = (70, 10, 20, 20)  # bottom left: the inset goes top right
    panel = np.asarray(zoomed_panel(image, box, width=100))
    assert panel.shape == (100, 100, 3)
    factor = int(0.45 * 100 // 20)  # 2: nearest neighbour, pixel for pixel
    zoom = np.repeat(np.repeat(image[70:90, 10:30], factor, axis=0), factor, axis=1)
    inner = slice(4, 20 * factor - 4)  # inside the 4-pixel frame
    assert np.array_equal(panel[inner, 100 - 20 * factor :][:, inner], zoom[inner, inner])
    yellow = np.all(panel == FRAME_COLOUR, axis=2)
    assert yellow[68:92, 8:32].sum() > 100  # the box is framed in yellow
    assert yellow[0 : 20 * factor, 100 - 20 * factor :].sum() > 100  # and so is the inset
    assert (panel[0, 100 - 20 * factor :] == 0).all()  # with black outside the yellow
    untouched = np.ones((100, 100), bool)
    untouched[66:94, 6:34] = False  # the framed box
    untouched[: 20 * factor, 100 - 20 * factor :] = False  # the inset
    assert np.array_equal(panel[untouched], image[untouched])  # elsewhere the image, pixel for pixel


def test_grid_rows_are_balanced_and_leave_no_lone_panel():
    def lengths(n: int, max_columns: int) -> list[int]:
        return list(Counter(row for row, _ in grid_positions(n, max_columns)).values())

    assert [lengths(n, 4) for n in (1, 4, 5, 7, 13)] == [[1], [4], [3, 2], [4, 3], [4, 3, 3, 3]]
    for max_columns in (2, 3, 4, 5):
        for n in range(1, 40):
            rows = lengths(n, max_columns)
            assert max(rows) <= max_columns and max(rows) - min(rows) <= 1 and len(rows) == -(-n // max_columns)
            assert min(rows) >= 2 or n < 2 * len(rows), (n, max_columns, rows)


def test_comparison_grid_is_balanced_labelled_and_lossless():
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 255, (40, 60), dtype=np.uint8) for _ in range(5)]
    grid = comparison_grid([(f"m{k}", im) for k, im in enumerate(images)], title="t")
    pixels = np.asarray(grid)
    assert grid.size[0] == 3 * 60 + 4 * 8  # 3 + 2 panels at native width, not 5 + 0 or 4 + 1
    panel = np.asarray(zoomed_panel(images[4], choose_zoom_box(images), 60))  # native width: no resampling
    found = [(y, x) for y, x in zip(*np.nonzero(np.all(pixels == panel[0, 0], axis=2)))
             if np.array_equal(pixels[y : y + 40, x : x + 60], panel)]
    assert len(found) == 1 and found[0][1] == 8 + 60 + 8  # second row, second column
    for fmt in ("png", "webp"):  # the report's encodings are lossless
        decoded = np.asarray(Image.open(io.BytesIO(image_bytes(grid, fmt))).convert("RGB"))
        assert np.array_equal(decoded, pixels), fmt


def _svg_numbers(svg: str, pattern: str) -> list[float]:
    return [float(v) for v in re.findall(pattern, svg)]


def test_bars_start_at_zero_so_their_lengths_compare():
    summary = pd.DataFrame(
        [["m1", "SEN", 7.50, 0.0], ["m2", "SEN", 7.53, 0.0], ["m1", "Nabf", 0.02, 0.0], ["m2", "Nabf", 0.04, 0.0]],
        columns=["method", "metric", "mean", "std"],
    )
    svg = metric_bars_svg(summary, {"SEN": True, "Nabf": False}, ["m1", "m2"])
    heights = _svg_numbers(svg, r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="#')
    assert heights[0] / heights[1] == pytest.approx(7.50 / 7.53, abs=0.005)  # not a zoomed axis
    assert heights[2] / heights[3] == pytest.approx(0.5, abs=0.02)
    assert svg.count('text-anchor="end" fill="#444">0</text>') == 2  # each axis has a 0 tick
    assert "(a) SEN ↑" in svg and "(b) Nabf ↓" in svg and "higher is better" in svg and "lower is better" in svg
    assert ">7.5<" in svg and ">7.53<" in svg and ">0.04<" in svg  # each bar labelled with its mean


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(7.31, 7.58) == [7.35, 7.4, 7.45, 7.5, 7.55]
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(36.2, 61.9) == [40.0, 45.0, 50.0, 55.0, 60.0]


class _Caveated(FusionMethod):
    """A test method that declares a caveat (as the shipped ``ufa`` does)."""

    name = "test-caveated"

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(a, b)

    def caveat(self) -> str:
        return "its weights are a placeholder"


@pytest.fixture(scope="module")
def report_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(_METHODS, _Caveated.name, _Caveated)
        return run("synthetic", "average,dwt,test-caveated", metrics="AVG,STD,SEN,Nabf", out=out, cache_dir=out / "cache", limit=3, quiet=True, figure_pairs=2)


@pytest.fixture(scope="module")
def report(report_run) -> Path:
    return report_run.report


def test_report_is_self_contained_with_tables_charts_and_grids(report):
    text = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text)  # nothing external
    assert text.count("data:image/svg+xml;base64,") == 2  # bar chart and box plots
    assert text.count("data:image/webp;base64,") == 2 and "image/jpeg" not in text  # two lossless comparison grids
    assert "Summary" in text and "Per pair" in text and "quantised to 8 bits as saved" in text


def test_report_defines_each_metric_with_its_direction_and_shows_caveats(report):
    text = report.read_text()
    for line in ("<b>AVG ↑</b>: average gradient", "<b>Nabf ↓</b>: fusion artifacts", "lower is better, 0 to 1", "<b>Time (s) ↓</b>: mean wall time"):
        assert line in text, line
    assert "<b>Note on test-caveated:</b> its weights are a placeholder." in text
    assert "Note on average" not in text
    assert "Note on test-caveated: its weights are a placeholder." in (report.parent / "summary.md").read_text()
    assert "note on test-caveated: its weights are a placeholder" in (report.parent / "run.log").read_text()
    assert "% Note on test-caveated: its weights are a placeholder." in (report.parent / "summary.tex").read_text()  # for the author, not the page


def test_report_images_are_the_fused_images_pixel_for_pixel(report_run):
    """Lossless: the grid's panel of a method is its fused image as saved (8 bits), untouched
    outside the zoom box and inset."""
    from fusionbench.io import to_uint8

    text = report_run.report.read_text()
    data = re.search(r"data:image/webp;base64,([A-Za-z0-9+/=]+)", text).group(1)
    grid = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB"))
    pair = re.search(r"<figcaption>([^:<]+):", text).group(1)
    fused = [to_uint8(np.load(r.fused_path)) for method in ("average", "dwt", "test-caveated") for r in report_run.task_results if (r.pair, r.method) == (pair, method)]
    panel = np.asarray(zoomed_panel(fused[1], choose_zoom_box(fused), fused[1].shape[1]))
    h, w = panel.shape[:2]
    found = [(y, x) for y, x in zip(*np.nonzero(np.all(grid == panel[0, 0], axis=2))) if np.array_equal(grid[y : y + h, x : x + w], panel)]
    assert len(found) == 1


def test_caveats_come_from_the_method_and_its_parameters(tmp_path):
    caveats = method_caveats([MethodSpec("ufa", "ufa"), MethodSpec("small", "ufa", {"weights": "ufa-ablation"}), MethodSpec("mine", "ufa", {"weights": str(tmp_path / "mine.safetensors")}), MethodSpec("dwt", "dwt")])
    assert list(caveats) == ["ufa", "small"]  # the user's own weights and dwt have none
    assert "under-trained" in caveats["ufa"] and "reports/training/ufa.md" in caveats["ufa"]


def test_every_metric_has_a_one_line_definition_with_its_direction():
    from fusionbench.metrics import get_metric, list_metrics
    from fusionbench.reports import METRIC_LINES

    assert set(list_metrics()) <= set(METRIC_LINES)  # a new metric gets its line for the report
    for name in list_metrics():
        line = metric_definition(name)
        words = {True: "higher is better", False: "lower is better", None: "no better direction"}[get_metric(name).higher_is_better]
        assert "\n" not in line and line.startswith(name) and words in line, line
    assert metric_definition("Qabf") == (
        "Qabf ↑: share of the sources' edge strength and orientation kept in the fused image (Q^AB/F); "
        "higher is better, 0 to 1; Xydeas & Petrović 2000, Electronics Letters 36(4)"
    )


class _DiskFullsMidway:
    """A file handle whose write stores half the data, then fails as a full disk does."""

    def __init__(self, handle) -> None:
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()

    def write(self, data) -> int:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_report_write_that_fails_midway_keeps_the_previous_report_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    run("synthetic", "average", metrics="AVG", out=out, cache_dir=tmp_path / "cache", limit=2, quiet=True, figure_pairs=1)
    before = (out / "report.html").read_bytes()
    real_open = Path.open

    def open_on_a_full_disk(self, mode="r", *args, **kwargs):
        handle = real_open(self, mode, *args, **kwargs)
        return _DiskFullsMidway(handle) if "report.html" in self.name and "w" in mode else handle

    monkeypatch.setattr(Path, "open", open_on_a_full_disk)
    with pytest.raises(OutputWriteError, match=re.escape(str(out / "report.html")) + ".*No space left on device|No space left on device.*" + re.escape(str(out / "report.html"))):
        run("synthetic", "average", metrics="AVG,STD", out=out, cache_dir=tmp_path / "cache", limit=2, quiet=True, figure_pairs=1)
    monkeypatch.undo()
    assert (out / "report.html").read_bytes() == before  # the previous report, whole
    results = pd.read_csv(out / "results.csv")  # the new results, complete
    assert sorted(results["metric"].unique()) == ["AVG", "STD"] and len(results) == 4
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


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
