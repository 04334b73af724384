"""`fusionbench score`: fused images made elsewhere, matched to a dataset's pairs by name and
scored through the runner (same cache, tables and report; no fuse time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fusionbench.cli import main
from fusionbench.io import read_image, to_uint8, write_image
from fusionbench.registry import create_method
from fusionbench.runner import run
from fusionbench.score import match_folder, score

LYTRO = ["lytro-01", "lytro-02", "lytro-10", "lytro-12"]


def _touch(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / name)
    return folder


def test_file_names_match_pairs_tolerantly(tmp_path: Path) -> None:
    folder = _touch(tmp_path / "mine", "Lytro_01_fused.png", "lytro-2.png", "LYTRO10.tif", "lytro_012_x.bmp", "notes.png")
    (match,) = match_folder(folder, LYTRO)
    assert match.label == "mine" and not match.ambiguous and not match.missing
    assert match.files == {"lytro-01": "Lytro_01_fused.png", "lytro-02": "lytro-2.png", "lytro-10": "LYTRO10.tif", "lytro-12": "lytro_012_x.bmp"}


def test_short_names_match_by_what_tells_the_pairs_apart(tmp_path: Path) -> None:
    folder = _touch(tmp_path / "short", "01.png", "2.png", "10.png", "012.png")
    (match,) = match_folder(folder, LYTRO, label="theirs")
    assert match.label == "theirs" and match.files == {"lytro-01": "01.png", "lytro-02": "2.png", "lytro-10": "10.png", "lytro-12": "012.png"}


def test_ambiguous_and_missing_files_are_reported_not_guessed(tmp_path: Path) -> None:
    folder = _touch(tmp_path / "odd", "lytro_01.png", "lytro_01_v2.png", "lytro_02_and_lytro_10.png")
    (match,) = match_folder(folder, LYTRO)
    assert match.files == {}
    assert match.ambiguous["lytro-01"] == ["lytro_01.png", "lytro_01_v2.png"]
    assert match.ambiguous["lytro_02_and_lytro_10.png"] == ["lytro-02", "lytro-10"]
    assert match.missing == ["lytro-12"]
    text = match.describe()
    assert "0 pairs matched" in text and "no file for 1: lytro-12" in text and "lytro-01 is ambiguous" in text


def test_a_folder_of_many_methods_without_a_pattern_gets_a_hint(tmp_path: Path) -> None:
    folder = _touch(tmp_path / "all", *(f"{p.replace('-', '_')}_{m}.png" for p in ("camera-left", "astronaut-disk") for m in ("GFF", "CNN")))
    with pytest.raises(ValueError, match=r"every pair fits several files .*--name-pattern"):
        score("synthetic", [str(folder)], cache_dir=tmp_path / "cache", quiet=True)


def test_a_name_pattern_splits_one_folder_into_methods(tmp_path: Path) -> None:
    folder = _touch(tmp_path / "mfifb", *(f"lytro_{n:02d}_{m}.jpg" for n in (1, 2, 10, 12) for m in ("GFF", "DCT_Corr")), "lytro_01_CNN.jpg")
    matches = {m.label: m for m in match_folder(folder, LYTRO, "{pair}_{method}.jpg")}
    assert set(matches) == {"GFF", "DCT_Corr", "CNN"}
    assert matches["DCT_Corr"].files["lytro-10"] == "lytro_10_DCT_Corr.jpg" and not matches["DCT_Corr"].missing
    assert matches["CNN"].missing == ["lytro-02", "lytro-10", "lytro-12"]


def test_scores_equal_those_of_the_method_that_made_the_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Images of `average` saved under other names score exactly as `average` itself; the
    missing pair is reported and fails alone; no fuse time is claimed."""
    cache = tmp_path / "cache"
    reference = run("synthetic", "average", metrics="AVG,Qabf", cache_dir=cache, limit=3, quiet=True)
    folder = tmp_path / "made-elsewhere"
    folder.mkdir()
    for pair in reference.dataset.pairs[:2]:
        fused = create_method("average").fuse(read_image(pair.a), read_image(pair.b))
        write_image(folder / f"{pair.name.replace('-', '_').upper()}_result.png", to_uint8(fused))
    argv = ["score", "--dataset", "synthetic", f"elsewhere={folder}", "--metrics", "AVG,Qabf", "--out", str(tmp_path / "out"),
            "--cache-dir", str(cache), "--quiet", "--limit", "3"]
    assert main(argv) == 1  # the third pair has no image
    assert "no file for" in capsys.readouterr().err
    saved = pd.read_csv(tmp_path / "out" / "results.csv", keep_default_na=False)
    ours = saved[saved["error"] == ""].set_index(["pair", "metric"])["value"].astype(float)
    theirs = reference.frame.set_index(["pair", "metric"])["value"]
    assert len(ours) == 4 and all(ours[key] == theirs[key] for key in ours.index)
    missing = saved[saved["error"] != ""]
    assert set(missing["pair"]) == {reference.dataset.pairs[2].name} and missing["error"].str.contains("no fused image").all()
    assert (saved["fuse_seconds"] == "").all()  # no fuse time: the images were made elsewhere
    assert "files': '<2 entries>'" in (tmp_path / "out" / "run.log").read_text()


def test_score_on_lytro_with_the_authors_images(data_dir: Path, reference_results_dir: Path, tmp_path: Path) -> None:
    result, matches = score("lytro", [str(reference_results_dir / "mfifb-lytro")], "{pair}_{method}.jpg", ["GFF"],
                            metrics="Qabf", data_dir=data_dir, cache_dir=tmp_path / "cache", quiet=True)
    assert [m.label for m in matches] == ["GFF"] and len(matches[0].files) == 20
    assert result.exit_code == 0 and 0.70 < result.frame["value"].mean() < 0.80
