"""LA503: optimizer steps on gradients nothing clears, run through the plugin in-process."""

import pytest

from rulebook import codes, messages as all_messages


def findings(source: str):
    return [found for found in codes(source) if found[1] == "LA503"]


def messages(source: str):
    return [message for message in all_messages(source) if message.startswith("LA503")]


LOOP = """
import torch

def train(model, loader, optimizer, scaler, opt_g, opt_d, optimizers):
    {before}
    for x, y in loader:
        {body}
"""


def loop(body: str, before: str = "pass") -> str:
    return LOOP.format(before=before, body="\n        ".join(body.strip().splitlines()))


def test_reported_at_the_step_with_the_optimizer_as_written():
    source = loop("model(x).sum().backward()\noptimizer.step()", before="optimizer.zero_grad()")
    assert findings(source) == [(8, "LA503")]
    assert messages(source) == [
        "LA503 optimizer is stepped but its gradients are never cleared, so they add up over every backward(); "
        "call optimizer.zero_grad() each iteration"
    ]


@pytest.mark.parametrize(
    "clearing",
    [
        "optimizer.zero_grad()",
        "optimizer.zero_grad(set_to_none=True)",
        "model.zero_grad()",
        "model.module.zero_grad(set_to_none=False)",
        "for p in model.parameters(): p.grad = None",
        "for p in model.parameters(): p.grad.zero_()",
        "for p in model.parameters(): p.grad.data.zero_()",
        "clear_grads(model)",
        "self_reset_gradients()",
    ],
)
def test_any_clearing_in_the_loop_is_enough(clearing):
    clearing = clearing.replace(": ", ":\n    ")
    assert findings(loop(f"{clearing}\nmodel(x).sum().backward()\noptimizer.step()")) == []
    assert findings(loop(f"model(x).sum().backward()\noptimizer.step()\n{clearing}")) == []


@pytest.mark.parametrize(
    "body",
    [
        "model(x).sum().backward()\nscheduler.step()",  # not an optimizer
        "model(x).sum().backward()\nenv.step()",
        "model(x).sum().backward()\noptimizer.step(closure)",  # the closure clears
        "loss = model(x).sum()\noptimizer.step()",  # no backward in the loop
        "model(x).sum().backward()\noptimizer.step()\nbreak",  # one pass only
        "train_step(model, x, y, optimizer)",  # the step is in a helper
    ],
)
def test_quiet_when_unsure_or_not_training(body):
    assert findings(loop(body)) == []


@pytest.mark.parametrize("spelling", ["optimizer", "opt", "self_optim", "optimizerD", "g_optimizer", "adam"])
def test_optimizer_spellings(spelling):
    parameters = "model, loader" if spelling == "adam" else f"model, loader, {spelling}"
    source = f"""
    import torch

    def train({parameters}):
        adam = torch.optim.Adam(model.parameters())
        for x in loader:
            model(x).sum().backward()
            {spelling}.step()
    """
    assert findings(source) == [(8, "LA503")]


def test_scaler_steps_its_optimizer_argument():
    source = loop("scaler.scale(model(x).sum()).backward()\nscaler.step(optimizer)\nscaler.update()")
    assert findings(source) == [(8, "LA503")]
    cleared = "optimizer.zero_grad()\nscaler.scale(model(x).sum()).backward()\nscaler.step(optimizer)"
    assert findings(loop(cleared)) == []


def test_while_loops_and_nested_loops():
    source = """
    import torch

    def train(model, batches, optimizer, steps):
        optimizer.zero_grad()
        while steps:
            steps -= 1
            for micro in next(batches):
                model(micro).sum().backward()
            optimizer.step()
    """
    assert findings(source) == [(10, "LA503")]


def test_accumulation_clears_in_the_loop_or_in_an_enclosing_one():
    source = """
    import torch

    def every_k(model, loader, optimizer, k):
        for i, x in enumerate(loader):
            model(x).sum().backward()
            if (i + 1) % k == 0:
                optimizer.step()
                optimizer.zero_grad()

    def once_an_epoch(model, loader, optimizer, epochs):
        for epoch in range(epochs):
            optimizer.zero_grad()
            for i, x in enumerate(loader):
                model(x).sum().backward()
                if i == len(loader) - 1:
                    optimizer.step()

    def never(model, loader, optimizer, k):
        optimizer.zero_grad()
        for i, x in enumerate(loader):
            model(x).sum().backward()
            if (i + 1) % k == 0:
                optimizer.step()
    """
    assert findings(source) == [(24, "LA503")]


def test_each_of_two_optimizers_must_be_cleared():
    source = loop(
        "opt_d.zero_grad()\nmodel(x).sum().backward()\nopt_d.step()\nmodel(y).sum().backward()\nopt_g.step()"
    )
    assert findings(source) == [(11, "LA503")]
    assert findings(loop("model.zero_grad()\nmodel(x).sum().backward()\nopt_d.step()\nopt_g.step()")) == []


def test_optimizers_bound_to_torch_optim_and_aliases():
    source = """
    import torch

    class Trainer:
        def __init__(self, model):
            self.model = model
            self.sgd = torch.optim.SGD(model.parameters(), lr=0.1)

        def fit(self, loader):
            sgd = self.sgd
            for x in loader:
                self.sgd.zero_grad()
                self.model(x).sum().backward()
                sgd.step()

        def fit_wrong(self, loader):
            for x in loader:
                self.model(x).sum().backward()
                self.sgd.step()
    """
    assert findings(source) == [(19, "LA503")]


def test_a_helper_in_sight_that_clears_counts():
    source = """
    import torch

    class Runner:
        def _clear(self):
            self.optimizer.zero_grad()

        def run(self, loader):
            for x in loader:
                self._clear()
                self.model(x).sum().backward()
                self.optimizer.step()
    """
    assert findings(source) == []


MANUAL = """
import lightning as L
import torch

class Model(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        self.manual_backward(self(batch).sum())
        {body}

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
"""


def test_manual_optimization_without_zero_grad():
    assert findings(MANUAL.format(body="opt.step()")) == [(13, "LA503")]


@pytest.mark.parametrize(
    "body",
    [
        "opt.step()\n        opt.zero_grad()",
        "opt.zero_grad()\n        opt.step()",
        "opt.step(closure=self.closure)",
        "if (batch_idx + 1) % 2 == 0:\n            opt.step()\n            opt.zero_grad()",
    ],
)
def test_manual_optimization_that_clears(body):
    assert findings(MANUAL.format(body=body)) == []


def test_automatic_optimization_is_quiet():
    source = MANUAL.replace("self.automatic_optimization = False", "self.lr = 0.1").format(body="opt.step()")
    assert findings(source) == []


def test_manual_optimization_as_a_property_and_gan_optimizers():
    source = """
    import lightning as L
    import torch

    class GAN(L.LightningModule):
        @property
        def automatic_optimization(self):
            return False

        def training_step(self, batch, batch_idx):
            opt_g, opt_d = self.optimizers()
            self.manual_backward(self.d(batch).mean())
            opt_d.step()
            opt_d.zero_grad()
            self.manual_backward(self.g(batch).mean())
            opt_g.step()

        def configure_optimizers(self):
            return torch.optim.Adam(self.g.parameters()), torch.optim.Adam(self.d.parameters())
    """
    assert findings(source) == [(16, "LA503")]
