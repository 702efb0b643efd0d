"""Shared test helpers: the rule book in ``checks/``, the plugin in process, and real flake8.

Every test that lints source goes through :func:`lint` (in process, exactly what flake8 would print
without ``noqa`` handling) or :func:`flake8` (the real command, for end-to-end behaviour).
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

from lightning_advisor.static.base import Options
from lightning_advisor.static.plugin import AdvisorPlugin

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "checks"
FIXTURES = sorted(CHECKS.glob("*/fixtures/*.py"))
_EXPECTED = re.compile(r"#\s*(LA\d{3}(?:[ ,]+LA\d{3})*)\s*$")
_REPORTED = re.compile(r"^.+?:(\d+):(\d+): (LA\d{3}) ")


class Reported(NamedTuple):
    """One finding as flake8 prints it: 1-based line and column, the whole message."""

    line: int
    column: int
    message: str

    @property
    def code(self) -> str:
        return self.message.split(" ", 1)[0]

    def render(self, filename: str) -> str:
        return f"{filename}:{self.line}:{self.column}: {self.message}"


def lint(source: str, filename: str = "x.py", options: Optional[Options] = None, dedent: bool = True) -> List[Reported]:
    """The plugin's findings on ``source``, sorted as flake8 sorts them (flake8 adds 1 to the column)."""
    if dedent:
        source = textwrap.dedent(source)
    plugin = AdvisorPlugin(ast.parse(source, filename), filename, source.splitlines(keepends=True))
    if options is not None:
        plugin.options = options
    return sorted(Reported(line, column + 1, message) for line, column, message, _ in plugin.run())


def codes(source: str, **kwargs) -> List[Tuple[int, str]]:
    """``(line, code)`` of each finding."""
    return [(found.line, found.code) for found in lint(source, **kwargs)]


def messages(source: str, **kwargs) -> List[str]:
    return [found.message for found in lint(source, **kwargs)]


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


def snapshot_path(fixture: Path) -> Path:
    """The fixture's locked output: every finding with its line, column and exact message."""
    return fixture.with_suffix(".expected")


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
