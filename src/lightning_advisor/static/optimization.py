"""LA503: a training loop that steps an optimizer but never clears its gradients.

``loss.backward()`` adds to ``.grad``; only ``zero_grad()`` (or ``p.grad = None``) starts again.
Reported at the optimizer's ``step()`` call (``scaler.step(optimizer)`` included) when

* plain PyTorch: the innermost ``for`` / ``while`` loop around the step, in its own function, also
  calls ``backward()`` but clears no gradients anywhere in its body. A ``zero_grad()`` before the
  loop is the bug, not the fix; for a step under an ``if`` (gradient accumulation) a clearing in an
  enclosing loop counts too;
* Lightning manual optimization (``self.automatic_optimization = False``): ``training_step`` calls
  ``manual_backward`` (or ``backward``) and ``opt.step()`` with no ``zero_grad`` in that method.

A clearing is ``zero_grad()`` on that optimizer, or on anything that is not an optimizer (a model,
``self``), ``param.grad = ...``, ``param.grad.zero_()``, a helper whose name says it clears gradients,
or one in sight (a function of the module, a method of the class) that does. With several
optimizers (a GAN), each one stepped must be cleared. Quiet when unsure: a receiver that is not
evidently an optimizer, ``step(closure)`` (the closure clears), a step in a helper without a loop.
"""
from __future__ import annotations

import ast
from typing import Iterator, List, Optional, Set

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.callnames import calls_named
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.static.names import identifier_words
from lightning_advisor.syntax import dotted_name, last_name, loop_runs_once, walk
from lightning_advisor.vocabulary import MODULE

_OPTIMIZER_WORDS = frozenset({"opt", "opts", "optim", "optimizer", "optimizers", "optimiser", "optimisers"})
_NOT_OPTIMIZER_WORDS = frozenset({"scheduler", "schedulers", "sched", "lr", "scaler", "warmup", "swa", "ema"})
_SCALER_WORDS = frozenset({"scaler"})
_SCALERS = frozenset({"torch.cuda.amp.GradScaler", "torch.amp.GradScaler", "torch.cuda.amp.grad_scaler.GradScaler",
                      "torch.amp.grad_scaler.GradScaler"})
_BACKWARD = frozenset({"backward", "manual_backward"})
_CLEARING_WORDS = frozenset({"zero", "zeros", "clear", "reset"})
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_ALL = "*"  # a clearing that may cover every optimizer: ``model.zero_grad()``, ``p.grad = None``
_MAX_HELPER_DEPTH = 1
_MAX_CLASS_DEPTH = 20  # bases followed within the module: a deeper chain is "don't know"


def candidates(ctx: ModuleContext) -> List[ast.Call]:
    return [call for call in calls_named(ctx, "step") if isinstance(call.func, ast.Attribute)]


def examine(ctx: ModuleContext, call: ast.Call, options: Options) -> Iterator[Diagnostic]:
    optimizer = _stepped_optimizer(ctx, call)
    if optimizer is None:
        return
    regions = _regions(ctx, call)
    if not regions or not _calls_backward(regions[0]):
        return
    key = _key(ctx, optimizer)
    for region in regions:
        cleared = _cleared(ctx, region)
        if _ALL in cleared or key in cleared:
            return
    yield Diagnostic(node=call, code="LA503", fields={"optimizer": _source(optimizer)})


# -- what is stepped ---------------------------------------------------------------------------
def _stepped_optimizer(ctx: ModuleContext, call: ast.Call) -> Optional[ast.AST]:
    """The optimizer a ``step()`` call steps, when it evidently is one; None when unsure."""
    receiver = call.func.value
    if _is_scaler(ctx, receiver):
        # scaler.step(optimizer): the optimizer is its argument
        argument = ctx.argument(call, "optimizer", 0)
        return argument if argument is not None and is_optimizer(ctx, argument) else None
    if call.args or call.keywords:
        return None  # step(closure): LBFGS-style closures clear and backpropagate themselves
    return receiver if is_optimizer(ctx, receiver) else None


