"""LA101 (evaluation DataLoader shuffles) and LA102 (too few workers), at DataLoader calls.

Both rules look at the same call: ``torch.utils.data.DataLoader(...)`` as
resolved through the module's imports, with ``**opts`` expanded when ``opts``
is a dict built in sight and names followed to their single assignment.
"""
from __future__ import annotations

import ast
import builtins
from typing import Dict, Iterator, List, Optional

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.static.names import DATALOADER, TRAINER, torch_data_class
from lightning_advisor.syntax import child_nodes, last_name, loop_runs_once, parameter_names, walk
from lightning_advisor.static.splits import says_train, split_of
from lightning_advisor.vocabulary import LOADER_HOOKS, PREDICTION, TEST, TRAINING, VALIDATION

_BATCH_SAMPLER = torch_data_class("BatchSampler")
_SUBSET = torch_data_class("Subset")
# DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, ...)
POSITIONS = {"dataset": 0, "shuffle": 2, "sampler": 3, "batch_sampler": 4, "num_workers": 5}
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
    configurations = _configurations(ctx, call)
    read = batches_read(ctx, call)
    # a loader read once (a sample batch, the whole set in one batch) has no order worth keeping; one nothing
    # reads yet is still reported: whoever evaluates with it gets shuffled batches
    how = None if read == ONE else next(filter(None, map(lambda a: _shuffles(ctx, a), configurations)), None)
    if how is not None:
        split = evaluation_split(ctx, call, configurations[0].get("dataset"))
        if split is not None:
            yield Diagnostic(call, "LA101", {"split": split, "how": how})
    if read is not None:
        return  # read once, or by nothing: no workers to keep busy
    # too few workers in every configuration the code can run with
    counts = [_too_few_workers(ctx, arguments, options.min_workers) for arguments in configurations]
    if None not in counts:
        split = loader_split(ctx, call, configurations[0].get("dataset"))
        loader = f"{split} DataLoader" if split else "DataLoader"
        fields = {"loader": loader, "workers": max(counts), "suggested": options.min_workers}
        yield Diagnostic(call, "LA102", fields)


def _arguments(ctx: ModuleContext, call: ast.Call, expanded: Optional[Dict[str, ast.AST]] = None) -> Dict[str, ast.AST]:
    """The arguments we care about, by name; a ``**`` that cannot be expanded is left out, marked by ``OPAQUE``."""
    found = {k.arg: k.value for k in call.keywords if k.arg is not None}
    if expanded is None:
        expanded = ctx.keywords(call)
        if expanded is None:
            found[OPAQUE] = call
    found.update(expanded or {})
    for name, position in POSITIONS.items():
        if name not in found:
            value = ctx.argument(call, name, position)
            if value is not None:
                found[name] = value
    return found


OPAQUE = "**"  # the key under which _arguments marks a ``**options`` it could not expand


def _configurations(ctx: ModuleContext, call: ast.Call) -> List[Dict[str, ast.AST]]:
    """The arguments the call can run with: one set, or one per way its ``**options`` can be built.

    ``kwargs = {"num_workers": 1} if use_cuda else {}`` gives one per branch; ``test_kwargs.update(cuda_kwargs)``
    in the same function gives the dict with and without the update (the update may sit under an ``if``).
    """
    starred = [k.value for k in call.keywords if k.arg is None]
    if len(starred) != 1:
        return [_arguments(ctx, call)]
    options = ctx.follow(starred[0])
    if isinstance(options, ast.IfExp):
        branches = [ctx.dict_items(ctx.follow(branch)) for branch in (options.body, options.orelse)]
        if all(branch is not None for branch in branches):
            return [_arguments(ctx, call, branch) for branch in branches]
    base = _arguments(ctx, call)
    updates = _dict_updates(ctx, starred[0]) if ctx.keywords(call) is not None else []
    if not updates:
        return [base]
    updated = dict(ctx.keywords(call) or {})
    for update in updates:
        updated.update(update)
    return [base, _arguments(ctx, call, updated)]


