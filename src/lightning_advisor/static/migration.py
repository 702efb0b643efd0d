"""LA401 to LA404: Lightning 1.x code that Lightning 2.x rejects or silently ignores.

Tutorials written for Lightning 1.x are still copied. Their code fails only when it runs, or
runs and quietly does less than its author meant:

* LA401: a keyword of a Lightning ``Trainer(...)`` call that 2.x removed (``gpus=1``);
* LA402: a removed hook defined on a LightningModule, LightningDataModule or Callback subclass
  (``validation_epoch_end``);
* LA403: an import of a module or name that 2.x removed (``pytorch_lightning.core.lightning``),
  also reached through a package alias (``pl.metrics.Accuracy()``);
* LA404: ``training_step`` / ``validation_step`` / ``test_step`` returning a dict with ``"log"``
  or ``"progress_bar"`` keys, which nothing logs any more.

What was removed and what replaced it is data, in :mod:`lightning_advisor.removed_api`.
Candidates stay cheap: calls already collected, the methods of the module's classes that carry
a listed name, and import statements only when the import table names a removed path.
"""
from __future__ import annotations

import ast
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple, Union

from lightning_advisor.removed_api import (
    REJECTED_HOOKS,
    REMOVED_HOOKS,
    REMOVED_TRAINER_ARGUMENTS,
    logging_keys,
    removed_import,
    split_namespace,
    trainer_argument_replacement,
)
from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.static.names import TRAINER
from lightning_advisor.syntax import last_name
from lightning_advisor.vocabulary import LIGHTNING_NAMESPACES, MODULE, STEP_METHODS

_STEPS = frozenset(STEP_METHODS.values())
_METHOD_NAMES = _STEPS | frozenset(REMOVED_HOOKS)
_MAX_VALUE_CHARS = 40
# Statements that may hold a ``return`` of the function being examined (not of a nested one).
_BLOCKS = (ast.stmt, ast.excepthandler) + ((ast.match_case,) if hasattr(ast, "match_case") else ())
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
Import = Union[ast.Import, ast.ImportFrom]


def candidates(ctx: ModuleContext) -> Iterator[ast.AST]:
    aliases = _package_aliases(ctx)
    for call in ctx.calls:
        func = call.func
        if call.keywords and (last_name(func) == "Trainer" or isinstance(func, ast.Name)):
            if ctx.imports.resolve(func) == TRAINER:
                yield call
                continue
        if aliases and isinstance(func, ast.Attribute) and _root(func) in aliases:
            if _removed_path(ctx.imports.qualname(func)) is not None:
                yield call
    for cls in ctx.classes.values():
        for statement in cls.body:
            if isinstance(statement, FunctionNode) and statement.name in _METHOD_NAMES:
                yield statement
    yield from _removed_imports(ctx)


def examine(ctx: ModuleContext, node: ast.AST, options: Options) -> Iterable[Diagnostic]:
    if isinstance(node, ast.Call):
        if ctx.imports.resolve(node.func) == TRAINER:
            return removed_trainer_arguments(ctx, node)
        return _removed_call(ctx, node)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return () if _guarded_import(ctx, node) else removed_imports(node)
    return _method(ctx, node)


# -- LA401 -----------------------------------------------------------------------------------


def removed_trainer_arguments(ctx: ModuleContext, call: ast.Call) -> Iterator[Diagnostic]:
    """One finding per removed keyword, at the keyword (or at the ``**options`` that holds it)."""
    qualname = ctx.imports.qualname(call.func) or ""
    namespace = (split_namespace(qualname) or (LIGHTNING_NAMESPACES[0], ""))[0]
    explicit = {k.arg: k for k in call.keywords if k.arg is not None}
    expanded = next((k for k in call.keywords if k.arg is None), None)
    arguments = ctx.keywords(call)
    if arguments is None:  # a ``**`` we cannot see into: the explicit keywords still count
        arguments = {name: keyword.value for name, keyword in explicit.items()}
    has_accelerator = "accelerator" in arguments
    for name, value in arguments.items():
        if name not in REMOVED_TRAINER_ARGUMENTS:
            continue
        replacement = trainer_argument_replacement(
            name,
            _source(ctx, value),
            _constant_value(ctx, value),
            namespace,
            is_call=isinstance(ctx.follow(value), ast.Call),
            has_accelerator=has_accelerator,
            has_devices="devices" in arguments,
            tunes=ctx.memo(_calls_tune),
        )
        node = explicit.get(name) or expanded or call
        yield Diagnostic(node, "LA401", {"argument": name, "replacement": replacement})


def _calls_tune(ctx: ModuleContext) -> bool:
    """The module calls ``something.tune(...)``: in Lightning 1.x, the only call that ran the tuner."""
    return any(isinstance(call.func, ast.Attribute) and call.func.attr == "tune" for call in ctx.calls)


def _constant_value(ctx: ModuleContext, node: ast.AST) -> Tuple[bool, object]:
    """A constant, also a literal list or tuple of constants (``gpus=[0, 1]``): (known, value)."""
    known, value = ctx.constant(node)
    if not known and isinstance(ctx.follow(node), (ast.List, ast.Tuple)):
        elements = [ctx.constant(e) for e in ctx.follow(node).elts]
        if all(k for k, _ in elements):
            return True, [v for _, v in elements]
    return known, value


def _source(ctx: ModuleContext, node: ast.AST) -> str:
    """The value as the user wrote it (``"power"``, not ``'power'``), or ``...`` when long."""
    text = None
    if ctx.lines is not None and node.lineno == getattr(node, "end_lineno", None) <= len(ctx.lines):
        # Only the value's line: ast.get_source_segment would split the whole file for every finding.
        line = ctx.lines[node.lineno - 1].encode()  # offsets count UTF-8 bytes
        text = line[node.col_offset:node.end_col_offset].decode(errors="replace")
    text = text or ast.unparse(node)
    return text if len(text) <= _MAX_VALUE_CHARS else "..."


