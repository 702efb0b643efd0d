"""LA104: evaluation data built with torchvision's random augmentation (``RandomCrop``, ``ColorJitter``, ...).

Two things say that a transform pipeline serves evaluation data, and the finding goes where they say it:

- the pipeline is bound to an evaluation name: ``val_transform = Compose([RandomCrop(32), ...])``,
  ``self.test_tf = ...``, ``{"val": Compose(...)}``, ``f(val_transforms=Compose(...))``, the ``return`` of
  ``def val_transform(self)``: reported at the ``Compose(...)`` (or at the lone random transform);
- a dataset is built with it (``transform=``, ``transforms=``, ``*_transform=``, or positionally where the
  call is evidently a dataset) and that dataset is evaluation data by LA101's split inference (built in a
  ``val_dataloader`` hook, its name, ``train=False`` / ``split="val"``, the evaluation DataLoader it feeds):
  reported at the dataset's construction, or at the ``random_split`` / ``Subset`` whose evaluation part it is.

Names resolve through the module's imports to ``torchvision.transforms`` (v1 and v2); pipelines are read
through ``Compose``, ``nn.Sequential`` and single assignments. Quiet when unsure: a transform that is a
parameter, a function's result or a conditional expression; a dataset of no known split; code under
``if train:`` / ``if augment:``; test-time augmentation and self-supervised views said in the names
(``tta``, ``test_time``, ``contrastive``, ``simclr``...); a dataset whose ``.transform`` is set again later.
"""
from __future__ import annotations

import ast
from typing import Dict, FrozenSet, Iterator, List, Optional, Sequence, Set, Tuple

from lightning_advisor.static.base import Check, Diagnostic, Options
from lightning_advisor.static.callnames import calls_named
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.static.dataloaders import evaluation_split, loader_split, target_names
from lightning_advisor.static.names import DATALOADER, identifier_words, torch_data_class
from lightning_advisor.static.splits import says_train, split_of
from lightning_advisor.syntax import dotted_name, last_name, walk
from lightning_advisor.vocabulary import (
    CHANCE_ONLY,
    RANDOM_TRANSFORMS,
    TRAINING,
    TRANSFORM_PIPELINE,
    TRANSFORMS_PACKAGE,
)

# Words a file with random augmentation contains: checked in its text before any other work.
_TRIGGERS = ("Random", "Jitter", "Augment", "AugMix", "Elastic", "CutMix", "MixUp", "GaussianNoise")
_SEQUENTIAL = frozenset({"torch.nn.Sequential", "torch.nn.modules.container.Sequential"})
_RANDOM_SPLIT, _SUBSET = torch_data_class("random_split"), torch_data_class("Subset")
_DATASETS = "torchvision.datasets."
_TRANSFORM_WORDS = frozenset({"transform", "transforms"})
_DATASET_WORDS = ("dataset", "datasets", "dset", "data", "set", "ds")
# Randomness on purpose: test-time augmentation, the views of self-supervised learning.
_DELIBERATE_WORDS = frozenset({"tta", "views", "multiview", "pretext", "ssl", "augmented"})
_DELIBERATE_PARTS = ("contrast", "simclr", "moco", "byol", "swav", "barlow", "dino")
_TRAINING_WORDS = frozenset({"train", "training", "augment", "augmentation", "aug"})
_MAX_DEPTH = 8


def candidates(ctx: ModuleContext) -> List[ast.Call]:
    """Pipelines bound to a name, and calls given a transform: only in files that build a random transform."""
    if not any(module.partition(".")[0] == "torchvision" for module in ctx.imports.modules):
        return []
    if ctx.lines is not None:
        text = "".join(ctx.lines)
        if not any(word in text for word in _TRIGGERS):
            return []
    if not any(_transform_class(ctx, call.func) in RANDOM_TRANSFORMS for call in calls_named(ctx, *_names(ctx))):
        return []
    pipelines = ctx.memo(_transform_calls)
    found = []
    for call in ctx.calls:
        if call in pipelines:
            if _bound(ctx, call):
                found.append(call)
        elif call.keywords or any(isinstance(arg, (ast.Name, ast.Attribute, ast.Call)) for arg in call.args):
            found.append(call)
    return found


def examine(ctx: ModuleContext, call: ast.Call, options: Options) -> Iterator[Diagnostic]:
    if call in ctx.memo(_transform_calls):
        yield from _named_pipeline(ctx, call)
    elif ctx.imports.resolve(call.func) not in (DATALOADER, _RANDOM_SPLIT, _SUBSET):
        yield from _dataset(ctx, call)


