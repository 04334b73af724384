"""The package layout: top-level methods/ and datasets/ install as fusionbench.methods /
fusionbench.datasets, in both regular and editable installs."""

from __future__ import annotations

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
def test_regular_install_contains_subpackages(tmp_path: Path) -> None:
    """`pip install .` (not editable) puts methods/ and datasets/ inside fusionbench/."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(ROOT)],
        check=True,
        capture_output=True,
    )
    assert (target / "fusionbench" / "methods" / "__init__.py").is_file()
    assert (target / "fusionbench" / "datasets" / "__init__.py").is_file()
    code = "import fusionbench, fusionbench.methods, fusionbench.datasets; print(fusionbench.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(target)},
                         check=True, capture_output=True, text=True).stdout
    assert str(target) in out
