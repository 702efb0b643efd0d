"""What a static check is, and the list of them the plugin runs.

A check names the rule codes it may report, picks its candidate nodes cheaply,
and examines one candidate at a time: the plugin contains an error in one
candidate so that the rest of the file is still checked.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterable, Tuple

from lightning_advisor.static.context import ModuleContext


@dataclass(frozen=True)
class Finding:
    node: ast.AST
    code: str
    fields: Dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    min_workers: int = 2


@dataclass(frozen=True)
class Check:
    codes: Tuple[str, ...]
    candidates: Callable[[ModuleContext], Iterable[ast.AST]]
    examine: Callable[[ModuleContext, ast.AST, Options], Iterable[Finding]]


def all_checks() -> Tuple[Check, ...]:
    """Every static check, one line each."""
    from lightning_advisor.static import dataloaders, devices, evaluation, migration

    return (dataloaders.CHECK, devices.CHECK, evaluation.CHECK, migration.CHECK)
