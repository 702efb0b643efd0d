"""LA301 / LA302: a hand-written evaluation loop in training mode or with autograd on.

An evaluation loop is a ``for`` loop over a DataLoader-like iterable whose body
calls a model and never trains (no ``backward()``, optimizer ``step()``,
``zero_grad()`` or ``.train()``). It is reported at its ``for`` line when

* LA301: nothing in sight puts the model in eval mode (``.eval()`` or
  ``.train(False)``);
* LA302: the model call does not run under ``torch.no_grad()``,
  ``torch.inference_mode()`` or ``torch.set_grad_enabled(False)``.

Both stay quiet whenever the code cannot know: inside Lightning's evaluation
hooks (Lightning switches modes itself), under a ``with`` of the user's own
context manager, in a ``@torch.no_grad()`` helper (its caller manages the
mode), or in a function whose every call in the module is made in eval mode /
without grad.

Names decide what is a loader and what is a model (see :func:`is_loader_name`
and :func:`is_model_name`), helped by single assignments and annotations.
"""
from __future__ import annotations

import ast
from typing import Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.static.names import DATALOADER, identifier_words as _words
from lightning_advisor.syntax import dotted_name, last_name, loop_runs_once

# -- names -----------------------------------------------------------------------------------

_LOADER_WORDS = {"loader", "loaders", "dataloader", "dataloaders", "dl", "dls"}
# ``valloader``, ``testloaders``: a data split glued to "loader".
_LOADER_PREFIXES = {
    "val", "valid", "validation", "test", "eval", "train", "data", "dev", "pred", "predict",
    "inference", "holdout", "calib", "query", "gallery", "batch", "tst", "trn",
}
_MODEL_WORDS = {
    "model", "models", "net", "nets", "network", "networks", "module", "encoder", "decoder",
    "classifier", "backbone", "generator", "discriminator", "autoencoder", "vae", "unet",
    "transformer", "cnn", "mlp", "rnn", "lstm", "gru", "teacher", "student", "vit", "bert", "gpt",
}
# ``self.loss_module(...)``, ``metric_net(...)``: callables that score, not models.
_NOT_MODEL_WORDS = {"loss", "losses", "criterion", "metric", "metrics", "acc", "accuracy"}
# ``get_model(...)``, ``build_net(...)``: helpers that make or handle a model, not its forward.
_HELPER_VERBS = {
    "get", "build", "create", "make", "load", "init", "initialize", "save", "export", "print", "log",
    "set", "freeze", "unfreeze", "copy", "count", "summarize", "to", "wrap", "compile", "register",
    "setup", "prepare", "train", "fit", "evaluate", "eval", "test", "validate", "update", "reset",
    "import", "apply", "run",
}
# Calls whose name says "this is a training step": the loop trains through a helper.
_TRAINING_WORDS = {"train", "training", "optimize", "optimise", "backprop", "fit"}
# ``.step()`` receivers that are not optimizers: a profiled or timed inference loop.
_NOT_OPTIMIZER_WORDS = {"prof", "profiler", "pbar", "progress", "bar", "timer", "tracker"}
# Wrappers that iterate their (first) argument unchanged.
_WRAPPERS = {"enumerate", "tqdm", "iter", "islice", "track", "zip"}


def is_loader_name(identifier: str) -> bool:
    """``val_loader``, ``testloader``, ``valDL``, ``dl``, ``val_dataloader`` (not ``dataset``)."""
    for word in _words(identifier):
        if word in _LOADER_WORDS:
            return True
        for suffix in ("loaders", "loader"):
            if word.endswith(suffix) and word[: -len(suffix)] in _LOADER_PREFIXES:
                return True
    return False


def is_model_name(identifier: str) -> bool:
    """``model``, ``self.net``, ``netG``, ``resnet18``, ``ema_model``, ``pl_module`` (not ``get_model``).

    Capitalised names are classes being built, not models being called.
    """
    if not identifier or identifier[0].isupper():
        return False
    words = _words(identifier)
    if not words or words[0] in _HELPER_VERBS:
        return False
    if _NOT_MODEL_WORDS.intersection(words):
        return False
    return any(w in _MODEL_WORDS or w.endswith(("model", "net")) for w in words)


