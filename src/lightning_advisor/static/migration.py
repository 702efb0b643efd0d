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
import itertools
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple, Union

from lightning_advisor.removed_api import (
    CHANGED_HOOK_SIGNATURES,
    DATALOADER_ITER_STEPS,
    DATALOADER_ITER_USE,
    FINETUNING,
    REJECTED_HOOKS,
    REMOVED_CALL_ARGUMENTS,
    REMOVED_HOOKS,
    REMOVED_LIGHTNING_MEMBERS,
    REMOVED_LOG_ARGUMENTS,
    REMOVED_TRAINER_ARGUMENTS,
    REMOVED_TRAINER_MEMBERS,
    REMOVED_TRAINER_METHOD_ARGUMENTS,
    REMOVED_TRAINER_VALUES,
    REQUIRED_ARGUMENTS,
    TRAINER_SUBCLASSES,
    TRAINING_STEP_HIDDENS,
    TRUNCATED_BPTT,
    fabric_of,
    TRAINING_STEP_MANUAL,
    hook_signature_problem,
    logging_keys,
    removed_import,
    removed_trainer_value,
    split_namespace,
    trainer_argument_replacement,
    trainer_member_replacement,
)
from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.static.names import LIGHTNING_KIND_OF, TRAINER
from lightning_advisor.syntax import last_name, returns_of, walk
from lightning_advisor.vocabulary import (
    CALLBACK,
    DATAMODULE,
    LIBRARY_PACKAGES,
    LIGHTNING_NAMESPACES,
    MODULE,
    STEP_METHODS,
    is_lightning_module_name,
    top_package,
)

_STEPS = frozenset(STEP_METHODS.values())
_METHOD_NAMES = _STEPS | frozenset(REMOVED_HOOKS) | frozenset(CHANGED_HOOK_SIGNATURES) | DATALOADER_ITER_STEPS
_METHODS_WITH_REMOVED_KEYWORDS = frozenset(method for method, _ in REMOVED_TRAINER_METHOD_ARGUMENTS)
_MEMBERS = frozenset(REMOVED_TRAINER_MEMBERS) | frozenset(REMOVED_LIGHTNING_MEMBERS)
_CALLS_WITH_REMOVED_KEYWORDS = frozenset(name for name, _ in REMOVED_CALL_ARGUMENTS)
_LOG_METHODS = ("log", "log_dict")
_PLAIN_BASES = frozenset({"abc.ABC", "typing.Generic"})
_MAX_CHAIN = 20
_MAX_VALUE_CHARS = 40
# Statements that may hold a ``return`` of the function being examined (not of a nested one).
Import = Union[ast.Import, ast.ImportFrom]


def candidates(ctx: ModuleContext) -> Iterator[ast.AST]:
    aliases = _package_aliases(ctx)
    for call in ctx.calls:
        func = call.func
        if call.keywords and (last_name(func) == "Trainer" or isinstance(func, ast.Name)):
            if trainer_class(ctx, func) is not None:
                yield call
                continue
        if aliases and isinstance(func, ast.Attribute) and _root(func) in aliases:
            if _removed_path(ctx.imports.qualname(func)) is not None:
                yield call
                continue
        if call.keywords and isinstance(func, ast.Attribute) and func.attr in _METHODS_WITH_REMOVED_KEYWORDS:
            yield call
            continue
        name = last_name(func)
        if name in REQUIRED_ARGUMENTS or (call.keywords and name in _CALLS_WITH_REMOVED_KEYWORDS):
            yield call
        elif name in _LOG_METHODS and any(k.arg in REMOVED_LOG_ARGUMENTS for k in call.keywords):
            yield call
    for cls in ctx.classes.values():
        for statement in cls.body:
            if isinstance(statement, FunctionNode) and statement.name in _METHOD_NAMES:
                yield statement
    yield from _removed_imports(ctx)
    yield from _member_candidates(ctx)


