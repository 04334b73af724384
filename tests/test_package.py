"""The package layout: top-level methods/ and datasets/ install as fusionbench.methods /
fusionbench.datasets, in both regular and editable installs."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_methods_and_datasets_are_subpackages() -> None:
    import fusionbench.datasets
    import fusionbench.methods

    assert Path(fusionbench.methods.__file__).parent.name == "methods"
    assert Path(fusionbench.datasets.__file__).parent.name == "datasets"


@pytest.mark.slow
def test_regular_install_ships_every_module_and_data_file_quietly(tmp_path: Path) -> None:
    """`pip install .` (not editable) puts methods/ and datasets/ inside fusionbench/, ships
    every module and data file of the source tree (a package missing from pyproject's list,
    as metrics.conventions once was, is absent from a wheel but present in an editable
    install), every module imports, and setuptools has nothing to warn about."""
    target = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--target", str(target), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "Warning:" not in done.stdout + done.stderr, done.stdout + done.stderr  # setuptools' warning classes
    sources = {"fusionbench": ROOT / "fusionbench", "fusionbench/methods": ROOT / "methods", "fusionbench/datasets": ROOT / "datasets"}
    for installed, folder in sources.items():
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".csv", ".toml", ".json", ".safetensors"}:
                assert (target / installed / path.relative_to(folder)).is_file(), f"{path} is not installed"
    code = (
        "import importlib, pkgutil, fusionbench\n"
        "names = [m.name for m in pkgutil.walk_packages(fusionbench.__path__, 'fusionbench.')]\n"
        "[importlib.import_module(n) for n in names]\n"
        "print(fusionbench.__file__, *names)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target)},
                         check=True, capture_output=True, text=True).stdout.split()
    assert out[0].startswith(str(target)) and {"fusionbench.metrics.conventions", "fusionbench.methods.gff"} <= set(out)


@pytest.mark.slow
def test_make_installs_without_setuptools_notices(tmp_path: Path) -> None:
    """`make run`'s first install is quiet apart from pip: the editable install's environment
    in the Makefile silences setuptools' notice (printed on every editable install of our
    methods/ -> fusionbench.methods layout). Builds the editable wheel as pip does, with the
    variables the Makefile sets on that line."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if "pip install" in line and " -e " in line)
    env = dict(os.environ)
    env.update(item.split("=", 1) for item in shlex.split(line.split("$(BIN)")[0].strip().lstrip("@")))
    code = f"from setuptools import build_meta; build_meta.build_editable({str(tmp_path)!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert list(tmp_path.glob("fusionbench-*.editable-*.whl"))
    assert "Editable installation" not in done.stderr and "Warning" not in done.stderr, done.stderr
