"""The Callback and the user's warnings machinery: their filters decide, and stay as they set them."""
from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import warnings

import pytest
from torch.utils.data import RandomSampler

from lightning_advisor import AdvisorCallback, AdvisorWarning, rule

LA101 = rule("LA101").render(split="validation", how="RandomSampler")


def test_a_warning_turned_into_an_error_is_raised_as_the_finding(lit, make_trainer, make_loader):
    advisor = AdvisorCallback(ignore=["LA102"])
    loader = make_loader()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=AdvisorWarning)
        with pytest.raises(AdvisorWarning) as raised:
            make_trainer(callbacks=[advisor]).fit(
                lit.BoringModel(), loader, val_dataloaders=make_loader(sampler=RandomSampler(loader.dataset))
            )
    assert str(raised.value) == LA101  # the finding itself, not "the check failed ... training continues"
    assert [f.message for f in advisor.findings] == [LA101]


def test_an_internal_failure_stays_contained_when_warnings_are_errors(lit, make_trainer, make_loader, monkeypatch):
    from lightning_advisor.runtime.dataloaders import ShuffleProbe

    def broken(self, *args):
        raise RuntimeError("boom")

    monkeypatch.setattr(ShuffleProbe, "on_stage_start", broken)
    trainer = make_trainer(callbacks=[AdvisorCallback(ignore=["LA102"])])
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=AdvisorWarning)
        trainer.fit(lit.BoringModel(), make_loader())
    assert trainer.state.finished


def test_a_filter_the_user_adds_during_the_run_is_kept(lit, make_trainer, make_loader):
    class AddsAFilter(lit.BoringModel):
        def on_train_start(self):
            warnings.filterwarnings("ignore", message="the user's own filter")

    with warnings.catch_warnings():
        make_trainer(callbacks=[AdvisorCallback()]).fit(AddsAFilter(), make_loader())
        assert any(f[1] is not None and f[1].pattern == "the user's own filter" for f in warnings.filters)
        assert not any(f[1] is not None and "does not have many workers" in f[1].pattern for f in warnings.filters)


def test_an_ignored_finding_is_left_out_of_the_summary_and_strict_mode(lit, make_trainer, make_loader, caplog):
    # strict: LA102 would stop the run, were it not ignored
    advisor = AdvisorCallback(strict=True, warmup_batches=0, window_batches=1, ignore=["LA103"])
    loader = make_loader("slow")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="LA102")
        with caplog.at_level(logging.INFO):
            make_trainer(callbacks=[advisor]).fit(lit.BoringModel(), loader)
    assert [str(w.message) for w in caught if w.category is AdvisorWarning] == []
    assert "LA102" not in caplog.text
    assert [f.code for f in advisor.findings] == ["LA102"]  # still a finding, for code that asks


SHOWN_ONCE = textwrap.dedent(
    """
    import warnings

    from torch.utils.data import DataLoader
    from {ns} import Trainer
    from {ns}.demos.boring_classes import BoringModel, RandomDataset

    from lightning_advisor import AdvisorCallback


    def library():
        warnings.warn("a library's warning, shown once", UserWarning)


    class Model(BoringModel):
        def train_dataloader(self):
            return DataLoader(RandomDataset(32, 8), batch_size=4)

        def val_dataloader(self):
            return DataLoader(RandomDataset(32, 8), batch_size=4)


    advisor = AdvisorCallback()
    library()
    for _ in range(2):
        trainer = Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=2, logger=False,
                          enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False,
                          accelerator="cpu", callbacks=[advisor])
        trainer.fit(Model())
        library()
        trainer.validate(Model())
        library()
    """
)


def test_pythons_show_once_registry_is_left_alone(lit, tmp_path):
    """With Python's default filters, another library's warning shows once, with the Callback or without."""
    script = tmp_path / "shown_once.py"
    script.write_text(SHOWN_ONCE.format(ns=lit.name))
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("UserWarning: a library's warning, shown once") == 1, result.stderr[-3000:]
