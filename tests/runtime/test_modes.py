"""LA301 / LA302 at run time: evaluation in training mode or with autograd on.

Two places: manual evaluation passes in hooks outside Lightning's steps, and Lightning's
own validation / test steps after a hook undid ``eval()`` or ``no_grad``.
"""
from __future__ import annotations

import contextlib
import gc

import pytest
import torch
from torch.nn.modules import module as nn_module

from lightning_advisor import AdvisorCallback, AdvisorError, AdvisorWarning, rule
from lightning_advisor.runtime.modes import ModeProbe
from lightning_advisor.runtime.report import Reporter


def line_of(marker: str) -> int:
    """The line of this file that ends with ``# <marker>``."""
    with open(__file__) as source:
        lines = [number for number, text in enumerate(source, 1) if text.rstrip().endswith(f"# {marker}")]
    assert len(lines) == 1, marker
    return lines[0]


def here(marker: str) -> str:
    return f"{__file__}:{line_of(marker)}"


def hooks_installed() -> int:
    """Forward hooks now on any module alive, global ones included (the probe hooks the model's modules)."""
    modules = [o for o in gc.get_objects() if issubclass(type(o), torch.nn.Module)]  # not weak proxies
    per_module = sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in modules)
    return len(nn_module._global_forward_pre_hooks) + len(nn_module._global_forward_hooks) + per_module


def findings(advisor):
    return [(f.code, f.message, f.location) for f in advisor.findings]


def la301(model: str) -> str:
    return rule("LA301").render(model=model)


def la302(model: str) -> str:
    return rule("LA302").render(model=model)


class Classifier:
    """Mixin for BoringModel: a model whose behaviour depends on its mode."""

    def __init__(self) -> None:
        super().__init__()
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, x):
        return self.dropout(self.layer(x))


# -- manual evaluation passes outside Lightning's steps ------------------------------------------


def evaluate_as_is(pl_module, loader):
    return [pl_module(x) for (x,) in loader]  # as_is


def evaluate_without_grad(pl_module, loader):
    with torch.no_grad():
        return [pl_module(x) for (x,) in loader]  # without_grad


def evaluate_in_eval_mode(pl_module, loader):
    pl_module.eval()
    outputs = [pl_module(x) for (x,) in loader]  # in_eval_mode
    pl_module.train()
    return outputs


def evaluate_submodule(pl_module, loader):
    return [pl_module.layer(x).argmax(-1) for (x,) in loader]  # submodule


def evaluate_properly(pl_module, loader):
    pl_module.eval()
    with torch.no_grad():
        outputs = [pl_module(x) for (x,) in loader]
    with torch.inference_mode():
        outputs += [pl_module(x) for (x,) in loader]
    pl_module.train()
    return outputs


def fine_tune_in_a_hook(pl_module, loader):
    """A manual training loop (a linear probe, say): its forwards are backpropagated."""
    for (x,) in loader:
        pl_module.layer.weight.grad = None
        pl_module(x).sum().backward()


def one_forward(pl_module, loader):
    """One extra forward (an EMA target, a sample for logging): not an evaluation pass."""
    (x,) = next(iter(loader))
    return pl_module(x)


MANUAL = [
    # (evaluation, findings, as (code, model))
    (evaluate_as_is, [("LA301", "pl_module"), ("LA302", "pl_module")]),
    (evaluate_without_grad, [("LA301", "pl_module")]),
    (evaluate_in_eval_mode, [("LA302", "pl_module")]),
    (evaluate_submodule, [("LA301", "pl_module.layer"), ("LA302", "pl_module.layer")]),
    (evaluate_properly, []),
    (fine_tune_in_a_hook, []),
    (one_forward, []),
]


def evaluating_callback(lit, evaluate, loader, hook):
    class EvaluateCallback(lit.ns.Callback):
        pass

    setattr(EvaluateCallback, hook, lambda self, trainer, pl_module, *rest: evaluate(pl_module, loader))
    return EvaluateCallback()


def classifier(lit):
    class Model(Classifier, lit.BoringModel):
        pass

    return Model()


