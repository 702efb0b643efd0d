"""LA303: functional dropout in a module's method without ``training=``, on in evaluation too.

``torch.nn.functional.dropout`` (and ``dropout1d`` / ``dropout2d`` / ``dropout3d``) take
``training=True`` by default: unlike ``nn.Dropout``, they know nothing of ``model.eval()``.
Reported at the call, when it is made in a method of an ``nn.Module`` / LightningModule
subclass and passes no ``training`` argument (by keyword, by position or in ``**kwargs``).

Quiet where the call is evidently training-only or deliberate: under an ``if`` (or before
it, an early-return guard) that tests ``self.training`` or another training flag, in a method
named for training (``training_step``), in Monte Carlo dropout code (a method or class named
``mc_...`` / ``..._uncertainty``), and in static methods, which have no ``self.training``.
``alpha_dropout`` and ``feature_alpha_dropout`` default to ``training=False``: never on in
evaluation, so never reported here. Names must resolve to ``torch.nn.functional``.
"""
from __future__ import annotations

import ast
from typing import Iterator, List, Optional

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.callnames import calls_named, imported_as
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.static.names import identifier_words
from lightning_advisor.syntax import last_name, walk
from lightning_advisor.vocabulary import MODULE

_FUNCTIONAL = "torch.nn.functional."
# Functional dropouts whose ``training`` defaults to True, and the layer that follows the module's mode.
_DROPOUT_LAYERS = {
    "dropout": "nn.Dropout",
    "dropout1d": "nn.Dropout1d",
    "dropout2d": "nn.Dropout2d",
    "dropout3d": "nn.Dropout3d",
}
_TRAINING_POSITION = 2  # dropout(input, p=0.5, training=True, inplace=False)
_TRAINING_WORDS = frozenset({"train", "training"})
# Monte Carlo dropout keeps dropout on at inference on purpose.
_SAMPLING_WORDS = frozenset({"mc", "monte", "carlo", "mcdropout", "bayesian", "uncertainty", "mcd"})
_NOT_METHODS = frozenset({"staticmethod", "classmethod"})
_MAX_BASE_DEPTH = 8


def candidates(ctx: ModuleContext) -> List[ast.Call]:
    # ``from torch.nn.functional import dropout as drop`` too
    return calls_named(ctx, *_DROPOUT_LAYERS, *imported_as(ctx, _FUNCTIONAL))


def examine(ctx: ModuleContext, call: ast.Call, options: Options) -> Iterator[Diagnostic]:
    qualname = ctx.imports.qualname(call.func)
    if qualname is None or not qualname.startswith(_FUNCTIONAL):
        return
    name = qualname[len(_FUNCTIONAL):]
    if name not in _DROPOUT_LAYERS or _passes_training(call):
        return
    method = ctx.method_of(call)
    if method is None:
        return  # a plain function: whoever calls it may mean training only
    cls, function = method
    if not is_module_class(ctx, cls) or _deliberate(ctx, call, cls, function):
        return
    fields = {"function": ast.unparse(call.func), "layer": _DROPOUT_LAYERS[name]}
    yield Diagnostic(node=call, code="LA303", fields=fields)


def _passes_training(call: ast.Call) -> bool:
    """A ``training`` argument by keyword, by position, or possibly inside ``*args`` / ``**kwargs``."""
    if any(keyword.arg in ("training", None) for keyword in call.keywords):
        return True
    return len(call.args) > _TRAINING_POSITION or any(isinstance(arg, ast.Starred) for arg in call.args)


def is_module_class(ctx: ModuleContext, cls: ast.ClassDef, depth: int = _MAX_BASE_DEPTH) -> bool:
    """An ``nn.Module`` subclass: a ``torch.nn`` base, a LightningModule, or a module class of the user's."""
    for base in cls.bases:
        if (ctx.imports.qualname(base) or "").startswith("torch.nn."):
            return True
    if ctx.lightning_kind(cls) == MODULE:
        return True
    if depth and any(is_module_class(other, base, depth - 1) for other, base in ctx.base_classes(cls)):
        return True
    # a base we cannot follow, and a forward method: the shape of a module
    return bool(cls.bases) and any(isinstance(s, FunctionNode) and s.name == "forward" for s in cls.body)


def _deliberate(ctx: ModuleContext, call: ast.Call, cls: ast.ClassDef, method: ast.AST) -> bool:
    """Training-only or Monte Carlo code, or a method without ``self``."""
    if any(last_name(d) in _NOT_METHODS for d in method.decorator_list):
        return True
    method_words, class_words = set(identifier_words(method.name)), set(identifier_words(cls.name))
    if method_words & _TRAINING_WORDS or (method_words | class_words) & _SAMPLING_WORDS:
        return True
    child: ast.AST = call
    for parent in ctx.ancestors(call):
        if isinstance(parent, (ast.If, ast.IfExp, ast.While)) and child is not parent.test:
            if _mentions_training(parent.test):
                return True
        if isinstance(parent, FunctionNode) and _training_guard_before(parent, call):
            return True
        if parent is method:
            break
        child = parent
    return False


def _training_guard_before(function: ast.AST, call: ast.Call) -> bool:
    """``if not self.training: return x`` ahead of the call, in the function's own statements."""
    for statement in function.body:
        if statement.lineno >= call.lineno:
            break
        if isinstance(statement, ast.If) and _mentions_training(statement.test) and any(
            branch and isinstance(branch[-1], (ast.Return, ast.Raise)) for branch in (statement.body, statement.orelse)
        ):
            return True
    return False


def _mentions_training(test: ast.AST) -> bool:
    """``self.training``, ``training``, ``self.is_train``, ``mode == "train"``."""
    for node in walk(test):
        name: Optional[str] = None
        if isinstance(node, (ast.Name, ast.Attribute)):
            name = last_name(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value
        if name and _TRAINING_WORDS.intersection(identifier_words(name)):
            return True
    return False


CHECK = Check(codes=("LA303",), candidates=candidates, examine=examine)
