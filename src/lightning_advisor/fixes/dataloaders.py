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

_SHUFFLE_POSITION = 2  # DataLoader(dataset, batch_size, shuffle, ...)


def shuffle_off_fix(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    call = diagnostic.node
    if not isinstance(call, ast.Call):
        return None
    value = next((k.value for k in call.keywords if k.arg == "shuffle"), None)
    if value is None and len(call.args) > _SHUFFLE_POSITION and not any(
        isinstance(a, ast.Starred) for a in call.args[: _SHUFFLE_POSITION + 1]
    ):
        value = call.args[_SHUFFLE_POSITION]
    if not (isinstance(value, ast.Constant) and value.value is True):
        return None
    return Fix("shuffle=False", (replace(source, value, "False"),))