# -- LA402 and LA404 ---------------------------------------------------------------------------


def _method(ctx: ModuleContext, method: ast.AST) -> Iterator[Diagnostic]:
    cls = ctx.parents.get(method)
    if not isinstance(cls, ast.ClassDef):
        return
    name = method.name
    if name in _STEPS:
        returns = logging_returns(ctx, method)
        if returns and ctx.lightning_kind(cls) == MODULE:
            for statement, keys in returns:
                yield Diagnostic(statement, "LA404", {"step": name, "keys": keys})
        return
    kind = ctx.lightning_kind(cls)
    replacement = REMOVED_HOOKS[name].get(kind) if kind else None
    if replacement is None:
        return
    if name not in REJECTED_HOOKS and _called_by_its_class(cls, name):
        return  # a helper the class calls itself, not a hook left over from 1.x
    yield Diagnostic(method, "LA402", {"kind": kind, "hook": name, "replacement": replacement})


def _called_by_its_class(cls: ast.ClassDef, name: str) -> bool:
    return any(
        isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.ctx, ast.Load)
        for node in ast.walk(cls)
    )


def logging_returns(ctx: ModuleContext, function: ast.AST) -> List[Tuple[ast.Return, str]]:
    """``return`` statements of ``function`` (not of nested functions) whose dict has logging keys."""
    found = []
    stack: List[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            keys = logging_keys(dict_keys(ctx, node.value)) if node.value is not None else None
            if keys:
                found.append((node, keys))
        elif not isinstance(node, _NESTED):
            stack.extend(child for child in ast.iter_child_nodes(node) if isinstance(child, _BLOCKS))
    return sorted(found, key=lambda item: (item[0].lineno, item[0].col_offset))


def dict_keys(ctx: ModuleContext, node: ast.AST) -> Set[str]:
    """The string keys of a dict built in sight: ``{...}``, ``dict(...)``, ``OrderedDict(...)``."""
    node = ctx.follow(node)
    if isinstance(node, ast.Dict):
        return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    if not isinstance(node, ast.Call):
        return set()
    func = node.func
    builtin_dict = isinstance(func, ast.Name) and func.id == "dict" and "dict" not in ctx.imports.names
    if not (builtin_dict or ctx.imports.qualname(func) == "collections.OrderedDict"):
        return set()
    keys = {k.arg for k in node.keywords if k.arg is not None}
    if node.args:
        keys |= dict_keys(ctx, node.args[0])
    return keys


# -- LA403 -----------------------------------------------------------------------------------


def _removed_path(qualname: Optional[str]) -> Optional[Tuple[str, str]]:
    """``(what, replacement)`` for ``package.module.name`` when 2.x removed the module or the name."""
    if not qualname:
        return None
    module, _, name = qualname.rpartition(".")
    return removed_import(module, name) if module else removed_import(qualname)


def _removed_imports(ctx: ModuleContext) -> Iterator[Import]:
    """Import statements, looked for only when the import table already names a removed path."""
    imports = ctx.imports
    if not imports.uses_lightning:
        return
    paths = imports.modules.union(imports.names.values())
    if not any(split_namespace(path) and _removed_path(path) for path in paths):
        return
    yield from ctx.import_statements


_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def _guarded_import(ctx: ModuleContext, statement: Import) -> bool:
    """A compatibility import: in a ``try`` that handles ImportError, or in such a handler (the fallback)."""
    child = statement
    for parent in ctx.ancestors(statement):
        if isinstance(parent, ast.Try) and child in parent.body and any(map(_catches_import_error, parent.handlers)):
            return True
        if isinstance(parent, ast.ExceptHandler) and _catches_import_error(parent):
            return True
        if isinstance(parent, (*FunctionNode, ast.ClassDef)):
            return False
        child = parent
    return False


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(last_name(t) in _IMPORT_ERRORS for t in types)


def removed_imports(statement: Import) -> Iterator[Diagnostic]:
    """One finding per removed module or name the statement imports, at the statement."""
    if isinstance(statement, ast.Import):
        found = [removed_import(alias.name) for alias in statement.names]
    elif statement.level or not statement.module:
        return  # a relative import: the user's own package
    else:
        whole = removed_import(statement.module)
        if whole is not None:
            found = [whole]
        else:
            found = [removed_import(statement.module, a.name) for a in statement.names if a.name != "*"]
    for item in found:
        if item is not None:
            yield Diagnostic(statement, "LA403", {"path": item[0], "replacement": item[1]})


def _package_aliases(ctx: ModuleContext) -> Dict[str, str]:
    """Names bound to a Lightning package or module by an import that is itself still valid."""
    imports = ctx.imports
    if not imports.uses_lightning:
        return {}
    return {
        name: target
        for name, target in imports.names.items()
        if (target == "lightning" or split_namespace(target)) and _removed_path(target) is None
    }


def _root(node: ast.AST) -> Optional[str]:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _removed_call(ctx: ModuleContext, call: ast.Call) -> Iterator[Diagnostic]:
    """``pl.metrics.Accuracy()``: a removed path reached through a valid package alias."""
    found = _removed_path(ctx.imports.qualname(call.func))
    if found is not None:
        yield Diagnostic(call, "LA403", {"path": found[0], "replacement": found[1]})


CHECK = Check(codes=("LA401", "LA402", "LA403", "LA404"), candidates=candidates, examine=examine)
