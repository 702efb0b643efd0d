"""The static rule's words for a runtime finding: what the linter says at the same line of the user's file.

A run knows *that* a cross-entropy got probabilities, not how the user spelled the softmax, and knows
*which* attribute keeps graphs, not the name of the loss appended to it. Where the static check reports
the same rule at the user's line, its fields are the ones to use: the editor and the training log then
say the same words. The user's file is read (through :mod:`linecache`) and analysed once, when a
finding is being made, never per batch.
"""
from __future__ import annotations

import ast
import functools
import linecache
from typing import Dict, List, Optional, Tuple

from lightning_advisor.static.base import Check, Options

StaticFinding = Tuple[int, int, Dict[str, object]]  # (line, column, fields)


def static_findings(check: Check, filename: str) -> List[StaticFinding]:
    """``check``'s findings in ``filename`` as the linter makes them; empty when the file cannot be read."""
    lines = linecache.getlines(filename)
    if not lines:
        return []
    return list(_findings(check, filename, "".join(lines)))


@functools.lru_cache(maxsize=32)
def _findings(check: Check, filename: str, source: str) -> Tuple[StaticFinding, ...]:
    from lightning_advisor.static.context import ModuleContext  # only when a finding is being made

    try:
        tree = ast.parse(source, filename)
        ctx = ModuleContext(tree, filename, source.splitlines(keepends=True))
        found = []
        for node in check.candidates(ctx):
            for diagnostic in check.examine(ctx, node, Options()):
                found.append((diagnostic.node.lineno, diagnostic.node.col_offset, dict(diagnostic.fields)))
        return tuple(found)
    except Exception:  # the words are a courtesy: a file the linter cannot analyse gives none
        return ()


def fields_at(check: Check, filename: str, line: int, column: Optional[int] = None) -> Optional[Dict[str, object]]:
    """The fields of ``check``'s one finding at ``line`` (and ``column``, when known), else None."""
    here = [f for f in static_findings(check, filename) if f[0] == line and (column is None or f[1] == column)]
    return dict(here[0][2]) if len(here) == 1 else None
