"""LA501 at run time: a cross-entropy loss given softmax probabilities instead of logits.

The message names the loss as the user's call writes it and the softmax as the static rule names it at
that line; where the linter cannot see the softmax, plainly ``softmax``.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lightning_advisor import AdvisorCallback, rule


def line_of(marker: str) -> int:
    """The line of this file marked ``# <marker>`` (before any ``# noqa``)."""
    with open(__file__) as source:
        lines = [number for number, text in enumerate(source, 1)
                 if text.split("  # noqa")[0].rstrip().endswith(f"# {marker}")]
    assert len(lines) == 1, marker
    return lines[0]


def targets(x):
    return torch.zeros(len(x), dtype=torch.long)


# -- the losses under test: each takes the module and a batch of inputs ------------------------------


def softmax_then_functional(module, x):
    probs = F.softmax(module(x), dim=1)
    return F.cross_entropy(probs, targets(x))  # softmax_then_functional  # noqa: LA501


def probabilities_from_elsewhere(module, x):
    return module.criterion(module.probabilities(x), targets(x))  # probabilities_from_elsewhere


def logits(module, x):
    return F.cross_entropy(module(x), targets(x))


def log_probabilities(module, x):
    return F.cross_entropy(F.log_softmax(module(x), dim=1), targets(x))  # the right loss: not a finding


def soft_targets(module, x):
    return module.criterion(module(x), F.softmax(torch.randn(len(x), 2), dim=1))  # the target may be soft


LOSSES = [
    # (loss, the fields of the message or None)
    (softmax_then_functional, {"loss": "F.cross_entropy", "softmax": "F.softmax"}),
    (probabilities_from_elsewhere, {"loss": "module.criterion", "softmax": "softmax"}),
    (logits, None),
    (log_probabilities, None),
    (soft_targets, None),
]


def model_with(lit, loss):
    class Model(lit.BoringModel):
        def __init__(self):
            super().__init__()
            self.criterion = torch.nn.CrossEntropyLoss()

        def probabilities(self, x):
            return self(x).softmax(dim=-1)

        def training_step(self, batch, batch_idx):
            return loss(self, batch[0])

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            self.log("val_loss", loss(self, batch[0]))

    return Model()


@pytest.mark.parametrize("loss, fields", LOSSES, ids=[case[0].__name__ for case in LOSSES])
def test_probabilities_given_to_cross_entropy(lit, make_trainer, make_loader, recorded, loss, fields):
    advisor = AdvisorCallback()
    with recorded() as caught:
        make_trainer(callbacks=[advisor]).fit(model_with(lit, loss), make_loader(), val_dataloaders=make_loader())
    found = [(f.code, f.message, f.location) for f in advisor.findings]
    if fields is None:
        assert found == []
    else:
        message = rule("LA501").render(**fields)
        assert found == [("LA501", message, f"{__file__}:{line_of(loss.__name__)}")]
        assert caught.advisor == [message]
    assert torch._C._len_torch_function_stack() == 0


def test_only_the_first_batches_are_measured(lit, make_trainer, make_loader):
    class LateSoftmax(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            scores = self(batch[0])
            if batch_idx >= 3:  # after the watched batches
                scores = scores.softmax(dim=1)
            return F.cross_entropy(scores, targets(batch[0]))

    advisor = AdvisorCallback()
    make_trainer(callbacks=[advisor], limit_train_batches=4).fit(LateSoftmax(), make_loader())
    assert advisor.findings == []


def test_a_check_that_fails_inside_the_loss_call_is_contained(lit, make_trainer, make_loader, recorded, monkeypatch):
    from lightning_advisor.runtime import losses

    def broken(scores):
        raise RuntimeError("boom")

    monkeypatch.setattr(losses, "_probabilities", broken)
    trainer = make_trainer(callbacks=[AdvisorCallback()], limit_train_batches=4)
    with recorded() as caught:
        trainer.fit(model_with(lit, softmax_then_functional), make_loader(), val_dataloaders=make_loader())
    assert trainer.global_step == 4
    failed = caught.containing("LA501 softmax-before-cross-entropy check failed (RuntimeError: boom)")
    assert len(failed) == 1
    assert torch._C._len_torch_function_stack() == 0
