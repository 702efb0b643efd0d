"""LA501: cross-entropy fed softmax probabilities, run through the plugin in-process."""

import pytest

from rulebook import codes, messages as all_messages

FUNCTION = """
import torch
import torch.nn.functional as F
from torch import nn

def loss(model, x, y, criterion, teacher):
    logits = model(x)
    return {loss}
"""


def findings(source: str):
    return [found for found in codes(source) if found[1] == "LA501"]


def messages(source: str):
    return [message for message in all_messages(source) if message.startswith("LA501")]


@pytest.mark.parametrize(
    "loss, written",
    [
        ("F.cross_entropy(F.softmax(logits, dim=1), y)", ("F.cross_entropy", "F.softmax")),
        ("F.cross_entropy(torch.softmax(logits, 1), y)", ("F.cross_entropy", "torch.softmax")),
        ("F.cross_entropy(torch.special.softmax(logits, 1), y)", ("F.cross_entropy", "torch.special.softmax")),
        (
            "torch.nn.functional.cross_entropy(logits.softmax(-1), y)",
            ("torch.nn.functional.cross_entropy", ".softmax()"),
        ),
        ("F.cross_entropy(input=logits.softmax(dim=1), target=y)", ("F.cross_entropy", ".softmax()")),
        ("nn.CrossEntropyLoss()(F.softmax(logits, 1), y)", ("nn.CrossEntropyLoss()", "F.softmax")),
        ("F.cross_entropy(nn.Softmax(dim=1)(logits), y)", ("F.cross_entropy", "nn.Softmax")),
        ("F.cross_entropy(F.softmax(logits, 1).view(-1, 10), y)", ("F.cross_entropy", "F.softmax")),
    ],
)
def test_reported_at_the_loss_with_both_as_written(loss, written):
    source = FUNCTION.format(loss=loss)
    assert findings(source) == [(8, "LA501")]
    assert messages(source) == [
        f"LA501 {written[0]} is given {written[1]} output, but it applies log_softmax itself; "
        "pass the logits and drop the softmax"
    ]


@pytest.mark.parametrize(
    "loss",
    [
        "F.cross_entropy(logits, y)",
        "F.cross_entropy(F.log_softmax(logits, 1), y)",  # log_softmax is idempotent: the loss is right
        "F.nll_loss(F.softmax(logits, 1), y)",  # wrong too, but not this rule
        "F.cross_entropy(logits, F.softmax(teacher(x), dim=1))",  # soft targets
        "criterion(F.softmax(logits, 1), y)",  # a parameter: not known to be a cross-entropy
        "F.cross_entropy(logits.softmax(x), y)",  # not Tensor.softmax(dim)
        "F.cross_entropy(F.softmax(logits, 1).log(), y)",
        "F.binary_cross_entropy(torch.sigmoid(logits), y)",
    ],
)
def test_quiet(loss):
    assert findings(FUNCTION.format(loss=loss)) == []


def test_through_a_name_assigned_once_in_the_same_function():
    source = """
    import torch.nn.functional as F

    probs_at_module_level = F.softmax(x, 1)

    def once(model, x, y):
        probs = F.softmax(model(x), 1)
        flat = probs.reshape(-1, 10)
        return F.cross_entropy(flat, y)

    def twice(model, x, y):
        out = model(x)
        out = F.softmax(out, 1)
        return F.cross_entropy(out, y)

    def from_elsewhere(y):
        return F.cross_entropy(probs_at_module_level, y)
    """
    assert findings(source) == [(9, "LA501")]


def test_criterion_names_bound_to_cross_entropy_loss():
    source = """
    import torch
    from torch import nn
    from torch.nn import CrossEntropyLoss

    criterion = nn.CrossEntropyLoss()

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.loss_fn = CrossEntropyLoss(ignore_index=-100)
            self.act = nn.Softmax(dim=-1)
            self.other = nn.MSELoss()

        def losses(self, logits, y):
            a = self.loss_fn(self.act(logits), y)
            b = criterion(logits.softmax(-1), y)
            c = self.other(self.act(logits), y)
            return a + b + c
    """
    assert findings(source) == [(16, "LA501"), (17, "LA501")]


def test_a_forward_that_returns_probabilities():
    source = """
    import torch.nn.functional as F
    from torch import nn

    class Always(nn.Module):
        def forward(self, x):
            scores = self.layer(x)
            return F.softmax(scores, dim=1)

        def loss(self, x, y):
            return F.cross_entropy(self(x), y)

    class Sometimes(nn.Module):
        def forward(self, x, probabilities=False):
            if probabilities:
                return F.softmax(self.layer(x), dim=1)
            return self.layer(x)

        def loss(self, x, y):
            return F.cross_entropy(self.forward(x), y)
    """
    assert findings(source) == [(11, "LA501")]
    assert "forward()'s F.softmax" in messages(source)[0]


def test_names_that_are_not_torch_are_quiet():
    source = """
    import torch
    from mylib import functional as F

    def softmax(x, dim):
        return x

    def loss(logits, y):
        return F.cross_entropy(F.softmax(logits, 1), y) + torch.nn.functional.cross_entropy(softmax(logits, 1), y)
    """
    assert findings(source) == []
