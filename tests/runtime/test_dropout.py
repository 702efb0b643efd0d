"""LA303 at run time: functional dropout that stays on while Lightning evaluates.

Each marked line is where a finding must point. Explicit ``training=`` (Monte Carlo dropout, or the
module's mode) and ``nn.Dropout`` layers are quiet.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lightning_advisor import AdvisorCallback, AdvisorWarning, rule


def line_of(marker: str) -> int:
    """The line of this file that ends with ``# <marker>``."""
    with open(__file__) as source:
        lines = [number for number, text in enumerate(source, 1) if text.rstrip().endswith(f"# {marker}")]
    assert len(lines) == 1, marker
    return lines[0]


def findings(advisor):
    return [(f.code, f.message, f.location) for f in advisor.findings]


# -- the dropouts under test ----------------------------------------------------------------------


def always_on(module, x):
    return F.dropout(x, 0.5)  # always_on


def always_on_1d(module, x):
    return torch.nn.functional.dropout1d(x.unsqueeze(-1), p=0.2).squeeze(-1)  # always_on_1d


def follows_the_mode(module, x):
    return F.dropout(x, 0.5, training=module.training)


def monte_carlo(module, x):
    return F.dropout(x, 0.5, training=True)  # an explicit True: deliberate, like the static rule


def monte_carlo_by_position(module, x):
    return F.dropout(x, 0.5, True)


def dropout_layer(module, x):
    return module.drop(x)  # nn.Dropout follows the module's mode


def model_with(lit, dropout):
    class Model(lit.BoringModel):
        def __init__(self):
            super().__init__()
            self.drop = torch.nn.Dropout(0.5)

        def forward(self, x):
            return dropout(self, self.layer(x))

    return Model()


def run_every_loop(make_trainer, make_loader, model, advisor):
    trainer = make_trainer(callbacks=[advisor])
    trainer.fit(model, make_loader(), val_dataloaders=make_loader())
    trainer.validate(model, make_loader())
    trainer.test(model, make_loader())
    trainer.predict(model, make_loader())


@pytest.mark.parametrize("dropout, function, layer", [
    (always_on, "F.dropout", "nn.Dropout"),
    (always_on_1d, "torch.nn.functional.dropout1d", "nn.Dropout1d"),
])
def test_reported_once_at_the_users_call(lit, make_trainer, make_loader, recorded, dropout, function, layer):
    advisor = AdvisorCallback()
    with recorded() as caught:
        run_every_loop(make_trainer, make_loader, model_with(lit, dropout), advisor)
    message = rule("LA303").render(function=function, layer=layer)
    assert findings(advisor) == [("LA303", message, f"{__file__}:{line_of(dropout.__name__)}")]
    assert caught.advisor == [message]
    warning = next(w for w in caught if issubclass(w.category, AdvisorWarning))
    assert (warning.filename, warning.lineno) == (__file__, line_of(dropout.__name__))
    assert torch._C._len_torch_function_stack() == 0


@pytest.mark.parametrize("dropout", [follows_the_mode, monte_carlo, monte_carlo_by_position, dropout_layer])
def test_dropout_that_follows_the_mode_or_says_training_is_quiet(lit, make_trainer, make_loader, dropout):
    advisor = AdvisorCallback()
    run_every_loop(make_trainer, make_loader, model_with(lit, dropout), advisor)
    assert findings(advisor) == []


def test_training_alone_is_not_evaluation(lit, make_trainer, make_loader):
    advisor = AdvisorCallback()
    make_trainer(callbacks=[advisor], limit_val_batches=0).fit(model_with(lit, always_on), make_loader())
    assert findings(advisor) == []


def test_monte_carlo_methods_are_quiet(lit, make_trainer, make_loader):
    class Sampler(lit.BoringModel):
        def predict_step(self, batch, batch_idx, dataloader_idx=0):
            return self.mc_sample(batch[0])

        def mc_sample(self, x):
            return F.dropout(self.layer(x), 0.5)  # the static rule is quiet here too

    advisor = AdvisorCallback()
    make_trainer(callbacks=[advisor]).predict(Sampler(), make_loader())
    assert findings(advisor) == []


def test_one_mode_on_the_stack_for_every_probe_and_only_in_the_first_batches(lit, make_trainer, make_loader):
    depths = []

    class Model(lit.BoringModel):
        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            depths.append(torch._C._len_torch_function_stack())
            return super().validation_step(batch, batch_idx)

    make_trainer(callbacks=[AdvisorCallback()], limit_val_batches=5).validate(Model(), make_loader(length=20))
    assert depths == [1, 1, 1, 0, 0]
    assert torch._C._len_torch_function_stack() == 0
