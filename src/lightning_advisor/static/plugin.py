"""The flake8 front end: a thin plugin class over the static checks.

flake8 does ``noqa``, ``--select`` and ``--ignore``; this class only finds and
renders. Messages come from the rule catalog.
"""
from __future__ import annotations

import argparse
import ast
import logging
from typing import Iterator, List, Optional, Tuple, Type

from lightning_advisor import __version__
from lightning_advisor.catalog import rule
from lightning_advisor.vocabulary import TORCH_PACKAGE
from lightning_advisor.static import configuration
from lightning_advisor.static.base import Options
from lightning_advisor.static.context import ModuleContext
from lightning_advisor.static.registry import CHECKS

LOG = logging.getLogger("flake8.lightning_advisor")
_TRIGGERS = (TORCH_PACKAGE, "lightning")  # words any file importing torch or Lightning contains
_CUDA = "cuda"  # LA201 / LA202 in a subclass of the project's own LightningModule need no torch import


class AdvisorPlugin:
    """flake8 plugin reporting the LA rules of lightning-advisor."""

    name = "lightning-advisor"
    version = __version__
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
            default=Options.min_workers,
            parse_from_config=True,
            help="LA102: fewest DataLoader worker processes accepted as a constant (default: %(default)s)",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls.options = configuration.options_from(options)

    def run(self) -> Iterator[Tuple[int, int, str, Type["AdvisorPlugin"]]]:
        if self.lines is not None and not any(t in line for line in self.lines for t in _TRIGGERS + (_CUDA,)):
            return  # plain Python: nothing imports torch or Lightning, nothing says cuda
        try:
            ctx = ModuleContext(self.tree, self.filename, self.lines)
        except Exception:  # never break the user's flake8 run
            LOG.warning("lightning-advisor could not analyse %s", self.filename, exc_info=True)
            return
        if not ctx.imports.uses_torch and not self._mentions_cuda():
            return
        for check in CHECKS:
            try:
                candidates = list(check.candidates(ctx))
            except Exception:
                self._internal_error(check, None)
                continue
            for node in candidates:
                try:
                    reports = [
                        (f.node.lineno, f.node.col_offset, rule(f.code).render(**f.fields), type(self))
                        for f in check.examine(ctx, node, self.options)
                    ]
                except Exception:
                    self._internal_error(check, node)
                    continue
                yield from reports

    def _mentions_cuda(self) -> bool:
        if self.lines is None:
            return True  # no text to look at (flake8 always gives it): let the checks decide
        return any(_CUDA in line for line in self.lines)

    def _internal_error(self, check, node) -> None:
        LOG.warning(
            "lightning-advisor: internal error in the %s check at %s:%s; that node is skipped",
            "/".join(check.codes), self.filename, getattr(node, "lineno", "?"), exc_info=True,
        )
