"""The benchmark runner: dataset -> pairs -> method.fuse -> cache -> metrics -> results frame -> reports.

:func:`run` is the whole data path, top to bottom; each step is a small function below it.

Conventions (stated here once and repeated in every report):

* Methods receive the sources as :func:`fusionbench.io.read_image` gives them (float32 in
  [0, 1], gray or RGB as stored) and return float32 in [0, 1].
* **Metrics are computed on the fused image quantised to 8 bits as it is saved**
  (:func:`fusionbench.io.to_uint8`: x 255, round half away from zero, clip), **with the
  sources as read from their files** (native uint8/uint16), i.e. exactly what a user gets by
  saving the fused image and scoring the files. Colour is converted by the metrics' own rule
  (MATLAB ``rgb2gray``; see :mod:`fusionbench.metrics.inputs`) unless a ``convention`` says
  otherwise.
* ``fuse_seconds`` is the wall time of ``method.fuse`` on that pair (``time.perf_counter``),
  measured when the image was computed; a cached image keeps the time of the run that
  computed it. Reading files, hashing, caching and scoring are not included. NaN for methods
  that read stored results (``precomputed``, ``fusionbench score``).

Execution: every (pair, method) is one task. Tasks whose image and scores are all cached are
answered in the calling process; the rest run in ``workers`` isolated worker processes
(:mod:`fusionbench.workers`; default one), in the calling process (``workers=0``: no
isolation, for debugging a method), or on Dask (``executor="dask"``, on ``scheduler`` or a
local cluster). Methods that run on an accelerator (a ``device`` parameter, given
``device="cuda"``) run in one process per device so that they do not contend for its memory;
on Dask they are submitted with ``resources={"GPU": 1}`` (start such workers with
``--resources GPU=1``). A method class travels to the workers with the task, so a method
registered in the caller's script or notebook runs there too.

Failures cost only their task, which is recorded with its error in the results and the log
(exit status 1): an exception or bad output of the method (:class:`MethodOutputError`), a
worker process that dies (segfault, ``os._exit``, out-of-memory kill: ``crashed``), a task
that runs past ``task_timeout`` seconds (``timeout``, its worker is killed). A cache entry
that cannot be written (full disk) is a warning naming the path; the result is still used.
Everything is checked before any work: methods, parameters, metrics, the pair selection, the
output folder and, when there is work to do, that the cache folder is writable.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .cache import Cache, CacheWriteError, fused_key, method_code_version, metric_code_version, score_key
from .datasets import DatasetError, DatasetPairs, Pair, file_sha256, open_dataset, select_pairs
from .io import read_image, read_image_native, to_uint8
from .metrics import evaluate, resolve_metrics
from .metrics.conventions import get_convention
from .metrics.registry import Metric
from .paths import cache_root
from .registry import FusionMethod, create_method, get_method_class
from .workers import JobFailure, run_isolated

__all__ = [
    "MethodSpec",
    "RunResult",
    "Task",
    "TaskResult",
    "parse_method_specs",
    "run",
    "run_task",
    "RESULT_COLUMNS",
]

RESULT_COLUMNS = ["dataset", "pair", "method", "metric", "value", "fuse_seconds", "error"]


@dataclass(frozen=True)
class MethodSpec:
    """A method as the runner uses it: ``label`` (shown in tables), registry ``name``, params."""

    label: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """One (pair, method) with everything needed to compute or look up its results."""

    dataset: str
    pair: Pair
    method: MethodSpec
    method_class: type[FusionMethod]
    fused_key: str
    metrics: tuple[str, ...]
    score_keys: tuple[str, ...]
    convention: str | None
    cache_root: str
    uses_device: bool = False


@dataclass
class TaskResult:
    """What one task produced: scores by metric, fuse time, errors (empty when all went well)."""

    pair: str
    method: str
    scores: dict[str, float] = field(default_factory=dict)
    fuse_seconds: float = float("nan")
    errors: dict[str, str] = field(default_factory=dict)  # "fuse" or metric name -> message
    tracebacks: list[str] = field(default_factory=list)
    fused_path: str | None = None
    computed: bool = False  # False: answered from the cache (True also when the attempt failed)
    corrupted: int = 0
    warnings: list[str] = field(default_factory=list)  # each distinct warning once


@dataclass
class RunResult:
    """The results frame (long format, :data:`RESULT_COLUMNS`) and where the outputs went."""

    frame: pd.DataFrame
    out: Path | None
    dataset: DatasetPairs
    methods: list[MethodSpec]
    metrics: list[str]
    task_results: list[TaskResult]
    wall_seconds: float
    report: Path | None = None

    @property
    def failed(self) -> list[TaskResult]:
        return [r for r in self.task_results if r.errors]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


# ---------------------------------------------------------------- the data path


def run(
    dataset: str | os.PathLike | DatasetPairs,
    methods: str | Sequence[str | MethodSpec],
    metrics: str | Sequence[str] | None = "seven",
    out: str | os.PathLike | None = None,
    *,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    pairs: Iterable[str] | None = None,
    limit: int | None = None,
    workers: int = 1,
    task_timeout: float | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    device: str = "cpu",
    convention: str | None = None,
    quiet: bool = False,
    reports: bool = True,
    figure_pairs: int | Sequence[str] = 3,
    save_fused: bool = False,
    roles: Iterable[str] | None = None,
) -> RunResult:
    """Fuse every pair of ``dataset`` with every method, score every fused image, write reports.

    ``dataset``: a dataset name (``lytro``, ``synthetic`` ...), a folder of pairs, or an
    opened :class:`~fusionbench.datasets.DatasetPairs`. ``methods``: ``"ufa,dwt,gff"`` or a
    list of specs (:func:`parse_method_specs`). ``metrics``: ``"seven"``, ``"all"`` or names.
    ``out``: where results.csv, summary.*, report.html and run.log go (None: no files).
    ``use_cache=False`` computes everything in a temporary cache that is deleted afterwards.
    ``workers``: worker processes (0: this process, without crash isolation or timeouts);
    ``task_timeout``: seconds after which a task's worker is killed and the task recorded as
    timed out. Returns a :class:`RunResult`; its ``exit_code`` is 1 when any task failed.
    """
    started = time.perf_counter()
    _check_execution(limit, workers, task_timeout, executor)
    # 1. dataset -> pairs
    if not isinstance(dataset, DatasetPairs):
        dataset = open_dataset(dataset, data_dir=data_dir, cache_dir=cache_dir, roles=roles, pairs=pairs, limit=limit)
    elif pairs or limit is not None:
        dataset = select_pairs(dataset, pairs, limit)
    if not dataset.pairs:
        raise DatasetError(f"dataset {dataset.name!r} has no pairs to run")
    # 2. methods, metrics and outputs, checked before any work
    specs = _check_methods([_with_device(spec, device) for spec in parse_method_specs(methods)])
    if device != "cpu" and not any("device" in s.params for s in specs):
        warnings.warn(f"--device {device}: none of the methods has a device parameter; all run on the CPU", stacklevel=2)
    selected = _check_convention(convention, _resolve_metrics(metrics, dataset), metrics)
    _check_figure_pairs(figure_pairs, dataset)
    if out is not None:
        _check_out(Path(out))
    with tempfile.TemporaryDirectory(prefix="fusionbench-nocache-") as scratch:
        cache = Cache(cache_root(cache_dir) if use_cache else scratch)
        # 3. tasks: (pair, method) with their cache keys
        tasks = make_tasks(dataset, specs, selected, convention, cache.root)
        # 4. method.fuse -> cache -> metrics, in worker processes, in-process or on Dask
        progress = _Progress(specs, len(dataset.pairs), quiet)
        with progress:
            task_results = execute(tasks, workers, executor, scheduler, on_result=progress.update, task_timeout=task_timeout)
        shown = _warn_once([message for r in task_results for message in r.warnings])
        # 5. results frame
        frame = results_frame(dataset.name, task_results, [m.name for m in selected])
        result = RunResult(frame, Path(out) if out else None, dataset, specs, [m.name for m in selected], task_results, time.perf_counter() - started)
        # 6. reports (read fused images from the cache, so before a temporary cache is removed)
        if out is not None:
            from .reports import write_outputs

            try:
                with warnings.catch_warnings(record=True) as caught:  # the reports read the sources again
                    warnings.simplefilter("always")
                    result.report = write_outputs(result, cache, figure_pairs=figure_pairs, reports=reports, save_fused=save_fused, convention=convention)
                _warn_once([f"{w.category.__name__}: {w.message}" for w in caught], shown)
            except OSError as exc:
                kept = f"every computed result is in the cache ({cache.root}): run the same command again once it is fixed; nothing is recomputed" if use_cache else "with --no-cache the results are lost"
                raise OutputWriteError(f"could not write the run's outputs into {out}: {exc}; {kept}") from exc
    return result


class OutputWriteError(OSError):
    """A run's output files could not be written; says where and what was kept."""


