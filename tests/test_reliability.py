"""The reliability campaign (reports/reliability.md): a misbehaving method, a full or read-only
disk, odd arguments and killed processes must never give a plausible score for a broken
output, cost more than the task at fault, or lose finished work.

The faults come from the plugin package in tests/fault_plugin (method ``fault``: the average
of the sources, except on the pairs matching ``on``, where it misbehaves as ``kind`` says).
Runs use the synthetic set (256x256: camera-left gray, astronaut-disk and coffee-wave RGB).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import fusionbench
from fusionbench import registry
from fusionbench.cache import CacheWriteError
from fusionbench.cli import main
from fusionbench.io import ImageReadError, read_image
from fusionbench.registry import MethodOutputError
from fusionbench.runner import OutputWriteError, RunWarning, run

FAULT_PLUGIN = Path(__file__).parent / "fault_plugin" / "src"
METRICS = "AVG,STD"


@pytest.fixture(scope="module")
def fault_class() -> type:
    """The ``fault`` method class, imported once and then taken out of the registry (so
    other tests never see it); :func:`fault` puts it back for one test."""
    sys.path.insert(0, str(FAULT_PLUGIN))
    registry.list_methods()
    import fusionbench_faults

    registry._METHODS.pop("fault")
    return fusionbench_faults.Fault


@pytest.fixture(autouse=True)
def fault(fault_class: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._METHODS, "fault", fault_class)


def _run(tmp_path: Path, methods: str, limit: int = 3, **kw):
    kw.setdefault("cache_dir", tmp_path / "cache")
    return run("synthetic", methods, metrics=METRICS, out=tmp_path / "out", limit=limit, quiet=True, **kw)


def _errors(result) -> dict[tuple[str, str], str]:
    """(method, pair) -> error, for the tasks that failed."""
    frame = result.frame[result.frame["error"] != ""]
    return {(m, p): e for m, p, e in zip(frame["method"], frame["pair"], frame["error"])}


def _ok(result, method: str) -> bool:
    rows = result.frame[result.frame["method"] == method]
    return bool((rows["error"] == "").all() and rows["value"].notna().all())


# ---------------------------------------------------------------- 1. broken outputs


def test_a_uint8_result_is_read_as_0_to_255(tmp_path: Path) -> None:
    result = _run(tmp_path, "fault[kind=uint8],average", limit=1)  # camera-left, gray: the same 8-bit image
    frame = result.frame.set_index(["metric", "method"])["value"].unstack()
    assert result.exit_code == 0
    assert frame["fault[kind=uint8]"].tolist() == frame["average"].tolist()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("scale255", "float32 values in [4, 251], outside the contract"),  # not clipped to white
        ("int32", "returned dtype int32"),
        ("nan", "NaN or infinite"),
        ("shape", "returned shape (255, 256)"),
    ],
)
def test_a_broken_output_is_an_error_never_a_score(tmp_path: Path, kind: str, message: str) -> None:
    result = _run(tmp_path, f"fault[kind={kind},on=camera-left]", limit=1)
    error = _errors(result)[(f"fault[kind={kind},on=camera-left]", "camera-left")]
    assert error.startswith("MethodOutputError: method 'fault'") and message in error
    assert result.frame["value"].isna().all() and result.exit_code == 1
    a, b = (read_image(p) for p in (result.dataset.pairs[0].a, result.dataset.pairs[0].b))
    with pytest.raises(MethodOutputError, match="fault"):
        fusionbench.fuse(a, b, method="fault", kind=kind)


def test_methods_that_overshoot_by_design_are_saturated_not_rejected() -> None:
    step = np.zeros((64, 64), np.float32)
    step[:, 32:] = 1.0  # a hard edge: wavelet reconstruction rings beyond [0, 1]
    raw = registry.get_method_class("dwt")().fuse_gray(step, 1 - step)
    assert raw.min() < -0.01 or raw.max() > 1.01
    fused = fusionbench.fuse(step, 1 - step, method="dwt")
    assert fused.dtype == np.float32 and fused.min() >= 0 and fused.max() <= 1


# ---------------------------------------------------------------- 2, 3. crashes and hangs


@pytest.mark.parametrize(
    ("kind", "workers", "death"),
    [("segfault", 1, "was killed by SIGSEGV"), ("exit", 2, "exited with status 3"), ("kill", 2, "was killed by SIGKILL")],
)
def test_a_dying_worker_costs_only_its_task(tmp_path: Path, kind: str, workers: int, death: str) -> None:
    spec = f"fault[kind={kind},on=astronaut-disk]"
    result = _run(tmp_path, f"{spec},average", workers=workers)
    errors = _errors(result)
    assert list(errors) == [(spec, "astronaut-disk")]
    assert errors[(spec, "astronaut-disk")].startswith(f"crashed: its worker process {death}")
    assert _ok(result, "average") and result.exit_code == 1
    saved = pd.read_csv(tmp_path / "out" / "results.csv", keep_default_na=False)
    assert len(saved) == 2 * 3 * 2 and (tmp_path / "out" / "report.html").is_file()
    assert "crashed" in (tmp_path / "out" / "run.log").read_text()


def test_a_task_killed_beside_others_is_retried_alone(tmp_path: Path) -> None:
    """The out-of-memory killer may pick a process that is not the culprit: a task whose
    worker died while another ran is run once more, alone."""
    marker = tmp_path / "killed-once"
    methods = f"victim=fault[kind=kill-once,marker={marker}],slow=fault[kind=sleep,seconds=3]"
    result = _run(tmp_path, methods, limit=1, workers=2)
    assert marker.exists() and result.exit_code == 0
    assert _ok(result, "victim") and _ok(result, "slow")


def test_a_hanging_task_times_out_and_the_others_complete(tmp_path: Path) -> None:
    spec = "fault[kind=hang,on=coffee-wave]"
    started = time.monotonic()
    result = _run(tmp_path, f"{spec},average", task_timeout=3)
    assert time.monotonic() - started < 60
    assert _errors(result) == {(spec, "coffee-wave"): "timeout: timed out after 3 s; its worker process was killed"}
    assert _ok(result, "average") and result.exit_code == 1
    # the timed-out task was not cached: the next run tries it again
    assert _run(tmp_path, spec, task_timeout=3).task_results[2].computed


def test_task_timeout_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--dataset", "synthetic", "--methods", "fault[kind=hang,on=camera-left]", "--metrics", METRICS, "--limit", "2",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), "--quiet", "--task-timeout", "2"]
    assert main(argv) == 1
    saved = pd.read_csv(tmp_path / "out" / "results.csv", keep_default_na=False)
    assert set(saved.loc[saved["error"] != "", "pair"]) == {"camera-left"}
    assert saved.loc[saved["pair"] == "astronaut-disk", "value"].notna().all()


def test_output_on_stdout_and_reads_of_stdin_do_not_disturb_the_workers(tmp_path: Path) -> None:
    result = _run(tmp_path, "fault[kind=noise]", limit=2)
    assert result.exit_code == 0 and _ok(result, "fault[kind=noise]")


def test_each_distinct_warning_is_shown_once(tmp_path: Path) -> None:
    folder = tmp_path / "pairs"
    folder.mkdir()
    rgba = np.zeros((32, 40, 4), np.uint8)
    rgba[..., 3] = 255
    Image.fromarray(rgba).save(folder / "p1-A.png")
    Image.fromarray(np.full((32, 40, 3), 90, np.uint8)).save(folder / "p1-B.png")
    with pytest.warns(RunWarning) as caught:
        run(folder, "average,max", metrics=METRICS, out=tmp_path / "out", cache_dir=tmp_path / "cache", quiet=True)
    alpha = [w for w in caught if "alpha channel dropped" in str(w.message)]
    assert len(alpha) == 1 and "p1-A.png" in str(alpha[0].message)
    assert (tmp_path / "out" / "run.log").read_text().count("alpha channel dropped") == 1


# ---------------------------------------------------------------- 4. disks


@pytest.fixture
def small_disk(tmp_path: Path):
    """Mount a tmpfs of the given size (KiB) and yield its path; skip where mounting is not allowed."""
    mounts = []

    def mount(kib: int, read_only: bool = False) -> Path:
        path = tmp_path / f"disk{len(mounts)}"
        path.mkdir()
        options = f"size={kib}k" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
        mounts.append(path)
        return path

    yield mount
    for path in mounts:
        subprocess.run(["umount", str(path)], check=False)


@pytest.fixture
def two_pairs(tmp_path: Path) -> Path:
    """A folder with a small pair (32x32) and a large one (256x256), gray."""
    folder = tmp_path / "pairs"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for pair, size in (("1-small", 32), ("2-large", 256)):
        for role in ("A", "B"):
            Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(folder / f"{pair}-{role}.png")
    return folder


def test_a_full_disk_under_the_cache_keeps_every_result(tmp_path: Path, two_pairs: Path, small_disk) -> None:
    disk = small_disk(32)  # room for the small pair's entries, not for the large fused image (64 KiB)
    with pytest.warns(RunWarning, match=r"No space left on device; the result of average on 2-large is used but not cached"):
        result = run(two_pairs, "average", metrics=METRICS, out=tmp_path / "out", cache_dir=disk, quiet=True)
    assert result.exit_code == 0 and _ok(result, "average")
    assert (tmp_path / "out" / "results.csv").is_file()
    assert result.task_results[0].warnings == []
    assert any(str(disk) in m and "No space left on device" in m and "2-large is used but not cached" in m for m in result.task_results[1].warnings)
    assert not [p for p in disk.rglob("*") if p.name.endswith(".tmp")]


def test_a_full_disk_under_the_outputs_names_the_path_and_keeps_the_cache(tmp_path: Path, two_pairs: Path, small_disk) -> None:
    disk = small_disk(8)
    with pytest.raises(OutputWriteError, match=rf"{disk}.*No space left on device.*in the cache"):
        run(two_pairs, "average", metrics=METRICS, out=disk, cache_dir=tmp_path / "cache", quiet=True)
    again = run(two_pairs, "average", metrics=METRICS, out=tmp_path / "out", cache_dir=tmp_path / "cache", quiet=True)
    assert not any(r.computed for r in again.task_results)  # the finished work was kept
    assert not [p for p in disk.iterdir() if p.name.endswith(".tmp")]


def test_a_read_only_cache_or_output_folder_fails_before_any_work(tmp_path: Path, two_pairs: Path, small_disk) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    with pytest.raises(CacheWriteError, match=rf"cache folder {not_a_folder}/cache is not writable.*--cache-dir"):
        run(two_pairs, "average", metrics=METRICS, cache_dir=not_a_folder / "cache", quiet=True)
    read_only = small_disk(64, read_only=True)
    with pytest.raises(CacheWriteError, match=rf"{read_only}.*Read-only file system"):
        run(two_pairs, "average", metrics=METRICS, cache_dir=read_only, quiet=True)
    with pytest.raises(OutputWriteError, match=rf"--out {read_only}/out: cannot write there"):
        run(two_pairs, "average", metrics=METRICS, out=read_only / "out", cache_dir=tmp_path / "c2", quiet=True)
    assert not (tmp_path / "c2").exists()


# ---------------------------------------------------------------- 5. arguments


def _cli(tmp_path: Path, *extra: str, methods: str = "average") -> int:
    return main(["run", "--dataset", "synthetic", "--methods", methods, "--metrics", METRICS,
                 "--cache-dir", str(tmp_path / "cache"), "--quiet", *extra])


def test_bad_limits_fail_before_touching_a_previous_results_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _cli(tmp_path, "--out", str(out), "--limit", "2") == 0
    before = (out / "results.csv").read_bytes()
    for limit in ("0", "-1", "x"):
        with pytest.raises(SystemExit) as exit_info:
            _cli(tmp_path, "--out", str(out), "--limit", limit)
        assert exit_info.value.code == 2
        assert "--limit: expected a whole number greater than 0" in capsys.readouterr().err
    assert (out / "results.csv").read_bytes() == before
    with pytest.raises(ValueError, match="--limit must be a whole number of pairs, at least 1"):
        run("synthetic", "average", limit=0, quiet=True)


def test_an_out_that_is_a_file_fails_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "results.txt"
    target.write_text("mine")
    assert _cli(tmp_path, "--out", str(target)) == 2
    assert f"--out {target} is a file" in capsys.readouterr().err
    assert target.read_text() == "mine" and not (tmp_path / "cache" / "fused").exists()


def test_fuse_never_overwrites_a_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pair = fusionbench.example()
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    fusionbench.write_image(a, pair.a)
    fusionbench.write_image(b, pair.b)
    before = a.read_bytes()
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "." / "a.png")]) == 2
    assert "is the source image" in capsys.readouterr().err and a.read_bytes() == before


def test_save_fused_keeps_pairs_whose_names_sanitise_alike_apart(tmp_path: Path) -> None:
    folder = tmp_path / "pairs"
    folder.mkdir()
    for pair, value in (("scene 1", 40), ("scene_1", 200)):
        for role in ("A", "B"):
            Image.fromarray(np.full((16, 20), value, np.uint8)).save(folder / f"{pair}-{role}.png")
    run(folder, "average", metrics=METRICS, out=tmp_path / "out", cache_dir=tmp_path / "cache", quiet=True, save_fused=True)
    saved = sorted((tmp_path / "out" / "fused" / "average").glob("*.png"))
    assert len(saved) == 2 and {int(np.asarray(Image.open(p)).mean()) for p in saved} == {40, 200}


def test_method_parameters_are_type_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(tmp_path, methods="dwt[levels=true]") == 2
    assert "parameter 'levels' must be an integer, got True" in capsys.readouterr().err
    with pytest.raises(TypeError, match="'eps1' must be a number"):
        fusionbench.create_method("gff", eps1="small")
    with pytest.raises(TypeError, match="'kind' must be one of 'uint8'"):
        fusionbench.create_method("fault", kind="melt")
    assert fusionbench.create_method("gff", eps1=1).eps1 == 1.0 and isinstance(fusionbench.create_method("gff", eps1=1).eps1, float)
    assert fusionbench.create_method("nsct", levels=[2, 3]).levels == (2, 3)


def test_unknown_figure_pairs_fail_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(tmp_path, "--out", str(tmp_path / "out"), "--figure-pairs", "camera-left,nope") == 2
    assert "--figure-pairs: nope not among the pairs" in capsys.readouterr().err
    assert not (tmp_path / "cache" / "fused").exists()


# ---------------------------------------------------------------- 6. methods defined in the caller

SCRIPT_METHOD = """
import numpy as np
import fusionbench
from fusionbench import FusionMethod, register_method

