"""LA301 / LA302: a hand-written evaluation loop in training mode or with autograd on.

An evaluation loop is a ``for`` loop over a DataLoader-like iterable whose body
calls a model and never trains (no ``backward()``, optimizer ``step()``,
``zero_grad()`` or ``.train()``, and no loss gathered from the model's outputs
that is backpropagated after the loop). It is reported at its ``for`` line when

* LA301: nothing in sight puts the model in eval mode (``.eval()`` or
  ``.train(False)``);
* LA302: the model call does not run under ``torch.no_grad()``,
  ``torch.inference_mode()`` or ``torch.set_grad_enabled(False)``.

Both stay quiet whenever the code cannot know: inside Lightning's evaluation
hooks (Lightning switches modes itself), under a ``with`` of the user's own
context manager, in a ``@torch.no_grad()`` helper (its caller manages the
mode), or in a function whose every call in the module is made in eval mode /
without grad. A loop that only looks at its outputs' shapes is a demo, and a
model that is a plain object of the module (no ``nn.Module``) has no eval mode.

Names decide what is a loader and what is a model (see :func:`is_loader_name`
and :func:`is_model_name`), helped by single assignments and annotations.
"""
from __future__ import annotations

import ast
from typing import Dict, Iterator, List, Optional, Set, Tuple

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.static.names import DATALOADER, identifier_words as _words
from lightning_advisor.syntax import child_nodes, dotted_name, last_name, loop_runs_once, walk

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
            stack.extend(child_nodes(node))


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


_BACKWARD_CALLS = ("backward", "manual_backward", "grad")
_COLLECTING_METHODS = {"append", "extend", "insert", "add_"}
_BINDING_STATEMENTS = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)


def _model_outputs(ctx: ModuleContext, loop: ast.AST, calls: List["ModelCall"]) -> Set[str]:
    """Names (``loss``, ``self.total``) the loop body binds or collects from its model calls' outputs."""
    model_calls = {m.call for m in calls}
    statements = sorted(
        (n for n in _body_nodes(loop, _is_nested_scope) if isinstance(n, _BINDING_STATEMENTS)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    outputs: Set[str] = set()

    def derived(value: Optional[ast.AST]) -> bool:
        return value is not None and any(
            node in model_calls or (isinstance(node, (ast.Name, ast.Attribute)) and dotted_name(node) in outputs)
            for node in walk(value)
        )

    for _ in range(2):  # a second pass for names carried over from the previous batch
        for statement in statements:
            if isinstance(statement, ast.Expr):
                call = statement.value
                if (
                    isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr in _COLLECTING_METHODS and any(derived(a) for a in call.args)
                ):
                    outputs.add(dotted_name(call.func.value) or "")
                continue
            if not derived(statement.value):
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                for node in walk(target):
                    if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
                        bound = node.value if isinstance(node, ast.Subscript) else node
                        outputs.add(dotted_name(bound) or "")
    outputs.discard("")
    return outputs


def _backpropagated_after(ctx: ModuleContext, loop: ast.AST, calls: List["ModelCall"]) -> bool:
    """The loop gathers a loss from its model calls that is backpropagated after it: a training pass.

    ``for data in loader: kl_loss += model(data)`` then ``kl_loss.backward()``, ``scaler.scale(loss).backward()``,
    ``self.manual_backward(loss)`` or ``torch.autograd.grad(loss, ...)``, later in the same function.
    """
    facts = _facts(ctx)
    sites = [
        call for name in _BACKWARD_CALLS for call in facts.calls_by_name.get(name, ())
        if (call.lineno, call.col_offset) > (loop.end_lineno, loop.end_col_offset)
    ]
    if not sites:
        return False
    outputs = _model_outputs(ctx, loop, calls)
    if not outputs:
        return False
    scope = ctx.scope_of(loop)
    for call in sites:
        if last_name(call.func) == "grad" and ctx.imports.qualname(call.func) not in _GRAD_API:
            continue
        if ctx.scope_of(call) is not scope or _in_later_loop(ctx, call, loop, scope):
            continue
        operands = [call.func.value] if isinstance(call.func, ast.Attribute) else []
        operands += call.args[:1] if last_name(call.func) == "grad" else call.args
        for operand in operands:
            if any(
                isinstance(node, (ast.Name, ast.Attribute)) and dotted_name(node) in outputs
                for node in walk(operand)
            ):
                return True
    return False


def _in_later_loop(ctx: ModuleContext, node: ast.AST, loop: ast.AST, scope: ast.AST) -> bool:
    """``node`` runs in a loop that starts after ``loop``: a training loop of its own, with its own losses."""
    for parent in ctx.ancestors(node):
        if parent is scope:
            return False
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)) and parent.lineno > loop.end_lineno:
            return True
    return False