def examine(ctx: ModuleContext, node: ast.AST, options: Options) -> Iterable[Diagnostic]:
    if isinstance(node, ast.Call):
        found = trainer_class(ctx, node.func)
        if found is not None:
            return removed_trainer_arguments(ctx, node, *found)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _METHODS_WITH_REMOVED_KEYWORDS:
            return removed_method_arguments(ctx, node)
        return itertools.chain(_removed_call(ctx, node), removed_call_arguments(ctx, node))
    if isinstance(node, ast.Attribute):
        trainer = removed_member(ctx, node) if node.attr in REMOVED_TRAINER_MEMBERS else ()
        return itertools.chain(trainer, removed_lightning_member(ctx, node))
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return () if _guarded_import(ctx, node) else removed_imports(node)
    return _method(ctx, node)


# -- LA401 -----------------------------------------------------------------------------------


def removed_trainer_arguments(
    ctx: ModuleContext, call: ast.Call, namespace: str, subclass: Optional[ast.ClassDef] = None
) -> Iterator[Diagnostic]:
    """One finding per removed keyword or value, at the keyword (or at the ``**options`` that holds it).

    ``subclass``: the call builds an instance of this module's own subclass of the Trainer, whose
    ``__init__`` may take a keyword itself.
    """
    explicit = {k.arg: k for k in call.keywords if k.arg is not None}
    expanded = next((k for k in call.keywords if k.arg is None), None)
    arguments = ctx.keywords(call)
    if arguments is None:  # a ``**`` we cannot see into: the explicit keywords still count
        arguments = {name: keyword.value for name, keyword in explicit.items()}
    if subclass is not None:
        arguments = {name: value for name, value in arguments.items() if _passed_to_trainer(ctx, subclass, name)}
    removed_values = {}
    for name, value in arguments.items():
        template = removed_trainer_value(
            name, ctx.constant(value), isinstance(ctx.follow(value), ast.Dict)
        ) if name in REMOVED_TRAINER_VALUES else None
        if template is not None:
            removed_values[name] = template
    has_accelerator = "accelerator" in arguments and "accelerator" not in removed_values
    for name, value in arguments.items():
        if name in removed_values:
            source = _source(ctx, value)
            replacement = removed_values[name].format(value=source, ns=namespace)
            if name == "accelerator" and "strategy" in arguments:
                replacement = "remove it: the call already passes strategy="
            node = explicit.get(name) or expanded or call
            yield Diagnostic(node, "LA401", {"argument": f"{name}={source}", "replacement": replacement})
            continue
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


def trainer_class(ctx: ModuleContext, node: ast.AST) -> Optional[Tuple[str, Optional[ast.ClassDef]]]:
    """``(namespace, None)`` for the Lightning Trainer or a known subclass from another package, and
    ``(namespace, cls)`` for this module's own subclass ``cls``; None for anything else."""
    qualname = ctx.imports.qualname(node)
    if qualname is not None:
        if ctx.imports.resolve(node) == TRAINER:
            return (split_namespace(qualname) or (LIGHTNING_NAMESPACES[0], ""))[0], None
        if qualname in TRAINER_SUBCLASSES:
            return TRAINER_SUBCLASSES[qualname], None
        return None
    if isinstance(node, ast.Name) and node.id in ctx.classes:
        found = _own_subclass(ctx, ctx.classes[node.id], 0)
        return (found, ctx.classes[node.id]) if found else None
    return None


def _own_subclass(ctx: ModuleContext, cls: ast.ClassDef, depth: int) -> Optional[str]:
    """The namespace of the Lightning Trainer that ``cls`` (a class of this module) derives from."""
    if depth > 20:
        return None
    for base in cls.bases:
        found = trainer_class(ctx, base) if not (isinstance(base, ast.Name) and base.id in ctx.classes) else None
        if found is not None:
            return found[0]
        if isinstance(base, ast.Name) and base.id in ctx.classes and ctx.classes[base.id] is not cls:
            namespace = _own_subclass(ctx, ctx.classes[base.id], depth + 1)
            if namespace:
                return namespace
    return None