# -- torch grad modes --------------------------------------------------------------------------
_NO_GRAD = {"torch.no_grad", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad"}
_INFERENCE_MODE = {
    "torch.inference_mode",
    "torch.autograd.inference_mode",
    "torch.autograd.grad_mode.inference_mode",
}
_SET_GRAD_ENABLED = {
    "torch.set_grad_enabled",
    "torch.autograd.set_grad_enabled",
    "torch.autograd.grad_mode.set_grad_enabled",
}
_ENABLE_GRAD = {"torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad"}
_GRAD_API = {"torch.autograd.grad"}
# Context managers from these packages do not touch train/eval mode or grad mode
# (unless named above); anything else may be the user's own ``evaluating(model)``.
_KNOWN_PACKAGES = {
    "torch", "torchvision", "torchaudio", "torchtext", "tqdm", "contextlib", "time", "timeit",
    "wandb", "mlflow", "numpy", "warnings", "logging", "os", "sys", "tempfile", "io", "threading",
    "multiprocessing", "rich", "lightning", "pytorch_lightning", "lightning_fabric", "tensorboard",
    "tensorboardX", "pathlib", "zipfile", "tarfile", "h5py", "cProfile",
}
_BUILTIN_CONTEXTS = {"open"}

# What a ``with`` item, or a decorator, does to autograd.
GRAD_OFF, GRAD_ON, GRAD_UNKNOWN, NEUTRAL, UNKNOWN = "off", "on", "grad?", "neutral", "unknown"


def grad_effect(ctx: ModuleContext, expr: ast.AST) -> str:
    """What entering ``expr`` (a ``with`` item or a decorator) does to autograd and modes.

    ``UNKNOWN``: a context manager we cannot see into, which may switch both.
    """
    node = ctx.follow(expr)
    call = node if isinstance(node, ast.Call) else None
    func = call.func if call is not None else node
    qualname = ctx.imports.qualname(func)
    if qualname is None:
        if isinstance(func, ast.Name) and func.id in _BUILTIN_CONTEXTS:
            return NEUTRAL
        return UNKNOWN
    if qualname in _NO_GRAD:
        return GRAD_OFF
    if qualname in _INFERENCE_MODE or qualname in _SET_GRAD_ENABLED:
        # inference_mode(mode=True), set_grad_enabled(mode): a constant decides.
        default = qualname in _INFERENCE_MODE
        arg = ctx.argument(call, "mode", 0) if call is not None else None
        if arg is None:
            return GRAD_OFF if default else GRAD_UNKNOWN
        known, value = ctx.constant(arg)
        if not known:
            return GRAD_UNKNOWN
        if qualname in _INFERENCE_MODE:
            return GRAD_OFF if value else NEUTRAL
        return GRAD_ON if value else GRAD_OFF
    if qualname in _ENABLE_GRAD:
        return GRAD_ON
    if qualname.split(".", 1)[0] in _KNOWN_PACKAGES:
        return NEUTRAL
    return UNKNOWN


# -- Lightning ---------------------------------------------------------------------------------
# Lightning runs these in eval mode and without grad (validation, test, predict loops).
_EVAL_HOOKS = {
    "validation_step", "test_step", "predict_step", "validation_step_end", "test_step_end",
    "validation_epoch_end", "test_epoch_end",
}
_EVAL_HOOK_PREFIXES = ("on_validation_", "on_test_", "on_predict_")
_TRAINING_HOOKS = {"training_step", "training_step_end"}


def is_eval_hook(name: str) -> bool:
    return name in _EVAL_HOOKS or name.startswith(_EVAL_HOOK_PREFIXES) or name.endswith("_dataloader")


# -- the loop ----------------------------------------------------------------------------------
def _unwrap(node: ast.AST) -> List[ast.AST]:
    """``enumerate(tqdm(loader))`` -> ``[loader]``; ``zip(a, b)`` -> ``[a, b]``."""
    if isinstance(node, ast.Call) and last_name(node.func) in _WRAPPERS and node.args:
        args = node.args if last_name(node.func) == "zip" else node.args[:1]
        return [inner for arg in args for inner in _unwrap(arg)]
    return [node]


def iterates_loader(ctx: ModuleContext, iterable: ast.AST, depth: int = 2) -> bool:
    """Does a ``for`` loop over ``iterable`` read batches from a DataLoader?"""
    for node in _unwrap(iterable):
        if isinstance(node, (ast.Name, ast.Attribute)):
            if is_loader_name(last_name(node)):
                return True
            value = ctx.follow(node)
            if value is not node and depth and iterates_loader(ctx, value, depth - 1):
                return True
            if isinstance(node, ast.Name) and _annotated_as(ctx, node, ("DataLoader",)):
                return True
        elif isinstance(node, ast.Call):
            if ctx.imports.resolve(node.func) == DATALOADER:
                return True
            name = last_name(node.func)
            if name is not None and is_loader_name(name):
                return True
    return False


def _annotated_as(ctx: ModuleContext, name: ast.Name, classes: Tuple[str, ...]) -> bool:
    """``name`` is a parameter of its function annotated with one of ``classes``."""
    function = ctx.enclosing_function(name)
    if function is None:
        return False
    args = function.args
    for arg in args.posonlyargs + args.args + args.kwonlyargs:
        if arg.arg == name.id and arg.annotation is not None:
            annotation = arg.annotation
            if isinstance(annotation, ast.Subscript):
                annotation = annotation.value
            qualname = ctx.imports.qualname(annotation) or dotted_name(annotation) or ""
            return qualname.rpartition(".")[2] in classes
    return False


def _body_nodes(loop: ast.AST, stop) -> Iterator[ast.AST]:
    """The loop's body, not descending into nodes for which ``stop(node)`` is true."""
    stack = list(loop.body)
    while stack:
        node = stack.pop()
        yield node
        if not stop(node):
            stack.extend(ast.iter_child_nodes(node))


def _is_nested_scope(node: ast.AST) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))


