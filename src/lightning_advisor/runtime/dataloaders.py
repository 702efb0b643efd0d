"""LA101 and LA102 at run time, on the DataLoaders the Trainer actually iterates.

The runtime twin of ``static/dataloaders.py``. The probes look at each loop's loaders
when the loop starts, after Lightning prepared them, so they also see loaders built in
a ``LightningDataModule``, samplers Lightning injected for DDP, and this machine's CPUs.
"""
from __future__ import annotations

import os
from time import perf_counter
from typing import Dict, Iterator, Mapping, Optional, Tuple

from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    IterableDataset,
    RandomSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)

from lightning_advisor.runtime._lightning import COMBINED_LOADERS
from lightning_advisor.runtime.fetches import FetchClock, stage_loop, watch
from lightning_advisor.runtime.probe import Probe
from lightning_advisor.runtime.report import Reporter
from lightning_advisor.vocabulary import STAGE_SPLITS, TRAINING

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

    Each process's share of the usable CPUs, less the one the process itself trains on, at most
    ``WORKER_CAP``: on a 2-CPU machine, one worker.
    """
    return max(0, min(WORKER_CAP, usable_cpus() // max(1, processes) - 1))


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


def user_attribute(obj: object, name: str) -> object:
    """``getattr(obj, name, None)`` for the user's loaders, samplers, datasets and transforms, whose properties
    may raise."""
    try:
        return getattr(obj, name, None)
    except Exception:  # their object, their error: this check just does not know
        return None


def how_it_shuffles(loader: object) -> Optional[str]:
    """How ``loader`` shuffles (``"RandomSampler"``, ``"DistributedSampler(shuffle=True)"``...), or None."""
    batch_sampler = user_attribute(loader, "batch_sampler")
    if type(batch_sampler).__name__ == "_IndexBatchSamplerWrapper":  # Lightning's, in predict
        batch_sampler = user_attribute(batch_sampler, "_batch_sampler")
    inner = user_attribute(batch_sampler, "sampler")
    if inner is None:
        return _sampler_shuffles(user_attribute(loader, "sampler"))
    # the batch sampler drives the loader: with a custom one, loader.sampler is an unused placeholder
    how = _sampler_shuffles(inner)
    if how and type(batch_sampler) is not BatchSampler:
        how = f"{type(batch_sampler).__name__}({how})"
    return how


def _sampler_shuffles(sampler: object) -> Optional[str]:
    name = type(sampler).__name__
    dataset = user_attribute(sampler, "dataset")
    if type(dataset).__name__ == "_DatasetSamplerWrapper":
        # Lightning's DistributedSamplerWrapper: the user's sampler sits inside, and does the shuffling
        how = _sampler_shuffles(user_attribute(dataset, "_sampler"))
        if how:
            return f"{name}({how})"
    if isinstance(sampler, _RANDOM_SAMPLERS):
        return name
    if user_attribute(sampler, "shuffle") is True:  # DistributedSampler and look-alikes
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


FETCH_SHARE = 0.05
"""LA102's evidence: fetching a loader's batches takes at least this share of its loop's time..."""
FETCH_FLOOR_MS = 1.0
"""... and at least this many milliseconds per batch: below either, workers would have little to take over."""
MIN_MEASURED = 5
"""Fewest measured batches LA102 judges a loader on, when its loop ends before the window is full."""


def lives_in_memory(dataset: object) -> bool:
    """A ``TensorDataset``, or a ``Subset`` / ``ConcatDataset`` / ``random_split`` of them: nothing to load."""
    if isinstance(dataset, TensorDataset):
        return True
    if isinstance(dataset, Subset):
        return lives_in_memory(dataset.dataset)
    if isinstance(dataset, ConcatDataset):
        return all(map(lives_in_memory, dataset.datasets))
    return False


class _Measure:
    """One loader's measured batches, over all its loop's runs: time fetching them, and the loop's time."""

    __slots__ = ("where", "loader", "seen", "count", "fetched", "cycle")

    def __init__(self, where: str, loader: DataLoader) -> None:
        self.where, self.loader = where, loader
        self.seen = self.count = 0
        self.fetched = self.cycle = 0.0


class _Loop:
    """One running loop: the fetcher's clock, where it stood at the last batch end, the loaders measured."""

    __slots__ = ("measures", "clock", "mark", "last_end")

    def __init__(self, measures: Dict[int, _Measure]) -> None:
        self.measures = measures  # by dataloader_idx
        self.clock: Optional[FetchClock] = None
        self.mark = 0.0  # the clock's total when the loop's previous batch ended...
        self.last_end: Optional[float] = None  # ... and when that was