def _dict_updates(ctx: ModuleContext, name: ast.AST) -> List[Dict[str, ast.AST]]:
    """The items of ``name.update({...})`` calls on a dict bound once in the same scope."""
    if not isinstance(name, ast.Name):
        return []
    scope = ctx.scope_of(name)
    updates = []
    for call in ctx.calls:
        func = call.func
        if (
            isinstance(func, ast.Attribute) and func.attr == "update" and isinstance(func.value, ast.Name)
            and func.value.id == name.id and len(call.args) == 1 and ctx.scope_of(call) is scope
        ):
            items = ctx.dict_items(ctx.follow(call.args[0]))
            if items is None:
                return []  # an update we cannot read may set anything
            updates.append(items)
    return updates


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
    names = [name for name in target_names(ctx, call) if name]
    if any(says_train(name) for name in names):
        return None  # ``train_loader = ...``, ``train_val_loader = ...``: the code says it trains
    return (
        next(filter(None, map(split_of, names)), None)
        or _split_from_trainer_call(ctx, call)
        or (_split_of_dataset(ctx, dataset) if dataset is not None else None)
    )


def loader_split(ctx: ModuleContext, call: ast.Call, dataset: Optional[ast.AST]) -> Optional[str]:
    """The split a DataLoader call serves, training included, where the code says it; else None."""
    if _in_function(ctx, call, "train_dataloader") or any(says_train(n) for n in target_names(ctx, call) if n):
        return TRAINING
    return evaluation_split(ctx, call, dataset)


def _in_function(ctx: ModuleContext, call: ast.Call, name: str) -> bool:
    function = ctx.enclosing_function(call)
    return function is not None and function.name == name


def _split_from_hook(ctx: ModuleContext, call: ast.Call) -> Optional[str]:
    for parent in ctx.ancestors(call):
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if parent.name in LOADER_HOOKS:
                return LOADER_HOOKS[parent.name]
    return None


def target_names(ctx: ModuleContext, call: ast.AST) -> List[Optional[str]]:
    """The names a call's result is stored under or passed as: ``val_loader = ...``, ``f(test_dl=...)``."""
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
def _too_few_workers(ctx: ModuleContext, arguments: Dict[str, ast.AST], minimum: int) -> Optional[int]:
    """The constant worker count when it is below ``minimum`` and loading is real work; else None."""
    if "num_workers" in arguments:
        known, workers = ctx.constant(arguments["num_workers"])
        if not known or not isinstance(workers, int) or isinstance(workers, bool):
            return None
    elif OPAQUE in arguments:
        return None  # an opaque ``**kwargs`` may carry num_workers
    else:
        workers = 0
    if workers >= minimum or "dataset" not in arguments or is_test_file(ctx.filename):
        return None
    return workers if loading_does_work(ctx, arguments["dataset"]) else None


def is_test_file(filename: str) -> bool:
    """``tests/...``, ``test_x.py``, ``x_test.py``, ``conftest.py``: tests pick workers for speed and repeatability."""
    parts = filename.replace("\\", "/").split("/")
    name = parts[-1]
    return (
        any(part in ("tests", "test") for part in parts[:-1])
        or name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    )


# Packages whose datasets read, decode or transform on every item.
_LOADING_PACKAGES = ("torchvision.datasets.", "torchaudio.datasets.", "torchtext.datasets.")
# Wrappers whose items are their inner dataset's: Subset(ds, idx), ConcatDataset([a, b]), random_split(ds, ...).
_WRAPPERS = {torch_data_class("Subset"), torch_data_class("ConcatDataset"), torch_data_class("random_split")}
_TRANSFORM_KEYWORDS = ("transform", "transforms", "target_transform", "transform_fn")
# Calls in a Dataset's __getitem__ that read, decode or transform: ``Image.open(path)``, ``np.load(f)``.
_LOADING_CALLS = frozenset({
    "open", "imread", "imdecode", "read_image", "decode_image", "decode_jpeg", "load", "loadmat", "read_csv",
    "read_parquet", "read_json", "read_file", "read", "transform", "transforms", "augment", "augmentation",
})
_MAX_FOLLOW = 6


