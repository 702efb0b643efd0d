"""LA404 at run time: a step returns a 'log' / 'progress_bar' dict, which Lightning 2.x never logs."""
from __future__ import annotations

import functools
import linecache

import pytest

from lightning_advisor import AdvisorCallback, AdvisorError, AdvisorWarning, rule


def la404(step: str, keys: str) -> str:
    return rule("LA404").render(step=step, keys=keys)


def source_line(location: str) -> str:
    filename, _, line = location.rpartition(":")
    return linecache.getline(filename, int(line)).strip()


def old_style(lit):
    """A module written for Lightning 0.x / early 1.x: metrics returned under 'log' and 'progress_bar'."""

    class OldStyle(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            loss = self(batch[0]).sum()
            return {"loss": loss, "log": {"train_loss": loss}}

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            loss = self(batch[0]).sum()
            return {"val_loss": loss, "progress_bar": {"val_loss": loss}, "log": {"val_loss": loss}}

        def test_step(self, batch, batch_idx, dataloader_idx=0):
            return {"log": {"test_loss": self(batch[0]).sum()}}

    return OldStyle()


def test_training_step_log_dict_is_reported_once_at_the_step_and_really_is_not_logged(
    lit, make_trainer, make_loader, recorded
):
    advisor = AdvisorCallback()
    trainer = make_trainer(callbacks=[advisor], max_epochs=2, limit_val_batches=0)
    with recorded() as caught:
        trainer.fit(old_style(lit), make_loader())
    message = la404("training_step", "'log'")
    assert [(f.code, f.message) for f in advisor.findings] == [("LA404", message)]
    assert caught.advisor == [message]  # two epochs, four batches: said once
    warning = next(w for w in caught if str(w.message) == message)
    assert (warning.filename, warning.lineno) == (__file__, int(advisor.findings[0].location.rpartition(":")[2]))
    assert source_line(advisor.findings[0].location) == "def training_step(self, batch, batch_idx):"
    # what the rule says: Lightning trained, and logged none of it
    assert trainer.global_step == 4
    assert "train_loss" not in trainer.callback_metrics and "train_loss" not in trainer.logged_metrics


def test_validation_and_test_steps(lit, make_trainer, make_loader):
    advisor = AdvisorCallback()
    trainer = make_trainer(callbacks=[advisor])
    model = old_style(lit)
    trainer.validate(model, make_loader())
    trainer.test(model, make_loader())
    assert [(f.code, f.message) for f in advisor.findings] == [
        ("LA404", la404("validation_step", "'log' and 'progress_bar'")),
        ("LA404", la404("test_step", "'log'")),
    ]
    assert [source_line(f.location).split("(")[0] for f in advisor.findings] == ["def validation_step", "def test_step"]


def passthrough(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        return method(*args, **kwargs)

    return wrapper


def test_a_decorated_step_is_reported_at_its_def_line(lit, make_trainer, make_loader):
    class Decorated(lit.BoringModel):
        @passthrough
        @passthrough
        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            return {"val_loss": self(batch[0]).sum(), "log": {}}

    advisor = AdvisorCallback()
    make_trainer(callbacks=[advisor]).validate(Decorated(), make_loader())
    (finding,) = advisor.findings
    assert source_line(finding.location) == "def validation_step(self, batch, batch_idx, dataloader_idx=0):"


def test_steps_that_log_with_self_log_are_quiet(lit, make_trainer, make_loader, recorded):
    class NewStyle(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            loss = self(batch[0]).sum()
            self.log("train_loss", loss, prog_bar=True)
            return {"loss": loss, "logs_elsewhere": 1}

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            self.log_dict({"val_loss": self(batch[0]).sum()})
            return {"preds": self(batch[0])}

    advisor = AdvisorCallback()
    trainer = make_trainer(callbacks=[advisor])
    with recorded() as caught:
        trainer.fit(NewStyle(), make_loader(), val_dataloaders=make_loader())
    assert [f for f in advisor.findings if f.code == "LA404"] == []
    assert not caught.containing("LA404")
    assert "train_loss" in trainer.callback_metrics  # logged the 2.x way


def test_ignored_rule_is_not_checked(lit, make_trainer, make_loader):
    advisor = AdvisorCallback(ignore=["LA404"])
    make_trainer(callbacks=[advisor]).fit(old_style(lit), make_loader(), val_dataloaders=make_loader())
    assert advisor.findings == []


def test_strict_mode_stops_at_the_first_logging_dict(lit, make_trainer, make_loader):
    trainer = make_trainer(callbacks=[AdvisorCallback(strict=True)])
    with pytest.raises(AdvisorError, match="^LA404 training_step returns"), pytest.warns(AdvisorWarning):
        trainer.fit(old_style(lit), make_loader())
