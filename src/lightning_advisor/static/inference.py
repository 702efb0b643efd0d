"""astroid inference, for the few nodes a plain ``ast`` pass cannot decide.

Imported lazily: only files whose classes derive from a base imported from the
user's own modules pay astroid's import and inference cost.
"""
from __future__ import annotations

import ast
from typing import Optional

_KINDS = ("LightningModule", "LightningDataModule", "Callback")
_PACKAGES = ("pytorch_lightning.", "lightning.pytorch.", "lightning.")


def _module(ctx):
    cached = getattr(ctx, "_astroid_module", None)
    if cached is None:
        import astroid

        source = "".join(ctx.lines) if ctx.lines is not None else ast.unparse(ctx.tree)
        cached = astroid.parse(source, path=ctx.filename)
        ctx._astroid_module = cached
    return cached


def lightning_kind(ctx, cls: ast.ClassDef) -> Optional[str]:
    """Which Lightning base ``cls`` derives from, through bases astroid can infer; None if unknown."""
    try:
        import astroid

        module = _module(ctx)
        for node in module.nodes_of_class(astroid.nodes.ClassDef):
            if node.name == cls.name and node.lineno == cls.lineno:
                for ancestor in node.ancestors():
                    qname = ancestor.qname()
                    if ancestor.name in _KINDS and qname.startswith(_PACKAGES):
                        return ancestor.name
                return None
    except Exception:  # inference failures mean "don't know"
        return None
    return None
