"""AdvisorCallback and torch.compile: no extra graphs, no graph breaks, no warnings, and the checks still on.

A counting backend records every graph dynamo hands over; the same fit with and without the Callback
must give the same graphs and the same graph breaks, for each way of compiling a model.
"""
from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from lightning_advisor import AdvisorCallback, AdvisorWarning

KINDS = ("torch.compile(submodule)", "submodule.compile()", "torch.compile(LightningModule)")


class Counting:
    """A dynamo backend that runs graphs as they are and counts them."""

    def __init__(self) -> None:
        self.graphs = 0

    def __call__(self, graph_module, example_inputs):
        self.graphs += 1
        return graph_module.forward


def _loss(module, batch):
    """Eager calls the dropout and loss probes watch, around the compiled part: quiet ones."""
    logits = F.dropout(module(batch[0]), 0.1, training=module.training)
    return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))


def _model(lit, kind: str, backend, evaluate_in_hook: bool = False, manual: bool = False):
    class Net(lit.BoringModel):
        def __init__(self) -> None:
            super().__init__()
            self.automatic_optimization = not manual
            self.layer = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.1), torch.nn.Linear(8, 2))
            if kind == "torch.compile(submodule)":
                self.layer = torch.compile(self.layer, backend=backend)
            elif kind == "submodule.compile()":
                self.layer.compile(backend=backend)

        def training_step(self, batch, batch_idx):
            if not manual:
                return _loss(self, batch)
            opt = self.optimizers()
            opt.zero_grad()
            self.manual_backward(_loss(self, batch))
            opt.step()

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            return _loss(self, batch)

        def on_validation_epoch_end(self):
            if evaluate_in_hook:  # a hand-written evaluation pass, in training mode, with grad on
                with torch.enable_grad():
                    self.train()
                    for _ in range(2):
                        self(torch.randn(2, 4))  # the line LA301 / LA302 name

    model = Net()
    return torch.compile(model, backend=backend) if kind == "torch.compile(LightningModule)" else model


def _fit(lit, make_trainer, kind: str, callbacks, evaluate_in_hook: bool = False, manual: bool = False):
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    backend = Counting()
    model = _model(lit, kind, backend, evaluate_in_hook, manual)
    data = DataLoader(TensorDataset(torch.randn(32, 4)), batch_size=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer = make_trainer(callbacks=callbacks, max_epochs=2, limit_train_batches=4, limit_val_batches=4,
                               num_sanity_val_steps=2)
        trainer.fit(model, data, val_dataloaders=data)
    breaks = sum(torch._dynamo.utils.counters["graph_break"].values())
    others = sorted(str(w.message)[:80] for w in caught if not issubclass(w.category, AdvisorWarning))
    return backend.graphs, breaks, others


@pytest.mark.parametrize("kind", KINDS)
def test_the_callback_adds_no_graph_no_graph_break_and_no_warning(lit, make_trainer, kind):
    without = _fit(lit, make_trainer, kind, [])
    advisor = AdvisorCallback()
    with_advisor = _fit(lit, make_trainer, kind, [advisor])
    assert without[0] >= 1  # the backend did see the compiled code
    assert with_advisor == without
    assert advisor.findings == []


@pytest.mark.parametrize("kind", KINDS)
def test_manual_optimization_adds_no_graph_either(lit, make_trainer, kind):
    """The zero_grad probe's optimizer and gradient hooks are torch's own, outside any compiled code."""
    without = _fit(lit, make_trainer, kind, [], manual=True)
    advisor = AdvisorCallback()
    assert _fit(lit, make_trainer, kind, [advisor], manual=True) == without
    assert without[0] >= 1 and advisor.findings == []


@pytest.mark.parametrize("kind", KINDS[:2])
def test_evaluation_passes_are_still_seen_around_a_compiled_submodule(lit, make_trainer, kind):
    advisor = AdvisorCallback(ignore=["LA102"])
    graphs, _, _ = _fit(lit, make_trainer, kind, [advisor], evaluate_in_hook=True)
    marker = "# the line LA301 / LA302 name"
    line = next(n for n, text in enumerate(open(__file__), 1) if text.rstrip().endswith(marker))
    assert sorted((f.code, f.location) for f in advisor.findings) == [
        ("LA301", f"{__file__}:{line}"), ("LA302", f"{__file__}:{line}"),
    ]
    assert graphs >= 1


def test_the_models_compiled_callables_are_its_own_again_after_the_run(lit, make_trainer):
    backend = Counting()
    model = _model(lit, "torch.compile(submodule)", backend)
    compiled_forward = vars(model.layer)["forward"]
    in_place = _model(lit, "submodule.compile()", backend)
    compiled_call = vars(in_place.layer)["_compiled_call_impl"]
    data = DataLoader(TensorDataset(torch.randn(8, 4)), batch_size=4)
    for net in (model, in_place):
        make_trainer(callbacks=[AdvisorCallback()]).fit(net, data, val_dataloaders=data)
    assert vars(model.layer)["forward"] is compiled_forward
    assert vars(in_place.layer)["_compiled_call_impl"] is compiled_call
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in (*model.modules(), *in_place.modules()))
