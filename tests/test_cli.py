"""The metric commands of the CLI, run in-process through fusionbench.cli.main(argv)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fusionbench
from fusionbench.cli import main
from fusionbench.registry import FusionMethod, _METHODS


@pytest.fixture(scope="module")
def image_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A, B, F and GT as 8-bit PNGs (a 40 x 45 crop of the embedded example)."""
    folder = tmp_path_factory.mktemp("cli")
    pair = fusionbench.example()
    crop = (slice(200, 240), slice(230, 275))
    images = {"a": pair.a[crop], "b": pair.b[crop], "gt": pair.gt[crop]}
    images["fused"] = (images["a"] + images["b"]) / 2
    paths = {}
    for role, image in images.items():
        paths[role] = folder / f"{role}.png"
        fusionbench.write_image(paths[role], image)
    return paths


def test_metrics_lists_every_metric_with_its_columns(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["metric", "aliases", "range", "better", "needs", "reference"]
    names = [line.split()[0] for line in lines[2:]]
    assert names == fusionbench.list_metrics()
    mi_row = next(line for line in lines if line.startswith("MI "))
    assert "QMI" in mi_row and "[0, 2]" in mi_row and "higher" in mi_row and "Hossny" in mi_row


def test_metrics_filters_by_pattern(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "q*mi"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert names == ["MI", "FMI"]  # matched through their aliases QMI, QFMI


def test_evaluate_json_equals_the_library(image_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["evaluate", str(image_files["a"]), str(image_files["b"]), str(image_files["fused"])]
    assert main([*argv, "--metrics", "mi,FMI,AG", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    expected = fusionbench.evaluate(image_files["a"], image_files["b"], image_files["fused"], metrics="MI,FMI,AVG")
    assert scores == expected
    assert list(scores) == ["MI", "FMI", "AVG"]


def test_evaluate_with_ground_truth_adds_psnr_and_ssim(
    image_files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", *(str(image_files[r]) for r in ("a", "b", "fused")), "--gt", str(image_files["gt"])]
    assert main([*argv, "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert list(scores) == fusionbench.list_metrics()
    assert 0 < scores["SSIM"] < 1 and scores["PSNR"] > 20


def test_evaluate_prints_a_table(image_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["evaluate", *(str(image_files[r]) for r in ("a", "b", "fused")), "--metrics", "AVG,MI"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["metric", "value", "better"]
    assert [line.split()[0] for line in lines[2:]] == ["AVG", "MI"]
    assert all(line.endswith("↑ higher") for line in lines[2:])
    assert main([*argv[:4], "--metrics", "Nabf"]) == 0
    assert capsys.readouterr().out.splitlines()[2].endswith("↓ lower")


def test_missing_file_exits_2_naming_it(image_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    missing = image_files["a"].parent / "no_such_image.png"
    code = main(["evaluate", str(image_files["a"]), str(missing), str(image_files["fused"])])
    err = capsys.readouterr().err
    assert code == 2
    assert "fusionbench evaluate: error:" in err and str(missing) in err and "no such file" in err


def test_corrupt_file_exits_2_naming_it(image_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    corrupt = image_files["a"].parent / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    code = main(["evaluate", str(image_files["a"]), str(image_files["b"]), str(corrupt)])
    assert code == 2 and str(corrupt) in capsys.readouterr().err


def test_unknown_metric_and_size_mismatch_exit_2(
    image_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["evaluate", *(str(image_files[r]) for r in ("a", "b", "fused"))]
    assert main([*argv, "--metrics", "NOPE"]) == 2
    assert "unknown metric 'NOPE'" in capsys.readouterr().err
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 12), dtype=np.uint8)).save(small)
    assert main(["evaluate", str(image_files["a"]), str(image_files["b"]), str(small), "--metrics", "MI"]) == 2
    assert "image sizes differ" in capsys.readouterr().err


def test_psnr_without_ground_truth_exits_2(image_files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["evaluate", *(str(image_files[r]) for r in ("a", "b", "fused")), "--metrics", "PSNR"]
    assert main(argv) == 2
    assert "PSNR needs image(s) ['gt']" in capsys.readouterr().err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "only_one_image.png"])
    assert info.value.code == 2
    assert "usage" in capsys.readouterr().err


class _Caveated(FusionMethod):
    name = "test-caveated"

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b)

    def caveat(self) -> str:
        return "a test method, not a real one"


def test_demo_scores_against_the_ground_truth_with_progress_and_notes(capsys, monkeypatch) -> None:
    """The demo's example has a ground truth: PSNR and SSIM are scored against it; a progress
    bar on a terminal names the method being fused; caveats are printed under the table."""
    monkeypatch.setitem(_METHODS, _Caveated.name, _Caveated)
    monkeypatch.setattr("fusionbench.registry.list_methods", lambda pattern=None: ["average", "sf", "test-caveated"])
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: stderr is a terminal
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    assert main(["demo", "--metrics", "AVG,PSNR,SSIM"]) == 0
    out, err = capsys.readouterr()
    assert "fusing with average" in err and "fusing with test-caveated" in err
    lines = out.splitlines()
    assert lines[1].split() == ["method", "AVG", "↑", "PSNR", "↑", "SSIM", "↑", "time", "(s)", "↓"]
    rows = {line.split()[0]: line for line in lines[3:6]}
    pair = fusionbench.example()
    expected = fusionbench.evaluate(pair.a, pair.b, fusionbench.fuse(pair.a, pair.b, method="average"), gt=pair.gt, metrics="PSNR,SSIM")
    assert 20 < expected["PSNR"] < 40 and f" {expected['PSNR']:.4f} + " in rows["average"]  # second to sf
    assert " inf * " in rows["sf"]  # SF reconstructs the example exactly: the best PSNR
    assert "PSNR, SSIM compare with the ground truth" in out
    assert "Note on test-caveated: a test method, not a real one." in out


def test_readme_quick_start_prints_its_results_when_run_as_a_script(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = re.search(r"## Quick start \(Python\)\s+```python\n(.*?)```", readme, re.S).group(1)
    script = tmp_path / "quick_start.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3
    assert ast.literal_eval(lines[0]).keys() == {"AVG", "STD", "SEN", "VIFF", "Qabf", "Qc", "Qm"}
    assert ast.literal_eval(lines[1])["SSIM"] > 0.99
    assert "'Qabf'" in lines[2] and "'gff'" in lines[2]