# ---------------------------------------------------------------- step helpers


def parse_method_specs(text: str | Sequence[str | MethodSpec]) -> list[MethodSpec]:
    """Parse ``"ufa,dwt[wavelet=db2,levels=3],CNN=precomputed[folder=/x]"`` into specs.

    ``label=`` is optional (default: the spec text); parameters in brackets are JSON values
    where they parse (``3``, ``0.3``, ``true``), strings otherwise.
    """
    if not isinstance(text, str):
        return [item if isinstance(item, MethodSpec) else parse_method_specs(item)[0] for item in text]
    specs = []
    for item in _split_top_level(text):
        match = re.fullmatch(r"(?:(?P<label>[^=\[\]]+)=)?(?P<name>[A-Za-z0-9_.\-]+)(?:\[(?P<params>.*)\])?", item.strip())
        if not match:
            raise ValueError(f"cannot parse method spec {item!r}; use NAME, NAME[key=value,...] or LABEL=NAME[...]")
        params: dict[str, Any] = {}
        for assignment in _split_top_level(match["params"] or ""):
            key, sep, raw = assignment.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"method spec {item!r}: parameter {assignment!r} is not key=value")
            try:
                params[key.strip()] = json.loads(raw)
            except json.JSONDecodeError:
                params[key.strip()] = raw.strip()
        specs.append(MethodSpec(label=(match["label"] or item).strip(), name=match["name"], params=params))
    labels = [s.label for s in specs]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ValueError(f"method label(s) {duplicates} given twice; use LABEL=NAME[...] to tell them apart")
    return specs


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside brackets."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += (char == "[") - (char == "]")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in (s.strip() for s in parts) if p]


