"""The allocator tuning applied at import (fusionbench/_allocator.py)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

CHECK = "import fusionbench._allocator as a; print(a.tune_allocator())"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the tuning applies to glibc only")
def test_applied_on_glibc_and_can_be_switched_off() -> None:
    env = {k: v for k, v in os.environ.items() if k != "FUSIONBENCH_MALLOC_TUNING"}
    on = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, check=True)
    off = subprocess.run([sys.executable, "-c", CHECK], env={**env, "FUSIONBENCH_MALLOC_TUNING": "0"},
                         capture_output=True, text=True, check=True)
    assert on.stdout.strip() == "True"
    assert off.stdout.strip() == "False"
