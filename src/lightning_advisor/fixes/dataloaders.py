"""The LA101 fix (safe): an evaluation loader's literal ``shuffle=True`` becomes ``shuffle=False``.

Only the literal in the call itself: a shuffling sampler, or a ``shuffle`` that comes from a name or a
``**options`` dict shared with other loaders, is the user's to change.
"""
from __future__ import annotations

import ast
from typing import Optional

from lightning_advisor.fixes.edits import Fix, Source, replace
from lightning_advisor.static.base import Diagnostic
from lightning_advisor.static.context import ModuleContext
from lightning_advisor.static.dataloaders import POSITIONS


def shuffle_off_fix(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    call = diagnostic.node
    if not isinstance(call, ast.Call):
        return None
    value = ctx.argument(call, "shuffle", POSITIONS["shuffle"])
    if not (isinstance(value, ast.Constant) and value.value is True):
        return None
    return Fix("shuffle=False", (replace(source, value, "False"),))