# -- what a transform is -------------------------------------------------------------------------
def _names(ctx: ModuleContext) -> Set[str]:
    """The names random transforms and pipelines are called by here: their own, and import aliases."""
    names = set(RANDOM_TRANSFORMS) | {TRANSFORM_PIPELINE, "Sequential"}
    names.update(local for local, qualname in ctx.imports.names.items() if qualname.rpartition(".")[2] in names)
    return names


def _transform_class(ctx: ModuleContext, func: ast.AST) -> Optional[str]:
    """``T.RandomCrop`` -> ``"RandomCrop"`` when the name is a class of ``torchvision.transforms`` (or ``.v2``)."""
    qualname = ctx.imports.qualname(func)
    if qualname is None:
        return None
    package, _, name = qualname.rpartition(".")
    if package == TRANSFORMS_PACKAGE or package.startswith(TRANSFORMS_PACKAGE + "."):
        return name
    return None


def _is_transform(ctx: ModuleContext, call: ast.Call) -> bool:
    return _transform_class(ctx, call.func) is not None or ctx.imports.qualname(call.func) in _SEQUENTIAL


def _transform_calls(ctx: ModuleContext) -> Set[ast.Call]:
    """Every call of a torchvision transform or pipeline (or ``nn.Sequential``) in the module."""
    return {call for call in ctx.calls if _is_transform(ctx, call)}


def random_transforms(ctx: ModuleContext, node: ast.AST, depth: int = _MAX_DEPTH) -> List[str]:
    """The random transforms a pipeline applies, by torchvision class name, in order, each once.

    Read through names bound once, ``Compose([...])`` (v1 and v2) and ``nn.Sequential(...)``; ``RandomApply``
    and ``RandomChoice`` count as themselves. Anything else (a parameter, a call of another function, a
    conditional expression) contributes nothing.
    """
    node = _entry(ctx, ctx.follow(node))
    if depth <= 0 or not isinstance(node, ast.Call):
        return []
    name = _transform_class(ctx, node.func)
    if name in RANDOM_TRANSFORMS:
        return [] if _certain(ctx, node, name) else [name]
    if name == TRANSFORM_PIPELINE:
        listed = ctx.follow(ctx.argument(node, "transforms", 0) or ast.List(elts=[]))
        elements: Sequence[ast.AST] = listed.elts if isinstance(listed, (ast.List, ast.Tuple)) else []
    elif ctx.imports.qualname(node.func) in _SEQUENTIAL:
        elements = node.args
    else:
        return []
    found: List[str] = []
    for element in elements:
        for random in random_transforms(ctx, element, depth - 1):
            if random not in found:
                found.append(random)
    return found


def _entry(ctx: ModuleContext, node: ast.AST) -> ast.AST:
    """``data_transforms["train"]``: the entry of a dict built in sight and bound once, under a constant key."""
    if not isinstance(node, ast.Subscript):
        return node
    items = ctx.dict_items(ctx.follow(node.value))
    known, key = ctx.constant(node.slice)
    if items is None or not (known and isinstance(key, str) and key in items):
        return node
    return ctx.follow(items[key])


def _certain(ctx: ModuleContext, call: ast.Call, name: str) -> bool:
    """A flip (or the like) whose chance is a constant 0 or 1: never or always applied, so not random."""
    if name not in CHANCE_ONLY:
        return False
    chance = ctx.argument(call, "p", CHANCE_ONLY[name])
    known, value = ctx.constant(chance) if chance is not None else (False, None)
    return known and isinstance(value, (int, float)) and not 0 < value < 1


def _bound(ctx: ModuleContext, call: ast.Call) -> bool:
    """The pipeline is stored or passed under a name of its own, not inside another pipeline or call."""
    parent = ctx.parents.get(call)
    if isinstance(parent, ast.keyword):
        owner = ctx.parents.get(parent)
        return owner not in ctx.memo(_transform_calls)
    return isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.Dict, ast.Return))


# -- a pipeline named for evaluation ----------------------------------------------------------------
def _named_pipeline(ctx: ModuleContext, pipeline: ast.Call) -> Iterator[Diagnostic]:
    split = _named_split(ctx, pipeline)
    if split is None or _rebound(ctx, pipeline):
        return
    randoms = random_transforms(ctx, pipeline)
    names = [name for name in target_names(ctx, pipeline) if name]
    if randoms and not (_deliberate(ctx, pipeline, names) or _under_training_branch(ctx, pipeline)):
        yield Diagnostic(pipeline, "LA104", {"split": split, "transform": ", ".join(randoms)})


