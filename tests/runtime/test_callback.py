"""AdvisorCallback itself: arguments, strict and ignore, warning filters, internal errors, the summary."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from lightning_advisor import AdvisorCallback, AdvisorError, AdvisorWarning, rule
from lightning_advisor.runtime.data_wait import DataWaitProbe

LIGHTNING_SHUFFLE = "sampler has shuffling enabled"
LIGHTNING_WORKERS = "does not have many workers"


def test_is_a_callback_of_the_namespace(lit):
    assert isinstance(AdvisorCallback(), lit.ns.Callback)


@pytest.mark.parametrize("options, argument", [
    ({"ignore": ["LA101", "LA999"]}, "ignore"),
    ({"ignore": ["LA10"]}, "ignore"),  # lower case is accepted (issue: codes are codes, in any case)
    ({"min_workers": -1}, "min_workers"),
    ({"min_workers": 1.5}, "min_workers"),
    ({"data_wait_share": 1.5}, "data_wait_share"),
    ({"data_wait_floor_ms": -1}, "data_wait_floor_ms"),
    ({"warmup_batches": -1}, "warmup_batches"),
    ({"window_batches": 0}, "window_batches"),
])
def test_invalid_arguments_are_named(options, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        AdvisorCallback(**options)


def test_strict_raises_at_first_finding_and_detaches(lit, make_trainer, make_loader):
    filters = list(warnings.filters)
    advisor = AdvisorCallback(strict=True)
    message = rule("LA101").render(split="validation", how="RandomSampler")
    trainer = make_trainer(callbacks=[advisor])
    with pytest.raises(AdvisorError, match=f"^{message[:40]}"), pytest.warns(AdvisorWarning):
        trainer.fit(lit.BoringModel(), make_loader(), val_dataloaders=make_loader(shuffle=True))
    assert [f.code for f in advisor.findings] == ["LA101"]
    assert warnings.filters == filters


def test_ignore_suppresses_the_rule_and_lets_lightning_say_it(lit, make_trainer, make_loader, recorded):
    advisor = AdvisorCallback(ignore=["LA101"])
    with recorded() as caught:
        make_trainer(callbacks=[advisor]).validate(lit.BoringModel(), make_loader(shuffle=True))
    assert caught.advisor == [] and advisor.findings == []
    assert caught.containing(LIGHTNING_SHUFFLE)


def test_lightnings_duplicates_hidden_while_attached_and_filters_restored(
    lit, make_trainer, make_loader, recorded, monkeypatch
):
    # 8 CPUs for Lightning's own num_workers hint (AdvisorCallback's count is patched to 4)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)

    def run(advisor):
        with recorded() as caught:
            warnings.filterwarnings("ignore", message="the user's own filter")
            filters = list(warnings.filters)
            trainer = make_trainer(callbacks=[advisor], limit_train_batches=3, limit_val_batches=3)
            val = make_loader("slow", shuffle=True)
            trainer.fit(lit.BoringModel(), make_loader("slow"), val_dataloaders=val)
            assert warnings.filters == filters
        return caught

    caught = run(AdvisorCallback(warmup_batches=0, window_batches=1, ignore=["LA103"]))
    assert sorted(m[:5] for m in caught.advisor) == ["LA101", "LA102", "LA102"]
    assert not caught.containing(LIGHTNING_SHUFFLE) and not caught.containing(LIGHTNING_WORKERS)
    # the same run with both rules ignored: Lightning's own warnings are back, so the patterns match them
    caught = run(AdvisorCallback(ignore=["LA101", "LA102", "LA103"]))
    assert caught.advisor == []
    assert caught.containing(LIGHTNING_SHUFFLE) and caught.containing(LIGHTNING_WORKERS)


def test_internal_error_reported_once_and_training_continues(
    lit, make_trainer, make_loader, recorded, monkeypatch
):
    def broken(self, *args):
        raise RuntimeError("boom")

    monkeypatch.setattr(DataWaitProbe, "on_batch_start", broken)
    advisor = AdvisorCallback()
    with recorded() as caught:
        trainer = make_trainer(callbacks=[advisor], limit_train_batches=4)
        trainer.fit(lit.BoringModel(), make_loader(), val_dataloaders=make_loader(shuffle=True))
    assert trainer.global_step == 4
    failures = [m for m in caught.advisor if m.startswith("lightning-advisor:")]
    assert len(failures) == 1
    assert "LA103 training-waits-on-data check failed (RuntimeError: boom)" in failures[0]
    assert [f.code for f in advisor.findings] == ["LA101"]  # the other probes carry on


def test_probes_torn_down_and_filters_restored_when_fit_raises(lit, make_trainer, make_loader, monkeypatch):
    torn_down = []
    monkeypatch.setattr(DataWaitProbe, "teardown", lambda self: torn_down.append(self))

    class Failing(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            raise ValueError("user code failed")

    filters = list(warnings.filters)
    with pytest.raises(ValueError, match="user code failed"):
        make_trainer(callbacks=[AdvisorCallback()]).fit(Failing(), make_loader())
    assert len(torn_down) == 1
    assert warnings.filters == filters


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_summary_logged_at_end_of_fit_only_when_something_was_found(lit, make_trainer, make_loader):
    # Lightning prints its namespace's INFO records to the console by default: the summary goes there.
    summary_logger = logging.getLogger(f"{lit.name}.lightning_advisor")
    records = _Records()
    summary_logger.addHandler(records)
    try:
        advisor = AdvisorCallback()
        with pytest.warns(AdvisorWarning):
            make_trainer(callbacks=[advisor]).fit(
                lit.BoringModel(), make_loader(), val_dataloaders=make_loader(shuffle=True)
            )
        assert len(records.messages) == 1
        assert "1 finding(s) during fit" in records.messages[0]
        assert advisor.findings[0].message in records.messages[0]

        records.messages.clear()
        make_trainer(callbacks=[AdvisorCallback()]).fit(lit.BoringModel(), make_loader(), val_dataloaders=make_loader())
        assert records.messages == []
    finally:
        summary_logger.removeHandler(records)


ONE_NAMESPACE = """
import sys, warnings
sys.modules[{hidden!r}] = None  # as if that package were not installed
import lightning_advisor
assert "torch" not in sys.modules
import torch
from torch.utils.data import DataLoader, TensorDataset
from lightning_advisor import AdvisorCallback
import {used} as ns

