"""Find the file a module name stands for, as seen from another file: astroid's module resolution.

``class Net(BaseModel)`` with ``from models import BaseModel`` (or ``from .models
import BaseModel``) cannot be decided from one file. astroid finds the defining file
the way Python's import would (the importing file's directory first, then
``sys.path``); :class:`~lightning_advisor.static.context.ModuleContext` then reads it
with the same cheap ``ast`` analysis, so a Lightning or torch module is never parsed.
astroid is imported on the first call: only files with such bases pay for it.
Anything that fails means "don't know".
"""
from __future__ import annotations

import os
from typing import Optional


def find_module(qualified_module: str, context_file: str) -> Optional[str]:
    """The ``.py`` file of ``qualified_module`` (``"models"``, ``".models"``) imported from ``context_file``."""
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
            # the root above the file's own package first (a src layout, flake8 run from elsewhere), then
            # the file's folder and sys.path, as astroid resolves from a context file
            found = _from_package_root(modutils, parts, here) or modutils.file_from_modpath(
                parts, context_file=os.path.join(here, "__init__.py")
            )
    except Exception:
        return None
    if found and found.endswith(".py") and os.path.isfile(found):
        return found
    return None


def _from_package_root(modutils, parts, here: str) -> Optional[str]:
    """``pkg.models`` from ``src/pkg/train.py``: looked up in ``src/``, the folder above the top package.

    From a file outside any package (``train.py`` at a project's root, or stdin read from there) it is
    looked up in that folder's ``src/``.
    """
    root = here
    while os.path.isfile(os.path.join(root, "__init__.py")):
        root = os.path.dirname(root)
    if root == here:
        # not in a package (the file's folder is searched anyway): a project root with a src layout,
        # as stdin without --stdin-display-name is seen from the current directory
        root = os.path.join(here, "src")
        if not os.path.isdir(root):
            return None
    try:
        return modutils.file_from_modpath(parts, path=[root])
    except Exception:
        return None
