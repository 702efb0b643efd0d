"""LA503 at run time: manual optimization steps an optimizer on gradients it never cleared.

The evidence is in the gradients at the second ``step()``: still the tensors the first step applied, with
a backward pass added into each and nothing else written to them.
"""
from __future__ import annotations

import pytest
import torch

from lightning_advisor import AdvisorCallback, rule


def line_of(marker: str) -> int:
    """The line of this file that ends with ``# <marker>``."""
    with open(__file__) as source:
        lines = [number for number, text in enumerate(source, 1) if text.rstrip().endswith(f"# {marker}")]
    assert len(lines) == 1, marker
    return lines[0]


def manual(lit, how):
    """A manually optimized BoringModel that clears (or not) ``how``."""

    class Manual(lit.BoringModel):
        def __init__(self):
            super().__init__()
            self.automatic_optimization = False

        def training_step(self, batch, batch_idx):
            opt = self.optimizers()
            if how == "zero_grad":
                opt.zero_grad()
            elif how == "set_to_none":
                opt.zero_grad(set_to_none=True)
            elif how == "in_place":
                opt.zero_grad(set_to_none=False)
            elif how == "grads_to_none":
                for param in self.parameters():
                    param.grad = None
            elif how == "module":
                self.zero_grad()
            loss = self(batch[0]).sum()
            self.manual_backward(loss)
            if how == "accumulate":
                if batch_idx % 2 == 1:  # two batches a step
                    opt.step()
                    opt.zero_grad()
                return
            opt.step()  # never_cleared

    return Manual()


def gan(lit, clear_generator: bool):
    class GAN(lit.BoringModel):
        def __init__(self):
            super().__init__()
            self.automatic_optimization = False
            self.critic = torch.nn.Linear(2, 1)

        def training_step(self, batch, batch_idx):
            opt_g, opt_d = self.optimizers()
            fake = self(batch[0])
            opt_d.zero_grad()
            self.manual_backward(self.critic(fake.detach()).mean())
            opt_d.step()
            if clear_generator:
                opt_g.zero_grad()
            self.manual_backward(-self.critic(fake).mean())
            opt_g.step()  # generator

        def configure_optimizers(self):
            return torch.optim.SGD(self.layer.parameters(), lr=0.1), torch.optim.SGD(self.critic.parameters(), lr=0.1)

    return GAN()


def nothing_left_installed(model):
    assert all(not optimizer._optimizer_step_pre_hooks for optimizer in model.trainer.optimizers)
    assert all(not param._post_accumulate_grad_hooks for param in model.parameters())


def test_a_step_on_uncleared_gradients_is_reported_at_the_step(lit, make_trainer, make_loader, recorded):
    advisor = AdvisorCallback()
    model = manual(lit, "never")
    with recorded() as caught:
        make_trainer(callbacks=[advisor], limit_train_batches=4).fit(model, make_loader())
    message = rule("LA503").render(optimizer="opt")
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [
        ("LA503", message, f"{__file__}:{line_of('never_cleared')}")
    ]
    assert caught.advisor == [message]
    nothing_left_installed(model)


@pytest.mark.parametrize("how", ["zero_grad", "set_to_none", "in_place", "grads_to_none", "module", "accumulate"])
def test_every_way_of_clearing_is_quiet(lit, make_trainer, make_loader, how):
    advisor = AdvisorCallback()
    model = manual(lit, how)
    make_trainer(callbacks=[advisor], limit_train_batches=6).fit(model, make_loader(length=24))
    assert advisor.findings == []
    nothing_left_installed(model)


def test_each_optimizer_must_be_cleared(lit, make_trainer, make_loader):
    advisor = AdvisorCallback()
    make_trainer(callbacks=[advisor], limit_train_batches=4).fit(gan(lit, clear_generator=True), make_loader())
    assert advisor.findings == []
    make_trainer(callbacks=[advisor], limit_train_batches=4).fit(gan(lit, clear_generator=False), make_loader())
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [
        ("LA503", rule("LA503").render(optimizer="opt_g"), f"{__file__}:{line_of('generator')}")
    ]


def test_automatic_optimization_is_not_watched(lit, make_trainer, make_loader):
    hooked = []

    class Model(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            hooked.append(bool(self.trainer.optimizers[0]._optimizer_step_pre_hooks))
            return super().training_step(batch, batch_idx)

    make_trainer(callbacks=[AdvisorCallback()]).fit(Model(), make_loader())
    assert hooked == [False, False]


def test_hooks_removed_when_the_run_raises(lit, make_trainer, make_loader):
    class Failing(type(manual(lit, "zero_grad"))):
        def training_step(self, batch, batch_idx):
            super().training_step(batch, batch_idx)
            if batch_idx == 1:
                raise ValueError("user code failed")

    model = Failing()
    with pytest.raises(ValueError, match="user code failed"):
        make_trainer(callbacks=[AdvisorCallback()], limit_train_batches=4).fit(model, make_loader())
    nothing_left_installed(model)


def test_a_check_that_fails_inside_step_is_contained(lit, make_trainer, make_loader, recorded, monkeypatch):
    from lightning_advisor.runtime.optimization import ZeroGradProbe

    def broken(self, optimizer):
        raise RuntimeError("boom")

    monkeypatch.setattr(ZeroGradProbe, "_stale", broken)
    model = manual(lit, "never")
    trainer = make_trainer(callbacks=[AdvisorCallback()], limit_train_batches=4)
    with recorded() as caught:
        trainer.fit(model, make_loader())
    assert trainer.global_step == 4
    assert len(caught.containing("LA503 missing-zero-grad check failed (RuntimeError: boom)")) == 1
    nothing_left_installed(model)