def _check_execution(limit: int | None, workers: int, task_timeout: float | None, executor: str) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"--limit must be a whole number of pairs, at least 1; got {limit!r}")
    if executor not in ("local", "dask"):
        raise ValueError(f"unknown executor {executor!r}; use 'local' or 'dask'")
    if workers < 0 or (executor == "dask" and workers < 1):
        raise ValueError(f"--workers must be at least {1 if executor == 'dask' else 0} (0: in this process), got {workers}")
    if task_timeout is not None:
        if not task_timeout > 0:
            raise ValueError(f"--task-timeout must be a positive number of seconds, got {task_timeout!r}")
        if workers == 0 or executor == "dask":
            raise ValueError("--task-timeout needs worker processes of the local executor (--workers 1 or more, not --executor dask)")


def _check_figure_pairs(figure_pairs: int | Sequence[str], dataset: DatasetPairs) -> None:
    if isinstance(figure_pairs, int):
        return
    names = [p.name for p in dataset.pairs]
    unknown = [p for p in figure_pairs if p not in names]
    if unknown:
        shown = ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")
        raise ValueError(f"--figure-pairs: {', '.join(unknown)} not among the pairs of this run ({shown})")


def _check_out(out: Path) -> None:
    """The output folder exists or can be made, and is writable (before any work)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for results.csv, summary.* and report.html")
    probe = out / ".fusionbench-write-check"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputWriteError(f"--out {out}: cannot write there ({exc.strerror or exc}); choose another folder") from None


def _check_methods(specs: list[MethodSpec]) -> list[MethodSpec]:
    if not specs:
        raise ValueError("no methods given; pass e.g. --methods dwt,gff (see `fusionbench methods`)")
    for spec in specs:
        _method_instance(spec, get_method_class(spec.name))  # unknown name/parameter: clear error now, not per task
    return specs


def _with_device(spec: MethodSpec, device: str) -> MethodSpec:
    """Give methods that have a ``device`` parameter the requested device."""
    fields = {f.name for f in dataclasses.fields(get_method_class(spec.name))}
    if "device" in fields and "device" not in spec.params and device != "cpu":
        return dataclasses.replace(spec, params={**spec.params, "device": device})
    return spec


def _resolve_metrics(metrics: str | Sequence[str] | None, dataset: DatasetPairs) -> list[Metric]:
    try:
        selected = resolve_metrics(metrics)
    except KeyError as exc:
        raise ValueError(
            f"{exc.args[0]}. Metrics not registered in this version cannot be used yet; "
            "pass --metrics with names from `fusionbench metrics`"
        ) from None
    has_gt = bool(dataset.pairs) and all(p.gt is not None for p in dataset.pairs)
    if has_gt:
        return selected
    needs_gt = [m.name for m in selected if "gt" in m.needs]
    explicit = metrics is not None and not (isinstance(metrics, str) and metrics.strip().lower() == "all")
    if needs_gt and explicit:
        raise ValueError(f"metric(s) {', '.join(needs_gt)} need a ground truth, which dataset {dataset.name!r} does not have")
    return [m for m in selected if "gt" not in m.needs]


def _check_convention(convention: str | None, selected: list[Metric], metrics: str | Sequence[str] | None) -> list[Metric]:
    """Under a named convention, ``all`` means the metrics it defines, and naming one it does
    not define is an error (before any work)."""
    if convention is None:
        return selected
    scheme = get_convention(convention)
    if metrics is None or (isinstance(metrics, str) and metrics.strip().lower() == "all"):
        return [m for m in selected if scheme.defines(m)]
    for metric in selected:
        scheme.rule(metric)
    return selected


def make_tasks(dataset: DatasetPairs, specs: Sequence[MethodSpec], metrics: Sequence[Metric], convention: str | None, cache_dir: Path) -> list[Task]:
    """One task per (method, pair), method-major, with the cache keys of its image and scores.

    The sources (and any per-pair file a method reads, see :func:`_per_pair_files`) are
    hashed here (sha256 of the file bytes); where the descriptor gives a sha256 and the file
    differs, :class:`DatasetError` names the file.
    """
    hashes = {}
    for pair in dataset.pairs:
        shas = tuple(file_sha256(p) for p in (pair.a, pair.b))
        for path, got, expected in zip((pair.a, pair.b), shas, pair.expected_sha256):
            if expected is not None and got != expected:
                raise DatasetError(
                    f"{path}: sha256 {got[:12]}... differs from the dataset descriptor ({expected[:12]}...); the file "
                    f"changed or is corrupt - run `fusionbench datasets verify {dataset.name}` and re-fetch"
                )
        hashes[pair.name] = (shas, file_sha256(pair.gt) if pair.gt else None)
    versions = {m.name: metric_code_version(m) for m in metrics}
    tasks = []
    for spec in specs:
        method_class = get_method_class(spec.name)
        method = _method_instance(spec, method_class)
        identity = method.identity()
        code = method_code_version(type(method))
        uses_device = str(spec.params.get("device", "cpu")) != "cpu"
        for pair in dataset.pairs:
            shas, gt_sha = hashes[pair.name]
            key = fused_key(identity, code, shas + _per_pair_files(method, pair.name))
            scores = tuple(score_key(key, m.name, versions[m.name], convention, gt_sha) for m in metrics)
            tasks.append(Task(dataset.name, pair, spec, method_class, key, tuple(m.name for m in metrics), scores, convention, str(cache_dir), uses_device))
    return tasks


def _per_pair_files(method: Any, pair_name: str) -> tuple[str, ...]:
    """The sha256 of a file the method reads for this pair (``precomputed`` declares it with
    ``path_for``), so that replacing that file invalidates the cached result."""
    path_for = getattr(method, "path_for", None)
    if path_for is None:
        return ()
    path = Path(path_for(pair_name))
    return (file_sha256(path) if path.is_file() else f"missing:{path}",)


def run_task(task: Task, compute: bool = True, cache: Cache | None = None) -> TaskResult | None:
    """Fuse (or load from the cache) one pair with one method and score it.

    With ``compute=False`` only the cache is consulted: returns None unless the image and
    every score are cached. Exceptions of the method or a metric are caught and recorded;
    warnings raised meanwhile are collected in the result (each once), so that the run can
    show each distinct one once. ``cache``: the cache of ``task.cache_root`` to use (its
    ``corrupted`` list then counts what this lookup discarded).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _fuse_and_score(task, compute, cache or Cache(task.cache_root))
    if result is not None:
        for warning in caught:
            message = f"{warning.category.__name__}: {warning.message}"
            if message not in result.warnings:
                result.warnings.append(message)
    return result


