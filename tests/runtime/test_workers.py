"""LA102 at run time: loaders with few workers whose fetching the run shows to cost."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import ConcatDataset, DataLoader, IterableDataset, Subset, TensorDataset, random_split

from lightning_advisor import AdvisorCallback, AdvisorWarning, rule
from lightning_advisor.runtime import dataloaders, fetches
from lightning_advisor.runtime.dataloaders import WorkersProbe, lives_in_memory, suggested_workers
from lightning_advisor.runtime.report import Reporter

# measured from the second batch of a loop: three measured batches judge a loader
QUICK = dict(warmup_batches=0, window_batches=3, ignore=["LA103"])


def la102(loader: str, workers: int, suggested: int) -> str:
    return rule("LA102").render(loader=f"{loader} DataLoader", workers=workers, suggested=suggested)


def test_train_and_val_loaders_each_reported_by_name(lit, make_trainer, make_loader, cpus):
    cpus(6)  # 6 CPUs: 5 workers, one CPU left for training itself
    advisor = AdvisorCallback(**QUICK)
    train, val = make_loader("slow"), make_loader("slow", num_workers=1)
    with pytest.warns(AdvisorWarning, match="^LA102 "):
        trainer = make_trainer(callbacks=[advisor], max_epochs=2, limit_train_batches=4, limit_val_batches=4)
        trainer.fit(lit.BoringModel(), train, val_dataloaders=val)
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [
        ("LA102", la102("training", 0, 5), "train_dataloader"),
        ("LA102", la102("validation", 1, 5), "val_dataloaders[0]"),
    ]


def test_predict_loader(lit, make_trainer, make_loader, cpus):
    cpus(32)
    advisor = AdvisorCallback(**QUICK)
    with pytest.warns(AdvisorWarning, match=f"^{re.escape(la102('prediction', 0, 8))}$"):
        make_trainer(callbacks=[advisor], limit_predict_batches=4).predict(lit.BoringModel(), make_loader("slow"))
    assert [f.location for f in advisor.findings] == ["predict_dataloaders[0]"]


def test_short_evaluation_loops_are_measured_across_epochs(lit, make_trainer, make_loader):
    """Two validation batches an epoch: one measured batch each epoch, judged in the third."""
    advisor = AdvisorCallback(**QUICK)
    trainer = make_trainer(callbacks=[advisor], max_epochs=3, limit_val_batches=2)
    with pytest.warns(AdvisorWarning):
        trainer.fit(lit.BoringModel(), make_loader(), val_dataloaders=make_loader("slow"))
    assert [(f.message, f.location) for f in advisor.findings] == [(la102("validation", 0, 3), "val_dataloaders[0]")]


@pytest.fixture
def judged(monkeypatch):
    """The loaders LA102 judged, reported or not: a clean run is a measured run, not an unmeasured one."""
    seen = []
    judge = WorkersProbe._judge

    def spy(probe, trainer, stage, index):
        seen.append(probe._loops[stage].measures[index].where)
        judge(probe, trainer, stage, index)

    monkeypatch.setattr(WorkersProbe, "_judge", spy)
    return seen


def test_cheap_loading_is_measured_and_clean(lit, make_trainer, make_loader, recorded, judged):
    # a map-style dataset of tensors in memory, not a TensorDataset: measured, and nothing to say
    advisor = AdvisorCallback(warmup_batches=2, window_batches=10)
    with recorded() as caught:
        trainer = make_trainer(callbacks=[advisor], limit_train_batches=13)
        trainer.fit(lit.BoringModel(), make_loader("random", length=64))
    assert judged == ["train_dataloader"]
    assert caught.advisor == [] and advisor.findings == []


class Stream(IterableDataset):
    def __iter__(self):
        for _ in range(16):
            yield (torch.randn(4),)


@pytest.mark.parametrize("dataset", [
    lambda: TensorDataset(torch.randn(16, 4)),
    lambda: Subset(TensorDataset(torch.randn(32, 4)), range(16)),
    lambda: random_split(TensorDataset(torch.randn(16, 4)), [0.5, 0.5])[0],
    lambda: ConcatDataset([TensorDataset(torch.randn(8, 4)), Subset(TensorDataset(torch.randn(8, 4)), [0, 1])]),
    Stream,
], ids=["TensorDataset", "Subset", "random_split", "ConcatDataset", "IterableDataset"])
def test_in_memory_and_iterable_datasets_are_never_measured(lit, make_trainer, recorded, judged, dataset):
    advisor = AdvisorCallback(**QUICK)
    with recorded() as caught:
        trainer = make_trainer(callbacks=[advisor], limit_train_batches=4)
        trainer.fit(lit.BoringModel(), DataLoader(dataset(), batch_size=2))  # noqa: LA102
    assert judged == [] and caught.advisor == []


def test_in_memory_is_only_tensor_data(make_loader):
    mapped = make_loader("random").dataset  # a user's Dataset: what its __getitem__ costs is for the run to show
    assert lives_in_memory(Subset(ConcatDataset([TensorDataset(torch.randn(4, 1))] * 2), [0]))
    assert not lives_in_memory(ConcatDataset([TensorDataset(torch.randn(4, 1)), mapped]))
    assert not lives_in_memory(Subset(mapped, [0]))


def test_two_cpus_leave_one_for_training(lit, make_trainer, make_loader, cpus, recorded, judged):
    cpus(2)  # one worker is all a 2-CPU machine can give: the loader has it
    with recorded() as caught:
        trainer = make_trainer(callbacks=[AdvisorCallback(**QUICK)], limit_train_batches=5)
        trainer.fit(lit.BoringModel(), make_loader("slow", num_workers=1))
    assert judged == ["train_dataloader"] and caught.advisor == []


@pytest.mark.parametrize("min_workers", [0, 1])
def test_min_workers(lit, make_trainer, make_loader, recorded, min_workers):
    with recorded() as caught:
        trainer = make_trainer(callbacks=[AdvisorCallback(min_workers=min_workers, **QUICK)], limit_test_batches=4)
        trainer.test(lit.BoringModel(), make_loader("slow"))
    assert caught.advisor == ([] if min_workers == 0 else [la102("test", 0, 3)])


@pytest.mark.parametrize("cpu_count, processes, suggested", [
    (16, 1, 8), (16, 4, 3), (4, 1, 3), (2, 1, 1), (3, 2, 0), (2, 4, 0),
])
def test_suggested_workers_leave_each_process_a_cpu(cpus, cpu_count, processes, suggested):
    cpus(cpu_count)
    assert suggested_workers(processes) == suggested


def test_usable_cpus_follows_the_affinity_mask(monkeypatch):
    import os

    monkeypatch.undo()  # the real function, on a patched OS
    usable_cpus = dataloaders.usable_cpus
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    assert usable_cpus() == 3
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 12)
    assert usable_cpus() == 12


# -- the judgement, on a clock the test drives ------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _lightnings_own_hook():
    """Stands in for a loop's profiler hooks, which the fetcher calls around each ``next()``."""


