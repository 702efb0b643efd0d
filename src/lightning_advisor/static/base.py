"""What a static check is: the types every check module and the plugin share.

A check names the rule codes it may report, picks its candidate nodes cheaply,
and examines one candidate at a time: the plugin contains an error in one
candidate so that the rest of the file is still checked. The list of checks
lives in :mod:`lightning_advisor.static.registry`, which only the front end imports.
"""
from __future__ import annotations

import ast
from types import MappingProxyType
from typing import Callable, Iterable, Mapping, Tuple

from lightning_advisor.static.context import ModuleContext


_NO_FIELDS: Mapping[str, object] = MappingProxyType({})

# The records of the static side are plain classes with ``__slots__``, not NamedTuples: flake8 imports
# them on every run, and defining a NamedTuple costs about twenty times as much (300 against 15 us).


class Diagnostic:
    """One static finding: the node it is reported at, its rule code and the fields of its message."""

    __slots__ = ("node", "code", "fields")

    def __init__(self, node: ast.AST, code: str, fields: Mapping[str, object] = _NO_FIELDS) -> None:
        self.node, self.code, self.fields = node, code, fields

    def __repr__(self) -> str:
        return f"Diagnostic({self.code} at {getattr(self.node, 'lineno', '?')}, {dict(self.fields)!r})"


class Options:
    """The plugin's options (flake8's ``--la-*``), with their defaults."""

    __slots__ = ("min_workers",)

    def __init__(self, min_workers: int = 2) -> None:
        self.min_workers = min_workers

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Options) and other.min_workers == self.min_workers

    def __hash__(self) -> int:
        return hash(self.min_workers)

    def __repr__(self) -> str:
        return f"Options(min_workers={self.min_workers!r})"


class Check:
    """A check: the codes it may report, its cheap choice of candidate nodes, and its examination of one."""

    __slots__ = ("codes", "candidates", "examine")

    def __init__(
        self,
        codes: Tuple[str, ...],
        candidates: Callable[[ModuleContext], Iterable[ast.AST]],
        examine: Callable[[ModuleContext, ast.AST, Options], Iterable[Diagnostic]],
    ) -> None:
        self.codes, self.candidates, self.examine = codes, candidates, examine
