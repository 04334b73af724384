"""``fault``: the average of the sources, except on the pairs matching ``on`` (a glob), where
it misbehaves as ``kind`` says. Used to test that fusionbench records every such fault against
its own task only, loses no other work and never scores a broken output."""

from __future__ import annotations

import ctypes
import fnmatch
import os
import signal
import sys
import time
import warnings
from pathlib import Path
from typing import Literal

import numpy as np

from fusionbench import FusionMethod, register_method
from fusionbench.io import to_uint8

Kind = Literal[
    "uint8",  # returns the average saved as uint8 0..255 (allowed: converted explicitly)
    "scale255",  # returns float 0..255 (must be rejected, not clipped to white)
    "int32",  # returns int32 0..255 (rejected)
    "nan",  # returns NaN
    "shape",  # returns the wrong shape
    "raise",  # raises RuntimeError
    "segfault",  # dereferences a null pointer
    "exit",  # os._exit(3)
    "kill",  # SIGKILL to itself, as the out-of-memory killer does
    "kill-once",  # SIGKILL the first time (creates ``marker``), then behaves
    "hang",  # sleeps for an hour
    "sleep",  # sleeps ``seconds``, then behaves
    "noise",  # prints to stdout (Python and fd 1), reads stdin, then behaves
    "warn",  # warns "fault: <pair>", then behaves
]


@register_method("fault", family="test", reference="fusionbench test plugin: fault injection")
class Fault(FusionMethod):
    kind: Kind = "raise"
    on: str = "*"
    seconds: float = 2.0
    marker: str = ""

    def fuse(self, a: np.ndarray, b: np.ndarray, *, pair_name: str | None = None) -> np.ndarray:
        self._active = fnmatch.fnmatchcase(pair_name or "", self.on)
        self._pair = pair_name
        return super().fuse(a, b, pair_name=pair_name)

    def fuse_gray(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        average = (a + b) / 2
        if not self._active:
            return average
        kind = self.kind
        if kind == "uint8":
            return to_uint8(average)
        if kind == "scale255":
            return average * 255
        if kind == "int32":
            return to_uint8(average).astype(np.int32)
        if kind == "nan":
            return np.full_like(average, np.nan)
        if kind == "shape":
            return average[:-1]
        if kind == "raise":
            raise RuntimeError(f"fault injected on {self._pair}")
        if kind == "segfault":
            ctypes.string_at(0)
        if kind == "exit":
            os._exit(3)
        if kind == "kill" or (kind == "kill-once" and not Path(self.marker).exists()):
            if kind == "kill-once":
                Path(self.marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "hang":
            time.sleep(3600)
        if kind == "sleep":
            time.sleep(self.seconds)
        if kind == "noise":
            print("fault: noise on stdout")
            os.write(1, b"\x00\x00\x00\x00\x00\x00\x00\x10garbage on fd 1\n")
            sys.stdout.flush()
            sys.stdin.read()
        if kind == "warn":
            warnings.warn(f"fault: {self._pair}", UserWarning, stacklevel=2)
        return average
