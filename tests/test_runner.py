"""The runner: data path, scoring convention, cache (resume, corruption, --no-cache), failure
isolation, process pool and Dask executors, method specs, the CLI and score regression.

Fast by construction: the synthetic set (256x256) limited to 2-3 pairs, the ``average``
method and the cheap no-reference metrics.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fusionbench import registry
from fusionbench.cache import Cache
from fusionbench.cli import main
from fusionbench.io import read_image, read_image_native, to_uint8
from fusionbench.metrics import evaluate
from fusionbench.regression import read_baseline, regress, update_baseline
from fusionbench.runner import RESULT_COLUMNS, MethodSpec, parse_method_specs, run

METRICS = "AVG,STD,SEN"


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


def _run(cache_dir, out=None, methods="average", limit=2, **kw):
    return run("synthetic", methods, metrics=METRICS, out=out, cache_dir=cache_dir, limit=limit, quiet=True, **kw)


# ---------------------------------------------------------------- the data path


def test_results_are_the_metrics_of_the_saved_8bit_fused_image(cache_dir, tmp_path):
    result = _run(cache_dir, out=tmp_path / "out")
    frame = result.frame
    assert list(frame.columns) == RESULT_COLUMNS
    assert len(frame) == 2 * 3 and set(frame["metric"]) == {"AVG", "STD", "SEN"}
    assert (frame["error"] == "").all() and result.exit_code == 0
    pair = result.dataset.pairs[1]
    fused = registry.create_method("average").fuse(read_image(pair.a), read_image(pair.b))
    expected = evaluate(read_image_native(pair.a), read_image_native(pair.b), to_uint8(fused), metrics=METRICS)
    got = frame[frame["pair"] == pair.name].set_index("metric")["value"]
    for metric, value in expected.items():
        assert got[metric] == pytest.approx(value, rel=1e-12)
    saved = pd.read_csv(tmp_path / "out" / "results.csv", keep_default_na=False)
    assert list(saved.columns) == RESULT_COLUMNS and len(saved) == 6
    assert (saved["fuse_seconds"].astype(float) > 0).all()


def test_warm_run_computes_nothing_and_gives_identical_results(cache_dir):
    cold = _run(cache_dir)
    warm = _run(cache_dir)
    assert all(r.computed for r in cold.task_results)
    assert not any(r.computed for r in warm.task_results)
    pd.testing.assert_frame_equal(cold.frame, warm.frame)


def test_interrupted_run_resumes_with_only_the_new_work(cache_dir):
    _run(cache_dir, limit=2)  # as if a run over 3 pairs was stopped after 2
    resumed = _run(cache_dir, limit=3)
    assert [r.computed for r in resumed.task_results] == [False, False, True]


def test_new_metric_reuses_the_cached_image(cache_dir, monkeypatch):
    _run(cache_dir, limit=1)
    calls = []
    original = registry.FusionMethod.fuse
    monkeypatch.setattr(registry.FusionMethod, "fuse", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    result = run("synthetic", "average", metrics="AVG,SF", cache_dir=cache_dir, limit=1, quiet=True, workers=0)  # in-process: the patch applies
    assert calls == [] and result.task_results[0].computed  # SF computed, the image came from the cache


def test_corrupted_cache_entries_are_detected_and_recomputed(cache_dir):
    cold = _run(cache_dir, limit=1)
    npy = next(Path(cache_dir, "fused").rglob("*.npy"))
    data = bytearray(npy.read_bytes())
    data[-10] ^= 0xFF
    npy.write_bytes(bytes(data))
    score = next(Path(cache_dir, "scores").rglob("*.json"))
    score.write_text(score.read_text().replace('"value": ', '"value": 1'))
    again = _run(cache_dir, out=cache_dir.parent / "out", limit=1)
    assert again.task_results[0].computed and again.task_results[0].corrupted == 2  # the image and the score file
    assert "2 corrupted cache entries recomputed" in (cache_dir.parent / "out" / "run.log").read_text()
    pd.testing.assert_frame_equal(cold.frame.drop(columns="fuse_seconds"), again.frame.drop(columns="fuse_seconds"))
    assert Cache(cache_dir).get_fused(Path(again.task_results[0].fused_path).stem) is not None


def test_score_files_of_another_layout_are_recomputed(cache_dir):
    """A checksummed score file in a layout this version does not write (an older cache:
    one score per file) is discarded, not a crash of the run or of `cache info`."""
    import json

    from fusionbench.cache import _checksum

    cold = _run(cache_dir, limit=1)
    score = next(Path(cache_dir, "scores").rglob("*.json"))
    payload = {"metric": "AVG", "value": 1.0}
    score.write_text(json.dumps({**payload, "checksum": _checksum(payload)}))
    Cache(cache_dir).info()
    again = _run(cache_dir, limit=1)
    assert again.task_results[0].computed
    pd.testing.assert_frame_equal(cold.frame.drop(columns="fuse_seconds"), again.frame.drop(columns="fuse_seconds"))


def test_no_cache_leaves_nothing_behind(cache_dir, tmp_path):
    result = _run(cache_dir, out=tmp_path / "out", use_cache=False)
    assert result.exit_code == 0 and all(r.computed for r in result.task_results)
    assert not cache_dir.exists() or not any(cache_dir.joinpath("fused").rglob("*.npy"))
    assert (tmp_path / "out" / "report.html").is_file()


def test_changing_a_parameter_changes_the_cache_key(cache_dir):
    first = _run(cache_dir, methods="dwt[levels=2]", limit=1)
    second = _run(cache_dir, methods="dwt[levels=3]", limit=1)
    assert second.task_results[0].computed
    assert first.task_results[0].fused_path != second.task_results[0].fused_path


def test_replacing_a_precomputed_image_invalidates_its_cache_entry(cache_dir, tmp_path):
    from PIL import Image

    pair = run("synthetic", "average", metrics="AVG", cache_dir=cache_dir, limit=1, quiet=True).dataset.pairs[0]
    folder = tmp_path / "published"
    folder.mkdir()
    image = np.asarray(Image.open(pair.gt))
    Image.fromarray(image).save(folder / f"{pair.name}.png")
    spec = f"authors=precomputed[folder={folder}]"
    first = _run(cache_dir, methods=spec, limit=1)
    assert _run(cache_dir, methods=spec, limit=1).task_results[0].computed is False
    Image.fromarray(image // 2).save(folder / f"{pair.name}.png")
    second = _run(cache_dir, methods=spec, limit=1)
    assert second.task_results[0].computed
    assert second.frame.loc[0, "value"] != first.frame.loc[0, "value"]


# ---------------------------------------------------------------- failures


@dataclass
class _CrashOnCoffee(registry.FusionMethod):
    name = "test-crash"

    def fuse_gray(self, a, b):
        return (a + b) / 2

    def fuse(self, a, b, *, pair_name=None):
        if pair_name == "coffee-wave":
            raise RuntimeError("boom on coffee")
        return super().fuse(a, b, pair_name=pair_name)


@dataclass
class _ReturnsNaN(registry.FusionMethod):
    name = "test-nan"

    def fuse_gray(self, a, b):
        return np.full(a.shape, np.nan, dtype=np.float32)


@pytest.fixture
def broken_methods(monkeypatch):
    registry.list_methods()  # load the built-ins first
    monkeypatch.setitem(registry._METHODS, "test-crash", _CrashOnCoffee)
    monkeypatch.setitem(registry._METHODS, "test-nan", _ReturnsNaN)


def test_failures_are_isolated_recorded_and_set_the_exit_code(broken_methods, cache_dir, tmp_path):
    result = _run(cache_dir, out=tmp_path / "out", methods="average,test-crash,test-nan", limit=3)
    assert result.exit_code == 1
    frame = result.frame
    ok = frame[frame["method"] == "average"]
    assert (ok["error"] == "").all() and ok["value"].notna().all()
    crash = frame[frame["method"] == "test-crash"]
    assert set(crash.loc[crash["error"] != "", "pair"]) == {"coffee-wave"}
    assert crash.loc[crash["pair"] == "coffee-wave", "error"].str.contains("RuntimeError: boom on coffee").all()
    assert crash.loc[crash["pair"] != "coffee-wave", "value"].notna().all()
    nan = frame[frame["method"] == "test-nan"]
    assert nan["error"].str.contains("MethodOutputError").all() and nan["value"].isna().all()
    log = (tmp_path / "out" / "run.log").read_text()
    assert "FAILED test-crash on coffee-wave" in log and "Traceback" in log
    assert "<td>test-crash</td><td>coffee-wave</td><td>fuse: RuntimeError: boom on coffee</td>" in (tmp_path / "out" / "report.html").read_text()
    # the failed image was not cached: the next run tries again
    assert _run(cache_dir, methods="test-crash", limit=3).task_results[2].computed


def test_a_failing_metric_costs_only_itself(cache_dir, monkeypatch):
    from fusionbench.metrics import get_metric
    from fusionbench.metrics import registry as metric_registry

    def broken(x):
        raise ValueError("metric exploded")

    monkeypatch.setitem(metric_registry._REGISTRY, "STD", dataclasses.replace(get_metric("STD"), compute=broken))
    result = _run(cache_dir, limit=1, workers=0)  # in-process: the patched registry applies
    row = result.frame.set_index("metric")
    assert "metric exploded" in row.loc["STD", "error"] and np.isnan(row.loc["STD", "value"])
    assert row.loc["AVG", "error"] == "" and np.isfinite(row.loc["AVG", "value"])
    assert result.exit_code == 1


def test_unknown_method_or_metric_fails_before_any_work(cache_dir):
    with pytest.raises(KeyError, match="unknown method 'nope'"):
        _run(cache_dir, methods="average,nope")
    with pytest.raises(ValueError, match="not registered in this version"):
        run("synthetic", "average", metrics="AVG,NotAMetric", cache_dir=cache_dir, quiet=True)


# ---------------------------------------------------------------- parallel executors


def test_process_pool_gives_the_same_results(cache_dir, tmp_path):
    serial = _run(tmp_path / "serial", limit=3)
    parallel = _run(cache_dir, limit=3, workers=2)
    pd.testing.assert_frame_equal(serial.frame.drop(columns="fuse_seconds"), parallel.frame.drop(columns="fuse_seconds"))


def test_dask_executor_on_a_local_cluster(cache_dir, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    serial = _run(tmp_path / "serial", limit=2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        on_dask = _run(cache_dir, limit=2, executor="dask", scheduler=cluster.scheduler_address)
    assert all(r.computed for r in on_dask.task_results)
    pd.testing.assert_frame_equal(serial.frame.drop(columns="fuse_seconds"), on_dask.frame.drop(columns="fuse_seconds"))


# ---------------------------------------------------------------- specs and CLI


def test_method_specs_with_labels_and_parameters():
    specs = parse_method_specs("ufa,dwt[wavelet=db2,levels=3],GFF-authors=precomputed[folder=/x/y,pattern={pair}_GFF.jpg]")
    assert specs[0] == MethodSpec("ufa", "ufa", {})
    assert specs[1] == MethodSpec("dwt[wavelet=db2,levels=3]", "dwt", {"wavelet": "db2", "levels": 3})
    assert specs[2] == MethodSpec("GFF-authors", "precomputed", {"folder": "/x/y", "pattern": "{pair}_GFF.jpg"})
    with pytest.raises(ValueError, match="given twice"):
        parse_method_specs("dwt,dwt")


def test_cli_run_writes_every_output_and_prints_the_report(cache_dir, tmp_path, capsys):
    out = tmp_path / "res"
    code = main(["run", "--dataset", "synthetic", "--methods", "average,dwt", "--metrics", METRICS, "--limit", "2", "--out", str(out), "--cache-dir", str(cache_dir), "--quiet", "--save-fused"])
    assert code == 0
    for name in ("results.csv", "summary.csv", "summary.md", "summary.tex", "report.html", "run.log"):
        assert (out / name).is_file(), name
    assert len(list((out / "fused" / "dwt").glob("*.png"))) == 2
    assert f"Report: {(out / 'report.html').resolve()}" in capsys.readouterr().out


def test_cli_run_on_a_user_folder_and_cache_commands(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "mine"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for pair in ("p1", "p2"):
        for role in ("IR", "VIS"):
            Image.fromarray((rng.random((40, 48)) * 255).astype(np.uint8)).save(folder / f"{pair}-{role}.png")
    cache = str(tmp_path / "c")
    assert main(["run", "--dataset", str(folder), "--methods", "average", "--metrics", METRICS, "--out", str(tmp_path / "o"), "--cache-dir", cache, "--quiet"]) == 0
    assert main(["cache", "info", "--cache-dir", cache]) == 0
    assert "fused images: 2\nscores: 6" in capsys.readouterr().out
    assert main(["cache", "clear", "--cache-dir", cache]) == 0
    assert Cache(cache).info().fused_entries == 0


# ---------------------------------------------------------------- regression guard


def test_baseline_and_regress(tmp_path, cache_dir):
    path = update_baseline("synthetic", "average,dwt", metrics=METRICS, path=tmp_path / "b.csv", limit=2)
    fields, rows = read_baseline(path)
    assert fields["pairs"] == "camera-left,astronaut-disk" and len(rows) == 6
    assert regress("synthetic", path=path).ok
    text = path.read_text().replace(f"{rows.loc[0, 'value']:.12g}", f"{rows.loc[0, 'value'] * 1.01:.12g}", 1)
    path.write_text(text)
    report = regress("synthetic", path=path)
    assert not report.ok and "1 of 6 scores moved" in report.text and "MOVED" in report.text
    assert main(["regress", "--dataset", "synthetic", "--baseline", str(path), "--quiet"]) == 1


def test_make_run_defaults_to_lytro_when_present_else_synthetic(tmp_path):
    from fusionbench.commands import default_dataset, default_methods

    assert default_dataset(str(tmp_path)) == "synthetic"
    methods = default_methods().split(",")
    assert methods == [m for m in ("ufa", "dwt", "gff") if m in registry.list_methods()] or methods == ["average"]


def test_without_data_the_run_says_it_uses_the_synthetic_set_and_how_to_get_lytro(tmp_path, capsys):
    argv = ["run", "--data-dir", str(tmp_path / "no-data"), "--methods", "average", "--metrics", METRICS, "--limit", "1",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"No Lytro data under {tmp_path / 'no-data'}: benchmarking the embedded synthetic set" in err
    assert "`fusionbench datasets fetch lytro`, then run this again" in err and "FUSIONBENCH_DATA" in err
    assert "(20 pairs, " in err


def test_without_data_make_run_names_the_command_as_make_runs_it(tmp_path, capsys, monkeypatch):
    """`make run` starts .venv/bin/fusionbench, which is not on the PATH: the hint says so."""
    monkeypatch.setattr("sys.argv", [".venv/bin/fusionbench", "run"])
    monkeypatch.setenv("PATH", str(tmp_path))  # no fusionbench on it
    argv = ["run", "--data-dir", str(tmp_path / "no-data"), "--methods", "average", "--metrics", METRICS, "--limit", "1",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main(argv) == 0
    assert "`.venv/bin/fusionbench datasets fetch lytro`, then run this again" in capsys.readouterr().err


def test_make_run_uses_lytro_from_the_data_root(data_dir):
    from fusionbench.commands import default_dataset

    assert default_dataset(str(data_dir)) == "lytro"


def test_device_request_without_device_methods_warns(cache_dir):
    with pytest.warns(UserWarning, match="none of the methods has a device parameter"):
        _run(cache_dir, limit=1, device="cuda")
