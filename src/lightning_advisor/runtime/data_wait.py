"""LA103, runtime only: the training loop measurably waits on data.

The wait of a step is the time the training loader itself takes to hand over the next batch, as
the fetcher's clock (:mod:`lightning_advisor.runtime.fetches`) measures it. Other callbacks'
batch-end work (checkpointing, EMA weights), the module's own hooks and the batch's transfer to the
device are not data wait and are not counted. The share is taken of the whole cycle, from the end of
one training batch to the end of the next, over one window of batches after a warm-up; then the
probe stops measuring and hands the hooks back.

Where the fetcher has no such hooks (a Lightning version without them), the probe measures
nothing and reports nothing: the run gave no evidence.
"""
from __future__ import annotations

from time import perf_counter
from typing import Optional

from lightning_advisor.runtime.dataloaders import stage_loaders
from lightning_advisor.runtime.fetches import FetchClock, watch
from lightning_advisor.runtime.probe import Probe
from lightning_advisor.runtime.report import Reporter

MIN_STEPS = 5
"""Fewest measured steps LA103 judges when training ends before the window is full."""


class DataWaitProbe(Probe):
    """LA103: fetching the next batch takes a large share of each training step."""

    codes = ("LA103",)

    def __init__(
        self,
        reporter: Reporter,
        share: float = 0.2,
        floor_ms: float = 5.0,
        warmup_batches: int = 5,
        window_batches: int = 20,
    ) -> None:
        super().__init__(reporter)
        self.share = share
        self.floor_ms = floor_ms
        self.warmup_batches = warmup_batches
        self.window_batches = window_batches
        self.done = False
        self._started = 0  # training batches started so far
        self._last_end: Optional[float] = None  # when the previous training batch ended
        self._cycle_start: Optional[float] = None  # that end time, while the current batch is measured
        self._clock: Optional[FetchClock] = None
        self._mark = 0.0  # the clock's total when the previous training batch ended
        self._wait = 0.0
        self._cycle = 0.0
        self._measured = 0

    @classmethod
    def create(cls, reporter: Reporter, options) -> "DataWaitProbe":
        return cls(
            reporter,
            share=options.data_wait_share,
            floor_ms=options.data_wait_floor_ms,
            warmup_batches=options.warmup_batches,
            window_batches=options.window_batches,
        )

    def _fetched_since_last_batch(self, trainer) -> Optional[float]:
        """Seconds the training loader spent since the previous batch ended; None without a clock."""
        clock = watch(getattr(trainer, "fit_loop", None), self)
        if clock is None:
            return None
        if clock is not self._clock:  # a new epoch's fetcher hooks: its clock starts at zero
            self._clock, self._mark = clock, 0.0
        return clock.total - self._mark

    def _unwatch(self) -> None:
        if self._clock is not None:
            self._clock.release(self)
            self._clock = None

    # -- Probe hooks -----------------------------------------------------------------------------

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        if stage != "train":
            self._last_end = None  # an evaluation loop ran in between: not a training cycle

    def wants(self, hook: str) -> bool:
        return not self.done

    def on_batch_start(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self.done or stage != "train":
            return
        fetched = self._fetched_since_last_batch(trainer)
        if fetched is None:
            self.done = True  # no evidence to be had in this run
            self.needs_changed()
            return
        self._started += 1
        if self._last_end is not None and batch_idx > 0 and self._started > self.warmup_batches:
            self._wait += fetched
            self._cycle_start = self._last_end

    def on_batch_end(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self.done or stage != "train":
            return
        now = perf_counter()
        self._last_end = now
        if self._clock is not None:
            self._mark = self._clock.total  # the next batch's fetch comes after this
        if self._cycle_start is None:
            return
        self._cycle += now - self._cycle_start
        self._cycle_start = None
        self._measured += 1
        if self._measured >= self.window_batches:
            self._judge(trainer)

    def on_stage_end(self, trainer, pl_module, stage: str) -> None:
        if not self.done and stage == "train" and self._measured >= min(MIN_STEPS, self.window_batches):
            self._judge(trainer)

    def teardown(self) -> None:
        self._unwatch()

    def _judge(self, trainer) -> None:
        self.done = True  # one window per run: no per-batch cost from here on
        self.needs_changed()
        self._unwatch()
        share = self._wait / self._cycle if self._cycle > 0 else 0.0
        wait_ms = 1000.0 * self._wait / self._measured
        if share > self.share and wait_ms > self.floor_ms:
            loader = _first_dataloader(trainer)
            self.reporter.report(
                "LA103",
                key="train_dataloader",
                share=share,
                wait_ms=wait_ms,
                workers=getattr(loader, "num_workers", "?"),
                pin_memory=getattr(loader, "pin_memory", "?"),
            )


def _first_dataloader(trainer) -> object:
    for _, loader in stage_loaders(trainer, "train"):
        if hasattr(loader, "num_workers"):
            return loader
    return None