def _passed_to_trainer(ctx: ModuleContext, cls: ast.ClassDef, keyword: str) -> bool:
    """A keyword of ``MyTrainer(...)`` reaches the Lightning Trainer: no ``__init__`` of the module's own
    takes it, and the nearest ``__init__`` passes ``**kwargs`` on to ``super().__init__``."""
    seen = 0
    while cls is not None and seen < 20:
        seen += 1
        init = next((s for s in cls.body if isinstance(s, FunctionNode) and s.name == "__init__"), None)
        if init is not None:
            args = init.args
            if keyword in {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs} or args.kwarg is None:
                return False
            return any(
                isinstance(call.func, ast.Attribute) and call.func.attr == "__init__"
                and any(k.arg is None and isinstance(k.value, ast.Name) and k.value.id == args.kwarg.arg
                        for k in call.keywords)
                for call in walk(init) if isinstance(call, ast.Call)
            )
        bases = [b for b in cls.bases if isinstance(b, ast.Name) and b.id in ctx.classes]
        cls = ctx.classes[bases[0].id] if bases else None
    return True


# -- LA405 -----------------------------------------------------------------------------------


def _member_candidates(ctx: ModuleContext) -> Iterator[ast.Attribute]:
    """``x.tune`` and the other removed Trainer members."""
    for node in ctx.attributes:
        if node.attr in _MEMBERS:
            yield node


def removed_member(ctx: ModuleContext, node: ast.Attribute) -> Iterator[Diagnostic]:
    """``trainer.tune(model)``, ``Trainer.add_argparse_args(parser)``, ``self.trainer.num_gpus``."""
    receiver = trainer_receiver(ctx, node.value)
    if receiver is None or _guarded_by_hasattr(ctx, node):
        return
    namespace, is_class, subclass = receiver
    if subclass is not None and _defines(ctx, subclass, node.attr):
        return  # the project's own Trainer subclass has it
    parent = ctx.parents.get(node)
    called = isinstance(parent, ast.Call) and parent.func is node
    what = f"{'Trainer' if is_class else 'trainer'}.{node.attr}{'()' if called else ''}"
    replacement = trainer_member_replacement(node.attr, namespace)
    yield Diagnostic(node, "LA405", {"what": what, "replacement": replacement})


def removed_method_arguments(ctx: ModuleContext, call: ast.Call) -> Iterator[Diagnostic]:
    """``trainer.test(test_dataloaders=...)``: a keyword a Trainer method no longer takes."""
    func = call.func
    receiver = trainer_receiver(ctx, func.value)
    if receiver is None or receiver[1]:
        return
    for keyword in call.keywords:
        template = REMOVED_TRAINER_METHOD_ARGUMENTS.get((func.attr, keyword.arg))
        if template is not None:
            what = f"trainer.{func.attr}({keyword.arg}=...)"
            replacement = template.format(value=_source(ctx, keyword.value))
            yield Diagnostic(keyword, "LA405", {"what": what, "replacement": replacement})


def removed_lightning_member(ctx: ModuleContext, node: ast.Attribute) -> Iterator[Diagnostic]:
    """``self.use_amp`` in a LightningModule, ``MNISTDataModule.from_argparse_args(args)``, ``dm.has_setup_fit``.

    Only where the receiver is known to be a LightningModule or LightningDataModule (``self`` in one of its
    methods, the class, or a name bound once to an instance), and no class of its chain, all of which must be
    known, defines the member itself.
    """
    kinds = REMOVED_LIGHTNING_MEMBERS.get(node.attr)
    found = lightning_receiver(ctx, node.value) if kinds is not None else None
    if found is None or found[0] not in kinds or _guarded_by_hasattr(ctx, node):
        return
    kind, chain, is_self = found
    if isinstance(node.ctx, ast.Store):
        # ``self.truncated_bptt_steps = 2``: 1.x split the batch for it under automatic optimization, 2.x ignores it
        if node.attr != TRUNCATED_BPTT or not is_self or any(_manual_optimization(cls) for _, cls in chain):
            return
    elif any(_defines_member(cls, node.attr) for _, cls in chain):
        return
    elif not is_self and node.attr in ctx.memo(_assigned_attributes):
        return  # ``model.datamodule = dm`` somewhere in the module
    parent = ctx.parents.get(node)
    called = isinstance(parent, ast.Call) and parent.func is node
    owner = _source(ctx, node.value)
    what = f"{owner}.{node.attr}{'()' if called else ''}"
    namespace = _namespace(ctx)
    replacement = kinds[kind].format(ns=namespace, fabric=fabric_of(namespace), owner=owner)
    yield Diagnostic(node, "LA405", {"what": what, "replacement": replacement})


