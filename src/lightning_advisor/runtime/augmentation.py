"""LA104 at run time: evaluation loaders whose data goes through torchvision's random transforms.

The runtime twin of ``static/augmentation.py``. When a validation, test or predict loop starts, each of
its loaders' datasets is followed through ``Subset`` (what ``random_split`` returns) and
``ConcatDataset`` to the datasets that hold transforms (``.transform``, ``.transforms``,
``.target_transform``; torchvision's ``StandardTransform``), which are read into ``Compose`` and
``nn.Sequential``. A transform is random when its class is one of torchvision's random transforms, or
extends one: known by module and class name, so torchvision is never imported here and a run that does
not use it pays nothing for it.
"""
from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Set, Tuple

from torch.nn import Sequential
from torch.utils.data import ConcatDataset, Subset

from lightning_advisor.runtime.dataloaders import stage_loaders, user_attribute
from lightning_advisor.runtime.probe import Probe
from lightning_advisor.vocabulary import (
    CHANCE_ONLY,
    RANDOM_TRANSFORMS,
    STAGE_SPLITS,
    TRANSFORM_PIPELINE,
    TRANSFORMS_PACKAGE,
)

_DATASET_TRANSFORMS = ("transform", "transforms", "target_transform")
_STANDARD_TRANSFORM = ("torchvision.datasets.vision", "StandardTransform")  # VisionDataset's (transform, target)
_MAX_DEPTH = 8


def random_augmentations(loader: object) -> List[str]:
    """The random transforms ``loader``'s items go through, by class name, in order, each once."""
    found: List[str] = []
    seen: Set[int] = set()
    for dataset in _datasets(user_attribute(loader, "dataset")):
        for name in _DATASET_TRANSFORMS:
            _collect(user_attribute(dataset, name), found, seen)
    return found


def _datasets(dataset: object, depth: int = _MAX_DEPTH) -> Iterator[object]:
    """The datasets that hold the items: through ``Subset`` / ``random_split`` and ``ConcatDataset``."""
    if dataset is None or depth <= 0:
        return
    if isinstance(dataset, Subset):
        yield from _datasets(dataset.dataset, depth - 1)
    elif isinstance(dataset, ConcatDataset):
        for part in dataset.datasets:
            yield from _datasets(part, depth - 1)
    else:
        yield dataset


def _collect(transform: object, found: List[str], seen: Set[int], depth: int = _MAX_DEPTH) -> None:
    if transform is None or depth <= 0 or id(transform) in seen:
        return
    seen.add(id(transform))
    kind = _torchvision_class(type(transform))
    if kind in RANDOM_TRANSFORMS:
        name = type(transform).__name__
        if name not in found and not _certain(transform, kind):
            found.append(name)
        return
    if kind == TRANSFORM_PIPELINE:
        inner = user_attribute(transform, "transforms")
        parts = list(inner) if isinstance(inner, (list, tuple)) else []
    elif isinstance(transform, Sequential):
        parts = list(transform)
    elif (type(transform).__module__, type(transform).__name__) == _STANDARD_TRANSFORM:
        parts = [user_attribute(transform, "transform"), user_attribute(transform, "target_transform")]
    else:
        return
    for part in parts:
        _collect(part, found, seen, depth - 1)


def _certain(transform: object, kind: str) -> bool:
    """A flip (or the like) whose chance ``p`` is 0 or 1: never or always applied, so not random."""
    chance = user_attribute(transform, "p")
    return kind in CHANCE_ONLY and isinstance(chance, (int, float)) and not 0 < chance < 1


def _torchvision_class(cls: type) -> Optional[str]:
    """The name of the nearest class of ``torchvision.transforms`` (or ``.v2``) that ``cls`` is or extends."""
    for klass in cls.__mro__:
        module = getattr(klass, "__module__", None) or ""
        if module == TRANSFORMS_PACKAGE or module.startswith(TRANSFORMS_PACKAGE + "."):
            return klass.__name__
    return None


class AugmentationProbe(Probe):
    """LA104: a validation, test or predict loader whose dataset applies random transforms.

    Looked at when each evaluation loop starts, once per loader object: the sanity check and the
    validation epochs after it read the same loaders.
    """

    codes = ("LA104",)

    def __init__(self, reporter) -> None:
        super().__init__(reporter)
        self._checked: Dict[Tuple[str, str], object] = {}  # (stage, where) -> the loader last looked at

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        split = STAGE_SPLITS.get(stage)
        if split is None:
            return
        for where, loader in stage_loaders(trainer, stage):
            if self._checked.get((stage, where)) is loader:
                continue
            self._checked[(stage, where)] = loader
            randoms = random_augmentations(loader)
            if randoms:
                self.reporter.report("LA104", key=where, split=split, transform=", ".join(randoms))

    def teardown(self) -> None:
        self._checked.clear()