def _fuse_and_score(task: Task, compute: bool, cache: Cache) -> TaskResult | None:
    corrupted_before = len(cache.corrupted)
    result = TaskResult(task.pair.name, task.method.label)
    entry = cache.get_fused(task.fused_key)
    if entry is None and not compute:
        return None
    fused = None
    if entry is None:
        result.computed = True
        try:
            a, b = read_image(task.pair.a), read_image(task.pair.b)
            method = _method_instance(task.method, task.method_class)
            start = time.perf_counter()
            output = method.fuse(a, b, pair_name=task.pair.name)
            result.fuse_seconds = time.perf_counter() - start if method.timed else float("nan")
            fused = to_uint8(output)
        except Exception as exc:  # isolate the failure: recorded, the run goes on
            result.errors["fuse"] = f"{type(exc).__name__}: {exc}"
            result.tracebacks.append(f"{task.method.label} on {task.pair.name}:\n{traceback.format_exc()}")
            result.corrupted = len(cache.corrupted) - corrupted_before
            return result
        try:
            entry = cache.put_fused(task.fused_key, fused, result.fuse_seconds, {"label": task.method.label, "name": task.method.name, "params": task.method.params})
        except CacheWriteError as exc:  # the image is good: score it, say it was not kept
            result.warnings.append(f"{exc.strerror}; the result of {task.method.label} on {task.pair.name} is used but not cached")
    if entry is not None:
        result.fuse_seconds = entry.fuse_seconds
        result.fused_path = str(entry.path)
    cached = cache.get_scores(task.fused_key)
    missing = []
    for metric, key in zip(task.metrics, task.score_keys):
        if key in cached:
            result.scores[metric] = cached[key]
        else:
            missing.append((metric, key))
    if missing and not compute:
        return None
    if missing:
        fused = entry.image() if fused is None else fused
        values = _score(task, fused, [m for m, _ in missing], result)
        result.scores.update(values)
        try:
            cache.put_scores(task.fused_key, {key: (metric, values[metric]) for metric, key in missing if metric in values})
        except CacheWriteError as exc:
            result.warnings.append(f"{exc.strerror}; the scores of {task.method.label} on {task.pair.name} are used but not cached")
        result.computed = True
    result.corrupted = len(cache.corrupted) - corrupted_before
    return result