def removed_call_arguments(ctx: ModuleContext, call: ast.Call) -> Iterator[Diagnostic]:
    """``ModelCheckpoint(period=1)``, ``EarlyStopping()`` without ``monitor``, ``self.log(..., sync_dist_op=...)``."""
    func = call.func
    name = last_name(func)
    if name in _LOG_METHODS and isinstance(func, ast.Attribute):
        found = lightning_receiver(ctx, func.value)
        if found is None or found[0] != MODULE or not found[2]:
            return
        if any(_defines_member(cls, name) for _, cls in found[1]):
            return
        for keyword in call.keywords:
            if keyword.arg in REMOVED_LOG_ARGUMENTS:
                replacement = REMOVED_LOG_ARGUMENTS[keyword.arg].format(value=_source(ctx, keyword.value))
                what = f"self.{name}({keyword.arg}=...)"
                yield Diagnostic(keyword, "LA405", {"what": what, "replacement": replacement})
        return
    qualname = ctx.imports.qualname(func)
    if not qualname or not qualname.endswith("." + name) or split_namespace(qualname) is None:
        return  # only Lightning's own class or function, under any import spelling
    if name in REQUIRED_ARGUMENTS:
        argument, advice = REQUIRED_ARGUMENTS[name]
        if not call.args and not any(k.arg in (argument, None) for k in call.keywords):
            yield Diagnostic(call, "LA405", {"what": f"{name}'s default {argument}", "replacement": advice})
    for keyword in call.keywords:
        template = REMOVED_CALL_ARGUMENTS.get((name, keyword.arg))
        if template is not None:
            what = f"{name}({keyword.arg}=...)"
            replacement = template.format(value=_source(ctx, keyword.value))
            yield Diagnostic(keyword, "LA405", {"what": what, "replacement": replacement})


def lightning_receiver(
    ctx: ModuleContext, node: ast.AST
) -> Optional[Tuple[str, List[Tuple[ModuleContext, ast.ClassDef]], bool]]:
    """``(kind, the class and all its bases, is self)`` when ``node`` is known to be a LightningModule or a
    LightningDataModule (the class or an instance) whose every base is known; None when unsure.

    Known are ``self`` in a method of such a class, the class itself (defined in the module or imported from
    the user's own), and a name (or ``self.attr``) bound once to a call of it.
    """
    if isinstance(node, ast.Name) and node.id == "self":
        place = ctx.method_of(node)
        if place is None or not _self_of(ctx, node, place[1]):
            return None
        owner, cls, is_self = ctx, place[0], True
    else:
        found = _lightning_class(ctx, node)
        if found is None:
            value = ctx.follow(node)
            found = _lightning_class(ctx, value.func) if isinstance(value, ast.Call) else None
        if found is None:
            return None
        (owner, cls), is_self = found, False
    kind = owner.lightning_kind(cls)
    if kind not in (MODULE, DATAMODULE):
        return None
    chain = _class_chain(owner, cls)
    return (kind, chain, is_self) if chain is not None else None


def _self_of(ctx: ModuleContext, node: ast.Name, method: ast.AST) -> bool:
    """``node`` is the instance the method was called on: its first parameter, never rebound, in a plain method."""
    if any(last_name(d) in ("staticmethod", "classmethod") for d in method.decorator_list):
        return False
    parameters = method.args.posonlyargs + method.args.args
    if not parameters or parameters[0].arg != node.id or _assigns(method, node.id):
        return False
    for function in ctx.ancestors(node):  # a nested function or lambda of its own ``self``
        if function is method:
            return True
        if isinstance(function, (*FunctionNode, ast.Lambda)):
            args = function.args
            if node.id in {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}:
                return False
    return False