@pytest.mark.parametrize("evaluate, expected", MANUAL, ids=[m[0].__name__ for m in MANUAL])
def test_manual_evaluation_in_a_callback_hook(lit, make_trainer, make_loader, recorded, evaluate, expected):
    advisor = AdvisorCallback()
    user = evaluating_callback(lit, evaluate, make_loader(length=12), "on_train_epoch_end")
    with recorded() as caught:
        make_trainer(callbacks=[advisor, user]).fit(classifier(lit), make_loader())
    marker = evaluate.__name__.replace("evaluate_", "")
    assert findings(advisor) == [
        (code, (la301 if code == "LA301" else la302)(model), here(marker)) for code, model in expected
    ]
    assert len(caught.advisor) == len(expected)
    assert hooks_installed() == 0


def test_manual_evaluation_in_the_modules_own_hook(lit, make_trainer, make_loader):
    loader = make_loader(length=8)

    class Model(Classifier, lit.BoringModel):
        def on_train_start(self):
            correct = 0
            for (x,) in loader:  # noqa: LA301,LA302 (the mistake under test)
                correct += (self(x).argmax(-1) == 0).sum()  # on_train_start
            self.start_accuracy = correct / 8

    advisor = AdvisorCallback()
    with pytest.warns(AdvisorWarning, match="^LA30[12] "):
        make_trainer(callbacks=[advisor]).fit(Model(), make_loader())
    assert findings(advisor) == [
        ("LA301", la301("self"), here("on_train_start")),
        ("LA302", la302("self"), here("on_train_start")),
    ]


@pytest.mark.parametrize("order", ["advisor first", "advisor last"])
def test_epoch_end_evaluation_is_watched_whatever_the_callback_order(lit, make_trainer, make_loader, order):
    """After the epoch's last batch the hooks are in, so a callback before ours is watched too."""
    advisor = AdvisorCallback()
    user = evaluating_callback(lit, evaluate_without_grad, make_loader(length=12), "on_train_epoch_end")
    callbacks = [advisor, user] if order == "advisor first" else [user, advisor]
    with pytest.warns(AdvisorWarning, match="^LA301 "):
        make_trainer(callbacks=callbacks, limit_train_batches=6).fit(classifier(lit), make_loader(length=24))
    assert [(f.code, f.location) for f in advisor.findings] == [("LA301", here("without_grad"))]


def every_third_batch(evaluate, loader):
    class EvaluateEveryThirdBatch:
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if batch_idx % 3 == 0:
                evaluate(pl_module, loader)

    return EvaluateEveryThirdBatch


def test_evaluation_every_n_batches_is_seen_at_the_first_batch(lit, make_trainer, make_loader):
    advisor = AdvisorCallback()
    user = type("User", (every_third_batch(evaluate_without_grad, make_loader(length=12)), lit.ns.Callback), {})()
    with pytest.warns(AdvisorWarning, match="^LA301 "):
        make_trainer(callbacks=[advisor, user], limit_train_batches=8).fit(classifier(lit), make_loader(length=32))
    assert [(f.code, f.location) for f in advisor.findings] == [("LA301", here("without_grad"))]


