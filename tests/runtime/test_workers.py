"""LA102 at run time: loaders with fewer workers than this machine can give them."""
from __future__ import annotations

import re

import pytest

from lightning_advisor import AdvisorCallback, AdvisorWarning, rule
from lightning_advisor.runtime.dataloaders import suggested_workers


def la102(workers: int, suggested: int) -> str:
    return rule("LA102").render(workers=workers, suggested=suggested)


def test_train_and_val_loaders_each_reported(lit, make_trainer, make_loader, cpus):
    cpus(6)
    advisor = AdvisorCallback()
    train, val = make_loader("random"), make_loader("random", num_workers=1)
    with pytest.warns(AdvisorWarning, match="^LA102 "):
        make_trainer(callbacks=[advisor], max_epochs=2).fit(lit.BoringModel(), train, val_dataloaders=val)
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [
        ("LA102", la102(0, 6), "train_dataloader"),
        ("LA102", la102(1, 6), "val_dataloaders[0]"),
    ]


def test_predict_loader(lit, make_trainer, make_loader, cpus):
    cpus(32)
    advisor = AdvisorCallback()
    with pytest.warns(AdvisorWarning, match=f"^{re.escape(la102(0, 8))}$"):
        make_trainer(callbacks=[advisor]).predict(lit.BoringModel(), make_loader("random"))
    assert [f.location for f in advisor.findings] == ["predict_dataloaders[0]"]


def test_enough_workers_or_nothing_to_give_is_clean(lit, make_trainer, make_loader, cpus, recorded):
    cpus(1)  # one CPU: one worker is all this machine can give
    with recorded() as caught:
        trainer = make_trainer(callbacks=[AdvisorCallback()])
        val = make_loader("tensor")
        trainer.fit(lit.BoringModel(), make_loader("random", num_workers=1), val_dataloaders=val)
    assert caught.advisor == []


@pytest.mark.parametrize("min_workers", [0, 1])
def test_min_workers(lit, make_trainer, make_loader, recorded, min_workers):
    with recorded() as caught:
        trainer = make_trainer(callbacks=[AdvisorCallback(min_workers=min_workers)])
        trainer.test(lit.BoringModel(), make_loader("random"))
    assert caught.advisor == ([] if min_workers == 0 else [la102(0, 4)])


@pytest.mark.parametrize("cpu_count, processes, suggested", [(16, 1, 8), (16, 4, 4), (3, 2, 1), (2, 4, 0)])
def test_suggested_workers_shares_usable_cpus_between_local_processes(cpus, cpu_count, processes, suggested):
    cpus(cpu_count)
    assert suggested_workers(processes) == suggested


def test_usable_cpus_follows_the_affinity_mask(monkeypatch):
    import os

    from lightning_advisor.runtime import dataloaders

    monkeypatch.undo()  # the real function, on a patched OS
    usable_cpus = dataloaders.usable_cpus
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    assert usable_cpus() == 3
    monkeypatch.delattr(os, "sched_getaffinity")
    monkeypatch.setattr(os, "cpu_count", lambda: 12)
    assert usable_cpus() == 12