class WorkersProbe(Probe):
    """LA102: a loader with fewer workers than ``min_workers``, whose fetching measurably costs.

    Each loop's loaders are measured, not guessed at: after ``warmup_batches`` of a loader, over a
    window of ``window_batches`` (carried across epochs, for evaluation loops of a few batches), the
    fetcher's clock gives the time spent fetching each batch against the loop's time per batch.
    Reported when fetching takes at least ``FETCH_FLOOR_MS`` a batch and ``FETCH_SHARE`` of the loop,
    and this machine has more workers to give. Never measured, and never reported: loaders over
    in-memory ``TensorDataset`` data, ``IterableDataset`` s (they live in the training process, and
    each worker would replay the whole stream), the sanity check, a training loop of several loaders
    (one fetch serves them all: the cost cannot be put on one), and runs whose fetcher has no hooks.
    """

    codes = ("LA102",)

    def __init__(
        self, reporter: Reporter, min_workers: int = 2, warmup_batches: int = 5, window_batches: int = 20
    ) -> None:
        super().__init__(reporter)
        self.min_workers = min_workers
        self.warmup_batches = warmup_batches
        self.window_batches = window_batches
        self._measures: Dict[Tuple[str, str], Optional[_Measure]] = {}  # (stage, where): None once judged
        self._loops: Dict[str, _Loop] = {}  # the loops running now, by stage

    @classmethod
    def create(cls, reporter: Reporter, options) -> "WorkersProbe":
        return cls(
            reporter,
            min_workers=options.min_workers,
            warmup_batches=options.warmup_batches,
            window_batches=options.window_batches,
        )

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        self._end(stage)
        if stage != "train" and "train" in self._loops:
            self._loops["train"].last_end = None  # evaluation in between: not a training batch's time
        if getattr(trainer, "sanity_checking", False):
            return
        loaders = list(stage_loaders(trainer, stage))
        if stage == "train" and len(loaders) > 1:
            return
        measures = {}
        for index, (where, loader) in enumerate(loaders):
            key = (stage, where)
            if key not in self._measures and self._few_workers(loader):
                self._measures[key] = _Measure(where, loader)
            if self._measures.get(key) is not None:
                measures[index] = self._measures[key]
        if measures:
            self._loops[stage] = _Loop(measures)

    def _few_workers(self, loader: object) -> bool:
        if not isinstance(loader, DataLoader) or loader.num_workers >= self.min_workers:
            return False
        return not (isinstance(loader.dataset, IterableDataset) or lives_in_memory(loader.dataset))

    def wants(self, hook: str) -> bool:
        return bool(self._loops)  # a loop is being measured

    def on_batch_end(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        loop = self._loops.get(stage)
        if loop is None:
            return
        now = perf_counter()
        if loop.clock is None or not loop.clock.installed:
            # the loop's first batch, or Lightning's own hooks again (a new training epoch): the clock
            # goes in for the batches after this one
            loop.clock, loop.mark, loop.last_end = watch(stage_loop(trainer, stage), self), 0.0, now
            if loop.clock is None:
                self._end(stage)  # no evidence to be had in this loop
            return
        total = loop.clock.total
        measure = loop.measures.get(dataloader_idx)
        if measure is not None and loop.last_end is not None:
            measure.seen += 1
            if measure.seen > self.warmup_batches:
                measure.count += 1
                measure.fetched += total - loop.mark
                measure.cycle += now - loop.last_end
                if measure.count >= self.window_batches:
                    self._judge(trainer, stage, dataloader_idx)
        loop.mark, loop.last_end = total, now

    def on_stage_end(self, trainer, pl_module, stage: str) -> None:
        loop = self._loops.get(stage)
        if loop is not None:
            for index, measure in list(loop.measures.items()):
                if measure.count >= min(MIN_MEASURED, self.window_batches):
                    self._judge(trainer, stage, index)
        self._end(stage)

    def teardown(self) -> None:
        for stage in list(self._loops):
            self._end(stage)

    def _end(self, stage: str) -> None:
        loop = self._loops.pop(stage, None)
        if loop is not None:
            self.needs_changed()
            if loop.clock is not None:
                loop.clock.release(self)

    def _judge(self, trainer, stage: str, index: int) -> None:
        loop = self._loops[stage]
        measure = loop.measures.pop(index)
        self._measures[(stage, measure.where)] = None
        if not loop.measures:
            self._end(stage)  # every loader of this loop judged: no per-batch cost from here on
        fetch_ms = 1000.0 * measure.fetched / measure.count
        if fetch_ms < FETCH_FLOOR_MS or measure.fetched < FETCH_SHARE * measure.cycle:
            return
        suggested = suggested_workers(trainer.num_devices)
        if suggested > measure.loader.num_workers:
            loader = f"{STAGE_SPLITS.get(stage, TRAINING)} DataLoader"
            self.reporter.report(
                "LA102", key=measure.where, loader=loader, workers=measure.loader.num_workers, suggested=suggested
            )
