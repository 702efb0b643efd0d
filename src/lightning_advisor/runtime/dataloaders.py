"""LA101 and LA102 at run time, on the DataLoaders the Trainer actually iterates.

The runtime twin of ``static/dataloaders.py``. The probes look at each loop's loaders
when the loop starts, after Lightning prepared them, so they also see loaders built in
a ``LightningDataModule``, samplers Lightning injected for DDP, and this machine's CPUs.
"""
from __future__ import annotations

import os
from typing import Iterator, Mapping, Optional, Tuple

from torch.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)

from lightning_advisor.runtime._lightning import COMBINED_LOADERS
from lightning_advisor.runtime.probe import Probe
from lightning_advisor.runtime.report import Reporter
from lightning_advisor.vocabulary import STAGE_SPLITS

WORKER_CAP = 8
"""Most workers LA102 suggests per loader: past this, more workers rarely pay for their memory."""

_RANDOM_SAMPLERS = (RandomSampler, SubsetRandomSampler, WeightedRandomSampler)
_PREFIXES = {
    "train": "train_dataloader",
    "validate": "val_dataloaders",
    "test": "test_dataloaders",
    "predict": "predict_dataloaders",
}


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity mask where the OS has one, else all."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def suggested_workers(processes: int) -> int:
    """Workers per DataLoader this machine can give each of ``processes`` processes on this node.

    The usable CPUs shared out between the processes, at most ``WORKER_CAP``: the catalog's advice,
    ``min(os.cpu_count(), 8)``, for one process.
    """
    return max(0, min(WORKER_CAP, usable_cpus() // max(1, processes)))


def stage_loaders(trainer, stage: str) -> Iterator[Tuple[str, object]]:
    """``(name, loader)`` for each loader the ``stage`` loop iterates: ``("val_dataloaders[0]", loader)``."""
    prefix = _PREFIXES[stage]
    iterables = _stage_iterables(trainer, stage)
    if iterables is None:
        return
    if stage != "train" and not isinstance(iterables, (Mapping, list, tuple) + COMBINED_LOADERS):
        prefix += "[0]"  # a lone evaluation loader is Lightning's dataloader_idx 0
    yield from _walk(iterables, prefix)


def _stage_iterables(trainer, stage: str) -> object:
    if stage == "train":
        return trainer.train_dataloader
    if stage == "validate":
        return trainer.val_dataloaders
    if stage == "test":
        return trainer.test_dataloaders
    return trainer.predict_dataloaders


def _walk(iterables: object, name: str) -> Iterator[Tuple[str, object]]:
    if isinstance(iterables, COMBINED_LOADERS):
        yield from _walk(iterables.iterables, name)
    elif isinstance(iterables, Mapping):
        for key, value in iterables.items():
            yield from _walk(value, f"{name}[{key!r}]")
    elif isinstance(iterables, (list, tuple)):
        for index, value in enumerate(iterables):
            yield from _walk(value, f"{name}[{index}]")
    else:
        yield name, iterables


def _attribute(obj: object, name: str) -> object:
    """``getattr(obj, name, None)`` for the user's loaders and samplers, whose properties may raise."""
    try:
        return getattr(obj, name, None)
    except Exception:  # their object, their error: this check just does not know
        return None


def how_it_shuffles(loader: object) -> Optional[str]:
    """How ``loader`` shuffles (``"RandomSampler"``, ``"DistributedSampler(shuffle=True)"``...), or None."""
    batch_sampler = _attribute(loader, "batch_sampler")
    if type(batch_sampler).__name__ == "_IndexBatchSamplerWrapper":  # Lightning's, in predict
        batch_sampler = _attribute(batch_sampler, "_batch_sampler")
    inner = _attribute(batch_sampler, "sampler")
    if inner is None:
        return _sampler_shuffles(_attribute(loader, "sampler"))
    # the batch sampler drives the loader: with a custom one, loader.sampler is an unused placeholder
    how = _sampler_shuffles(inner)
    if how and type(batch_sampler) is not BatchSampler:
        how = f"{type(batch_sampler).__name__}({how})"
    return how


def _sampler_shuffles(sampler: object) -> Optional[str]:
    name = type(sampler).__name__
    dataset = _attribute(sampler, "dataset")
    if type(dataset).__name__ == "_DatasetSamplerWrapper":
        # Lightning's DistributedSamplerWrapper: the user's sampler sits inside, and does the shuffling
        how = _sampler_shuffles(_attribute(dataset, "_sampler"))
        if how:
            return f"{name}({how})"
    if isinstance(sampler, _RANDOM_SAMPLERS):
        return name
    if _attribute(sampler, "shuffle") is True:  # DistributedSampler and look-alikes
        return f"{name}(shuffle=True)"
    return None


class ShuffleProbe(Probe):
    """LA101: a validation, test or predict loader that shuffles."""

    codes = ("LA101",)

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        split = STAGE_SPLITS.get(stage)
        if split is None:
            return
        for where, loader in stage_loaders(trainer, stage):
            how = how_it_shuffles(loader)
            if how is not None:
                self.reporter.report("LA101", key=where, split=split, how=how)


class WorkersProbe(Probe):
    """LA102: a loader with fewer workers than ``min_workers`` when this machine has more to give.

    As in the static rule, loaders over an in-memory ``TensorDataset`` are left alone: there is
    nothing to load, and worker processes would only add overhead.
    """

    codes = ("LA102",)

    def __init__(self, reporter: Reporter, min_workers: int = 2) -> None:
        super().__init__(reporter)
        self.min_workers = min_workers

    @classmethod
    def create(cls, reporter: Reporter, options) -> "WorkersProbe":
        return cls(reporter, min_workers=options.min_workers)

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        suggested = None
        for where, loader in stage_loaders(trainer, stage):
            if not isinstance(loader, DataLoader) or loader.num_workers >= self.min_workers:
                continue
            if isinstance(loader.dataset, TensorDataset):
                continue
            if suggested is None:
                suggested = suggested_workers(trainer.num_devices)
            if suggested > loader.num_workers:
                self.reporter.report("LA102", key=where, workers=loader.num_workers, suggested=suggested)