def _rebound(ctx: ModuleContext, pipeline: ast.Call) -> bool:
    """The name the pipeline is assigned to is assigned again: which pipeline evaluation gets is unclear."""
    parent = ctx.parents.get(pipeline)
    targets = parent.targets if isinstance(parent, ast.Assign) else [getattr(parent, "target", None)]
    return any(
        isinstance(target, (ast.Name, ast.Attribute)) and ctx.assigned_value(target) is not pipeline
        for target in targets
    )


def _named_split(ctx: ModuleContext, node: ast.AST) -> Optional[str]:
    """The evaluation split the names ``node`` is bound to say: ``val_transform = ...``; None for train ones."""
    parent = ctx.parents.get(node)
    if isinstance(parent, ast.Return):
        function = ctx.enclosing_function(node)
        if function is None or function.name.startswith("test_"):
            return None  # a pytest test, not a pipeline's factory
    names = [name for name in target_names(ctx, node) if name]
    if any(says_train(name) for name in names):
        return None
    return next(filter(None, map(split_of, names)), None)


# -- a dataset built with a random pipeline ---------------------------------------------------------
def _dataset(ctx: ModuleContext, call: ast.Call) -> Iterator[Diagnostic]:
    """A dataset (or a DataModule) given random transforms, when its data is evaluation data."""
    randoms: List[str] = []
    named_split: Optional[str] = None
    for name, value in _transform_arguments(ctx, call):
        if name is None and not _is_dataset(ctx, call):
            break  # positional arguments, which count only for a dataset (keywords came first)
        found = random_transforms(ctx, value)
        if not found:
            continue
        pipeline, followed = _followed(ctx, value)
        if _named_split(ctx, pipeline) or _under_training_branch(ctx, pipeline):
            continue  # a pipeline named for evaluation is reported where it is built; one for training is right
        if _deliberate(ctx, call, [n for n in (name, *followed) if n]):
            continue
        named_split = named_split or (split_of(name) if name else None)
        randoms.extend(r for r in found if r not in randoms)
    if not randoms or _deliberate(ctx, call, [n for n in target_names(ctx, call) if n]):
        return
    if _under_training_branch(ctx, call):
        return
    sites = [(call, named_split)] if named_split else _evaluation_sites(ctx, call)
    for node, split in sites:
        if not _transform_set_later(ctx, node):
            yield Diagnostic(node, "LA104", {"split": split, "transform": ", ".join(randoms)})


def _transform_arguments(ctx: ModuleContext, call: ast.Call) -> List[Tuple[Optional[str], ast.AST]]:
    """``(keyword, value)`` of the call's transform keywords, then ``(None, value)`` of its positional arguments.

    Training ones (``train_transforms=``) are left out; positional ones count only where the call is evidently
    a dataset (``ImageFolder(valdir, Compose(...))``), which the caller decides.
    """
    found: List[Tuple[Optional[str], ast.AST]] = [
        (keyword.arg, keyword.value) for keyword in call.keywords
        if keyword.arg and _TRANSFORM_WORDS.intersection(identifier_words(keyword.arg)) and not says_train(keyword.arg)
    ]
    found.extend((None, arg) for arg in call.args if not isinstance(arg, ast.Starred))
    return found


def _is_dataset(ctx: ModuleContext, call: ast.Call) -> bool:
    """A torchvision dataset, the dataset of a DataLoader / Subset / random_split, or named as a dataset."""
    if (ctx.imports.qualname(call.func) or "").startswith(_DATASETS) or call in ctx.memo(_consumers):
        return True
    for name in target_names(ctx, call):
        words = identifier_words(name) if name else ()
        if words and words[-1].endswith(_DATASET_WORDS):
            return True
    return False


def _evaluation_sites(ctx: ModuleContext, dataset: ast.Call) -> List[Tuple[ast.AST, str]]:
    """Where, and as which split, the evaluation data that ``dataset`` builds is reported; none when not evident.

    The dataset itself when it is evaluation data; else each ``random_split`` / ``Subset`` of it that is.
    """
    names = [name for name in target_names(ctx, dataset) if name]
    function = ctx.enclosing_function(dataset)
    if function is not None and function.name == "train_dataloader":
        return []
    consumers = ctx.memo(_consumers).get(dataset, [])
    loaders = [c for c in consumers if ctx.imports.resolve(c.func) == DATALOADER]
    if any(loader_split(ctx, loader, dataset) == TRAINING for loader in loaders):
        return []  # read by a training loader too: the augmentation is meant for it
    wrappers = [(wrapper, split) for wrapper in consumers for split in [_wrapper_split(ctx, wrapper)] if split]
    if any(says_train(name) for name in names):
        # training data, except the evaluation part split off it: ``_, valid = random_split(train_set, ...)``
        return wrappers
    split = evaluation_split(ctx, dataset, dataset)
    if split:
        return [(dataset, split)]
    for loader in loaders:
        split = evaluation_split(ctx, loader, dataset)
        if split:
            return [(dataset, split)]
    return wrappers