def _trains(ctx: ModuleContext, loop: ast.AST) -> bool:
    """The loop body updates weights, or calls something that says it does."""
    for node in _walk_all(loop.body):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = last_name(func)
        if name is None:
            continue
        if name in ("backward", "manual_backward", "zero_grad"):
            return True
        if name == "step" and isinstance(func, ast.Attribute):
            receiver = last_name(func.value) or last_name(getattr(func.value, "func", None)) or ""
            if not _NOT_OPTIMIZER_WORDS.intersection(_words(receiver)):
                return True
        elif name == "train":
            if not _is_eval_call(ctx, node):
                return True  # model.train(), model.train(flag), train(model, ...)
        elif _TRAINING_WORDS.intersection(_words(name)):
            return True
    return False


def _walk_all(nodes: List[ast.AST]) -> Iterator[ast.AST]:
    for node in nodes:
        yield from ast.walk(node)


def _is_eval_call(ctx: ModuleContext, call: ast.Call) -> bool:
    """``x.eval()``, ``x.train(False)``, ``x.train(mode=False)``."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "eval":
        return True
    if func.attr == "train":
        arg = ctx.argument(call, "mode", 0)
        if arg is not None:
            known, value = ctx.constant(arg)
            return known and value is False
    return False


def _wants_grad(ctx: ModuleContext, loop: ast.AST) -> bool:
    """The loop asks for gradients itself: ``torch.autograd.grad``, ``x.requires_grad_()``."""
    for node in _walk_all(loop.body):
        if isinstance(node, ast.Call):
            if last_name(node.func) == "requires_grad_":
                arg = ctx.argument(node, "requires_grad", 0)
                known, value = ctx.constant(arg) if arg is not None else (True, True)
                if not known or value:
                    return True
            elif ctx.imports.qualname(node.func) in _GRAD_API:
                return True
        elif isinstance(node, ast.Assign) and any(last_name(t) == "requires_grad" for t in node.targets):
            return True
    return False


class ModelCall(NamedTuple):
    call: ast.Call
    model: str  # the model expression as written: ``model``, ``self.net``, ``self``


def _model_call(ctx: ModuleContext, call: ast.Call) -> Optional[ModelCall]:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "forward":
        receiver = dotted_name(func.value)
        return ModelCall(call, receiver) if receiver else None
    if isinstance(func, ast.Name) and func.id == "self":
        method = ctx.method_of(call)
        return ModelCall(call, "self") if method and _is_module_class(ctx, method[0]) else None
    name = dotted_name(func)
    if name is None or ctx.imports.qualname(func) is not None:
        return None  # library functions (F.relu, importlib.import_module) are not models
    if isinstance(func, ast.Name) and func.id in ctx.classes:
        return None  # building an instance, not calling it
    if is_model_name(last_name(func)):
        return ModelCall(call, name)
    if isinstance(func, ast.Name) and (
        _built_as_model(ctx, func) or _annotated_as(ctx, func, ("Module", "LightningModule"))
    ):
        return ModelCall(call, name)
    return None


_MODEL_FACTORIES = ("torchvision.models.", "timm.")
_MODEL_LOADERS = {
    "torch.load", "torch.jit.load", "torch.hub.load", "torch.compile", "torch.nn.Sequential",
    "torch.nn.DataParallel", "torch.nn.parallel.DistributedDataParallel",
}
_CHAINED = {"to", "cuda", "cpu", "float", "half", "double", "bfloat16", "train", "eval", "requires_grad_"}


def _construction(ctx: ModuleContext, node: ast.AST) -> ast.AST:
    """The call that built a model: ``m = Net().to(device)`` -> ``Net()``."""
    value = ctx.follow(node)
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _CHAINED:
        value = value.func.value
    return value


def _built_as_model(ctx: ModuleContext, name: ast.Name) -> bool:
    """``net = torchvision.models.resnet18(...)`` / ``m = MyNet().to(device)`` / ``m = torch.load(...)``."""
    value = _construction(ctx, name)
    if not isinstance(value, ast.Call):
        return False
    if last_name(value.func) == "load_from_checkpoint":
        return True
    qualname = ctx.imports.qualname(value.func)
    if qualname is not None:
        if qualname in _MODEL_LOADERS:
            return True
        return qualname.startswith(_MODEL_FACTORIES)
    return isinstance(value.func, ast.Name) and value.func.id in ctx.classes and _is_module_class(
        ctx, ctx.classes[value.func.id]
    )


def _is_module_class(ctx: ModuleContext, cls: ast.ClassDef) -> bool:
    """A class whose instances are models: an ``nn.Module`` / LightningModule, or it defines ``forward``."""
    if any(isinstance(s, FunctionNode) and s.name == "forward" for s in cls.body):
        return True
    for base in cls.bases:
        qualname = ctx.imports.qualname(base) or ""
        if qualname.startswith("torch.nn.") or _base_is_model(last_name(base)):
            return True
    return ctx.lightning_kind(cls) == "LightningModule"


def _base_is_model(name: Optional[str]) -> bool:
    return bool(name) and (name.endswith("Module") or is_model_name(name[0].lower() + name[1:]))


def _model_calls(ctx: ModuleContext, loop: ast.AST) -> List[ModelCall]:
    """Model calls in the loop body, in source order; nested loader loops are their own candidates."""

    def stop(node):
        return _is_nested_scope(node) or (
            isinstance(node, (ast.For, ast.AsyncFor)) and iterates_loader(ctx, node.iter)
        )

    found = []
    for node in _body_nodes(loop, stop):
        if isinstance(node, ast.Call):
            model_call = _model_call(ctx, node)
            if model_call is not None:
                found.append(model_call)
    return sorted(found, key=lambda m: (m.call.lineno, m.call.col_offset))


# -- where a node runs: modes set around it ----------------------------------------------------
def _enclosing_functions(ctx: ModuleContext, node: ast.AST) -> List[ast.AST]:
    return [p for p in ctx.ancestors(node) if isinstance(p, FunctionNode)]


def _with_effects(ctx: ModuleContext, node: ast.AST) -> List[str]:
    """Effects of the ``with`` blocks around ``node`` in its own function (or module)."""
    effects = []
    for parent in ctx.ancestors(node):
        if isinstance(parent, (ast.With, ast.AsyncWith)):
            effects.extend(grad_effect(ctx, item.context_expr) for item in parent.items)
        elif _is_nested_scope(parent):
            break
    return effects


def _decorator_effects(ctx: ModuleContext, node: ast.AST) -> List[str]:
    effects = []
    for function in _enclosing_functions(ctx, node):
        for decorator in function.decorator_list:
            effect = grad_effect(ctx, decorator)
            if effect != UNKNOWN:  # @staticmethod, @app.command(): not context managers
                effects.append(effect)
    return effects


class _ModuleFacts:
    """Module-wide facts the loops share, gathered in one pass over ``ctx.calls``."""

    def __init__(self, ctx: ModuleContext) -> None:
        self.calls_by_name: Dict[str, List[ast.Call]] = {}
        self.first_eval_line: Optional[int] = None
        self.scopes_with_eval: Set[ast.AST] = set()  # functions and classes calling .eval()
        self.grad_off_globally = False
        for call in ctx.calls:
            name = last_name(call.func)
            if name is None:
                continue
            self.calls_by_name.setdefault(name, []).append(call)
            if _is_eval_call(ctx, call):
                self.first_eval_line = min(call.lineno, self.first_eval_line or call.lineno)
                self.scopes_with_eval.update(
                    p for p in ctx.ancestors(call) if isinstance(p, (*FunctionNode, ast.ClassDef))
                )
            elif name == "set_grad_enabled" and _switches_grad_off(ctx, call):
                self.grad_off_globally = True

    def mode_set_in(self, scope: ast.AST) -> bool:
        """``scope`` (a function or class) calls ``.eval()`` / ``.train(False)``."""
        return scope in self.scopes_with_eval

    def mode_set_before(self, line: int) -> bool:
        """Some ``.eval()`` runs at or before ``line``, anywhere in the module."""
        return self.first_eval_line is not None and self.first_eval_line <= line


def _facts(ctx: ModuleContext) -> _ModuleFacts:
    return ctx.memo(_ModuleFacts)


def _switches_grad_off(ctx: ModuleContext, call: ast.Call) -> bool:
    """A ``torch.set_grad_enabled(False)`` statement: autograd is off process-wide from there on."""
    if not isinstance(ctx.parents.get(call), ast.Expr) or ctx.imports.qualname(call.func) not in _SET_GRAD_ENABLED:
        return False
    arg = ctx.argument(call, "mode", 0)
    known, value = ctx.constant(arg) if arg is not None else (False, None)
    return not (known and value)


def _locally_bound(function: ast.AST, root: str) -> bool:
    args = function.args
    if root in {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}:
        return True
    return any(
        isinstance(n, ast.Name) and n.id == root and isinstance(n.ctx, ast.Store) for n in ast.walk(function)
    )


class Coverage(NamedTuple):
    """Whether a node runs in eval mode (``mode``) and without grad (``grad``), as far as we can see."""

    mode: bool
    grad: bool


def coverage_at(ctx: ModuleContext, node: ast.AST, model: Optional[str] = None) -> Coverage:
    """What the code around ``node`` does to train/eval mode and autograd, within its function."""
    functions = _enclosing_functions(ctx, node)
    if any(f.name in _TRAINING_HOOKS for f in functions):
        return Coverage(True, True)  # Lightning backpropagates the returned loss
    if any(is_eval_hook(f.name) for f in functions):
        return Coverage(True, True)  # Lightning's eval loops: eval mode, no grad
    decorators = _decorator_effects(ctx, node)
    effects = _with_effects(ctx, node) + decorators
    if UNKNOWN in effects:
        return Coverage(True, True)  # the user's own ``with evaluating(model):`` may do both
    grad = bool({GRAD_OFF, GRAD_ON, GRAD_UNKNOWN}.intersection(effects))
    # An @torch.no_grad() helper: its caller manages the mode, out of our sight.
    mode = GRAD_OFF in decorators or _mode_set_around(ctx, node, functions, model)
    return Coverage(mode, grad)


def _starts_in_eval_mode(ctx: ModuleContext, call: ast.Call) -> bool:
    """``model = AutoModel.from_pretrained(...)`` / ``torch.jit.load(...)`` return models in eval mode."""
    func = call.func.value if isinstance(call.func, ast.Attribute) and call.func.attr == "forward" else call.func
    value = _construction(ctx, func)
    if not isinstance(value, ast.Call):
        return False
    return last_name(value.func) == "from_pretrained" or ctx.imports.qualname(value.func) == "torch.jit.load"


def _mode_set_around(ctx: ModuleContext, node: ast.AST, functions, model: Optional[str]) -> bool:
    facts = _facts(ctx)
    if not functions:
        return facts.mode_set_before(node.end_lineno)
    if facts.mode_set_in(functions[-1]):
        return True
    root = (model or "").split(".", 1)[0]
    if root == "self":
        # Lightning sets every mode itself; a plain class may keep its model in eval mode for good.
        method = ctx.method_of(node)
        return method is not None and not ctx.lightning_kind(method[0]) and facts.mode_set_in(method[0])
    if not root or any(_locally_bound(f, root) for f in functions):
        return False
    return facts.first_eval_line is not None  # a global model: whoever set it up may have called eval()


def _callers_cover(ctx: ModuleContext, function: ast.AST) -> Coverage:
    """Does every call of ``function`` in this module run in eval mode / without grad?"""
    sites = [
        call for call in _facts(ctx).calls_by_name.get(function.name, ())
        if function not in _enclosing_functions(ctx, call)
    ]
    if not sites:
        return Coverage(False, False)
    covered = [coverage_at(ctx, site) for site in sites]
    return Coverage(all(c.mode for c in covered), all(c.grad for c in covered))


# -- the check ---------------------------------------------------------------------------------
def _candidates(ctx: ModuleContext):
    # a loop that stops after its first batch is a smoke test or a demo (print a shape), not evaluation
    return [loop for loop in ctx.loops if iterates_loader(ctx, loop.iter) and not loop_runs_once(loop)]


def _examine(ctx: ModuleContext, loop: ast.AST, options: Options) -> Iterator[Diagnostic]:
    calls = _model_calls(ctx, loop)
    if not calls or _trains(ctx, loop):
        return
    # Autograd is off for the whole process, or the loop needs gradients (saliency, attacks).
    grad_decided = _facts(ctx).grad_off_globally or _wants_grad(ctx, loop)
    untracked_mode = untracked_grad = None
    for model_call in calls:
        coverage = coverage_at(ctx, model_call.call, model_call.model)
        if not coverage.mode and untracked_mode is None and not _starts_in_eval_mode(ctx, model_call.call):
            untracked_mode = model_call
        if not coverage.grad and not grad_decided and untracked_grad is None:
            untracked_grad = model_call
    if untracked_mode is None and untracked_grad is None:
        return
    function = ctx.enclosing_function(loop)
    if function is not None:
        callers = _callers_cover(ctx, function)
        untracked_mode = None if callers.mode else untracked_mode
        untracked_grad = None if callers.grad else untracked_grad
    if untracked_mode is not None:
        yield Diagnostic(node=loop, code="LA301", fields={"model": untracked_mode.model})
    if untracked_grad is not None:
        yield Diagnostic(node=loop, code="LA302", fields={"model": untracked_grad.model})


CHECK = Check(codes=("LA301", "LA302"), candidates=_candidates, examine=_examine)
