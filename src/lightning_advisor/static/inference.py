"""Follow a class's base into the user's other modules, for the few classes that need it.

``class Net(BaseModel)`` with ``from models import BaseModel`` (or ``from .models
import BaseModel``) cannot be decided from one file. astroid's module resolution
finds the defining file the way Python's import would (the importing file's
directory first, then ``sys.path``); that file is then read with the same cheap
``ast`` analysis, so a Lightning or torch module is never parsed. Imported
lazily: only files with such bases pay for it. Anything that fails means
"don't know".
"""
from __future__ import annotations

import ast
import os
from typing import Dict, Optional, Tuple

_MAX_HOPS = 4
_cache: Dict[Tuple[str, float], object] = {}


def _find_module(qualified_module: str, context_file: str) -> Optional[str]:
    from astroid import modutils

    level = len(qualified_module) - len(qualified_module.lstrip("."))
    parts = [p for p in qualified_module.lstrip(".").split(".") if p]
    here = os.path.dirname(os.path.abspath(context_file))
    try:
        if level:
            base = here
            for _ in range(level - 1):
                base = os.path.dirname(base)
            if not parts:
                return None
            found = modutils.file_from_modpath(parts, path=[base])
        else:
            found = modutils.file_from_modpath(parts, context_file=os.path.join(here, "__init__.py"))
    except Exception:
        return None
    if found and found.endswith(".py") and os.path.isfile(found):
        return found
    return None


def _module_context(path: str, depth: int):
    from lightning_advisor.static.context import ModuleContext

    key = (path, os.path.getmtime(path))
    if key not in _cache:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        _cache[key] = ModuleContext(ast.parse(source, path), path, source.splitlines(True), import_depth=depth)
    return _cache[key]


def lightning_kind(ctx, base_qualname: str, hops: int = 0) -> Optional[str]:
    """The Lightning kind of the class ``base_qualname`` (``"models.BaseModel"``) as seen from ``ctx``."""
    if hops >= _MAX_HOPS or "." not in base_qualname.lstrip("."):
        return None
    module, _, name = base_qualname.rpartition(".")
    try:
        path = _find_module(module, ctx.filename)
        if path is None:
            return None
        other = _module_context(path, hops + 1)
        cls = other.classes.get(name)
        if cls is None:
            # ``from pkg import Base`` where pkg/__init__.py re-exports it.
            target = other.imports.qualname(ast.Name(id=name))
            return lightning_kind(other, target, hops + 1) if target else None
        return other.lightning_kind(cls)
    except Exception:
        return None