def _is_scaler(ctx: ModuleContext, node: ast.AST) -> bool:
    value = ctx.follow(node)
    if isinstance(value, ast.Call) and ctx.imports.qualname(value.func) in _SCALERS:
        return True
    name = last_name(node)
    return bool(name) and bool(_SCALER_WORDS.intersection(identifier_words(name)))


def is_optimizer(ctx: ModuleContext, node: ast.AST) -> bool:
    """``optimizer``, ``self.opt_g``, a name bound to ``torch.optim.Adam(...)`` or to ``self.optimizers()``."""
    value = ctx.follow(node)
    if isinstance(value, ast.Subscript):
        value = value.value
    if isinstance(value, ast.Call):
        qualname = ctx.imports.qualname(value.func) or ""
        if qualname.startswith("torch.optim.") and "lr_scheduler" not in qualname:
            return True
        if last_name(value.func) == "optimizers":  # LightningModule.optimizers()
            return True
        if isinstance(value.func, ast.Name) and _plain_local_class(ctx, value.func.id):
            return False  # ``ema_optimizer = WeightEMA(...)``: a class of this module that is no optimizer
    unpacked = ctx.unpacked_from(node)
    if unpacked is not None and last_name(unpacked.call.func) == "optimizers":
        return True
    name = last_name(node)
    if name is None:
        return False
    words = set(identifier_words(name))
    return bool(words & _OPTIMIZER_WORDS) and not words & _NOT_OPTIMIZER_WORDS


def _plain_local_class(ctx: ModuleContext, name: str, depth: int = 0) -> bool:
    """A class defined in this module whose bases, followed through this module, are none of torch's optimizers."""
    cls = ctx.classes.get(name)
    if cls is None or name in ctx.imports.names or depth > _MAX_CLASS_DEPTH:
        return False
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id == "object":
            continue
        if isinstance(base, ast.Name) and base.id in ctx.classes:
            if not _plain_local_class(ctx, base.id, depth + 1):
                return False
            continue
        return False  # an imported base (``torch.optim.Optimizer``, another library's): perhaps an optimizer
    return True


def _key(ctx: ModuleContext, node: ast.AST) -> str:
    """What names one optimizer: the expression it is bound to, else its source."""
    value = ctx.follow(node)
    if isinstance(value, ast.Call):
        return f"@{value.lineno}:{value.col_offset}"
    return _source(value)


def _source(node: ast.AST) -> str:
    return dotted_name(node) or ast.unparse(node)


# -- where the step runs -----------------------------------------------------------------------
def _regions(ctx: ModuleContext, call: ast.Call) -> List[ast.AST]:
    """The code whose body must clear gradients: the loops around the step, or a manual training_step."""
    loops: List[ast.AST] = []
    conditional = False
    function = None
    child: ast.AST = call
    for parent in ctx.ancestors(call):
        if isinstance(parent, _NESTED_SCOPES):
            function = parent
            break
        if isinstance(parent, _LOOPS) and child is not getattr(parent, "iter", None) and child not in parent.orelse:
            if loop_runs_once(parent):
                return []
            loops.append(parent)
        elif isinstance(parent, (ast.If, ast.IfExp)) and not loops:
            conditional = True
        child = parent
    if loops:
        # a step under an ``if`` accumulates on purpose: the loops around may clear
        return loops if conditional else loops[:1]
    if isinstance(function, FunctionNode) and function.name == "training_step":
        cls = ctx.parents.get(function)
        if isinstance(cls, ast.ClassDef) and ctx.lightning_kind(cls) == MODULE and _manual_optimization(cls):
            return [function] if not _clears_elsewhere(ctx, cls, function) else []
    return []


