"""Run a multi-process Lightning script for a test: every rank killed, and the test failed, if it hangs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Optional, Tuple

import pytest


def run_ranks(script: Path, *args: str, timeout: int, warnings: str, cwd: Optional[Path] = None) -> Tuple[str, int]:
    """``python script args...`` with its ranks in one session; its output (stdout and stderr) and pid."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS=warnings)
    process = subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,  # the other ranks join this session: one killpg ends them all
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{script.name} hung:\n{output[-3000:]}")
    assert process.returncode == 0, output[-3000:]
    return output, process.pid
