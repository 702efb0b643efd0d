"""LA101 (evaluation DataLoader shuffles) and LA102 (too few workers), at DataLoader calls.

Both rules look at the same call: ``torch.utils.data.DataLoader(...)`` as
resolved through the module's imports, with ``**opts`` expanded when ``opts``
is a dict built in sight and names followed to their single assignment.
"""
from __future__ import annotations

import ast
from typing import Dict, Iterator, List, Optional

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.context import ModuleContext
from lightning_advisor.static.names import DATALOADER, TRAINER, torch_data_class
from lightning_advisor.syntax import last_name
from lightning_advisor.static.splits import says_train, split_of
from lightning_advisor.vocabulary import LOADER_HOOKS, PREDICTION, TEST, VALIDATION

_BATCH_SAMPLER = torch_data_class("BatchSampler")
_SUBSET = torch_data_class("Subset")
_TENSOR_DATASET = torch_data_class("TensorDataset")
# DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, ...)
_POSITIONS = {"dataset": 0, "shuffle": 2, "sampler": 3, "batch_sampler": 4, "num_workers": 5}
_RANDOM_SAMPLERS = {
    torch_data_class(name): name for name in ("RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler")
}
_DISTRIBUTED_SAMPLER = torch_data_class("DistributedSampler")
# Trainer method -> (positional index, keyword) of its evaluation loaders, and the split they serve.
_TRAINER_EVAL_ARGS = {
    "fit": (2, "val_dataloaders", VALIDATION),
    "validate": (1, "dataloaders", VALIDATION),
    "test": (1, "dataloaders", TEST),
    "predict": (1, "dataloaders", PREDICTION),
}


def candidates(ctx: ModuleContext) -> Iterator[ast.Call]:
    for call in ctx.calls:
        if last_name(call.func) == "DataLoader" or isinstance(call.func, ast.Name):
            if ctx.imports.resolve(call.func) == DATALOADER:
                yield call


def examine(ctx: ModuleContext, call: ast.Call, options: Options) -> Iterator[Diagnostic]:
    arguments = _arguments(ctx, call)
    how = _shuffles(ctx, arguments)
    if how is not None:
        split = evaluation_split(ctx, call, arguments.get("dataset"))
        if split is not None:
            yield Diagnostic(call, "LA101", {"split": split, "how": how})
    workers = _too_few_workers(ctx, call, arguments, options.min_workers)
    if workers is not None:
        yield Diagnostic(call, "LA102", {"workers": workers, "suggested": options.min_workers})


def _arguments(ctx: ModuleContext, call: ast.Call) -> Dict[str, ast.AST]:
    """The arguments we care about, by name; ``**`` that cannot be expanded is left out."""
    found = {k.arg: k.value for k in call.keywords if k.arg is not None}
    found.update(ctx.keywords(call) or {})
    for name, position in _POSITIONS.items():
        if name not in found:
            value = ctx.argument(call, name, position)
            if value is not None:
                found[name] = value
    return found


# -- LA101 -------------------------------------------------------------------------------
def _shuffles(ctx: ModuleContext, arguments: Dict[str, ast.AST]) -> Optional[str]:
    """How the loader shuffles (``"shuffle=True"``, ``"RandomSampler"``...), or None."""
    if "shuffle" in arguments:
        known, value = ctx.constant(arguments["shuffle"])
        if known and value is True:
            return "shuffle=True"
    if "sampler" in arguments:
        return sampler_shuffles(ctx, arguments["sampler"])
    if "batch_sampler" in arguments:
        batch_sampler = ctx.follow(arguments["batch_sampler"])
        if isinstance(batch_sampler, ast.Call) and ctx.imports.resolve(batch_sampler.func) == _BATCH_SAMPLER:
            inner = ctx.argument(batch_sampler, "sampler", 0)
            if inner is not None:
                return sampler_shuffles(ctx, inner)
    return None


def sampler_shuffles(ctx: ModuleContext, sampler: ast.AST) -> Optional[str]:
    sampler = ctx.follow(sampler)
    if not isinstance(sampler, ast.Call):
        return None
    resolved = ctx.imports.resolve(sampler.func)
    if resolved in _RANDOM_SAMPLERS:
        return _RANDOM_SAMPLERS[resolved]
    if resolved == _DISTRIBUTED_SAMPLER:
        # DistributedSampler(dataset, num_replicas, rank, shuffle=True, ...) shuffles by default.
        shuffle = ctx.argument(sampler, "shuffle", 3)
        if shuffle is None:
            return None if ctx.keywords(sampler) is None else "DistributedSampler, which shuffles by default"
        known, value = ctx.constant(shuffle)
        if known and value is True:
            return "DistributedSampler(shuffle=True)"
    return None


def evaluation_split(ctx: ModuleContext, call: ast.Call, dataset: Optional[ast.AST]) -> Optional[str]:
    """Which evaluation split a DataLoader call serves, from the strongest evidence at hand."""
    hook = _split_from_hook(ctx, call)
    if hook:
        return hook
    names = [name for name in _target_names(ctx, call) if name]
    if any(says_train(name) for name in names):
        return None  # ``train_loader = ...``, ``train_val_loader = ...``: the code says it trains
    return (
        next(filter(None, map(split_of, names)), None)
        or _split_from_trainer_call(ctx, call)
        or (_split_of_dataset(ctx, dataset) if dataset is not None else None)
    )


def _split_from_hook(ctx: ModuleContext, call: ast.Call) -> Optional[str]:
    for parent in ctx.ancestors(call):
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if parent.name in LOADER_HOOKS:
                return LOADER_HOOKS[parent.name]
    return None