def _score(task: Task, fused: np.ndarray, metrics: list[str], result: TaskResult) -> dict[str, float]:
    """Evaluate ``metrics`` on the saved (uint8) fused image and the sources as read; all at
    once (shared intermediates), and one by one if that fails so one bad metric costs only itself."""
    try:
        images = {"a": read_image_native(task.pair.a), "b": read_image_native(task.pair.b), "fused": fused}
        if task.pair.gt is not None:
            images["gt"] = read_image_native(task.pair.gt)
    except Exception as exc:
        for metric in metrics:
            result.errors[metric] = f"{type(exc).__name__}: {exc}"
        result.tracebacks.append(traceback.format_exc())
        return {}
    extra = {"convention": task.convention} if task.convention is not None else {}
    try:
        return evaluate(metrics=metrics, **images, **extra)
    except Exception:
        values = {}
        for metric in metrics:
            try:
                values.update(evaluate(metrics=[metric], **images, **extra))
            except Exception as exc:
                result.errors[metric] = f"{type(exc).__name__}: {exc}"
                result.tracebacks.append(f"{metric} of {task.method.label} on {task.pair.name}:\n{traceback.format_exc()}")
        return values


_INSTANCES: dict[str, Any] = {}  # per process: a learned method loads its weights once


def _method_instance(spec: MethodSpec, method_class: type[FusionMethod]) -> Any:
    key = json.dumps([method_class.__module__, method_class.__qualname__, spec.name, spec.params], sort_keys=True, default=str)
    if key not in _INSTANCES:
        _INSTANCES[key] = create_method(method_class, **spec.params)
    return _INSTANCES[key]


