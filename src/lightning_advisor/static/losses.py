"""LA501: cross-entropy fed probabilities: ``F.cross_entropy(F.softmax(logits), y)``.

``cross_entropy`` and ``nn.CrossEntropyLoss`` apply ``log_softmax`` themselves and expect logits.
Reported at the loss call when its input is the output of a softmax: ``torch.softmax``,
``F.softmax``, ``torch.special.softmax``, ``x.softmax(dim)``, an ``nn.Softmax(...)`` (or an
``nn.Sequential`` ending in one) called directly or through a name bound to it, directly, through a
local name assigned once (also through a reshape such as ``probs.view(-1, classes)``), or through the
``forward`` of a module class of the same file.

``log_softmax`` is not reported: ``log_softmax`` of log-probabilities is the identity, so
``cross_entropy(log_softmax(x))`` computes the right loss (only ``nll_loss`` is the idiomatic
spelling). ``nll_loss`` is not reported either: its inputs are log-probabilities by contract.
"""
from __future__ import annotations

import ast
from typing import Iterator, List, Optional, Set

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.callnames import calls_named, imported_as
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.syntax import child_nodes, last_name

_CROSS_ENTROPY = "torch.nn.functional.cross_entropy"
_CROSS_ENTROPY_LOSSES = frozenset({"torch.nn.CrossEntropyLoss", "torch.nn.modules.loss.CrossEntropyLoss"})
_SOFTMAX_FUNCTIONS = frozenset({"torch.softmax", "torch.nn.functional.softmax", "torch.special.softmax"})
_SOFTMAX_LAYERS = frozenset({"torch.nn.Softmax", "torch.nn.modules.activation.Softmax"})
_SEQUENTIAL = frozenset({"torch.nn.Sequential", "torch.nn.modules.container.Sequential"})
# Tensor methods that keep the values (and so the probabilities) as they are.
_RESHAPES = frozenset({
    "view", "reshape", "flatten", "permute", "transpose", "contiguous", "squeeze", "unsqueeze", "float",
    "double", "half", "to", "view_as", "reshape_as", "t",
})
_MAX_HOPS = 4


def candidates(ctx: ModuleContext) -> List[ast.Call]:
    # F.cross_entropy(...), nn.CrossEntropyLoss()(...), criterion(...): calls of a name bound to the loss
    functions = imported_as(ctx, _CROSS_ENTROPY)
    return calls_named(ctx, "cross_entropy", None, *functions, *_loss_names(ctx))


def _loss_names(ctx: ModuleContext) -> Set[str]:
    """Names that ``nn.CrossEntropyLoss(...)`` is assigned to: ``criterion``, ``self.loss_fn``."""
    names: Set[str] = set()
    aliases = [name for name in imported_as(ctx, "torch.nn") if ctx.imports.names[name].endswith("CrossEntropyLoss")]
    for call in calls_named(ctx, "CrossEntropyLoss", *aliases):
        if ctx.imports.qualname(call.func) in _CROSS_ENTROPY_LOSSES:
            parent = ctx.parents.get(call)
            targets = parent.targets if isinstance(parent, ast.Assign) else (
                [parent.target] if isinstance(parent, ast.AnnAssign) else []
            )
            names.update(filter(None, map(last_name, targets)))
    return names


def examine(ctx: ModuleContext, call: ast.Call, options: Options) -> Iterator[Diagnostic]:
    if not _is_cross_entropy(ctx, call):
        return
    argument = ctx.argument(call, "input", 0)
    if argument is None:
        return
    softmax = _softmax_source(ctx, argument)
    if softmax is not None:
        yield Diagnostic(node=call, code="LA501", fields={"loss": _written(call.func), "softmax": softmax})


def _is_cross_entropy(ctx: ModuleContext, call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Call):  # nn.CrossEntropyLoss()(logits, y)
        return ctx.imports.qualname(func.func) in _CROSS_ENTROPY_LOSSES
    if ctx.imports.qualname(func) == _CROSS_ENTROPY:
        return True
    built = ctx.follow(func)
    return (
        built is not func and isinstance(built, ast.Call)
        and ctx.imports.qualname(built.func) in _CROSS_ENTROPY_LOSSES
    )


