"""The static checks run over one module: what the flake8 plugin and ``lightning-advisor check`` both report.

One function decides which files are looked at, runs every registered check, contains an error in a
check to the node it happened at, and renders each message from the catalog, so the two front ends
cannot drift apart: the same codes at the same lines and columns, in the same words.
"""
from __future__ import annotations

import ast
import logging
from typing import Iterator, List, Optional

from lightning_advisor.catalog import rule
from lightning_advisor.static.base import Diagnostic, Options
from lightning_advisor.static.context import ModuleContext
from lightning_advisor.static.registry import CHECKS
from lightning_advisor.vocabulary import TORCH_PACKAGE

LOG = logging.getLogger("flake8.lightning_advisor")
_TRIGGERS = (TORCH_PACKAGE, "lightning")  # words any file importing torch or Lightning contains
_CUDA = "cuda"  # LA201 / LA202 in a subclass of the project's own LightningModule need no torch import


class Finding:
    """One finding: 1-based line, 0-based column (as ``ast`` and flake8 plugins count), the full message."""

    __slots__ = ("line", "column", "code", "message", "diagnostic")

    def __init__(self, line: int, column: int, code: str, message: str, diagnostic: Diagnostic) -> None:
        self.line, self.column, self.code, self.message, self.diagnostic = line, column, code, message, diagnostic

    def __repr__(self) -> str:
        return f"Finding({self.line}:{self.column} {self.message!r})"


def module_context(tree: ast.AST, filename: str, lines: Optional[List[str]]) -> Optional[ModuleContext]:
    """The module's context when it may hold findings; None for plain Python (no torch, no Lightning)."""
    if lines is not None and not any(t in line for line in lines for t in _TRIGGERS + (_CUDA,)):
        return None  # plain Python: nothing imports torch or Lightning, nothing says cuda
    try:
        ctx = ModuleContext(tree, filename, lines)
    except Exception:  # never break the user's run
        LOG.warning("lightning-advisor could not analyse %s", filename, exc_info=True)
        return None
    if not ctx.imports.uses_torch and not (lines is None or any(_CUDA in line for line in lines)):
        return None
    return ctx


def findings(ctx: ModuleContext, options: Options) -> Iterator[Finding]:
    """Every check's findings on the module, check by check; an internal error skips only its node."""
    for check in CHECKS:
        try:
            candidates = list(check.candidates(ctx))
        except Exception:
            _internal_error(ctx, check, None)
            continue
        for node in candidates:
            try:
                found = [
                    Finding(d.node.lineno, d.node.col_offset, d.code, rule(d.code).render(**d.fields), d)
                    for d in check.examine(ctx, node, options)
                ]
            except Exception:
                _internal_error(ctx, check, node)
                continue
            yield from found


def _internal_error(ctx: ModuleContext, check, node) -> None:
    LOG.warning(
        "lightning-advisor: internal error in the %s check at %s:%s; that node is skipped",
        "/".join(check.codes), ctx.filename, getattr(node, "lineno", "?"), exc_info=True,
    )
