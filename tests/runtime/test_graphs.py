"""LA502 at run time: the LightningModule keeps losses with their autograd graphs across steps.

Judged at each training epoch's end, against what the module held after the epoch's first batch.
"""
from __future__ import annotations

import pytest

from lightning_advisor import AdvisorCallback, rule


def line_of(marker: str) -> int:
    """The line of this file that ends with ``# <marker>``."""
    with open(__file__) as source:
        lines = [number for number, text in enumerate(source, 1) if text.rstrip().endswith(f"# {marker}")]
    assert len(lines) == 1, marker
    return lines[0]


def keeping(lit, how):
    """A BoringModel whose training_step keeps its loss ``how``."""

    class Keeping(lit.BoringModel):
        def __init__(self):
            super().__init__()
            self.outputs = []
            self.total = 0.0
            self.last = None

        def training_step(self, batch, batch_idx):
            loss = self(batch[0]).sum()
            if how == "append":
                self.outputs.append(loss)  # append
            elif how == "sum":
                self.total += loss  # sum
            elif how == "item":
                self.outputs.append(loss.item())
            elif how == "detach":
                self.outputs.append(loss.detach())
                self.total += loss.detach()
            elif how == "last":
                self.last = [loss]  # only the last step's graph: freed at the next step
            return loss

        def on_train_epoch_end(self):
            self.outputs.clear()  # Lightning's own docs' pattern: cleared only once the epoch is over

    return Keeping()


@pytest.mark.parametrize("how, target", [("append", "self.outputs"), ("sum", "self.total")])
def test_reported_at_the_accumulating_statement(lit, make_trainer, make_loader, recorded, how, target):
    advisor = AdvisorCallback()
    with recorded() as caught:
        make_trainer(callbacks=[advisor], max_epochs=2).fit(keeping(lit, how), make_loader())
    message = rule("LA502").render(target=target, loss="loss")
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [
        ("LA502", message, f"{__file__}:{line_of(how)}")
    ]
    assert caught.advisor == [message]


@pytest.mark.parametrize("how", ["item", "detach", "last"])
def test_values_and_the_last_steps_output_are_quiet(lit, make_trainer, make_loader, how):
    advisor = AdvisorCallback()
    make_trainer(callbacks=[advisor], max_epochs=2).fit(keeping(lit, how), make_loader())
    assert advisor.findings == []


def test_kept_somewhere_the_source_does_not_say(lit, make_trainer, make_loader):
    class Hidden(lit.BoringModel):  # hidden
        def __init__(self):
            super().__init__()
            self.history = {}

        def training_step(self, batch, batch_idx):
            loss = self(batch[0]).sum()
            self.history[batch_idx] = {"loss": loss}
            return loss

    advisor = AdvisorCallback()
    make_trainer(callbacks=[advisor]).fit(Hidden(), make_loader())
    (finding,) = advisor.findings
    assert finding.message == rule("LA502").render(target="self.history", loss="loss")
    assert finding.location == f"{__file__}:{line_of('hidden')}"  # no statement to point at: the class