_SHAPE_ATTRIBUTES = {"shape", "ndim"}
_SHAPE_METHODS = {"size", "dim", "ndimension"}


def _shape_use(ctx: ModuleContext, node: ast.AST) -> bool:
    """``node.shape``, ``node.size(0)``, ``node.dim()``, ``len(node)``."""
    parent = ctx.parents.get(node)
    if isinstance(parent, ast.Attribute) and parent.value is node:
        if parent.attr in _SHAPE_ATTRIBUTES:
            return True
        grandparent = ctx.parents.get(parent)
        return parent.attr in _SHAPE_METHODS and isinstance(grandparent, ast.Call) and grandparent.func is parent
    return (
        isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id == "len"
        and "len" not in ctx.imports.names and node in parent.args
    )


def _shape_demo(ctx: ModuleContext, loop: ast.AST, calls: List["ModelCall"]) -> bool:
    """The model's outputs are used only for their shape (``print(output.size())``): a demo, not evaluation."""
    names: Set[str] = set()
    shapes = False
    for model_call in calls:
        call = model_call.call
        parent = ctx.parents.get(call)
        if _shape_use(ctx, call):
            shapes = True
        elif isinstance(parent, ast.Assign) and parent.value is call:
            for target in parent.targets:
                elements = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
                for element in elements:
                    element = element.value if isinstance(element, ast.Starred) else element
                    if not isinstance(element, ast.Name):
                        return False
                    names.add(element.id)
        else:
            return False
    for node in _body_nodes(loop, lambda n: False):
        if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):
            if not _shape_use(ctx, node):
                return False
            shapes = True
    return shapes


def _walk_all(nodes: List[ast.AST]) -> Iterator[ast.AST]:
    for node in nodes:
        yield from walk(node)


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


class ModelCall:
    """A call of a model, and the model expression as written: ``model``, ``self.net``, ``self``."""

    __slots__ = ("call", "model")

    def __init__(self, call: ast.Call, model: str) -> None:
        self.call, self.model = call, model


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


# -- models that are plain objects --------------------------------------------------------------
# A from-scratch model (``class MultilayerPerceptron():`` holding bare tensors) is no ``nn.Module``: it has
# no training mode and no ``eval()``. A class is taken for one only when everything in it is in sight.
_PLAIN, _NOT_PLAIN, _UNKNOWN = "plain", "not plain", "unknown"
_TENSOR_CLASSES = {"Parameter", "UninitializedParameter", "UninitializedBuffer"}  # torch.nn names, not modules
_MODEL_MAKERS = {"from_pretrained", "load_from_checkpoint"}
# Packages whose callables never return a torch model.
_NON_MODEL_PACKAGES = {
    "builtins", "numpy", "matplotlib", "pandas", "scipy", "sklearn", "PIL", "seaborn", "cv2", "math", "random",
    "json", "pickle", "csv", "argparse", "collections", "itertools", "functools", "copy", "datetime", "glob",
    "shutil", "re", "typing", "dataclasses", "IPython", "requests", "urllib", "gzip", "struct",
}


def _builds_model(qualname: str) -> bool:
    """Calling ``qualname`` may return a torch model (a layer, a loaded or user-built model)."""
    if qualname in _MODEL_LOADERS or qualname.startswith(_MODEL_FACTORIES):
        return True
    name = qualname.rpartition(".")[2]
    if qualname.startswith("torch.nn."):
        return name[:1].isupper() and name not in _TENSOR_CLASSES and not name.endswith("Loss")
    if qualname.split(".", 1)[0] in _KNOWN_PACKAGES | _NON_MODEL_PACKAGES:
        return False
    # The user's own imports, and other libraries: a class or a model builder may return a model.
    return name[:1].isupper() or is_model_name(name) or bool({"model", "net"}.intersection(_words(name)))