def loading_does_work(
    ctx: ModuleContext, dataset: ast.AST, depth: int = _MAX_FOLLOW, index: Optional[int] = None
) -> bool:
    """There is evidence in sight that fetching an item of ``dataset`` does work: reading, decoding, transforming.

    A torchvision / torchaudio / torchtext dataset, a dataset built with ``transform=``, or a class of
    the user's whose ``__getitem__`` opens, decodes or transforms; followed through names, ``self``
    attributes (also those a base class sets), ``Subset``, ``ConcatDataset``, ``random_split`` and the
    ``return`` of the module's own functions. Anything else (tensors in memory, a parameter, a value
    that cannot be followed) is no evidence. ``index``: which element of a returned tuple is meant.
    """
    if depth <= 0:
        return False
    if isinstance(dataset, (ast.Name, ast.Attribute)):
        unpacked = ctx.unpacked_from(dataset)
        if unpacked is not None:  # train, val = random_split(full, [...]); full, test = load_data()
            return loading_does_work(ctx, unpacked.call, depth - 1, unpacked.index)
        if ctx.assigned_value(dataset) is None:
            inherited = ctx.inherited_binding(dataset)  # set in a base class's setup()
            if inherited is not None:
                other, value = inherited
                if isinstance(value, ast.AST):
                    return loading_does_work(other, value, depth - 1)
                return loading_does_work(other, value.call, depth - 1, value.index)
    node = ctx.follow(dataset)
    if isinstance(node, ast.Subscript):  # random_split(full, [...])[0]
        return loading_does_work(ctx, node.value, depth - 1)
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(loading_does_work(ctx, element, depth - 1) for element in node.elts)
    if not isinstance(node, ast.Call):
        return False
    qualname = ctx.imports.qualname(node.func) or ""
    if qualname.startswith(_LOADING_PACKAGES):
        return True
    if ctx.imports.resolve(node.func) in _WRAPPERS:
        inner = ctx.argument(node, "dataset", 0) or ctx.argument(node, "datasets", 0)
        return inner is not None and loading_does_work(ctx, inner, depth - 1)
    keywords = ctx.keywords(node) or {}
    if any(_given(ctx, keywords[name]) for name in _TRANSFORM_KEYWORDS if name in keywords):
        return True
    if isinstance(node.func, ast.Name) and node.func.id in ctx.functions:
        return any(
            loading_does_work(ctx, value, depth - 1)
            for value in _returned(ctx.functions[node.func.id], index)
        )
    cls = ctx.classes.get(node.func.id) if isinstance(node.func, ast.Name) else None
    return cls is not None and _dataset_class_does_work(ctx, cls)


def _returned(function: ast.AST, index: Optional[int]) -> List[ast.AST]:
    """What ``function``'s own ``return`` statements return (element ``index`` of a returned tuple)."""
    values, stack = [], list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if index is not None:
                if not (isinstance(value, ast.Tuple) and index < len(value.elts)):
                    continue
                value = value.elts[index]
            values.append(value)
        elif not isinstance(node, (*FunctionNode, ast.ClassDef, ast.Lambda)):
            stack.extend(child for child in child_nodes(node) if isinstance(child, ast.stmt))
    return values


def _given(ctx: ModuleContext, value: ast.AST) -> bool:
    known, constant = ctx.constant(value)
    return not (known and constant is None)


def _dataset_class_does_work(ctx: ModuleContext, cls: ast.ClassDef) -> bool:
    """A dataset class of this module that reads or transforms per item, or extends one from torchvision."""
    for base in cls.bases:
        if (ctx.imports.qualname(base) or "").startswith(_LOADING_PACKAGES):
            return True
    getitem = next((s for s in cls.body if isinstance(s, FunctionNode) and s.name == "__getitem__"), None)
    if getitem is None:
        return False
    return any(isinstance(n, ast.Call) and last_name(n.func) in _LOADING_CALLS for n in walk(getitem))


ONE, NONE = "one batch", "no batch"  # what batches_read finds


def batches_read(ctx: ModuleContext, call: ast.Call) -> Optional[str]:
    """``ONE`` when one batch is read, ``NONE`` when nothing reads the loader, None otherwise (or unknown).

    One: ``next(iter(DataLoader(...)))``, ``for batch in DataLoader(...): ...; break``, or a name bound to the
    loader that is only ever used so (also through ``it = iter(loader)``, then ``next(it)`` or ``it.next()``).
    A name bound to several loaders in a row is judged, for each binding, by the reads that see it
    (:func:`_reads_of`). ``NONE``: a binding nothing reads, nor can another module (:func:`_feeds_nothing`).
    """
    if _reads_one_batch(ctx, call):
        return ONE
    found = _name_reads(ctx, call)
    if found is None:
        return None
    target, scope, loads, seen = found
    if loads and all(_reads_one_batch(ctx, load) for load in loads):
        return ONE  # every read of the name, whichever binding it sees, takes one batch
    if seen is None:
        return None
    reads, last = seen
    if reads:
        return ONE if all(_reads_one_batch(ctx, read) for read in reads) else None
    return NONE if _feeds_nothing(ctx, target, scope, last) else None


