"""LA103, runtime only: the training loop waits on data."""
from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest

from lightning_advisor import AdvisorCallback, AdvisorWarning, rule
from lightning_advisor.runtime import data_wait, fetches
from lightning_advisor.runtime.data_wait import DataWaitProbe
from lightning_advisor.runtime.report import Reporter


def la103_pattern(workers: int, pin_memory: bool) -> str:
    """The rendered message, with the measured numbers left open."""
    rendered = rule("LA103").render(share=0.123, wait_ms=45.6, workers=workers, pin_memory=pin_memory)
    return "^" + re.escape(rendered).replace("12%", r"\d+%").replace("45\\.6", r"[\d.]+") + "$"


def run_fit(lit, make_trainer, loader, advisor, **options):
    options.setdefault("limit_train_batches", 10)
    trainer = make_trainer(callbacks=[advisor], **options)
    trainer.fit(lit.BoringModel(), loader)
    return trainer


def test_slow_dataset_reported_once(lit, make_trainer, make_loader):
    # 4 items x 3 ms per batch, against a step of about a millisecond
    advisor = AdvisorCallback(ignore=["LA102"], warmup_batches=2, window_batches=5)
    loader = make_loader("slow", length=40)
    with pytest.warns(AdvisorWarning, match=la103_pattern(workers=0, pin_memory=False)):
        run_fit(lit, make_trainer, loader, advisor, max_epochs=2)
    (finding,) = advisor.findings
    assert (finding.code, finding.location) == ("LA103", "train_dataloader")
    wait_ms = float(re.search(r"mean ([\d.]+) ms", finding.message).group(1))
    assert wait_ms >= 10


def test_fast_in_memory_data_is_clean(lit, make_trainer, make_loader, recorded, monkeypatch):
    judged = []
    judge = DataWaitProbe._judge
    monkeypatch.setattr(DataWaitProbe, "_judge", lambda probe, trainer: judged.append(judge(probe, trainer)))
    # a long window: one scheduling hiccup on a busy machine must not lift the mean over the floor
    advisor = AdvisorCallback(warmup_batches=2, window_batches=15)
    loader = make_loader("tensor", length=40, batch_size=1)
    with recorded() as caught:
        run_fit(lit, make_trainer, loader, advisor, limit_train_batches=20)
    assert len(judged) == 1  # the window was full and judged: clean, not unmeasured
    assert caught.advisor == []
    assert advisor.findings == []


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(data_wait, "perf_counter", clock)
    monkeypatch.setattr(fetches, "perf_counter", clock)
    return clock


def drive(probe, clock, trainer, batches, wait_s, step_s, first_idx=0, other_s=0.0):
    """Feed ``batches`` training batches to ``probe``, as Lightning's loop runs them: the fetcher takes
    ``wait_s`` to hand over each batch, the step computes for ``step_s``, and other callbacks' batch-end
    hooks after ours take ``other_s``."""
    fetcher = trainer.fit_loop._data_fetcher
    for batch_idx in range(first_idx, first_idx + batches):
        fetcher._start_profiler()
        clock.now += wait_s
        fetcher._stop_profiler()
        probe.on_batch_start(trainer, None, "train", batch_idx)
        clock.now += step_s
        probe.on_batch_end(trainer, None, "train", batch_idx)
        clock.now += other_s


def _lightnings_own_hook():
    """Stands in for the training loop's profiler hooks, which the fetcher calls around each ``next()``."""


@pytest.fixture
def trainer():
    fetcher = SimpleNamespace(_start_profiler=_lightnings_own_hook, _stop_profiler=_lightnings_own_hook)
    return SimpleNamespace(
        train_dataloader=SimpleNamespace(num_workers=2, pin_memory=True),
        fit_loop=SimpleNamespace(_data_fetcher=fetcher),
    )


