"""Resolve what a name in a module really is, from its imports.

A cheap ``ast`` pass builds a table of every name bound by an import, so
``DL``, ``tud.DataLoader`` and ``torch.utils.data.DataLoader`` all resolve to
``torch.utils.data.DataLoader``. Names the module binds itself (a class or
function of its own called ``DataLoader``) shadow the import and resolve to
nothing: "cannot tell" never reports.

Qualified names are normalised so that both Lightning namespaces and the
defining modules resolve to the public paths: see :func:`canonical`.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from weakref import WeakMethod
from typing import Callable, Dict, Iterable, Optional, Set, Tuple

from lightning_advisor.syntax import root_and_attributes
from lightning_advisor.vocabulary import (
    LIGHTNING_KINDS,
    LIGHTNING_NAMESPACES,
    TRAINER as TRAINER_CLASS,
    is_lightning_module_name,
    is_torch_module_name,
)

# Lightning classes live in many modules (``pytorch_lightning.core.module.LightningModule``), torch ones in
# their defining modules (``torch.utils.data.dataloader.DataLoader``): match on the package and the final
# name, the way pylint compares ``qname()`` results, and spell the result as the public path.
_LIGHTNING_CLASSES = frozenset((*LIGHTNING_KINDS, TRAINER_CLASS))
_TORCH_DATA = "torch.utils.data"
_TORCH_DATA_CLASSES = frozenset({
    "DataLoader",
    "RandomSampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "DistributedSampler",
    "BatchSampler",
    "Subset",
    "TensorDataset",
    "ConcatDataset",
    "random_split",
})


def lightning_class(name: str) -> str:
    """The canonical name of a Lightning class: ``"Trainer"`` -> ``"lightning.pytorch.Trainer"``."""
    return f"{LIGHTNING_NAMESPACES[0]}.{name}"


def torch_data_class(name: str) -> str:
    """The canonical name of a ``torch.utils.data`` class: ``"DataLoader"`` -> ``"torch.utils.data.DataLoader"``."""
    return f"{_TORCH_DATA}.{name}"


TRAINER = lightning_class(TRAINER_CLASS)
DATALOADER = torch_data_class("DataLoader")
LIGHTNING_KIND_OF: Dict[str, str] = {lightning_class(kind): kind for kind in LIGHTNING_KINDS}
"""Canonical base class -> its Lightning kind: ``"lightning.pytorch.Callback"`` -> ``"Callback"``."""


def canonical(qualname: str) -> str:
    """The public path a fully qualified name stands for, the same in both Lightning namespaces.

    ``pytorch_lightning.core.module.LightningModule`` -> ``lightning.pytorch.LightningModule``;
    ``torch.utils.data.dataloader.DataLoader`` -> ``torch.utils.data.DataLoader``.
    Anything else is returned unchanged.
    """
    head, _, last = qualname.rpartition(".")
    if last in _LIGHTNING_CLASSES and is_lightning_module_name(head):
        return lightning_class(last)
    if last in _TORCH_DATA_CLASSES and (head == _TORCH_DATA or head.startswith(_TORCH_DATA + ".")):
        return torch_data_class(last)
    return qualname


class ImportTable:
    """Names bound by imports anywhere in a module, and the modules imported."""

    def __init__(self, nodes: Iterable[ast.AST]) -> None:
        """From a module's nodes: ``ImportTable(ast.walk(tree))``, or just its imports and definitions."""
        self.names: Dict[str, str] = {}
        self.modules: Set[str] = set()
        own: Set[str] = set()  # defined here, or imported from two places: not resolved
        self._rebound: Set[str] = set()  # see shadow()
        self._is_shadowed: Optional[Callable[[], Optional[Callable[[ast.Name], bool]]]] = None
        self._qualnames: Dict[ast.AST, Optional[str]] = {}  # by node: what qualname() said
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.modules.add(alias.name)
                    if alias.asname:
                        self._add(alias.asname, alias.name, own)
                    else:
                        # ``import torch.utils.data`` binds ``torch``.
                        top = alias.name.split(".", 1)[0]
                        self._add(top, top, own)
            elif isinstance(node, ast.ImportFrom):
                # Relative imports keep their dots (``.models.Base``): the user's own code.
                module = "." * node.level + (node.module or "")
                if not node.level:
                    self.modules.add(module)
                for alias in node.names:
                    if alias.name != "*":
                        joined = f"{module}.{alias.name}" if node.module else module + alias.name
                        self._add(alias.asname or alias.name, joined, own)
            elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                own.add(node.name)
        for name in own:
            self.names.pop(name, None)

    def _add(self, name: str, qualname: str, conflicts: Set[str]) -> None:
        """Two imports of one name from different places (``try``/``except``, a local import): ambiguous."""
        known = self.names.get(name)
        if known is not None and canonical(known) != canonical(qualname):
            conflicts.add(name)
        self.names[name] = qualname

    def shadow(self, bound: Iterable[str], is_shadowed: Callable[[ast.Name], bool]) -> None:
        """Imported names the module also binds itself (``DataLoader = MyLoader``, a parameter ``torch``).

        Where ``is_shadowed(name_node)`` says such a binding is in sight, the name is not the import.
        """
        self._rebound = self.names.keys() & set(bound)
        self._qualnames.clear()
        # a weak reference: ``is_shadowed`` is a method of the module's context, which holds this table, and
        # a cycle would keep every file's context (its parents of every node) alive until the next collection
        self._is_shadowed = WeakMethod(is_shadowed) if hasattr(is_shadowed, "__self__") else lambda: is_shadowed

    def uses(self, predicate) -> bool:
        return any(predicate(module) for module in self.modules)

    @property
    def uses_torch(self) -> bool:
        return self.uses(is_torch_module_name) or self.uses_lightning

    @property
    def uses_lightning(self) -> bool:
        return self.uses(is_lightning_module_name)

    def qualname(self, node: ast.AST) -> Optional[str]:
        """``tud.DataLoader`` -> ``torch.utils.data.DataLoader``; None when not from an import."""
        try:
            return self._qualnames[node]  # the checks ask about the same call's function again and again
        except KeyError:
            pass
        split = root_and_attributes(node)
        if split is None:
            found = None
        else:
            root, attributes = split
            base = self.names.get(root.id)
            if base is None or (root.id in self._rebound and self._is_shadowed()(root)):
                found = None
            else:
                found = ".".join((base, *attributes))
        self._qualnames[node] = found
        return found

    def resolve(self, node: ast.AST) -> Optional[str]:
        """The canonical name of an expression, or None."""
        qualname = self.qualname(node)
        return canonical(qualname) if qualname else None


_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@lru_cache(maxsize=8192)
def identifier_words(identifier: str) -> Tuple[str, ...]:
    """The lower-case words of an identifier: ``val_DL2`` -> ``("val", "dl")``, ``netG`` -> ``("net", "g")``."""
    return tuple(w.lower() for w in _WORDS.findall(identifier) if not w.isdigit())