def _manual_optimization(cls: ast.ClassDef) -> bool:
    """``self.automatic_optimization = False`` in a method, or a property that returns False."""
    for statement in cls.body:
        if not isinstance(statement, FunctionNode):
            continue
        if statement.name == "automatic_optimization":
            returns = [n for n in walk(statement) if isinstance(n, ast.Return)]
            return bool(returns) and all(_is_false(r.value) for r in returns)
        for node in walk(statement):
            if isinstance(node, ast.Assign) and _is_false(node.value) and any(
                dotted_name(t) == "self.automatic_optimization" for t in node.targets
            ):
                return True
    return False


def _is_false(node: Optional[ast.AST]) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _clears_elsewhere(ctx: ModuleContext, cls: ast.ClassDef, step: ast.AST) -> bool:
    """Another method of the class clears gradients (``on_train_batch_start``, ``on_before_zero_grad``)."""
    return any(
        isinstance(s, FunctionNode) and s is not step and _cleared(ctx, s) for s in cls.body
    )


# -- what the region does ----------------------------------------------------------------------
def _calls_backward(region: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and last_name(n.func) in _BACKWARD for n in walk(region))


def _cleared(ctx: ModuleContext, region: ast.AST, depth: int = _MAX_HELPER_DEPTH) -> Set[str]:
    """The optimizers whose gradients ``region`` clears, by key; ``_ALL`` for a clearing of anything else."""
    cleared: Set[str] = set()
    loop_names = _loop_bound_names(region)
    for node in walk(region):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(last_name(t) == "grad" for t in targets):
                cleared.add(_ALL)  # p.grad = None, p.grad = computed
        elif isinstance(node, ast.Call):
            found = _clearing(ctx, node, loop_names, depth)
            if found is not None:
                cleared.add(found)
        if _ALL in cleared:
            break
    return cleared


def _clearing(ctx: ModuleContext, call: ast.Call, loop_names: Set[str], depth: int) -> Optional[str]:
    func = call.func
    name = last_name(func)
    if name is None:
        return None
    if name == "zero_grad":
        receiver = func.value if isinstance(func, ast.Attribute) else None
        if receiver is None or not is_optimizer(ctx, receiver):
            return _ALL  # model.zero_grad(), self.zero_grad(), zero_grad(model)
        root = receiver
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if isinstance(receiver, ast.Subscript) or (isinstance(root, ast.Name) and root.id in loop_names):
            return _ALL  # for opt in optimizers: opt.zero_grad()
        return _key(ctx, receiver)
    if name in ("zero_", "detach_", "fill_") and isinstance(func, ast.Attribute) and _mentions_grad(func.value):
        return _ALL  # p.grad.zero_(), p.grad.data.zero_()
    words = set(identifier_words(name))
    if "grad" in words or "grads" in words or "gradients" in words:
        if words & _CLEARING_WORDS:
            return _ALL  # clear_grads(model), self.reset_gradients()
    if depth:
        helper = _helper(ctx, call)
        if helper is not None and _cleared(ctx, helper, depth - 1):
            return _ALL
    return None


def _mentions_grad(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        if node.attr == "grad":
            return True
        node = node.value
    return False


def _helper(ctx: ModuleContext, call: ast.Call) -> Optional[ast.AST]:
    """The definition of a function of this module, or a method of the caller's class, that ``call`` calls."""
    func = call.func
    if isinstance(func, ast.Name):
        return ctx.functions.get(func.id)
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
        cls = ctx.enclosing_class(call)
        if cls is not None:
            return next((s for s in cls.body if isinstance(s, FunctionNode) and s.name == func.attr), None)
    return None


def _loop_bound_names(region: ast.AST) -> Set[str]:
    names: Set[str] = set()
    for node in walk(region):
        if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            names.update(n.id for n in walk(node.target) if isinstance(n, ast.Name))
    return names


CHECK = Check(codes=("LA503",), candidates=candidates, examine=examine)