# ---------------------------------------------------------------- execution


def execute(
    tasks: Sequence[Task],
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    on_result: Callable[[TaskResult], None] | None = None,
    task_timeout: float | None = None,
) -> list[TaskResult]:
    """Run the tasks; cached ones in this process first, then the rest (see module doc)."""
    _check_execution(None, workers, task_timeout, executor)
    done: dict[int, TaskResult] = {}
    discarded: dict[int, int] = {}  # corrupted cache entries found while looking a task up

    def finish(index: int, result: TaskResult) -> None:
        result.corrupted += discarded.get(index, 0)
        done[index] = result
        if on_result:
            on_result(result)

    pending = []
    cache = Cache(tasks[0].cache_root) if tasks else None
    for index, task in enumerate(tasks):
        before = len(cache.corrupted)
        cached = run_task(task, compute=False, cache=cache)
        if cached is None:
            pending.append(index)
            discarded[index] = len(cache.corrupted) - before
        else:
            finish(index, cached)
    if pending:
        cache.check_writable()
    if executor == "dask":
        _execute_dask(tasks, pending, workers, scheduler, finish)
    elif workers == 0:
        for index in pending:
            finish(index, run_task(tasks[index]))
    else:
        _execute_isolated(tasks, pending, workers, task_timeout, finish)
    return [done[i] for i in range(len(tasks))]


def _failed(task: Task, failure: JobFailure) -> TaskResult:
    """The result of a task whose process died, that timed out, or that Dask lost."""
    result = TaskResult(task.pair.name, task.method.label, computed=True)
    result.errors["fuse"] = f"{failure.kind}: {failure.message}"
    result.tracebacks.append(f"{task.method.label} on {task.pair.name}: {failure.kind}: {failure.message}")
    return result


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "FUSIONBENCH_METRIC_THREADS")