def _is_plain_class(ctx: ModuleContext, cls: ast.ClassDef) -> bool:
    """A class of this module that is no ``nn.Module``: it derives from nothing, ``object`` or such classes.

    Its methods must hold no model either: no ``torch.nn`` layer, no loaded or imported model, no call of a
    callable it was handed (``self.model(x)``), no ``eval`` / ``train`` method of its own.
    """
    cache = _facts(ctx).plain_classes
    if cls not in cache:
        cache[cls] = False  # a cycle of bases, or a class that builds itself: not known to be plain
        cache[cls] = _plain_class(ctx, cls)
    return cache[cls]


def _plain_class(ctx: ModuleContext, cls: ast.ClassDef) -> bool:
    if cls.keywords or ctx.lightning_kind(cls):
        return False
    decorators = (d.func if isinstance(d, ast.Call) else d for d in cls.decorator_list)
    if any(ctx.imports.qualname(d) != "dataclasses.dataclass" for d in decorators):
        return False  # a decorator may make it anything
    methods = {s.name for s in cls.body if isinstance(s, FunctionNode)}
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id == "object" and base.id not in ctx.classes:
            continue
        if not (isinstance(base, ast.Name) and base.id in ctx.classes and _is_plain_class(ctx, ctx.classes[base.id])):
            return False
        methods.update(s.name for s in ctx.classes[base.id].body if isinstance(s, FunctionNode))
    if methods & {"eval", "train"}:
        return False
    return not any(isinstance(node, ast.Call) and _may_call_model(ctx, node, methods) for node in walk(cls))


def _may_call_model(ctx: ModuleContext, call: ast.Call, methods: Set[str]) -> bool:
    """A call in a plain class's body that may build or run a torch model."""
    func = call.func
    if last_name(func) in _MODEL_MAKERS or last_name(func) == "forward":
        return True
    if isinstance(func, ast.Name) and func.id in ctx.classes:
        return not _is_plain_class(ctx, ctx.classes[func.id])
    qualname = ctx.imports.qualname(func)
    if qualname is not None:
        return _builds_model(qualname)
    if isinstance(func, ast.Name):
        return is_model_name(func.id)
    if isinstance(func, ast.Attribute):
        receiver = dotted_name(func.value)
        if receiver == "self":
            return func.attr not in methods  # ``self.layer(x)``: a callable it holds
        parts = receiver.split(".") if receiver else []
        return any(is_model_name(part) for part in parts if part != "self") or is_model_name(func.attr)
    return True  # ``self.layers[i](x)``, ``make()(x)``


def _object_kind(ctx: ModuleContext, node: ast.AST) -> Tuple[str, ast.AST]:
    """Whether ``node`` stands for an instance of a plain class, and the expression it was followed to."""
    value = _construction(ctx, node)
    if isinstance(value, (ast.Name, ast.Attribute)):
        return _UNKNOWN, value
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ctx.classes:
        return (_PLAIN if _is_plain_class(ctx, ctx.classes[value.func.id]) else _NOT_PLAIN), value
    return _NOT_PLAIN, value


def _parameter_kind(ctx: ModuleContext, name: ast.Name) -> str:
    """A parameter of a module-level function: what every call of that function in the module passes.

    The same call sites as :func:`_callers_cover`; a call that passes another function's parameter is unknown.
    """
    function = ctx.enclosing_function(name)
    if function is None or ctx.functions.get(function.name) is not function:
        return _UNKNOWN
    positional = [a.arg for a in function.args.posonlyargs + function.args.args]
    if name.id not in positional + [a.arg for a in function.args.kwonlyargs]:
        return _UNKNOWN
    if any(isinstance(n, ast.Name) and n.id == name.id and isinstance(n.ctx, ast.Store) for n in walk(function)):
        return _UNKNOWN  # rebound inside the function
    position = positional.index(name.id) if name.id in positional else None
    kinds = set()
    for site in _facts(ctx).calls_by_name.get(function.name, ()):
        if not isinstance(site.func, ast.Name) or function in _enclosing_functions(ctx, site):
            continue
        arg = ctx.argument(site, name.id, position)
        if arg is None:
            return _UNKNOWN  # a default, or ``*args``
        kinds.add(_object_kind(ctx, arg)[0])
    if _NOT_PLAIN in kinds:
        return _NOT_PLAIN
    return _PLAIN if kinds == {_PLAIN} else _UNKNOWN