@register_method("darker")
class Darker(FusionMethod):
    def fuse_gray(self, a, b):
        return np.minimum(a, b)
"""

SCRIPT_RUN = """
result = fusionbench.runner.run("synthetic", "darker", metrics="AVG", limit=3, workers=2, quiet=True, cache_dir={cache!r})
print("EXIT", result.exit_code, sorted(set(result.frame["error"])))
"""


@pytest.mark.parametrize("how", ["script", "-c", "stdin"])
def test_a_method_defined_in_the_callers_script_runs_in_the_workers(tmp_path: Path, how: str) -> None:
    code = SCRIPT_METHOD + "import fusionbench.runner\n" + SCRIPT_RUN.format(cache=str(tmp_path / "cache"))
    if how == "script":
        script = tmp_path / "mine.py"
        script.write_text("if __name__ == '__main__':\n" + textwrap.indent(code, "    "))
        argv, stdin = [sys.executable, str(script)], None
    elif how == "-c":
        argv, stdin = [sys.executable, "-c", code], None
    else:
        argv, stdin = [sys.executable, "-"], code
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "EXIT 0 ['']" in done.stdout


# ---------------------------------------------------------------- 8. orphans

ORPHAN_SCRIPT = """
import sys
sys.path.insert(0, {plugin!r})
import fusionbench_faults
from fusionbench.cli import main
main(["run", "--dataset", "synthetic", "--methods", "fault[kind=hang]", "--limit", "3", "--workers", "2",
      "--metrics", "AVG", "--cache-dir", {cache!r}, "--quiet"])
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process parents from /proc (Linux)")
def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    script = ORPHAN_SCRIPT.format(plugin=str(FAULT_PLUGIN), cache=str(tmp_path / "cache"))
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while len(workers := _children(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) == 2, "the run did not start its two workers"
        os.kill(parent.pid, signal.SIGKILL)  # the workers may still be starting: they must notice too
        parent.wait()
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        assert not alive, f"worker processes {alive} outlived their parent"
    finally:
        parent.kill()
        for pid in _children(parent.pid):
            os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- 9. smaller ones


def test_a_folder_passed_as_an_image_is_named_as_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match=rf"{tmp_path}: is a folder, not an image file"):
        read_image(tmp_path)


