"""The flake8 front end: a thin plugin class over the static checks.

flake8 does ``noqa``, ``--select`` and ``--ignore``; this class only hands flake8 what
:mod:`lightning_advisor.static.findings` finds (the same findings ``lightning-advisor check`` reports).
"""
from __future__ import annotations

import argparse
import ast
from typing import Iterator, List, Optional, Tuple, Type

from lightning_advisor.static import configuration
from lightning_advisor.static.base import Options
from lightning_advisor.static.findings import findings, module_context


class AdvisorPlugin:
    """flake8 plugin reporting the LA rules of lightning-advisor."""

    name = "lightning-advisor"  # flake8 reads the version from the installed distribution
    options = Options()

    def __init__(self, tree: ast.AST, filename: str = "stdin", lines: Optional[List[str]] = None) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager) -> None:
        manager.add_option(
            f"--{configuration.MIN_WORKERS}",
            action=configuration.WorkersAction,
            default=Options().min_workers,
            parse_from_config=True,
            help="LA102: fewest DataLoader worker processes accepted as a constant (default: %(default)s)",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls.options = configuration.options_from(options)

    def run(self) -> Iterator[Tuple[int, int, str, Type["AdvisorPlugin"]]]:
        ctx = module_context(self.tree, self.filename, self.lines)
        if ctx is None:
            return
        for finding in findings(ctx, self.options):
            yield finding.line, finding.column, finding.message, type(self)