assert AdvisorCallback.__bases__ == (ns.Callback,), AdvisorCallback.__bases__

class Model(ns.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 2)
    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()
    def validation_step(self, batch, batch_idx):
        pass
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

loader = lambda **kw: DataLoader(TensorDataset(torch.randn(8, 4)), batch_size=4, **kw)
advisor = AdvisorCallback()
trainer = ns.Trainer(max_epochs=1, callbacks=[advisor], enable_progress_bar=False, logger=False,
                     enable_checkpointing=False, enable_model_summary=False)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    trainer.fit(Model(), loader(), val_dataloaders=loader(shuffle=True))
print("FOUND", *[f.code for f in advisor.findings])
"""


@pytest.mark.parametrize(
    "used, hidden", [("pytorch_lightning", "lightning"), ("lightning.pytorch", "pytorch_lightning")]
)
def test_works_with_only_one_namespace_installed(used, hidden):
    script = textwrap.dedent(ONE_NAMESPACE.format(used=used, hidden=hidden))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "FOUND LA101" in result.stdout


def test_warnings_point_at_the_users_fit_call(lit, make_trainer, make_loader, recorded):
    trainer = make_trainer(callbacks=[AdvisorCallback()])
    with recorded() as caught:
        fit_line = sys._getframe().f_lineno + 1
        trainer.fit(lit.BoringModel(), make_loader(), val_dataloaders=make_loader(shuffle=True))
    (warning,) = [w for w in caught if issubclass(w.category, AdvisorWarning)]
    assert (warning.filename, warning.lineno) == (__file__, fit_line)
    # Lightning's formatter drops the category of warnings from paths containing "lightning"
    shown = warnings.formatwarning(warning.message, warning.category, warning.filename, warning.lineno)
    assert "AdvisorWarning: LA101" in shown


def test_lightning_calls_only_the_batch_hooks_an_attached_check_needs(lit, make_trainer, make_loader):
    """Lightning skips a callback hook that is not callable: the ones no probe needs cost a batch nothing."""
    from lightning_advisor.catalog import RULES

    def called_hooks(advisor):
        profiler = lit.ns.profilers.SimpleProfiler()
        trainer = make_trainer(callbacks=[advisor], limit_train_batches=2, limit_val_batches=1, profiler=profiler)
        trainer.fit(lit.BoringModel(), make_loader(), val_dataloaders=make_loader())
        prefix = "[Callback]AdvisorCallback."
        return {action[len(prefix):] for action in profiler.recorded_durations if action.startswith(prefix)}

    every_batch = {"on_before_backward", "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad"}
    checking = called_hooks(AdvisorCallback())
    assert {"on_train_batch_start", "on_train_batch_end", "on_validation_batch_end", "setup"} <= checking
    assert checking.isdisjoint(every_batch)
    idle = called_hooks(AdvisorCallback(ignore=list(RULES)))  # no probe at all: no batch hook
    assert idle.isdisjoint(every_batch | {"on_train_batch_start", "on_train_batch_end", "on_validation_batch_end"})
    assert {"setup", "on_train_start", "teardown"} <= idle


def test_batch_hooks_stop_being_called_when_every_window_has_shut(lit, make_trainer, make_loader):
    """After the probes' first batches, Lightning calls only the batch-end hook LA404 and LA301 need."""

    profiler = lit.ns.profilers.SimpleProfiler()
    advisor = AdvisorCallback(warmup_batches=2, window_batches=3)
    trainer = make_trainer(callbacks=[advisor], limit_train_batches=30, limit_val_batches=10, profiler=profiler)
    trainer.fit(lit.BoringModel(), make_loader(length=120), val_dataloaders=make_loader(length=40))
    prefix = "[Callback]AdvisorCallback."
    calls = {action[len(prefix):]: len(durations) for action, durations in profiler.recorded_durations.items()
             if action.startswith(prefix) and "batch" in action}
    assert calls == {
        # LA103's window: 2 batches of warm-up and 3 measured; the device, dropout and loss windows are shorter
        "on_train_batch_start": 5,
        # every batch: a step may return a logging dict at any batch (LA404), and what follows the epoch's
        # last training batch is watched for an evaluation pass (LA301)
        "on_train_batch_end": 30,
        # LA301 / LA302 check the first 3 evaluation batches, and take their hooks out at the 4th's start
        "on_validation_batch_start": 4,
        "on_validation_batch_end": 10,
    }
