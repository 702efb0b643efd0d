"""How long a Lightning loop's data fetcher spends handing over batches: what LA102 and LA103 measure.

Lightning's data fetchers bracket every ``next()`` on a loop's loaders with two hooks of their own
(the ones its profiler uses, ``_start_profiler`` / ``_stop_profiler``). A :class:`FetchClock` wraps
them, once per fetcher however many probes read it, and adds up the time spent between them: the
loader's own work, not the step, not other callbacks, not the batch's move to the device.

Lightning installs fresh hooks when a loop starts its fetcher (every training epoch, every
evaluation run); :func:`watch` then finds its clock gone and puts a new one in. A fetcher without
such hooks (another Lightning version) gives no clock: the run gave no evidence.
"""
from __future__ import annotations

from time import perf_counter
from typing import Callable, Optional, Set


class FetchClock:
    """Seconds one fetcher has spent in ``next()`` since the clock went in: :attr:`total`."""

    def __init__(self, fetcher: object, start: Callable[[], None], stop: Callable[[], None]) -> None:
        self.fetcher = fetcher
        self.total = 0.0
        self._originals = (start, stop)
        self._since: Optional[float] = None
        self._readers: Set[int] = set()
        fetcher._start_profiler, fetcher._stop_profiler = self._start, self._stop  # type: ignore[attr-defined]

    def _start(self) -> None:
        self._since = perf_counter()
        self._originals[0]()

    def _stop(self) -> None:
        self._originals[1]()
        if self._since is not None:
            self.total += perf_counter() - self._since
            self._since = None

    @property
    def installed(self) -> bool:
        """Whether the fetcher still calls this clock (Lightning has not put in hooks of its own since)."""
        return getattr(self.fetcher, "_start_profiler", None) == self._start

    def release(self, reader: object) -> None:
        """``reader`` needs the clock no more; the last one out gives the fetcher its own hooks back."""
        self._readers.discard(id(reader))
        if not self._readers and self.installed:
            self.fetcher._start_profiler, self.fetcher._stop_profiler = self._originals  # type: ignore[attr-defined]


def watch(loop: object, reader: object) -> Optional[FetchClock]:
    """The clock on ``loop``'s current data fetcher, put in if missing; None without a fetcher or its hooks."""
    fetcher = getattr(loop, "_data_fetcher", None)
    start, stop = getattr(fetcher, "_start_profiler", None), getattr(fetcher, "_stop_profiler", None)
    if not (callable(start) and callable(stop)):
        return None
    clock = getattr(start, "__self__", None)
    if not (isinstance(clock, FetchClock) and clock.fetcher is fetcher):
        clock = FetchClock(fetcher, start, stop)
    clock._readers.add(id(reader))
    return clock


def stage_loop(trainer: object, stage: str) -> object:
    """The loop object running ``stage`` (``"train"``: the fit loop), or None outside it."""
    if stage == "train":
        return getattr(trainer, "fit_loop", None)
    try:
        return getattr(trainer, "_active_loop", None)
    except Exception:  # a Trainer outside any loop may raise here: no loop, no evidence
        return None
