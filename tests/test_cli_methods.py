"""`fusionbench methods` and `fusionbench fuse` (the method side of the command line)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import fusionbench
from fusionbench.cli import main
from fusionbench.io import read_image, to_uint8, write_image

BUILTIN = ["average", "max", "dwt", "swt", "dtcwt", "lp", "rp", "mp", "sf", "gff", "precomputed"]


def _entries(out: str) -> dict[str, str]:
    """Each method's table entry, its continuation lines joined (wrapped cells)."""
    entries: dict[str, str] = {}
    name = ""
    for line in out.splitlines()[2:]:
        if line.startswith("Note on "):  # the caveats under the table
            break
        if line.strip() and not line.startswith(" "):
            name = line.split()[0]
            entries[name] = line
        elif line.strip():
            entries[name] += " " + line.strip()
    return entries


@pytest.mark.parametrize("columns", [80, 1000])
def test_methods_lists_every_builtin_with_its_details_in_the_terminal_width(capsys, monkeypatch, columns: int) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= columns
    header = out.splitlines()[0].split()
    assert header == ["method", "family", "colour", "parameters", "reference"]
    rows = _entries(out)
    assert set(BUILTIN) <= set(rows)
    assert "native" in rows["gff"] and "r1=45" in rows["gff"] and "eps2=1e-06" in rows["gff"]
    assert "Li, Kang & Hu" in rows["gff"]
    assert "YCbCr policy" in rows["dwt"] and "wavelet='db2'" in rows["dwt"]
    assert "folder (required)" in rows["precomputed"]
    if columns == 1000:  # room for everything: one line per method, as before
        assert out.splitlines()[2 + len(fusionbench.list_methods())] == ""
    assert "Note on ufa, ufa-no-ca, ufa-no-sa, ufa-no-ufa: the shipped weights are under-trained" in " ".join(out.split())


def test_methods_pattern_filters(capsys) -> None:
    assert main(["methods", "d*"]) == 0
    names = list(_entries(capsys.readouterr().out))
    assert names == sorted(n for n in fusionbench.list_methods() if n.startswith("d"))
    assert {"dwt", "dtcwt"} <= set(names)


@pytest.fixture
def pair_files(tmp_path: Path) -> tuple[Path, Path]:
    ex = fusionbench.example(color=True)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    window = (slice(200, 264), slice(216, 296))  # across the focus border at column 256
    write_image(a, ex.a[window])
    write_image(b, ex.b[window])
    return a, b


def test_fuse_writes_the_method_result_with_params(pair_files, tmp_path: Path, capsys) -> None:
    a, b = pair_files
    out = tmp_path / "fused.png"
    assert main(["fuse", str(a), str(b), "-m", "gff", "-o", str(out), "--param", "r1=5", "--param", "eps1=0.1"]) == 0
    assert "wrote" in capsys.readouterr().out
    expected = fusionbench.create_method("gff", r1=5, eps1=0.1).fuse(read_image(a), read_image(b))
    np.testing.assert_array_equal(to_uint8(read_image(out)), to_uint8(expected))
    default = fusionbench.fuse(read_image(a), read_image(b), method="gff")
    assert not np.array_equal(to_uint8(default), to_uint8(expected))  # the parameters were used


def test_fuse_parses_typed_params(pair_files, tmp_path: Path) -> None:
    a, b = pair_files
    out = tmp_path / "fused.png"
    assert main(["fuse", str(a), str(b), "-m", "dwt", "-o", str(out), "--param", "levels=2", "--param", "wavelet=sym4"]) == 0
    expected = fusionbench.fuse(read_image(a), read_image(b), method="dwt", levels=2, wavelet="sym4")
    np.testing.assert_array_equal(to_uint8(read_image(out)), to_uint8(expected))


@pytest.mark.parametrize(
    "args,message",
    [
        (["-m", "nope"], "unknown method 'nope'"),
        (["-m", "gff", "--param", "radius=3"], "has no parameter(s) ['radius']"),
        (["-m", "dwt", "--param", "wavelet=xyz"], "unknown wavelet 'xyz'"),
        (["-m", "gff", "--param", "r1=-1"], "r1 must be a non-negative integer"),
        (["-m", "precomputed"], "needs the parameter(s) ['folder']"),
    ],
)
def test_fuse_reports_bad_requests_clearly(pair_files, tmp_path: Path, capsys, args, message) -> None:
    a, b = pair_files
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.png"), *args]) == 2
    assert message in capsys.readouterr().err


def test_fuse_rejects_a_param_without_value(pair_files, tmp_path: Path) -> None:
    a, b = pair_files
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.png"), "-m", "gff", "--param", "r1"])


def test_fuse_size_mismatch_names_both_sizes(tmp_path: Path, capsys) -> None:
    write_image(tmp_path / "a.png", np.zeros((10, 12), np.float32))
    write_image(tmp_path / "b.png", np.zeros((10, 14), np.float32))
    code = main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.png")])
    assert code == 2
    err = capsys.readouterr().err
    assert "a is 12x10" in err and "b is 14x10" in err


def test_fuse_precomputed_by_pair_name(pair_files, tmp_path: Path, capsys) -> None:
    a, b = pair_files
    results = tmp_path / "results"
    results.mkdir()
    stored = np.random.default_rng(0).random((64, 80, 3)).astype(np.float32)
    write_image(results / "p01_X.png", stored)
    out = tmp_path / "f.png"
    params = ["-m", "precomputed", "--param", f"folder={results}", "--param", "pattern={pair}_X.png"]
    assert main(["fuse", str(a), str(b), *params, "--pair", "p01", "-o", str(out)]) == 0
    np.testing.assert_array_equal(read_image(out), read_image(results / "p01_X.png"))
    assert main(["fuse", str(a), str(b), *params, "--pair", "p02", "-o", str(out)]) == 2
    assert str(results / "p02_X.png") in capsys.readouterr().err


def test_fuse_with_a_method_that_has_a_caveat_says_so(pair_files, tmp_path: Path, capsys) -> None:
    a, b = pair_files
    assert main(["fuse", str(a), str(b), "-m", "ufa", "-o", str(tmp_path / "f.png")]) == 0
    assert "Note on ufa: the shipped weights are under-trained" in capsys.readouterr().err
    assert main(["fuse", str(a), str(b), "-m", "dwt", "-o", str(tmp_path / "g.png")]) == 0
    assert "Note" not in capsys.readouterr().err


def test_run_prints_the_caveats_of_its_methods_under_the_table(tmp_path: Path, capsys, monkeypatch) -> None:
    from fusionbench.registry import FusionMethod, _METHODS

    class Caveated(FusionMethod):
        name = "test-caveated"

        def fuse_gray(self, a, b):
            return np.maximum(a, b)

        def caveat(self) -> str:
            return "a test method"

    monkeypatch.setitem(_METHODS, Caveated.name, Caveated)
    argv = ["run", "--dataset", "synthetic", "--methods", "average,test-caveated", "--metrics", "AVG", "--limit", "1",
            "--workers", "0", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Note on test-caveated: a test method." in out and "Note on average" not in out
    assert out.index("Note on test-caveated") < out.index("Report:")