def _wrapper_split(ctx: ModuleContext, wrapper: ast.Call) -> Optional[str]:
    """``train, val = random_split(full, ...)`` -> validation; ``Subset(full, test_idx)`` -> test."""
    resolved = ctx.imports.resolve(wrapper.func)
    if resolved == _SUBSET:
        return evaluation_split(ctx, wrapper, wrapper)
    if resolved != _RANDOM_SPLIT:
        return None
    parent = ctx.parents.get(wrapper)
    if not (isinstance(parent, ast.Assign) and isinstance(parent.targets[0], (ast.Tuple, ast.List))):
        return None
    for element in parent.targets[0].elts:
        name = last_name(element)
        split = split_of(name) if name else None
        if split:
            return split
    return None


def _consumers(ctx: ModuleContext) -> Dict[ast.Call, List[ast.Call]]:
    """Dataset call -> the DataLoader, Subset and random_split calls that read it (through names bound once)."""
    found: Dict[ast.Call, List[ast.Call]] = {}
    for call in ctx.calls:
        if ctx.imports.resolve(call.func) not in (DATALOADER, _SUBSET, _RANDOM_SPLIT):
            continue
        dataset = ctx.argument(call, "dataset", 0)
        source = ctx.follow(dataset) if dataset is not None else None
        if isinstance(source, ast.Call):
            found.setdefault(source, []).append(call)
    return found


# -- quiet on purpose ---------------------------------------------------------------------------
def _followed(ctx: ModuleContext, node: ast.AST) -> Tuple[ast.AST, List[str]]:
    """What a name stands for, and the names passed on the way: ``transform=aug`` -> (the Compose, ["aug"])."""
    names: List[str] = []
    for _ in range(_MAX_DEPTH):
        if not isinstance(node, (ast.Name, ast.Attribute)):
            break
        names.append(last_name(node) or "")
        value = ctx.assigned_value(node)
        if value is None:
            break
        node = value
    return node, names


def _deliberate(ctx: ModuleContext, node: ast.AST, names: List[str]) -> bool:
    """Names (of the data, the pipeline, the enclosing functions and classes) that say the randomness is meant."""
    scopes = [p.name for p in ctx.ancestors(node) if isinstance(p, (*FunctionNode, ast.ClassDef))]
    for name in (*names, *scopes):
        words = identifier_words(name)
        if _DELIBERATE_WORDS.intersection(words) or any(part in name.lower() for part in _DELIBERATE_PARTS):
            return True
        if any(first == "test" and second == "time" for first, second in zip(words, words[1:])):
            return True
    return False


def _under_training_branch(ctx: ModuleContext, node: ast.AST) -> bool:
    """Inside an ``if`` (or conditional expression) of its function that tests a training or augmentation flag."""
    child = node
    for parent in ctx.ancestors(node):
        if isinstance(parent, (ast.If, ast.IfExp, ast.While)) and child is not parent.test:
            if _mentions(parent.test, _TRAINING_WORDS):
                return True
        if isinstance(parent, (*FunctionNode, ast.Lambda, ast.ClassDef)):
            return False
        child = parent
    return False


def _mentions(test: ast.AST, words: FrozenSet[str]) -> bool:
    """``train``, ``self.is_training``, ``args.augment``, ``mode == "train"``."""
    for node in walk(test):
        name = last_name(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value
        if name and words.intersection(identifier_words(name)):
            return True
    return False


def _transform_set_later(ctx: ModuleContext, site: ast.AST) -> bool:
    """The data's ``.transform`` is assigned afresh: ``val_set.dataset.transform = eval_transform``."""
    names = {name for name in target_names(ctx, site) if name}
    parent = ctx.parents.get(site)
    if isinstance(parent, ast.Assign):
        for target in parent.targets:
            if isinstance(target, (ast.Tuple, ast.List)):
                names.update(filter(None, map(last_name, target.elts)))
    return bool(names & ctx.memo(_transform_owners))


def _transform_owners(ctx: ModuleContext) -> Set[str]:
    """Every name on the path of an assigned ``.transform`` / ``.transforms``: ``a.dataset.transform = t``."""
    owners: Set[str] = set()
    for target in ctx.attributes:
        if target.attr in _TRANSFORM_WORDS and isinstance(target.ctx, ast.Store):
            if isinstance(ctx.parents.get(target), (ast.Assign, ast.AnnAssign)):  # a whole target, not a part
                path = dotted_name(target.value)
                owners.update(path.split(".") if path else ())
    return owners


CHECK = Check(codes=("LA104",), candidates=candidates, examine=examine)