def test_hooks_are_out_between_later_training_batches(lit, make_trainer, make_loader):
    """Steady-state training pays nothing: between batch 3 and the last one nothing is installed."""
    seen = []

    class Watcher(lit.ns.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            seen.append(hooks_installed())

    trainer = make_trainer(callbacks=[AdvisorCallback(), Watcher()], limit_train_batches=7)
    trainer.fit(lit.BoringModel(), make_loader(length=28))
    assert seen == [4, 4, 4, 0, 0, 0, 4]  # a pre-hook and a hook on each of the model's 2 modules
    assert hooks_installed() == 0


def test_manual_evaluation_during_fits_validation_is_clean(lit, make_trainer, make_loader, recorded):
    """``on_validation_epoch_end`` runs inside Lightning's loop: eval mode, no grad."""
    user = evaluating_callback(lit, evaluate_as_is, make_loader(length=12), "on_validation_epoch_end")
    with recorded() as caught:
        trainer = make_trainer(callbacks=[AdvisorCallback(), user], num_sanity_val_steps=2)
        trainer.fit(classifier(lit), make_loader(), val_dataloaders=make_loader())
    assert caught.advisor == []


def test_manual_evaluation_is_reported_once(lit, make_trainer, make_loader):
    advisor = AdvisorCallback()
    user = evaluating_callback(lit, evaluate_without_grad, make_loader(length=12), "on_train_epoch_end")
    with pytest.warns(AdvisorWarning, match="^LA301 "):
        make_trainer(callbacks=[advisor, user], max_epochs=3).fit(classifier(lit), make_loader())
    assert [f.code for f in advisor.findings] == ["LA301"]


# -- Lightning's own evaluation steps ----------------------------------------------------------


def test_validation_after_self_train(lit, make_trainer, make_loader):
    class Model(Classifier, lit.BoringModel):
        def on_validation_epoch_start(self):
            self.train()  # train at the epoch's start

    advisor = AdvisorCallback()
    with pytest.warns(AdvisorWarning, match="^LA301 ") as caught:
        make_trainer(callbacks=[advisor]).fit(Model(), make_loader(), val_dataloaders=make_loader())
    # reported where the model was put in training mode, not where the step then called it
    assert findings(advisor) == [("LA301", la301("Model"), here("train at the epoch's start"))]
    warned = [(w.filename, w.lineno) for w in caught if issubclass(w.category, AdvisorWarning)]
    assert warned == [(__file__, line_of("train at the epoch's start"))]


def test_train_called_inside_the_step_is_reported_at_that_call(lit, make_trainer, make_loader):
    class Model(Classifier, lit.BoringModel):
        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            self.train()  # train inside the step
            return self(batch[0]).sum()

    advisor = AdvisorCallback()
    with pytest.warns(AdvisorWarning, match="^LA301 "):
        make_trainer(callbacks=[advisor]).validate(Model(), make_loader())
    assert findings(advisor) == [("LA301", la301("Model"), here("train inside the step"))]


def test_test_step_after_a_submodule_was_put_in_training_mode(lit, make_trainer, make_loader):
    class Model(Classifier, lit.BoringModel):
        def on_test_batch_start(self, batch, batch_idx, dataloader_idx=0):
            self.dropout.train()  # the LightningModule's hook runs after the Callback's

    advisor = AdvisorCallback()
    with pytest.warns(AdvisorWarning, match="^LA301 "):
        make_trainer(callbacks=[advisor]).test(Model(), make_loader())
    assert findings(advisor) == [
        ("LA301", la301("Model.dropout"), here("the LightningModule's hook runs after the Callback's"))
    ]


def test_validation_step_with_autograd_on(lit, make_trainer, make_loader):
    class Model(Classifier, lit.BoringModel):
        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            with torch.enable_grad():
                return self(batch[0]).sum()  # enable_grad

    advisor = AdvisorCallback()
    with pytest.warns(AdvisorWarning, match="^LA302 "):
        trainer = make_trainer(callbacks=[advisor])
        trainer.validate(Model(), make_loader())
        # fit's validation runs under no_grad, not inference_mode
        trainer.fit(Model(), make_loader(), val_dataloaders=make_loader())
    assert findings(advisor) == [("LA302", la302("self"), here("enable_grad"))]


def test_validation_that_needs_gradients_is_clean(lit, make_trainer, make_loader, recorded):
    """Saliency maps, adversarial evaluation: the graph is backpropagated, on purpose."""

    class Model(Classifier, lit.BoringModel):
        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            x = batch[0].clone().requires_grad_(True)
            with torch.enable_grad():
                (saliency,) = torch.autograd.grad(self(x).sum(), x)
            return saliency.abs().sum()

    with recorded() as caught:
        make_trainer(callbacks=[AdvisorCallback()]).fit(Model(), make_loader(), val_dataloaders=make_loader())
    assert caught.advisor == []


def test_clean_run_in_every_stage(lit, make_trainer, make_loader, recorded):
    user = evaluating_callback(lit, evaluate_properly, make_loader(length=8), "on_train_epoch_end")
    model = classifier(lit)
    with recorded() as caught:
        trainer = make_trainer(callbacks=[AdvisorCallback(), user], num_sanity_val_steps=1, max_epochs=2)
        trainer.fit(model, make_loader(), val_dataloaders=make_loader())
        trainer.validate(model, make_loader())
        trainer.test(model, make_loader())
        trainer.predict(model, make_loader())
    assert caught.advisor == []
    assert hooks_installed() == 0


def test_steps_run_without_hooks_after_the_first_evaluation_batches(lit, make_trainer, make_loader):
    seen = {"train": [], "validate": []}

    class Model(lit.BoringModel):
        def training_step(self, batch, batch_idx):
            seen["train"].append(hooks_installed())
            return super().training_step(batch, batch_idx)

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            seen["validate"].append(hooks_installed())
            return super().validation_step(batch, batch_idx)

        def on_train_epoch_end(self):
            seen.setdefault("epoch_end", []).append(hooks_installed())

    trainer = make_trainer(callbacks=[AdvisorCallback()], limit_train_batches=3, limit_val_batches=5)
    trainer.fit(Model(), make_loader(length=20), val_dataloaders=make_loader(length=20))
    assert seen == {"train": [0, 0, 0], "validate": [4, 4, 4, 0, 0], "epoch_end": [4]}
    assert hooks_installed() == 0


def test_strict_raises_at_the_finding(lit, make_trainer, make_loader):
    class Model(Classifier, lit.BoringModel):
        def on_validation_epoch_start(self):
            self.train()

    with pytest.raises(AdvisorError, match="^LA301 "):
        make_trainer(callbacks=[AdvisorCallback(strict=True)]).validate(Model(), make_loader())
    assert hooks_installed() == 0


# -- the probe on its own --------------------------------------------------------------------


def test_probe_counts_repeated_calls_from_one_line_only():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    probe = ModeProbe(Reporter())
    probe.on_stage_start(None, model, "train")
    x = torch.ones(1, 2)
    model(x)  # first_line
    model(x)  # second_line
    probe.on_batch_start(None, model, "train", 0)
    assert probe.reporter.findings == [] and hooks_installed() == 0
    probe.on_batch_end(None, model, "train", 0)
    for _ in range(2):
        model(x)  # loop_line
    probe.teardown()
    assert [(f.code, f.location) for f in probe.reporter.findings] == [
        ("LA301", here("loop_line")),
        ("LA302", here("loop_line")),
    ]
    assert hooks_installed() == 0


def test_a_broken_check_switches_itself_off_and_the_forward_goes_on(monkeypatch):
    from lightning_advisor.runtime import modes

    def broken(*args):
        raise ValueError("boom")

    monkeypatch.setattr(modes, "find_user_frame", broken)
    model = torch.nn.Linear(2, 2)
    probe = ModeProbe(Reporter())
    probe.on_stage_start(None, model, "train")
    with pytest.warns(AdvisorWarning, match="the LA301 eval-without-eval-mode / LA302 eval-without-no-grad check"):
        for _ in range(3):
            assert model(torch.ones(2)).shape == (2,)
    probe.on_batch_start(None, model, "train", 0)
    probe.on_batch_end(None, model, "train", 0)
    assert hooks_installed() == 0  # stays off
    probe.teardown()
    assert probe.reporter.findings == []


def test_hooks_are_removed_when_a_probe_method_fails():
    probe = ModeProbe(Reporter())
    probe.on_stage_start(None, torch.nn.Linear(2, 2), "train")
    assert hooks_installed() == 2
    with contextlib.suppress(AttributeError):
        probe.on_stage_start(None, object(), "validate")  # not a module
    assert hooks_installed() == 0


def test_swa_update_bn_runs_in_training_mode_on_purpose(lit, make_trainer, make_loader, recorded):
    """``update_bn`` must see the model in training mode: it is not an evaluation loop."""

    class WithBatchNorm(lit.BoringModel):
        def __init__(self):
            super().__init__()
            self.norm = torch.nn.BatchNorm1d(4)

        def forward(self, x):
            return self.layer(self.norm(x))

        def on_train_epoch_end(self):
            torch.optim.swa_utils.update_bn(self.trainer.train_dataloader, self)

    advisor = AdvisorCallback(ignore=["LA102"])
    with recorded() as caught:
        make_trainer(callbacks=[advisor]).fit(WithBatchNorm(), make_loader())
    assert advisor.findings == [] and caught.advisor == []
