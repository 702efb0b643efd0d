"""The module's calls by the name they call, built once per file for the checks that pick calls by name.

``F.dropout(x)`` and ``dropout(x)`` are filed under ``"dropout"``, ``opt.step()`` under ``"step"``;
calls of anything else than a name or an attribute (``nn.Softmax(dim=1)(x)``, ``fns[0](x)``) under None.
"""
from __future__ import annotations

import ast
from typing import Dict, List, Optional

from lightning_advisor.static.context import ModuleContext


def _index(ctx: ModuleContext) -> Dict[Optional[str], List[ast.Call]]:
    index: Dict[Optional[str], List[ast.Call]] = {}
    for call in ctx.calls:
        func = call.func
        name = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else None
        index.setdefault(name, []).append(call)
    return index


def calls_named(ctx: ModuleContext, *names: Optional[str]) -> List[ast.Call]:
    """The calls of ``names`` (``"step"``, or None for calls of other expressions), in source order."""
    index = ctx.memo(_index)
    if len(names) == 1:
        return index.get(names[0], [])
    return sorted((c for name in set(names) for c in index.get(name, ())), key=lambda c: (c.lineno, c.col_offset))


def imported_as(ctx: ModuleContext, prefix: str) -> List[str]:
    """Local names of imports whose path starts with ``prefix``: ``drop`` for ``from torch.nn.functional import
    dropout as drop``."""
    return [name for name, qualname in ctx.imports.names.items() if qualname.startswith(prefix)]