def test_window_after_warmup_judges_the_wait_share(clock, trainer):
    reporter = Reporter()
    probe = DataWaitProbe(reporter, share=0.2, floor_ms=5.0, warmup_batches=3, window_batches=4)
    probe.on_stage_start(trainer, None, "train")
    drive(probe, clock, trainer, batches=3, wait_s=1.0, step_s=0.001)  # warm-up: huge waits, not measured
    assert reporter.findings == []
    drive(probe, clock, trainer, batches=4, wait_s=0.010, step_s=0.010, first_idx=3)
    (finding,) = reporter.findings
    assert finding.message == rule("LA103").render(share=0.5, wait_ms=10.0, workers=2, pin_memory=True)
    assert probe.done
    # judged: the fetcher's hooks are Lightning's own again
    assert trainer.fit_loop._data_fetcher._start_profiler is _lightnings_own_hook


def test_other_callbacks_batch_end_work_is_not_data_wait(clock, trainer):
    """Checkpointing or EMA after our hook takes 30 ms a batch; the loader takes 1 ms: no LA103."""
    reporter = Reporter()
    probe = DataWaitProbe(reporter, share=0.2, floor_ms=5.0, warmup_batches=0, window_batches=5)
    drive(probe, clock, trainer, batches=6, wait_s=0.001, step_s=0.010, other_s=0.030)
    assert probe.done and reporter.findings == []


def test_without_the_fetchers_hooks_nothing_is_measured_or_reported(clock):
    reporter = Reporter()
    probe = DataWaitProbe(reporter, warmup_batches=0, window_batches=5)
    bare = SimpleNamespace(train_dataloader=SimpleNamespace(num_workers=0, pin_memory=False))
    for batch_idx in range(8):
        clock.now += 0.5  # a long gap: but nothing says the loader caused it
        probe.on_batch_start(bare, None, "train", batch_idx)
        clock.now += 0.001
        probe.on_batch_end(bare, None, "train", batch_idx)
    probe.on_stage_end(bare, None, "train")
    assert probe.done and reporter.findings == []


def test_epoch_starts_and_validation_are_not_data_wait(clock, trainer):
    reporter = Reporter()
    probe = DataWaitProbe(reporter, share=0.2, floor_ms=5.0, warmup_batches=0, window_batches=4)
    probe.on_stage_start(trainer, None, "train")
    drive(probe, clock, trainer, batches=3, wait_s=0.001, step_s=0.010)  # measures batches 1 and 2
    probe.on_stage_start(trainer, None, "validate")
    clock.now += 5.0  # validation, not counted in the next batch's wait
    drive(probe, clock, trainer, batches=1, wait_s=0.001, step_s=0.010, first_idx=3)
    clock.now += 5.0  # epoch end and a new iterator: batch_idx 0 is not counted
    drive(probe, clock, trainer, batches=3, wait_s=0.001, step_s=0.010)  # measures batches 1 and 2
    assert reporter.findings == [] and probe.done  # 4 measured batches, all fast


@pytest.mark.parametrize("measured, reported", [(4, False), (5, True)])
def test_short_runs_are_judged_at_train_end_from_five_batches(clock, trainer, measured, reported):
    reporter = Reporter()
    probe = DataWaitProbe(reporter, warmup_batches=0, window_batches=20)
    drive(probe, clock, trainer, batches=measured + 1, wait_s=0.050, step_s=0.010)
    probe.on_stage_end(trainer, None, "train")
    assert [f.code for f in reporter.findings] == (["LA103"] if reported else [])


def test_short_waits_stay_below_the_floor(clock, trainer):
    reporter = Reporter()
    probe = DataWaitProbe(reporter, share=0.2, floor_ms=5.0, warmup_batches=0, window_batches=5)
    drive(probe, clock, trainer, batches=6, wait_s=0.004, step_s=0.001)  # 80% of the step, but 4 ms
    assert reporter.findings == [] and probe.done


def test_a_slow_callback_after_ours_with_in_memory_data_is_clean(lit, make_trainer, make_loader, recorded):
    """Before, the gap between our batch-end and the next batch-start (which holds this callback's
    20 ms) counted as waiting for data: 'training waits on data for 9x% of each step'."""

    class SlowBatchEnd(lit.ns.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            time.sleep(0.02)

    advisor = AdvisorCallback(ignore=["LA102"], warmup_batches=1, window_batches=5)
    with recorded() as caught:
        trainer = make_trainer(callbacks=[advisor, SlowBatchEnd()], limit_train_batches=8)
        trainer.fit(lit.BoringModel(), make_loader("tensor", length=32))
    assert caught.advisor == [] and advisor.findings == []
