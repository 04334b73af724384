"""Third-party methods through the ``fusionbench.methods`` entry-point group: the example
package in tests/plugin_example is really installed (pip, into a temporary folder) and a fresh
interpreter with that folder on its path must find its method, fuse with it, and only warn -
naming it - about the package's deliberately broken second entry point."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent / "plugin_example"

PROBE = """
import json, warnings
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import fusionbench
    names = fusionbench.list_methods()
a = np.zeros((4, 5), np.float32)
b = np.ones((4, 5), np.float32)
fused = fusionbench.fuse(a, b, method="example-weighted", weight=0.25)
print(json.dumps({
    "names": names,
    "warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)],
    "fused": float(fused.mean()),
    "gff_still_works": bool(fusionbench.fuse(a, b, method="gff").shape == (4, 5)),
}))
"""


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The example plugin installed with pip into a folder (not into the venv)."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "src"
    shutil.copytree(EXAMPLE, source)  # pip/setuptools write build files next to the source
    site = work / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"pip could not install the example plugin:\n{result.stdout}\n{result.stderr}")
    return site


def test_installed_plugin_is_listed_used_and_a_broken_one_only_warns(plugin_site: Path) -> None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(plugin_site), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "example-weighted" in report["names"]
    assert {"average", "gff", "dwt"} <= set(report["names"])  # built-ins still there
    assert report["fused"] == pytest.approx(0.75)  # 0.25 * 0 + 0.75 * 1
    assert report["gff_still_works"]
    broken = [w for w in report["warnings"] if "example-broken" in w]
    assert len(broken) == 1, report["warnings"]
    assert "not-installed-anywhere" in broken[0]  # the cause is named too



def _contributing_snippets() -> dict[str, str]:
    """The plugin recipe's code blocks in CONTRIBUTING.md, by the path in their first line."""
    text = (Path(__file__).parents[1] / "CONTRIBUTING.md").read_text()
    section = text[text.index("## Shipping a method as a plugin") :]
    blocks = re.findall(r"```(?:toml|python)\n(.*?)```", section.split("\n## ")[0], flags=re.S)
    return {block.splitlines()[0].lstrip("# ").strip(): block for block in blocks}


def test_the_contributing_recipe_installs_and_works_as_written(tmp_path: Path) -> None:
    snippets = _contributing_snippets()
    assert set(snippets) == {"pyproject.toml", "src/fusionbench_mymethod/__init__.py"}
    package = tmp_path / "fusionbench-mymethod"
    for relative, text in snippets.items():
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text(text)
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(package)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    probe = (
        "import numpy as np, fusionbench\n"
        "a = np.array([[0.0, 0.5], [0.9, 0.2]], np.float32); b = np.array([[1.0, 0.52], [0.1, 0.2]], np.float32)\n"
        "print('mymethod' in fusionbench.list_methods(), [round(float(v), 2) for v in fusionbench.fuse(a, b, method='mymethod').ravel()])"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "True [1.0, 0.51, 0.9, 0.2]"  # brighter where they differ by > 0.05
