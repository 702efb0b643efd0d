"""LA201 and LA202: Lightning code that places tensors on a CUDA device itself.

In Lightning code the Trainer owns device placement, so ``.cuda()`` (LA201) and a
literal ``"cuda"`` device (LA202) are leftovers from plain PyTorch. Both are
reported only inside Lightning classes or in a script that builds a ``Trainer``;
plain PyTorch code may place tensors as it likes.
"""
from __future__ import annotations

import ast
from typing import Iterable, Iterator, Optional

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.syntax import walk

_TENSOR_FACTORY_METHODS = frozenset({"new_tensor", "new_zeros", "new_ones", "new_empty", "new_full"})
# These APIs name a backend, not a placement: ``torch.cuda.synchronize(device="cuda:0")``
# or ``torch.amp.GradScaler(device="cuda")`` are CUDA-specific on purpose.
_BACKEND_APIS = ("torch.cuda.", "torch.amp.")


def candidates(ctx: ModuleContext) -> Iterator[ast.Call]:
    for call in ctx.calls:
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("cuda", "to"):
            yield call
        elif any(keyword.arg == "device" for keyword in call.keywords):
            yield call


def examine(ctx: ModuleContext, call: ast.Call, options: Options) -> Iterable[Diagnostic]:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "cuda":
        if is_manual_cuda_call(ctx, call) and _leftover_in_lightning_code(ctx, call):
            yield Diagnostic(node=call, code="LA201")
        return
    device = cuda_device(ctx, device_argument(ctx, call))
    if device is not None and _leftover_in_lightning_code(ctx, call):
        yield Diagnostic(node=call, code="LA202", fields={"device": device})


_CUDA_WORDS = ("cuda", "gpu")


def _leftover_in_lightning_code(ctx: ModuleContext, call: ast.Call) -> bool:
    """In a Lightning class, any CUDA placement is a leftover: the Trainer places devices.

    Elsewhere in a script that builds a Trainer, code that says it wants CUDA is deliberate: under
    ``if torch.cuda.is_available():`` / ``if use_cuda:``, in a function marked as GPU-only
    (``@RunIf(min_cuda_gpus=1)``, ``@pytest.mark.skipif(not torch.cuda.is_available(), ...)``), or in a
    ``lambda`` (``map_location=lambda storage, loc: storage.cuda()``).
    """
    if any(isinstance(p, ast.ClassDef) and ctx.lightning_kind(p) for p in ctx.ancestors(call)):
        return True
    return ctx.drives_trainer and not _deliberate_cuda(ctx, call)


def _deliberate_cuda(ctx: ModuleContext, node: ast.AST, depth: int = 2) -> bool:
    """``node`` runs only where CUDA is asked for: see :func:`_leftover_in_lightning_code`.

    A module function counts as GPU-only too when every use of its name is (``spawn(run_on_gpus, ...)``
    from a ``@RunIf(min_cuda_gpus=2)`` test).
    """
    for parent in ctx.ancestors(node):
        if isinstance(parent, ast.Lambda):
            return True
        if isinstance(parent, (ast.If, ast.IfExp, ast.While)) and _mentions_cuda(parent.test):
            return True
        if isinstance(parent, FunctionNode):
            if any(_mentions_cuda(d) for d in parent.decorator_list):
                return True
            if depth and ctx.parents.get(parent) is ctx.tree:
                uses = [
                    n for n in ctx.memo(_name_loads).get(parent.name, ())
                    if parent not in ctx.ancestors(n)
                ]
                return bool(uses) and all(_deliberate_cuda(ctx, use, depth - 1) for use in uses)
    return False


def _name_loads(ctx: ModuleContext):
    """Every read of a name in the module, by name: from the nodes the context's walk recorded."""
    loads = {}
    for node in ctx.parents:
        if type(node) is ast.Name and isinstance(node.ctx, ast.Load):
            loads.setdefault(node.id, []).append(node)
    return loads


def _mentions_cuda(node: ast.AST) -> bool:
    """An expression naming CUDA or GPUs: ``torch.cuda.is_available()``, ``use_cuda``, ``min_cuda_gpus=1``."""
    for sub in walk(node):
        words = []
        if isinstance(sub, ast.Name):
            words.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            words.append(sub.attr)
        elif isinstance(sub, ast.keyword) and sub.arg:
            words.append(sub.arg)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            words.append(sub.value)
        if any(word in text.lower() for text in words for word in _CUDA_WORDS):
            return True
    return False


def is_manual_cuda_call(ctx: ModuleContext, call: ast.Call) -> bool:
    """``x.cuda()`` on a tensor or module; not on an imported name, nor inside an override of ``cuda``."""
    if ctx.imports.qualname(call.func.value) is not None:
        return False  # ``torch.cuda``-like module attributes, or something imported we cannot see
    method = ctx.enclosing_function(call)
    return method is None or method.name != "cuda"  # ``def cuda(self, ...): return super().cuda(...)``


def device_argument(ctx: ModuleContext, call: ast.Call) -> Optional[ast.AST]:
    """The expression a call takes as its device, when the call is one that places tensors."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "to":
        if ctx.imports.qualname(func.value) is not None:
            return None
        # ``.to(device, dtype)``, ``.to(dtype)``, ``.to(tensor)``: only a device can be a CUDA device.
        return ctx.argument(call, "device", 0)
    if isinstance(func, ast.Attribute) and func.attr in _TENSOR_FACTORY_METHODS:
        return ctx.argument(call, "device")
    qualname = ctx.imports.qualname(func)
    if qualname is None or not qualname.startswith("torch.") or qualname.startswith(_BACKEND_APIS):
        return None  # the user's own ``zeros`` is not torch's
    return ctx.argument(call, "device")


def cuda_device(ctx: ModuleContext, node: Optional[ast.AST], nested: bool = False) -> Optional[str]:
    """``"cuda"`` / ``"cuda:0"`` when ``node`` certainly names a CUDA device, else None."""
    if node is None:
        return None
    node = ctx.follow(node)
    if isinstance(node, ast.Call) and ctx.imports.qualname(node.func) == "torch.device":
        if nested:
            return None  # torch.device(torch.device(...)): no such code, but ``d = torch.device(d)`` loops
        kind = ctx.argument(node, "type", 0)
        device = cuda_device(ctx, kind, nested=True)
        index = ctx.argument(node, "index", 1)
        if device is None or index is None or ":" in device:
            return device
        known, value = ctx.constant(index)
        return f"{device}:{value}" if known else f"{device}:{{{_short_source(index)}}}"
    if isinstance(node, ast.JoinedStr):
        return _cuda_fstring(node)
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_cuda(node.value):
        return node.value
    return None


def _cuda_fstring(node: ast.JoinedStr) -> Optional[str]:
    """``f"cuda:{rank}"`` is a CUDA device whatever ``rank`` is."""
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
        elif isinstance(value, ast.FormattedValue):
            parts.append("{" + _short_source(value.value) + "}")
    first = node.values[0] if node.values else None
    literal_prefix = str(first.value) if isinstance(first, ast.Constant) else ""
    text = "".join(parts)
    return text if text == "cuda" or literal_prefix.startswith("cuda:") else None


def _short_source(node: ast.AST, limit: int = 40) -> str:
    """An expression's source for a message, shortened; ``...`` when too deep to unparse."""
    try:
        text = ast.unparse(node)
    except RecursionError:  # expressions nested thousands deep parse, but do not unparse
        return "..."
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_cuda(text: str) -> bool:
    return text == "cuda" or text.startswith("cuda:")


CHECK = Check(codes=("LA201", "LA202"), candidates=candidates, examine=examine)