def _reads_one_batch(ctx: ModuleContext, loader: ast.AST) -> bool:
    """``loader`` (the call, or a read of a name bound to it) gives one batch: ``next(iter(loader))``, a
    ``for`` loop over it that always breaks on its first pass, or ``it = iter(loader)`` with ``it`` only
    read by ``next(it)`` / ``it.next()`` outside loops."""
    parent = ctx.parents.get(loader)
    if isinstance(parent, (ast.For, ast.AsyncFor)) and parent.iter is loader:
        return loop_runs_once(parent)
    iterator = _iterator_of(ctx, loader, parent)
    if iterator is None:
        return False
    if _takes_next(ctx, iterator):
        return True
    found = _name_reads(ctx, iterator)
    if found is None:
        return False
    _, scope, loads, seen = found
    if loads and all(_takes_one_next(ctx, load, scope) for load in loads):
        return True
    return seen is not None and all(_takes_one_next(ctx, read, scope) for read in seen[0])


def _name_reads(ctx: ModuleContext, node: ast.AST):
    """The name ``node`` is assigned to, its scope, every read of that name there, and what :func:`_reads_of`
    says about the reads this binding sees (None when it cannot tell); None when ``node`` is not assigned."""
    target = _assigned_name(ctx, node)
    if target is None:
        return None
    scope = ctx.scope_of(target)
    loads = _loads_under(ctx, target.id, scope)
    return target, scope, loads, _reads_of(ctx, target, scope, loads)


def _iterator_of(ctx: ModuleContext, loader: ast.AST, parent: Optional[ast.AST]) -> Optional[ast.Call]:
    """The ``iter(loader)`` or ``loader.__iter__()`` call around ``loader``, if that is its parent."""
    if isinstance(parent, ast.Call) and last_name(parent.func) == "iter" and parent.args[:1] == [loader]:
        return parent
    if isinstance(parent, ast.Attribute) and parent.attr == "__iter__":
        call = ctx.parents.get(parent)
        if isinstance(call, ast.Call) and call.func is parent and not call.args:
            return call
    return None


def _takes_next(ctx: ModuleContext, iterator: ast.AST) -> bool:
    """``next(iterator)``, ``iterator.next()`` (the old Python 2 spelling) or ``iterator.__next__()``."""
    parent = ctx.parents.get(iterator)
    if isinstance(parent, ast.Call):
        return last_name(parent.func) == "next" and parent.args[:1] == [iterator]
    if isinstance(parent, ast.Attribute) and parent.attr in ("next", "__next__"):
        call = ctx.parents.get(parent)
        return isinstance(call, ast.Call) and call.func is parent and not call.args
    return False


# Between a read and its scope: a loop, a comprehension or a function may take ``next()`` many times.
_REPEATS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
            *FunctionNode, ast.Lambda)


def _takes_one_next(ctx: ModuleContext, read: ast.Name, scope: ast.AST) -> bool:
    """A read of an iterator's name that takes one item, and not in a loop, comprehension or nested function."""
    if not _takes_next(ctx, read):
        return False
    for parent in ctx.ancestors(read):
        if parent is scope:
            return True
        if isinstance(parent, _REPEATS):
            return False
    return True