def _lightning_class(ctx: ModuleContext, node: ast.AST) -> Optional[Tuple[ModuleContext, ast.ClassDef]]:
    """The definition of a class of the module, or of the user's own modules, that ``node`` names."""
    if isinstance(node, ast.Name) and node.id in ctx.classes and ctx.imports.qualname(node) is None:
        if ctx.scope_of(node) is not ctx.tree and node.id in ctx.memo(ModuleContext.names_bound_in_functions):
            return None  # a function may bind the name to something else
        return ctx, ctx.classes[node.id]
    qualname = ctx.imports.qualname(node)
    if qualname is None or top_package(qualname) in LIBRARY_PACKAGES:
        return None
    return ctx.imported_class(qualname)


def _class_chain(ctx: ModuleContext, cls: ast.ClassDef) -> Optional[List[Tuple[ModuleContext, ast.ClassDef]]]:
    """The class and its bases up to Lightning's own classes; None when a base is neither known nor Lightning's."""
    chain: List[Tuple[ModuleContext, ast.ClassDef]] = []
    pending = [(ctx, cls)]
    while pending:
        here, current = pending.pop()
        if any(current is seen for _, seen in chain):
            continue
        if len(chain) >= _MAX_CHAIN or current.keywords:  # a metaclass may add members
            return None
        chain.append((here, current))
        for base in current.bases:
            if isinstance(base, ast.Name) and base.id in here.classes and here.imports.qualname(base) is None:
                pending.append((here, here.classes[base.id]))
                continue
            if isinstance(base, ast.Name) and base.id == "object":
                continue
            resolved = here.imports.resolve(base)
            if resolved in LIGHTNING_KIND_OF or resolved in _PLAIN_BASES:
                continue  # Lightning's LightningModule / LightningDataModule: the tests check they lack the members
            found = _lightning_class(here, base)
            if found is None:
                return None
            pending.append(found)
    return chain


def _defines_member(cls: ast.ClassDef, name: str) -> bool:
    """``cls`` has ``name`` itself: a method, a class attribute, ``self.name = ...``, ``setattr``, ``__getattr__``."""
    for statement in cls.body:
        if isinstance(statement, (*FunctionNode, ast.ClassDef)) and statement.name in (name, "__getattr__"):
            return True
        targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
    for node in walk(cls):
        if isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(node, ast.Call) and last_name(node.func) == "setattr" and len(node.args) >= 2:
            if not (isinstance(node.args[1], ast.Constant) and node.args[1].value != name):
                return True  # setattr(self, "name", ...), or a name we cannot read
    return False


def _assigned_attributes(ctx: ModuleContext) -> Set[str]:
    """Attribute names the module assigns anywhere (``model.datamodule = dm``)."""
    return {node.attr for node in ctx.attributes if isinstance(node.ctx, (ast.Store, ast.Del))}


def _guarded_by_hasattr(ctx: ModuleContext, node: ast.Attribute) -> bool:
    """Compatibility code: ``x.name if hasattr(x, "name") else ...``, or in a ``try`` that handles AttributeError."""
    child: ast.AST = node
    for parent in ctx.ancestors(node):
        if isinstance(parent, (ast.If, ast.IfExp)) and child is not parent.test:
            for call in walk(parent.test):
                if (
                    isinstance(call, ast.Call) and last_name(call.func) == "hasattr" and len(call.args) == 2
                    and isinstance(call.args[1], ast.Constant) and call.args[1].value == node.attr
                ):
                    return True
        if isinstance(parent, ast.Try) and child in parent.body:
            if any(
                handler.type is None or "AttributeError" in ast.dump(handler.type) for handler in parent.handlers
            ):
                return True
        if isinstance(parent, (*FunctionNode, ast.ClassDef)):
            return False
        child = parent
    return False


