"""LA502: a loss kept with its autograd graph across training iterations: ``total += loss``.

The loss is the tensor the code backpropagates: the name given to ``backward()`` /
``manual_backward()`` / ``scaler.scale(...).backward()``, or the name ``training_step`` returns.
Reported at the statement that accumulates that very tensor (not ``loss.item()``, ``loss.detach()``,
``float(loss)``) into something that outlives the iteration:

* plain PyTorch: ``total += loss`` / ``losses.append(loss)`` in the innermost loop around the
  backward call, when that loop also steps an optimizer (each pass is a training step) and the
  accumulator is not rebound inside it;
* Lightning: ``self.outputs.append(loss)`` / ``self.total += loss`` in ``training_step``.

Quiet under ``torch.no_grad()`` (or ``inference_mode``), for terms summed into the loss itself
before ``backward()`` (``loss += penalty``), and for accumulators created in each iteration.
"""
from __future__ import annotations

import ast
from typing import Iterator, List, Optional, Set, Tuple

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.callnames import calls_named
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.syntax import child_nodes, dotted_name, last_name
from lightning_advisor.vocabulary import MODULE

_BACKWARD = frozenset({"backward", "manual_backward"})
_NO_GRAD = frozenset({
    "torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.inference_mode",
    "torch.autograd.grad_mode.no_grad", "torch.autograd.grad_mode.inference_mode",
})
_APPENDS = frozenset({"append", "extend", "insert"})
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_TRAINING_STEP = "training_step"
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")  # fields holding nested statements


def candidates(ctx: ModuleContext) -> Iterator[ast.AST]:
    yield from calls_named(ctx, *_BACKWARD)
    for cls in ctx.classes.values():
        for statement in cls.body:
            if isinstance(statement, FunctionNode) and statement.name == _TRAINING_STEP:
                yield statement


def examine(ctx: ModuleContext, node: ast.AST, options: Options) -> Iterator[Diagnostic]:
    if isinstance(node, ast.Call):
        loss = _backpropagated(node)
        loop = _enclosing_loop(ctx, node) if loss is not None else None
        if loop is None or _first_backward(loop, loss) is not node or not _steps(loop):
            return  # a second backward of the same loss (retain_graph) reports nothing new
        for statement in _accumulations(ctx, loop, loss):
            target = _accumulator(statement)
            if target is not None and not _rebound_in(loop, target):
                yield _diagnostic(statement, loss, target)
        return
    kept = _kept_in_self(node)  # one walk of the method; most steps keep nothing
    if not kept:
        return
    cls = ctx.parents.get(node)
    if not (isinstance(cls, ast.ClassDef) and ctx.lightning_kind(cls) == MODULE):
        return
    losses = _returned_names(node)
    for statement, name, target in kept:
        if name in losses and not _without_grad(ctx, statement, node):
            yield _diagnostic(statement, name, target)


def _kept_in_self(method: ast.AST) -> List[Tuple[ast.stmt, str, str]]:
    """``self.x += name`` / ``self.x.append(name)`` statements of a method: (statement, name, ``self.x``)."""
    kept = []
    for node in _own_statements(method):
        name = None
        if isinstance(node, ast.AugAssign) and isinstance(node.value, ast.Name):
            name = node.value.id
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if isinstance(call.func, ast.Attribute) and call.func.attr in _APPENDS:
                name = next((a.id for a in call.args if isinstance(a, ast.Name)), None)
        if name is not None:
            target = _accumulator(node)
            if target is not None and target.startswith("self.") and target != name:
                kept.append((node, name, target))
    return kept


def _diagnostic(statement: ast.AST, loss: str, target: str) -> Diagnostic:
    return Diagnostic(node=statement, code="LA502", fields={"loss": loss, "target": target})