def _softmax_source(ctx: ModuleContext, node: ast.AST, through_forward: bool = True) -> Optional[str]:
    """How ``node`` was made by a softmax, as written (``F.softmax``, ``.softmax()``), else None.

    ``self(x)`` / ``self.forward(x)`` count when every ``return`` of the class's ``forward`` returns one.
    """
    for _ in range(_MAX_HOPS):
        while _is_reshape(node):
            node = node.func.value
        if isinstance(node, ast.Name):
            unpacked = ctx.unpacked_from(node)  # ``validity, label = discriminator(images)``
            if unpacked is not None and ctx.scope_of(unpacked.call) is ctx.scope_of(node):
                found = _model_softmax(ctx, unpacked.call, unpacked.index) if through_forward else None
                return f"forward()'s {found}" if found is not None else None
            value = ctx.assigned_value(node)  # bound once; reassigned or a parameter: None
            if value is None or ctx.scope_of(value) is not ctx.scope_of(node):
                return None  # bound in another function or at module level: from elsewhere
            node = value
            continue
        break
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    qualname = ctx.imports.qualname(func)
    if qualname in _SOFTMAX_FUNCTIONS:
        return _written(func)
    if isinstance(func, ast.Call) and ctx.imports.qualname(func.func) in _SOFTMAX_LAYERS:
        return _written(func.func)  # nn.Softmax(dim=1)(logits)
    if isinstance(func, ast.Attribute) and func.attr == "softmax" and qualname is None and _tensor_softmax(ctx, node):
        return ".softmax()"
    if through_forward:
        found = _model_softmax(ctx, node)
        if found is not None:
            return f"forward()'s {found}"
    if isinstance(func, (ast.Name, ast.Attribute)) and qualname is None:
        layer = ctx.follow(func)
        if layer is not func and isinstance(layer, ast.Call):
            last = _last_softmax(ctx, layer)
            if last is layer:
                return _written(func)  # self.softmax = nn.Softmax(dim=1); self.softmax(logits)
            if last is not None:
                return f"{_written(func)}'s {_written(last.func)}"  # nn.Sequential(..., nn.Softmax(dim=1))
    return None


def _last_softmax(ctx: ModuleContext, layer: ast.Call) -> Optional[ast.Call]:
    """``nn.Softmax(dim=1)`` itself, or the one that ends an ``nn.Sequential(...)``; None for other layers."""
    qualname = ctx.imports.qualname(layer.func)
    if qualname in _SOFTMAX_LAYERS:
        return layer
    if qualname in _SEQUENTIAL and layer.args and not layer.keywords:
        last = (_listed_layers(ctx, layer) or layer.args)[-1]
        if isinstance(last, ast.Call) and ctx.imports.qualname(last.func) in _SOFTMAX_LAYERS:
            return last
    return None