def _defines(ctx: ModuleContext, cls: ast.ClassDef, name: str) -> bool:
    seen = 0
    while cls is not None and seen < 20:
        seen += 1
        for statement in cls.body:
            if isinstance(statement, (*FunctionNode, ast.ClassDef)) and statement.name == name:
                return True
            targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if any(isinstance(n, ast.Attribute) and n.attr == name and isinstance(n.ctx, ast.Store) for n in walk(cls)):
            return True
        bases = [b for b in cls.bases if isinstance(b, ast.Name) and b.id in ctx.classes]
        cls = ctx.classes[bases[0].id] if bases else None
    return False


def trainer_receiver(ctx: ModuleContext, node: ast.AST) -> Optional[Tuple[str, bool, Optional[ast.ClassDef]]]:
    """``(namespace, is the class itself, the module's own subclass or None)`` when ``node`` is known to be
    the Lightning Trainer class or one of its instances; None when unsure.

    An instance is a name (or ``self.attr``) bound once to a ``Trainer(...)`` call, a parameter annotated
    ``Trainer``, ``self.trainer`` in a LightningModule or LightningDataModule, and a Callback hook's
    ``trainer`` (or ``pl_module.trainer``).
    """
    found = trainer_class(ctx, node)
    if found is not None:
        return found[0], True, found[1]
    value = ctx.follow(node)
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr == "from_argparse_args":
            func = func.value
        found = trainer_class(ctx, func)
        return (found[0], False, found[1]) if found is not None else None
    if value is not node:
        return None
    if isinstance(node, ast.Attribute) and node.attr == "trainer" and isinstance(node.value, ast.Name):
        place = ctx.method_of(node)
        if place is None:
            return None
        cls, method = place
        kind = ctx.lightning_kind(cls)
        if node.value.id == "self" and kind in (MODULE, DATAMODULE) and not _assigns(method, "self"):
            return _namespace(ctx), False, None
        if kind == CALLBACK and _callback_parameter(method, node.value.id) == 2:
            return _namespace(ctx), False, None
        return None
    if isinstance(node, ast.Name):
        for function in ctx.ancestors(node):
            if not isinstance(function, (*FunctionNode, ast.Lambda)):
                continue
            args = function.args
            parameters = args.posonlyargs + args.args + args.kwonlyargs
            parameter = next((a for a in parameters if a.arg == node.id), None)
            if parameter is None:
                if _assigns(function, node.id):
                    return None
                continue
            if isinstance(function, ast.Lambda) or _assigns(function, node.id):
                return None
            if parameter.annotation is not None and trainer_class(ctx, parameter.annotation) is not None:
                return trainer_class(ctx, parameter.annotation)[0], False, None
            place = ctx.method_of(node)
            if (
                place is not None and place[1] is function and ctx.lightning_kind(place[0]) == CALLBACK
                and node.id == "trainer" and _callback_parameter(function, node.id) == 1
            ):
                return _namespace(ctx), False, None
            return None
    return None


def _callback_parameter(method: ast.AST, name: str) -> Optional[int]:
    """The position of ``name`` among a Callback hook's parameters (``self`` is 0), for hooks only."""
    if not (method.name.startswith("on_") or method.name in ("setup", "teardown")):
        return None
    names = [a.arg for a in method.args.posonlyargs + method.args.args]
    return names.index(name) if name in names else None


def _assigns(function: ast.AST, name: str) -> bool:
    """``function`` rebinds ``name`` somewhere in its body (then the parameter is not all it can be)."""
    return any(
        isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
        for node in walk(function)
    )


def _namespace(ctx: ModuleContext) -> str:
    return ctx.memo(_module_namespace)


