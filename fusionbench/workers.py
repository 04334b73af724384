"""Isolated worker processes: a job that kills its process (segfault, ``os._exit``, the
out-of-memory killer) or hangs costs only itself.

Each worker is a fresh interpreter (``python -c`` running :func:`serve`) that takes jobs,
``(function, argument)``, on its stdin and answers on a private duplicate of its stdout; its
file descriptors 0 and 1 are then pointed at ``/dev/null`` and stderr, so a job that reads
stdin or prints (Python or C code) cannot corrupt the stream. Jobs and answers are pickled
with cloudpickle, so a function or class defined in a script, ``python -c``, stdin or a
notebook travels by value; importable ones travel by reference. The worker's ``sys.path`` is
the parent's, so whatever the parent imports, the worker imports too.

:func:`run_isolated` gives each worker one job at a time, so a worker's death is blamed on
exactly the job it was running, and kills the worker of a job that runs longer than
``timeout`` seconds; a dead or killed worker is replaced. A job whose worker died while other
jobs were running beside it is run once more, alone, at the end (the kernel's out-of-memory
killer may have picked the wrong process); a second death is final. A worker exits within a
second when its parent dies (it watches its parent process id), so a killed run leaves no
workers behind.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable, Sequence

__all__ = ["JobFailure", "run_isolated", "serve"]

_HEADER = struct.Struct("!Q")
_PATH_VARIABLE = "FUSIONBENCH_WORKER_PATH"
_PARENT_VARIABLE = "FUSIONBENCH_WORKER_PARENT"
# The worker's first statement: the parent's sys.path, so that it imports the same code.
_BOOT = (
    f"import json, os, sys; sys.path[:] = json.loads(os.environ.pop({_PATH_VARIABLE!r})); "
    "from fusionbench.workers import serve; serve()"
)
_PARENT_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class JobFailure:
    """A job that produced no answer: ``kind`` is ``crashed`` (its process died) or
    ``timeout`` (it ran past the limit and its process was killed); ``message`` says how."""

    kind: str
    message: str


def run_isolated(
    function: Callable[[Any], Any],
    jobs: Sequence[tuple[Any, str]],
    lanes: dict[str, int],
    on_done: Callable[[int, Any], None],
    *,
    timeout: float | None = None,
    environment: dict[str, str] | None = None,
) -> None:
    """Call ``function(argument)`` for every ``(argument, lane)`` of ``jobs`` in worker
    processes, at most ``lanes[lane]`` at a time per lane, and report each as
    ``on_done(index, answer)``; the answer is a :class:`JobFailure` when the process died or
    the job timed out. An exception raised by ``function`` itself is a ``crashed`` failure
    with its traceback (the runner's own task function catches a method's exceptions).
    ``environment`` is added to the workers' environment (e.g. thread counts).
    """
    env = dict(os.environ, **(environment or {}))
    env[_PATH_VARIABLE] = json.dumps([entry or os.getcwd() for entry in sys.path])
    env[_PARENT_VARIABLE] = str(os.getpid())
    pending = list(range(len(jobs)))
    with _Supervisor(function, env, timeout) as supervisor:
        deaths = supervisor.run(pending, jobs, lanes, on_done, retry_when_crowded=True)
        if deaths:  # once more, one at a time
            supervisor.run(deaths, jobs, {lane: 1 for lane in lanes}, on_done, retry_when_crowded=False, total=1)


class _Worker:
    def __init__(self, lane: str, env: dict[str, str], events: queue.Queue) -> None:
        self.lane = lane
        self.job: int | None = None
        self.started = 0.0
        self.retired = False
        self.process = subprocess.Popen([sys.executable, "-c", _BOOT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        threading.Thread(target=self._read, args=(events,), daemon=True).start()

    def _read(self, events: queue.Queue) -> None:
        """Forward every answer to the supervisor; ``None`` when the stream ends (death)."""
        assert self.process.stdout is not None
        while True:
            try:
                message = _receive(self.process.stdout)
            except (EOFError, OSError):
                events.put((self, None))
                return
            events.put((self, message))

    def submit(self, index: int, payload: bytes) -> None:
        self.job, self.started = index, time.monotonic()
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(payload)
            self.process.stdin.flush()
        except OSError:
            pass  # already dead: the reader reports the end of its stream

    def kill(self) -> None:
        self.retired = True
        self.process.kill()
        self.process.wait()

    def close(self) -> None:
        """Let an idle worker exit (end of its input); kill it if it does not."""
        self.retired = True
        try:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()


class _Supervisor:
    def __init__(self, function: Callable[[Any], Any], env: dict[str, str], timeout: float | None) -> None:
        self.function = function
        self.env = env
        self.timeout = timeout
        self.events: queue.Queue = queue.Queue()
        self.idle: list[_Worker] = []

    def __enter__(self) -> "_Supervisor":
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.idle:
            worker.close()

    def run(
        self,
        indices: Sequence[int],
        jobs: Sequence[tuple[Any, str]],
        lanes: dict[str, int],
        on_done: Callable[[int, Any], None],
        *,
        retry_when_crowded: bool,
        total: int | None = None,
    ) -> list[int]:
        """Run ``indices``; returns the jobs whose worker died beside others (to retry)."""
        import cloudpickle

        waiting = {lane: deque(i for i in indices if jobs[i][1] == lane) for lane in lanes}
        busy: list[_Worker] = []
        deaths: list[int] = []
        try:
            while any(waiting.values()) or busy:
                for lane, queued in waiting.items():
                    while queued and sum(w.lane == lane for w in busy) < lanes[lane] and (total is None or len(busy) < total):
                        index = queued.popleft()
                        worker = self._worker(lane)
                        payload = cloudpickle.dumps((self.function, jobs[index][0]))
                        worker.submit(index, _HEADER.pack(len(payload)) + payload)
                        busy.append(worker)
                try:
                    worker, message = self.events.get(timeout=self._wait_seconds(busy))
                except queue.Empty:
                    worker, message = None, None
                if self.timeout is not None:
                    self._kill_overdue(busy, on_done)
                if worker is None or worker.retired:
                    continue  # a wake-up for a timeout, or a worker killed for its timeout
                if worker not in busy:  # died while idle
                    worker.retired = True
                    self.idle = [w for w in self.idle if w is not worker]
                    continue
                busy.remove(worker)
                index = worker.job
                assert index is not None
                worker.job = None
                if message is None:  # the process died
                    worker.retired = True
                    code = worker.process.wait()
                    if retry_when_crowded and busy:
                        deaths.append(index)
                    else:
                        on_done(index, JobFailure("crashed", _death_message(code)))
                    continue
                status, answer = message
                self.idle.append(worker)
                on_done(index, answer if status == "ok" else JobFailure("crashed", f"the task raised in its worker:\n{answer}"))
        except BaseException:  # interrupted (Ctrl-C) or a bug: leave no process behind
            for worker in busy:
                worker.kill()
            raise
        return deaths

    def _worker(self, lane: str) -> _Worker:
        for worker in self.idle:
            if worker.lane == lane and worker.process.poll() is None:
                self.idle.remove(worker)
                return worker
        return _Worker(lane, self.env, self.events)

    def _wait_seconds(self, busy: list[_Worker]) -> float | None:
        if self.timeout is None:
            return None
        now = time.monotonic()
        return max(0.0, min(w.started + self.timeout - now for w in busy)) + 0.01

    def _kill_overdue(self, busy: list[_Worker], on_done: Callable[[int, Any], None]) -> None:
        assert self.timeout is not None
        now = time.monotonic()
        for worker in [w for w in busy if now - w.started >= self.timeout]:
            busy.remove(worker)
            worker.kill()
            index = worker.job
            assert index is not None
            on_done(index, JobFailure("timeout", f"timed out after {self.timeout:g} s; its worker process was killed"))


def _death_message(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (the out-of-memory killer, or killed by hand)" if name == "SIGKILL" else ""
        return f"its worker process was killed by {name}{hint}"
    return f"its worker process exited with status {code} before answering"


# ---------------------------------------------------------------- the worker side


def _receive(stream: BinaryIO) -> Any:
    import cloudpickle

    return cloudpickle.loads(_read_message(stream))


def _read_message(stream: BinaryIO) -> bytes:
    header = _read_exactly(stream, _HEADER.size)
    return _read_exactly(stream, _HEADER.unpack(header)[0])


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def _send(stream: BinaryIO, message: Any) -> None:
    import cloudpickle

    payload = cloudpickle.dumps(message)
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _exit_with_parent() -> None:
    """Exit as soon as the parent is gone (this process is then re-parented). The parent's id
    comes from the environment: a parent killed while this process was still starting must be
    noticed too (its job may already wait in the pipe)."""
    parent = int(os.environ.pop(_PARENT_VARIABLE, os.getppid()))

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def serve() -> None:
    """The worker's loop: read a job, run it, answer; return at the end of the input."""
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = sys.stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    _exit_with_parent()
    import cloudpickle

    while True:
        try:
            message = _read_message(requests)
        except EOFError:
            return
        try:  # unpickling too: a class whose module this process cannot import fails here
            function, argument = cloudpickle.loads(message)
            reply = ("ok", function(argument))
        except BaseException:
            reply = ("error", traceback.format_exc())
        _send(answers, reply)