def _fake_trainer(loader):
    fetcher = SimpleNamespace(_start_profiler=_lightnings_own_hook, _stop_profiler=_lightnings_own_hook)
    return SimpleNamespace(
        train_dataloader=loader, fit_loop=SimpleNamespace(_data_fetcher=fetcher), num_devices=1, sanity_checking=False
    )


@pytest.mark.parametrize("fetch_ms, step_ms, reported", [
    (3.0, 10.0, True),  # 3 ms a batch, 23 % of the loop
    (0.5, 1.0, False),  # a third of the loop, but half a millisecond: too little to move to a worker
    (2.0, 100.0, False),  # 2 ms against a 100 ms step: 2 %, the model is fed
])
def test_reported_only_above_both_the_floor_and_the_share(monkeypatch, fetch_ms, step_ms, reported):
    clock = FakeClock()
    monkeypatch.setattr(dataloaders, "perf_counter", clock)
    monkeypatch.setattr(fetches, "perf_counter", clock)
    loader = DataLoader(Stream(), batch_size=2)  # noqa: LA102 - what it holds does not matter here
    monkeypatch.setattr(WorkersProbe, "_few_workers", lambda self, loader: True)
    trainer = _fake_trainer(loader)
    reporter = Reporter()
    probe = WorkersProbe(reporter, warmup_batches=1, window_batches=4)
    probe.on_stage_start(trainer, None, "train")
    fetcher = trainer.fit_loop._data_fetcher
    for batch_idx in range(6):  # one batch to put the clock in, one of warm-up, four measured
        fetcher._start_profiler()
        clock.now += fetch_ms / 1000
        fetcher._stop_profiler()
        probe.on_batch_start(trainer, None, "train", batch_idx)
        clock.now += step_ms / 1000
        probe.on_batch_end(trainer, None, "train", batch_idx)
    assert [f.message for f in reporter.findings] == ([la102("training", 0, 3)] if reported else [])
    assert fetcher._start_profiler is _lightnings_own_hook  # judged: the fetcher's own hooks are back
    assert probe._loops == {}


def test_without_the_fetchers_hooks_nothing_is_measured(make_loader):
    reporter = Reporter()
    probe = WorkersProbe(reporter, warmup_batches=0, window_batches=2)
    trainer = SimpleNamespace(train_dataloader=make_loader("slow"), fit_loop=None, num_devices=1)
    probe.on_stage_start(trainer, None, "train")
    for batch_idx in range(5):
        probe.on_batch_end(trainer, None, "train", batch_idx)
    probe.on_stage_end(trainer, None, "train")
    assert reporter.findings == [] and probe._loops == {}
