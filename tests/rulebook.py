"""Shared helpers for tests over the rule book in ``checks/``."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "checks"
FIXTURES = sorted(CHECKS.glob("*/fixtures/*.py"))
_EXPECTED = re.compile(r"#\s*(LA\d{3}(?:[ ,]+LA\d{3})*)\s*$")
_REPORTED = re.compile(r"^.+?:(\d+):(\d+): (LA\d{3}) ")


def expected_findings(path: Path) -> List[Tuple[int, str]]:
    """(line, code) pairs written inline as a trailing ``# LA101`` (or ``# LA301 LA302``) comment.

    A code written twice is expected twice: ``Trainer(gpus=1, auto_lr_find=True)  # LA401 LA401``.
    """
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = _EXPECTED.search(line)
        if match:
            found.extend((number, code) for code in re.findall(r"LA\d{3}", match.group(1)))
    return found


def flake8(*args: str, stdin: str = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run the real flake8 in a subprocess, the way editors and CI do."""
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def reported_findings(output: str) -> List[Tuple[int, str]]:
    return [(int(m.group(1)), m.group(3)) for m in map(_REPORTED.match, output.splitlines()) if m]