def _backpropagated(call: ast.Call) -> Optional[str]:
    """The name whose graph a backward call runs: ``loss.backward()``, ``self.manual_backward(loss)``."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr == "backward" and not call.args:
        receiver = func.value
        if isinstance(receiver, ast.Call) and last_name(receiver.func) == "scale" and receiver.args:
            receiver = receiver.args[0]  # scaler.scale(loss).backward()
        return receiver.id if isinstance(receiver, ast.Name) else None
    if call.args and isinstance(call.args[0], ast.Name):
        return call.args[0].id  # self.manual_backward(loss), fabric.backward(loss)
    return None


def _steps(loop: ast.AST) -> bool:
    """Each pass of the loop is a training step: it calls an optimizer's (or a scaler's) ``step()``.

    A loop of backward passes within one step (``for _ in range(2): loss.backward(retain_graph=...)``)
    may keep its losses on purpose, to combine them once the loop ends.
    """
    return any(isinstance(n, ast.Call) and last_name(n.func) == "step" for n in _own_nodes(loop))


def _first_backward(loop: ast.AST, loss: str) -> Optional[ast.Call]:
    calls = [
        n for n in _own_nodes(loop)
        if isinstance(n, ast.Call) and last_name(n.func) in _BACKWARD and _backpropagated(n) == loss
    ]
    return min(calls, key=lambda c: (c.lineno, c.col_offset), default=None)


def _enclosing_loop(ctx: ModuleContext, node: ast.AST) -> Optional[ast.AST]:
    child = node
    for parent in ctx.ancestors(node):
        if isinstance(parent, _NESTED_SCOPES):
            return None
        if isinstance(parent, _LOOPS) and child is not getattr(parent, "iter", None) and child not in parent.orelse:
            return parent
        child = parent
    return None


def _returned_names(method: ast.AST) -> Set[str]:
    """The losses of ``training_step``: ``return loss``, ``return {"loss": loss}``, ``self.manual_backward(loss)``."""
    names = set()
    for node in _own_nodes(method):
        if isinstance(node, ast.Call) and last_name(node.func) in _BACKWARD:
            names.add(_backpropagated(node))
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Name):
                names.add(value.id)
            elif isinstance(value, ast.Dict):
                for key, item in zip(value.keys, value.values):
                    if isinstance(key, ast.Constant) and key.value == "loss" and isinstance(item, ast.Name):
                        names.add(item.id)
    names.discard(None)
    return names


def _own_nodes(region: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a loop or function body, not those of functions or classes nested in it."""
    stack: List[ast.AST] = list(region.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _NESTED_SCOPES):
            stack.extend(child_nodes(node))


def _own_statements(function: ast.AST) -> Iterator[ast.stmt]:
    """The statements of a function, nested blocks included, not those of nested functions or classes."""
    stack: List[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _NESTED_SCOPES):
            for field in _BLOCKS:
                stack.extend(getattr(node, field, ()))


def _accumulations(ctx: ModuleContext, region: ast.AST, loss: str) -> Iterator[ast.stmt]:
    """``x += loss`` / ``x.append(loss)`` statements in ``region`` that keep the tensor itself."""
    for node in _own_nodes(region):
        if isinstance(node, ast.AugAssign) and _is_name(node.value, loss):
            if not _is_name(node.target, loss) and not _without_grad(ctx, node, region):
                yield node
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            if (
                isinstance(call.func, ast.Attribute) and call.func.attr in _APPENDS
                and any(_is_name(arg, loss) for arg in call.args) and not _without_grad(ctx, node, region)
            ):
                yield node


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _accumulator(statement: ast.stmt) -> Optional[str]:
    if isinstance(statement, ast.AugAssign):
        return _held_in(statement.target)
    return _held_in(statement.value.func.value)


def _held_in(node: ast.AST) -> Optional[str]:
    """``total``, ``self.losses``, or an entry of one under a constant key: ``history["loss"]``."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and dotted_name(node.value):
        return ast.unparse(node)
    return dotted_name(node)


def _without_grad(ctx: ModuleContext, node: ast.AST, region: ast.AST) -> bool:
    for parent in ctx.ancestors(node):
        if isinstance(parent, (ast.With, ast.AsyncWith)):
            for item in parent.items:
                expr = item.context_expr
                func = expr.func if isinstance(expr, ast.Call) else expr
                if ctx.imports.qualname(func) in _NO_GRAD:
                    return True
        if parent is region:
            break
    return False


def _rebound_in(loop: ast.AST, target: str) -> bool:
    """The accumulator (or what holds it) is created anew in each iteration: ``losses = []`` inside the loop."""
    names = {target, target.split("[", 1)[0]}  # ``history["loss"]`` is new when ``history`` is
    for node in _own_nodes(loop):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_held_in(t) in names for t in targets):
                return True
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)) and _held_in(node.target) in names:
            return True
    return False


CHECK = Check(codes=("LA502",), candidates=candidates, examine=examine)