def _model_softmax(ctx: ModuleContext, call: ast.Call, index: Optional[int] = None) -> Optional[str]:
    """The softmax a call of a module of this file returns through (item ``index`` of a returned tuple).

    ``self(x)`` / ``self.forward(x)`` in a method, or ``model(x)`` where ``model`` is bound once to
    ``ClassName(...)`` of a class defined here: when every ``return`` of its ``forward`` returns a softmax.
    """
    func = call.func
    if _calls_own_forward(func):
        method = ctx.method_of(call)
        cls = method[0] if method is not None else None
    else:
        built = ctx.follow(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
        cls = (
            ctx.classes.get(built.func.id)
            if isinstance(built, ast.Call) and isinstance(built.func, ast.Name) and built is not func
            and built.func.id not in ctx.imports.names else None
        )
    return _forward_softmax(ctx, cls, index) if cls is not None else None


def _calls_own_forward(func: ast.AST) -> bool:
    """``self(x)`` or ``self.forward(x)``."""
    if isinstance(func, ast.Attribute) and func.attr == "forward":
        func = func.value
    return isinstance(func, ast.Name) and func.id == "self"


def _forward_softmax(ctx: ModuleContext, cls: ast.ClassDef, index: Optional[int]) -> Optional[str]:
    """The softmax every ``return`` of the class's own ``forward`` returns through (its item ``index``)."""
    forward = next((s for s in cls.body if isinstance(s, FunctionNode) and s.name == "forward"), None)
    if forward is None:
        return None
    returns = [n for n in _own_statements(forward) if isinstance(n, ast.Return)]
    values = [_item(_just_assigned(ctx, r), index) for r in returns]
    if not values or any(value is None for value in values):
        return None
    found = [_softmax_source(ctx, value, through_forward=False) for value in values]
    return found[0] if None not in found else None


def _just_assigned(ctx: ModuleContext, statement: ast.Return) -> Optional[ast.AST]:
    """What ``return x`` returns when the statement right before it is ``x = ...`` (``x = self.model(x)``)."""
    value = statement.value
    if isinstance(value, ast.Name):
        previous = _previous_statement(ctx, statement)
        if (
            isinstance(previous, ast.Assign) and len(previous.targets) == 1
            and isinstance(previous.targets[0], ast.Name) and previous.targets[0].id == value.id
        ):
            return previous.value
    return value


def _previous_statement(ctx: ModuleContext, statement: ast.stmt) -> Optional[ast.stmt]:
    """The statement just before ``statement`` in its block, if any."""
    parent = ctx.parents.get(statement)
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and statement in block:
            position = block.index(statement)
            return block[position - 1] if position else None
    return None


def _listed_layers(ctx: ModuleContext, sequential: ast.Call) -> Optional[List[ast.AST]]:
    """``nn.Sequential(*layers)``: the layers appended to ``layers`` in the statements before, in order.

    Only a list bound once, to a literal, in the same block as the call, and filled by ``layers.append(...)``
    statements of that block (loops and branches in between may add more: their layers are unknown, so
    only the last append, after all of them, counts).
    """
    if len(sequential.args) != 1 or not isinstance(sequential.args[0], ast.Starred):
        return None
    name = sequential.args[0].value
    if not isinstance(name, ast.Name) or not isinstance(ctx.assigned_value(name), ast.List):
        return None
    statement = next((p for p in ctx.ancestors(sequential) if isinstance(p, ast.stmt)), None)
    layers: List[ast.AST] = []
    previous = _previous_statement(ctx, statement) if statement is not None else None
    while previous is not None:
        call = previous.value if isinstance(previous, ast.Expr) else None
        if not (
            isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "append"
            and isinstance(call.func.value, ast.Name) and call.func.value.id == name.id and len(call.args) == 1
        ):
            break
        layers.insert(0, call.args[0])
        previous = _previous_statement(ctx, previous)
    return layers or None


def _item(value: Optional[ast.AST], index: Optional[int]) -> Optional[ast.AST]:
    """What ``return value`` gives, or its item ``index`` when it returns a tuple written out."""
    if index is None or value is None:
        return value
    if isinstance(value, ast.Tuple) and index < len(value.elts) and not any(
        isinstance(e, ast.Starred) for e in value.elts
    ):
        return value.elts[index]
    return None


def _own_statements(function: ast.AST) -> Iterator[ast.AST]:
    """The statements of a function, not those of functions or classes nested in it."""
    stack = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*FunctionNode, ast.ClassDef, ast.Lambda)):
            stack.extend(c for c in child_nodes(node) if isinstance(c, (ast.stmt, ast.excepthandler)))


def _tensor_softmax(ctx: ModuleContext, call: ast.Call) -> bool:
    """``logits.softmax(-1)`` / ``.softmax(dim=1)``: Tensor.softmax takes a dim, not a tensor."""
    receiver = call.func.value
    if isinstance(receiver, ast.Name) and receiver.id == "self":
        return False  # self.softmax(x): a method or layer of the user's
    if any(keyword.arg == "dim" for keyword in call.keywords):
        return True
    if len(call.args) == 1:
        known, value = ctx.constant(call.args[0])
        return known and isinstance(value, int) and not isinstance(value, bool)
    return False


def _is_reshape(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _RESHAPES


def _written(node: ast.AST) -> str:
    """An expression as the user wrote it, without the call's arguments."""
    if isinstance(node, ast.Call):
        return _written(node.func) + "()"
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


CHECK = Check(codes=("LA501",), candidates=candidates, examine=examine)