def _module_namespace(ctx: ModuleContext) -> str:
    """The Lightning namespace the module imports, for advice that names an import."""
    for module in sorted(ctx.imports.modules.union(ctx.imports.names.values())):
        split = split_namespace(module)
        if split is not None:
            return split[0]
    return LIGHTNING_NAMESPACES[0]


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
    kind = _finetuning_kind(ctx, cls) if name == "finetune_function" else ctx.lightning_kind(cls)
    if kind is None:
        return
    yield from changed_signature(ctx, cls, method, kind)
    replacement = REMOVED_HOOKS[name].get(kind) if name in REMOVED_HOOKS else None
    if replacement is None:
        return
    if name not in REJECTED_HOOKS and _called_by_its_class(cls, name):
        return  # a helper the class calls itself, not a hook left over from 1.x
    yield Diagnostic(method, "LA402", {"kind": kind, "hook": name, "replacement": replacement})


def changed_signature(ctx: ModuleContext, cls: ast.ClassDef, method: ast.AST, kind: str) -> Iterator[Diagnostic]:
    """A hook defined with its 1.x parameters, which Lightning 2.x cannot call or fills with the wrong arguments."""
    if any(last_name(d) in ("staticmethod", "classmethod") for d in method.decorator_list):
        return
    name, args = method.name, method.args
    everything = [a.arg for a in args.posonlyargs + args.args]
    positional = tuple(everything[1:])  # after self
    required = max(len(everything) - len(args.defaults) - 1, 0)
    if kind == MODULE and name in DATALOADER_ITER_STEPS and "dataloader_iter" in positional:
        if required > 1:  # 2.x passes the iterator alone (#18390)
            hook = f"{name}({', '.join(positional)})"
            replacement = DATALOADER_ITER_USE.format(hook=name)
            yield Diagnostic(method, "LA402", {"kind": kind, "hook": hook, "replacement": replacement})
        return
    call = CHANGED_HOOK_SIGNATURES.get(name, {}).get(kind)
    if call is None:
        return
    names = hook_signature_problem(call, positional, required, args.vararg is not None)
    if not names:
        return
    shown = ", ".join(names)
    hook = f"{name}({shown})" if names[0] == positional[0] else f"{name}(..., {shown})"
    replacement = call.use
    if name == "training_step":
        if "optimizer_idx" not in names:
            replacement = TRAINING_STEP_HIDDENS
        elif _manual_optimization(cls):
            replacement = TRAINING_STEP_MANUAL
    yield Diagnostic(method, "LA402", {"kind": kind, "hook": hook, "replacement": replacement})


def _manual_optimization(cls: ast.ClassDef) -> bool:
    """The class switches automatic optimization off: ``self.automatic_optimization = False`` or a property."""
    for node in walk(cls):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is False:
            if any(isinstance(t, ast.Attribute) and t.attr == "automatic_optimization" for t in node.targets):
                return True
        if isinstance(node, FunctionNode) and node.name == "automatic_optimization":
            return True
    return False


def _finetuning_kind(ctx: ModuleContext, cls: ast.ClassDef) -> Optional[str]:
    """``FINETUNING`` for a direct subclass of Lightning's ``BaseFinetuning`` callback."""
    for base in cls.bases:
        qualname = ctx.imports.qualname(base)
        if qualname and is_lightning_module_name(qualname) and qualname.endswith("." + FINETUNING):
            return FINETUNING
    return None


def _called_by_its_class(cls: ast.ClassDef, name: str) -> bool:
    return any(
        isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.ctx, ast.Load)
        for node in walk(cls)
    )


def logging_returns(ctx: ModuleContext, function: ast.AST) -> List[Tuple[ast.Return, str]]:
    """``return`` statements of ``function`` (not of nested functions) whose dict has logging keys."""
    found = []
    for node in returns_of(function):
        keys = logging_keys(dict_keys(ctx, node.value)) if node.value is not None else None
        if keys:
            found.append((node, keys))
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
        names = [a.name for a in statement.names if a.name != "*"]
        whole = removed_import(statement.module)
        found = [removed_import(statement.module, name) for name in names]
        if whole is not None:  # one finding for the module, and one per name with advice of its own
            found = [item for item in found if item != whole]
            found = ([whole] if len(found) < len(names) or not names else []) + found
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


CHECK = Check(codes=("LA401", "LA402", "LA403", "LA404", "LA405"), candidates=candidates, examine=examine)