def _model_object(ctx: ModuleContext, model_call: "ModelCall") -> str:
    """``_PLAIN`` when the model called is an instance of a plain class, as far as the module shows."""
    call = model_call.call
    if model_call.model == "self":
        method = ctx.method_of(call)
        return _PLAIN if method is not None and _is_plain_class(ctx, method[0]) else _NOT_PLAIN
    func = call.func
    target = func.value if isinstance(func, ast.Attribute) and func.attr == "forward" else func
    kind, value = _object_kind(ctx, target)
    if kind == _UNKNOWN and isinstance(value, ast.Name):
        kind = _parameter_kind(ctx, value)
    if kind == _UNKNOWN and _facts(ctx).only_plain_models(ctx):
        kind = _PLAIN  # whatever was passed in, the module has no other kind of model to pass
    return kind


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
        self.plain_classes: Dict[ast.ClassDef, bool] = {}  # filled by _is_plain_class
        self._only_plain_models: Optional[bool] = None
        self._grad_free: Optional[bool] = None
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

    def only_plain_models(self, ctx: ModuleContext) -> bool:
        """The module's model classes are all plain ones, and it builds, loads or imports no other model."""
        if self._only_plain_models is None:
            models = [cls for cls in ctx.classes.values() if _is_module_class(ctx, cls)]
            self._only_plain_models = (
                bool(models)
                and all(_is_plain_class(ctx, cls) for cls in models)
                and not any(_may_build_model(ctx, call) for call in ctx.calls)
            )
        return self._only_plain_models

    def grad_free(self, ctx: ModuleContext) -> bool:
        """No tensor of the module asks for grad: no ``requires_grad``, no ``nn.Parameter``, no torch model.

        Then a plain model's forward records no graph, and autograd being on costs nothing.
        """
        if self._grad_free is None:
            lines = ctx.lines
            self._grad_free = (
                lines is not None
                and self.only_plain_models(ctx)
                and not any("requires_grad" in line or "Parameter" in line for line in lines)
            )
        return self._grad_free


def _may_build_model(ctx: ModuleContext, call: ast.Call) -> bool:
    if last_name(call.func) in _MODEL_MAKERS:
        return True
    if isinstance(call.func, ast.Name) and call.func.id in ctx.classes:
        return False  # the module's own classes: judged by only_plain_models
    qualname = ctx.imports.qualname(call.func)
    return qualname is not None and _builds_model(qualname)


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
        isinstance(n, ast.Name) and n.id == root and isinstance(n.ctx, ast.Store) for n in walk(function)
    )


class Coverage:
    """Whether a node runs in eval mode (``mode``) and without grad (``grad``), as far as we can see."""

    __slots__ = ("mode", "grad")

    def __init__(self, mode: bool, grad: bool) -> None:
        self.mode, self.grad = mode, grad


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
    if not calls or _trains(ctx, loop) or _backpropagated_after(ctx, loop, calls) or _shape_demo(ctx, loop, calls):
        return
    facts = _facts(ctx)
    # Autograd is off for the whole process, or the loop needs gradients (saliency, attacks).
    grad_decided = facts.grad_off_globally or _wants_grad(ctx, loop)
    untracked_mode = untracked_grad = None
    for model_call in calls:
        coverage = coverage_at(ctx, model_call.call, model_call.model)
        mode = not coverage.mode and untracked_mode is None and not _starts_in_eval_mode(ctx, model_call.call)
        grad = not coverage.grad and not grad_decided and untracked_grad is None
        if (mode or grad) and _model_object(ctx, model_call) == _PLAIN:
            # A plain object has no eval(); it records a graph only if some tensor asks for grad.
            mode, grad = False, grad and not facts.grad_free(ctx)
        if mode:
            untracked_mode = model_call
        if grad:
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