def _assigned_name(ctx: ModuleContext, value: ast.AST) -> Optional[ast.Name]:
    """The name ``value`` is stored under by ``name = value`` (one plain name, no chain, no unpacking)."""
    parent = ctx.parents.get(value)
    if (
        isinstance(parent, ast.Assign) and parent.value is value and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        return parent.targets[0]
    return None


class _Names:
    """Module-wide facts about names, computed once (``ctx.memo``) from the nodes the context walk recorded.

    ``by_id``: every ``Name`` node (read, bound or deleted), by identifier. ``bound_otherwise``: names
    also bound by something else than a plain name (``def``, ``class``, ``import``, ``except ... as``,
    ``global`` / ``nonlocal``, ``match`` captures). ``strings``: identifiers spelled as string
    constants (``__all__``, ``globals()["x"]``). ``dynamic``: the module reads names by ``globals()``,
    ``locals()``, ``vars()``, ``eval`` or ``exec``. ``script``: at module level, a statement is a loop
    or a call of one of the module's own functions (see :func:`_is_script`). ``orphan_iterated``: the
    module loops over (or passes to ``enumerate``, ``iter``, ``len``...) a name it never binds, as a
    misspelled loader name would be (``dataloader = ...``, then ``for batch in mnist_loader``).
    """

    __slots__ = ("by_id", "bound_otherwise", "strings", "dynamic", "script", "orphan_iterated")

    def __init__(self, ctx: ModuleContext) -> None:
        self.by_id: Dict[str, List[ast.Name]] = {}
        self.bound_otherwise = set()
        self.strings = set()
        by_id, bound_otherwise, strings = self.by_id, self.bound_otherwise, self.strings
        parameters = set()
        for node in ctx.parents:
            kind = type(node)
            if kind is ast.Name:
                by_id.setdefault(node.id, []).append(node)
            elif kind is ast.arg:
                parameters.add(node.arg)
            elif kind is ast.Constant:
                if type(node.value) is str and node.value.isidentifier():
                    strings.add(node.value)
            elif kind in _NAMED_BINDERS:
                name = getattr(node, _NAMED_BINDERS[kind])
                if name:
                    bound_otherwise.add(name)
            elif kind in (ast.Global, ast.Nonlocal):
                bound_otherwise.update(node.names)
        for statement in ctx.import_statements:
            for alias in statement.names:
                bound_otherwise.add(alias.asname or alias.name.split(".")[0])
        self.dynamic = any(_reads_names_dynamically(call) for call in ctx.calls)
        self.script = _is_script(ctx)
        self.orphan_iterated = any(
            _iterated(ctx, node)
            for name, nodes in by_id.items()
            if name not in bound_otherwise and name not in parameters and name not in _PREDEFINED
            and all(isinstance(node.ctx, ast.Load) for node in nodes)
            for node in nodes
        )


# Names a module or a notebook reads without binding them.
_PREDEFINED = frozenset(dir(builtins)) | {
    "__file__", "__builtins__", "__path__", "__annotations__", "get_ipython", "display", "In", "Out",
}
_TAKES_ITERABLE = frozenset({"enumerate", "iter", "next", "len", "zip"})


def _iterated(ctx: ModuleContext, node: ast.Name) -> bool:
    """``for x in node``, ``[... for x in node]``, ``enumerate(node)``, ``len(node)``..."""
    parent = ctx.parents.get(node)
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)):
        return parent.iter is node
    return isinstance(parent, ast.Call) and last_name(parent.func) in _TAKES_ITERABLE and node in parent.args


_NAMED_BINDERS = {
    ast.FunctionDef: "name", ast.AsyncFunctionDef: "name", ast.ClassDef: "name", ast.ExceptHandler: "name",
    **({ast.MatchAs: "name", ast.MatchStar: "name", ast.MatchMapping: "rest"} if hasattr(ast, "MatchAs") else {}),
}


def _reads_names_dynamically(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Name):
        return False
    return func.id in ("globals", "locals", "eval", "exec") or (func.id == "vars" and not call.args)


def _is_script(ctx: ModuleContext) -> bool:
    """The module runs work when executed: at its top level, a ``for`` / ``while`` loop, or a call of one of
    its own functions as a statement (a notebook, a tutorial script). Its names are hardly imported."""
    for statement in ctx.tree.body:
        if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
            return True
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            func = statement.value.func
            if isinstance(func, ast.Name) and func.id in ctx.functions:
                return True
    return False


def _read_in_comment(ctx: ModuleContext, name: str) -> bool:
    """A whole-line comment is code that reads ``name``: a use switched off, not gone
    (``# trainer.fit(model, train_loader)``, ``# for batch in train_loader:``). Unknown lines: assume so."""
    if ctx.lines is None:
        return True
    for line in ctx.lines:
        if name not in line:
            continue
        text = line.strip()
        if not text.startswith("#"):
            continue
        code = text.lstrip("#").strip()
        try:
            tree = ast.parse(code + " pass" if code.endswith(":") else code)
        except (SyntaxError, ValueError):
            continue
        if any(isinstance(node, ast.Name) and node.id == name for node in walk(tree)):
            return True
    return False


def _position(node: ast.AST):
    return node.lineno, node.col_offset


def _end(node: ast.AST):
    return node.end_lineno, node.end_col_offset


def _loads_under(ctx: ModuleContext, name: str, scope: ast.AST) -> List[ast.Name]:
    """Every read of ``name`` inside ``scope``, nested functions included (whatever binding they see)."""
    nodes = ctx.memo(_Names).by_id.get(name, ())
    return [
        node for node in nodes
        if isinstance(node.ctx, ast.Load) and (scope is ctx.tree or any(a is scope for a in ctx.ancestors(node)))
    ]