def _target_names(ctx: ModuleContext, call: ast.Call) -> List[Optional[str]]:
    """The names the loader is stored under or passed as: ``val_loader = ...``, ``f(test_dl=...)``."""
    parent = ctx.parents.get(call)
    if isinstance(parent, ast.Assign):
        names = [_target_name(t) for t in parent.targets]
    elif isinstance(parent, (ast.AnnAssign, ast.NamedExpr)):
        names = [_target_name(parent.target)]
    elif isinstance(parent, ast.keyword):
        names = [parent.arg]
    elif isinstance(parent, ast.Dict):
        names = [_key_name(k) for k, v in zip(parent.keys, parent.values) if v is call]
    elif isinstance(parent, ast.Return):
        function = ctx.enclosing_function(call)
        names = [function.name] if function is not None else []
    else:
        names = []
    return names


def _target_name(target: ast.AST) -> Optional[str]:
    if isinstance(target, ast.Subscript):
        return _key_name(target.slice)
    return last_name(target)


def _key_name(key: Optional[ast.AST]) -> Optional[str]:
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def _split_from_trainer_call(ctx: ModuleContext, call: ast.Call) -> Optional[str]:
    """The loader (or a name bound to it) goes to ``Trainer.fit/validate/test/predict``."""
    if not ctx.imports.uses_lightning:
        return None
    for use in ctx.calls:
        method = use.func.attr if isinstance(use.func, ast.Attribute) else None
        if method not in _TRAINER_EVAL_ARGS:
            continue
        position, keyword, split = _TRAINER_EVAL_ARGS[method]
        by_keyword = ctx.argument(use, keyword)
        if by_keyword is not None:
            passed = by_keyword
        elif _is_trainer(ctx, use.func.value):
            passed = ctx.argument(use, keyword, position)
        else:
            continue
        if passed is not None and _holds(ctx, passed, call):
            return split
    return None


def _holds(ctx: ModuleContext, passed: ast.AST, call: ast.Call, depth: int = 8) -> bool:
    """``passed`` is the loader call, a name bound to it, or a list/tuple/dict holding one.

    ``depth`` bounds the nesting followed: names can make containers hold themselves (``a = [a]``).
    """
    passed = ctx.follow(passed)
    if passed is call:
        return True
    if not depth:
        return False
    if isinstance(passed, (ast.List, ast.Tuple)):
        return any(_holds(ctx, element, call, depth - 1) for element in passed.elts)
    if isinstance(passed, ast.Dict):
        return any(_holds(ctx, value, call, depth - 1) for value in passed.values)
    return False


def _is_trainer(ctx: ModuleContext, receiver: ast.AST) -> bool:
    receiver = ctx.follow(receiver)
    return isinstance(receiver, ast.Call) and ctx.imports.resolve(receiver.func) == TRAINER


def _split_of_dataset(ctx: ModuleContext, dataset: ast.AST) -> Optional[str]:
    """An evaluation split by the dataset's name or by how it was built (``train=False``, ``split="val"``)."""
    seen = 0
    node = dataset
    while seen < 8:
        seen += 1
        name = _target_name(node) if isinstance(node, ast.Subscript) else last_name(node)
        split = split_of(name) if name else None
        if split:
            return split
        value = ctx.assigned_value(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if value is None:
            break
        node = value
    if isinstance(node, ast.Call):
        return _split_of_constructor(ctx, node)
    return None


def _split_of_constructor(ctx: ModuleContext, call: ast.Call) -> Optional[str]:
    """``MNIST(root, train=False)``, ``load(split="val")``, ``ValDataset(...)``, ``Subset(ds, val_idx)``."""
    named = last_name(call.func)
    if named and split_of(named):
        return split_of(named)
    if len(call.args) >= 2 and ctx.imports.resolve(call.func) == _SUBSET:
        indices = last_name(call.args[1])
        if indices and split_of(indices):
            return split_of(indices)
    keywords = ctx.keywords(call) or {}
    if "train" in keywords:
        known, value = ctx.constant(keywords["train"])
        if known and value is False:
            return "test"  # torchvision's train=False is the held-out test split
    for name in ("split", "subset", "mode", "stage"):
        if name in keywords:
            known, value = ctx.constant(keywords[name])
            if known and isinstance(value, str):
                return split_of(value)
    return None


# -- LA102 -------------------------------------------------------------------------------
def _too_few_workers(ctx: ModuleContext, call, arguments: Dict[str, ast.AST], minimum: int) -> Optional[int]:
    """The constant worker count when it is below ``minimum``; None when fine or unknown."""
    if "num_workers" in arguments:
        known, workers = ctx.constant(arguments["num_workers"])
        if not known or not isinstance(workers, int) or isinstance(workers, bool):
            return None
    elif ctx.keywords(call) is None:
        return None  # an opaque ``**kwargs`` may carry num_workers
    else:
        workers = 0
    if workers >= minimum or _in_memory(ctx, arguments.get("dataset")):
        return None
    return workers


def _in_memory(ctx: ModuleContext, dataset: Optional[ast.AST]) -> bool:
    """A ``TensorDataset`` is already in memory: worker processes would only add overhead."""
    if dataset is None:
        return False
    dataset = ctx.follow(dataset)
    return isinstance(dataset, ast.Call) and ctx.imports.resolve(dataset.func) == _TENSOR_DATASET


CHECK = Check(codes=("LA101", "LA102"), candidates=candidates, examine=examine)
