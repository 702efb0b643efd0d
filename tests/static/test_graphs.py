"""LA502: losses accumulated with their autograd graph across training steps, run through the plugin in-process."""

import pytest

from rulebook import codes, messages as all_messages

LOOP = """
import torch

def train(model, loader, optimizer, log):
    total, history = 0.0, []
    for x, y in loader:
        optimizer.zero_grad()
        loss = model(x).sum()
        loss.backward()
        optimizer.step()
        {statement}
"""


def findings(source: str):
    return [found for found in codes(source) if found[1] == "LA502"]


def test_reported_at_the_accumulation_with_both_names():
    source = LOOP.format(statement="total += loss")
    assert findings(source) == [(11, "LA502")]
    assert [m for m in all_messages(source) if m.startswith("LA502")] == [
        "LA502 total keeps loss with its autograd graph across iterations, so memory grows every step; "
        "accumulate loss.item() (or loss.detach())"
    ]


@pytest.mark.parametrize("statement", ["total += loss", "history.append(loss)", "log.losses.insert(0, loss)"])
def test_accumulations(statement):
    assert findings(LOOP.format(statement=statement)) == [(11, "LA502")]


@pytest.mark.parametrize(
    "statement",
    [
        "total += loss.item()",
        "total += float(loss)",
        "history.append(loss.detach())",
        "history.append(loss.cpu().item())",
        "loss += 1",
        "with torch.no_grad():\n            history.append(loss)",
        "history = []\n        history.append(loss)",
        "print(loss)",
    ],
)
def test_quiet(statement):
    assert findings(LOOP.format(statement=statement)) == []


def test_quiet_without_an_optimizer_step_in_the_loop_or_without_backward():
    source = """
    import torch

    def closure(model, x):
        losses = []
        for _ in range(2):
            loss = model(x).sum()
            losses.append(loss)
            loss.backward(retain_graph=True)
        return torch.stack(losses).mean()

    def evaluate(model, loader, optimizer):
        losses = []
        for x in loader:
            loss = model(x).sum()
            losses.append(loss)
            optimizer.step()
    """
    assert findings(source) == []


def test_lightning_training_step_only():
    source = """
    import lightning as L
    import torch

    class Model(L.LightningModule):
        def training_step(self, batch, batch_idx):
            loss = self(batch).sum()
            self.outputs.append(loss)
            self.total += loss
            local = [loss]
            return loss

        def validation_step(self, batch, batch_idx):
            loss = self(batch).sum()
            self.outputs.append(loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    class NotLightning:
        def training_step(self, batch, batch_idx):
            loss = batch.sum()
            self.outputs.append(loss)
            return loss
    """
    assert findings(source) == [(8, "LA502"), (9, "LA502")]