def _execute_isolated(tasks: Sequence[Task], pending: list[int], workers: int, task_timeout: float | None, finish: Callable[[int, TaskResult], None]) -> None:
    """The pending tasks in worker processes: ``workers`` for the CPU, one per device.
    BLAS, torch and the metrics' thread pool read the thread variables when they are
    imported: the workers share the cores (values the user set are kept)."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    environment = {var: os.environ.get(var, str(threads)) for var in THREAD_VARIABLES}
    jobs = [(tasks[i], "device" if tasks[i].uses_device else "cpu") for i in pending]

    def done(job: int, answer: TaskResult | JobFailure) -> None:
        index = pending[job]
        finish(index, _failed(tasks[index], answer) if isinstance(answer, JobFailure) else answer)

    run_isolated(run_task, jobs, {"cpu": workers, "device": 1}, done, timeout=task_timeout, environment=environment)


def _execute_dask(tasks: Sequence[Task], pending: list[int], workers: int, scheduler: str | None, finish: Callable[[int, TaskResult], None]) -> None:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_as_completed
    except ImportError as exc:
        raise ValueError("--executor dask needs dask.distributed: pip install 'fusionbench[dask]'") from exc
    client = Client(scheduler) if scheduler else Client(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        if any(tasks[i].uses_device for i in pending):
            has_gpu = any("GPU" in w.get("resources", {}) for w in client.scheduler_info()["workers"].values())
            if not has_gpu:
                raise ValueError("device methods on Dask need workers started with --resources GPU=1; none has it")
        futures = {}
        for i in pending:
            resources = {"GPU": 1} if tasks[i].uses_device else None
            futures[client.submit(run_task, tasks[i], pure=False, resources=resources)] = i
        for future in dask_as_completed(list(futures)):
            index = futures[future]
            try:
                finish(index, future.result())
            except Exception as exc:
                finish(index, _failed(tasks[index], JobFailure("crashed", f"{type(exc).__name__}: {exc}")))
    finally:
        if scheduler:
            client.close()
        else:
            cluster = client.cluster
            client.close()
            cluster.close()


def _warn_once(messages: Sequence[str], shown: set[str] | None = None) -> set[str]:
    """Each distinct warning once (a source read by every method and by the reports warns
    once); returns the messages shown so far."""
    shown = set() if shown is None else shown
    for message in dict.fromkeys(messages):
        if message not in shown:
            shown.add(message)
            warnings.warn(message, RunWarning, stacklevel=3)
    return shown


class RunWarning(UserWarning):
    """A warning raised inside a task (reading a file, writing the cache ...), shown once per run."""


# ---------------------------------------------------------------- results frame


def results_frame(dataset: str, results: Sequence[TaskResult], metrics: Sequence[str]) -> pd.DataFrame:
    """Long format, one row per (pair, method, metric): :data:`RESULT_COLUMNS`. A failed fuse
    gives NaN values with the error on every metric row of that task."""
    rows = []
    for r in results:
        for metric in metrics:
            error = r.errors.get("fuse") or r.errors.get(metric) or ""
            value = r.scores.get(metric, float("nan"))
            rows.append([dataset, r.pair, r.method, metric, value, r.fuse_seconds, error])
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


# ---------------------------------------------------------------- progress


class _Progress:
    """A rich progress bar per method (pairs done, mean fuse time of computed pairs) on stderr."""

    def __init__(self, specs: Sequence[MethodSpec], n_pairs: int, quiet: bool) -> None:
        self.quiet = quiet
        self.n_pairs = n_pairs
        self.stats = {s.label: {"done": 0, "cached": 0, "seconds": [], "failed": 0} for s in specs}
        if quiet:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[timing]}"),
            console=Console(stderr=True),
            transient=False,
        )
        from rich.markup import escape

        width = max(len(s.label) for s in specs)  # labels like dwt[levels=3] are text, not markup
        self.bars = {s.label: self.progress.add_task(escape(s.label.ljust(width)), total=n_pairs, timing="") for s in specs}

    def __enter__(self) -> "_Progress":
        if not self.quiet:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self.progress.__exit__(*exc)

    def update(self, result: TaskResult) -> None:
        stats = self.stats[result.method]
        stats["done"] += 1
        stats["failed"] += bool(result.errors)
        if result.computed and "fuse" not in result.errors and np.isfinite(result.fuse_seconds):
            stats["seconds"].append(result.fuse_seconds)
        stats["cached"] += not result.computed
        if self.quiet:
            return
        parts = []
        if stats["seconds"]:
            parts.append(f"{np.mean(stats['seconds']):.3f} s/pair fuse")
        if stats["cached"]:
            parts.append(f"{stats['cached']} cached")
        if stats["failed"]:
            parts.append(f"[red]{stats['failed']} failed[/red]")
        self.progress.update(self.bars[result.method], advance=1, timing=", ".join(parts))