def test_an_empty_or_truncated_image_fails_only_its_pair(tmp_path: Path) -> None:
    folder = tmp_path / "pairs"
    folder.mkdir()
    for pair in ("p1", "p2", "p3"):
        for role in ("A", "B"):
            Image.fromarray(np.full((16, 20), 100, np.uint8)).save(folder / f"{pair}-{role}.png")
    (folder / "p1-A.png").write_bytes(b"")
    (folder / "p2-B.png").write_bytes((folder / "p2-B.png").read_bytes()[:40])
    result = run(folder, "average", metrics=METRICS, cache_dir=tmp_path / "cache", quiet=True)
    errors = _errors(result)
    assert set(errors) == {("average", "p1"), ("average", "p2")}
    assert "p1-A.png: cannot read image" in errors[("average", "p1")] and "p2-B.png" in errors[("average", "p2")]
    assert result.frame.loc[result.frame["pair"] == "p3", "value"].notna().all()


def test_a_problem_with_an_unselected_pair_does_not_block_the_selected_ones(tmp_path: Path, data_dir: Path) -> None:
    root = tmp_path / "data"
    (root / "lytro").mkdir(parents=True)
    for role in ("A", "B"):
        name = f"lytro-01-{role}.jpg"
        (root / "lytro" / name).write_bytes((data_dir / "lytro" / name).read_bytes())
    result = run("lytro", "average", metrics=METRICS, data_dir=root, pairs=["lytro-01"], cache_dir=tmp_path / "cache", quiet=True)
    assert result.exit_code == 0 and [p.name for p in result.dataset.pairs] == ["lytro-01"]
    folder = tmp_path / "pairs"
    folder.mkdir()
    for name in ("p1-A.png", "p1-B.png", "p2-A.png"):  # p2 lacks its B
        Image.fromarray(np.full((16, 20), 100, np.uint8)).save(folder / name)
    assert run(folder, "average", metrics=METRICS, pairs=["p1"], cache_dir=tmp_path / "cache", quiet=True).exit_code == 0