def _reads_of(ctx: ModuleContext, target: ast.Name, scope: ast.AST, loads: List[ast.Name]):
    """(the reads that see the binding made at ``target``, whether it is the scope's last binding of the
    name), or None when that cannot be told.

    Bound once in its scope: every read in the scope (``loads``). Bound several times: only when every
    binding is a plain ``name = ...`` in one statement list (of the scope, or of ``if`` blocks in it),
    and no read from a nested function sees the scope's name; then a binding's reads are those after it
    and up to the end of the next binding (whose value may still read it), in source order.
    """
    names = ctx.memo(_Names)
    nodes = names.by_id.get(target.id, ())
    stores = [node for node in nodes if not isinstance(node.ctx, ast.Load) and ctx.scope_of(node) is scope]
    if len(stores) == 1 and target.id not in parameter_names(scope):
        return loads, True
    if target.id in names.bound_otherwise or target.id in parameter_names(scope):
        return None  # also bound by a ``def``, an import, a parameter, a ``global`` statement...
    statements = []
    for store in stores:
        statement = ctx.parents.get(store)
        if _assigned_name(ctx, getattr(statement, "value", None)) is not store:
            return None  # unpacked, a loop target, ``del``, ``+=``, ``with ... as``...
        statements.append(statement)
    block = ctx.parents.get(statements[0])
    if not all(ctx.parents.get(s) is block and _same_list(block, statements[0], s) for s in statements):
        return None
    for parent in [block, *ctx.ancestors(block)] if block is not scope else []:
        if parent is scope:
            break
        if not isinstance(parent, ast.If):
            return None  # a loop may run a later binding before an earlier read; a ``try`` may skip one
    for load in loads:
        if ctx.scope_of(load) is not scope and not _shadowed(ctx, load, scope, names):
            return None  # a function reads the name when it is called: which binding it sees is unknown
    statements.sort(key=_position)
    index = next(i for i, s in enumerate(statements) if s is ctx.parents.get(target))
    start = _end(statements[index])
    stop = _end(statements[index + 1]) if index + 1 < len(statements) else None
    reads = [
        load for load in loads
        if ctx.scope_of(load) is scope and start <= _position(load) and (stop is None or _position(load) < stop)
    ]
    return reads, stop is None


def _same_list(block: ast.AST, first: ast.stmt, other: ast.stmt) -> bool:
    """``first`` and ``other`` are in the same statement list of ``block`` (both in ``body``, or in ``orelse``)."""
    for field in ("body", "orelse"):
        statements = getattr(block, field, None)
        if isinstance(statements, list) and first in statements:
            return other in statements
    return False


def _shadowed(ctx: ModuleContext, load: ast.Name, scope: ast.AST, names: _Names) -> bool:
    """``load`` sits in a function nested in ``scope`` that binds the name itself (a parameter, an assignment)."""
    inner = ctx.scope_of(load)
    while inner is not scope and inner is not ctx.tree:
        if load.id in parameter_names(inner) or any(
            not isinstance(node.ctx, ast.Load) and ctx.scope_of(node) is inner for node in names.by_id[load.id]
        ):
            return True
        inner = ctx.scope_of(inner)
    return False


def _feeds_nothing(ctx: ModuleContext, target: ast.Name, scope: ast.AST, last: bool) -> bool:
    """Nothing reads the loader bound at ``target``: no read sees it, and no other module can.

    Certain for a binding the same scope binds again before any read, and for a function's local name;
    for the last binding of a module-level name, only in a script (:func:`_is_script`): a module of
    definitions may have its loader imported elsewhere. Never when the name is spelled in a string
    (``__all__``), declared ``global`` / ``nonlocal``, bound in a class body (read as an attribute), the
    module reads names through ``globals()``, ``locals()``, ``vars()``, ``eval`` or ``exec``, it
    iterates a name it never binds (perhaps this loader, misspelled), or commented-out code reads the name.
    """
    names = ctx.memo(_Names)
    if target.id in names.strings or names.dynamic or names.orphan_iterated or _read_in_comment(ctx, target.id):
        return False
    for parent in ctx.ancestors(target):
        if parent is scope:
            break
        if isinstance(parent, ast.ClassDef):
            return False
    if target.id in names.bound_otherwise:
        return False  # a ``global`` statement, an import or a ``def`` of the same name: other readers may see it
    return not last or scope is not ctx.tree or names.script


CHECK = Check(codes=("LA101", "LA102"), candidates=candidates, examine=examine)
