"""What a static check is: the types every check module and the plugin share.

A check names the rule codes it may report, picks its candidate nodes cheaply,
and examines one candidate at a time: the plugin contains an error in one
candidate so that the rest of the file is still checked. The list of checks
lives in :mod:`lightning_advisor.static.registry`, which only the front end imports.
"""
from __future__ import annotations

import ast
from types import MappingProxyType
from typing import Callable, Iterable, Mapping, NamedTuple, Tuple

from lightning_advisor.static.context import ModuleContext


class Diagnostic(NamedTuple):
    """One static finding: the node it is reported at, its rule code and the fields of its message."""

    node: ast.AST
    code: str
    fields: Mapping[str, object] = MappingProxyType({})


class Options(NamedTuple):
    """The plugin's options (flake8's ``--la-*``), with their defaults."""

    min_workers: int = 2


class Check(NamedTuple):
    codes: Tuple[str, ...]
    candidates: Callable[[ModuleContext], Iterable[ast.AST]]
    examine: Callable[[ModuleContext, ast.AST, Options], Iterable[Diagnostic]]
