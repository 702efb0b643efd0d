"""LA303: functional dropout without ``training=`` in a module's methods, run through the plugin in-process."""

import pytest

from rulebook import codes, messages as all_messages

MODULE = """
import torch
import torch.nn.functional as F
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        return {call}
"""


def findings(source: str):
    return [found for found in codes(source) if found[1] == "LA303"]


def messages(source: str):
    return [message for message in all_messages(source) if message.startswith("LA303")]


@pytest.mark.parametrize(
    "call, layer",
    [
        ("F.dropout(x, 0.5)", "nn.Dropout"),
        ("F.dropout(x)", "nn.Dropout"),
        ("F.dropout(x, p=0.5, inplace=True)", "nn.Dropout"),
        ("nn.functional.dropout2d(x, 0.1)", "nn.Dropout2d"),
        ("torch.nn.functional.dropout1d(x)", "nn.Dropout1d"),
        ("F.dropout3d(x, 0.2)", "nn.Dropout3d"),
    ],
)
def test_reported_at_the_call_with_the_function_as_written(call, layer):
    source = MODULE.format(call=call)
    assert findings(source) == [(8, "LA303")]
    function = call.split("(")[0]
    assert messages(source) == [
        f"LA303 {function}() without training= keeps dropout on in evaluation; "
        f"pass training=self.training (or use {layer})"
    ]


@pytest.mark.parametrize(
    "call",
    [
        "F.dropout(x, 0.5, training=self.training)",
        "F.dropout(x, 0.5, training=True)",  # Monte Carlo dropout, said explicitly
        "F.dropout(x, 0.5, training=False)",
        "F.dropout(x, 0.5, self.training)",
        "F.dropout(x, 0.5, **self.options)",
        "F.dropout(*self.args)",
        "F.alpha_dropout(x, 0.5)",  # training defaults to False
        "F.feature_alpha_dropout(x, 0.5)",
        "torch.dropout(x, 0.5, self.training)",
        "F.dropout(x, 0.5) if self.training else x",
        "self.dropout(x)",
    ],
)
def test_quiet_when_training_is_given_or_not_needed(call):
    assert findings(MODULE.format(call=call)) == []


@pytest.mark.parametrize(
    "imports, call",
    [
        ("from torch.nn.functional import dropout", "dropout(x)"),
        ("from torch.nn.functional import dropout as drop", "drop(x)"),
        ("from torch.nn import functional", "functional.dropout(x)"),
        ("import torch.nn.functional as fn", "fn.dropout(x)"),
    ],
)
def test_import_spellings(imports, call):
    source = f"""
    {imports}
    from torch import nn

    class Net(nn.Module):
        def forward(self, x):
            return {call}
    """
    assert findings(source) == [(7, "LA303")]


@pytest.mark.parametrize(
    "imports",
    [
        "import mylib.functional as F",  # not torch's
        "import torch.nn.functional as F\nF = object()",  # rebound
    ],
)
def test_names_that_are_not_torch_functional_are_quiet(imports):
    source = "import torch\nfrom torch import nn\n" + imports + """
class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5)
"""
    assert findings(source) == []


def test_quiet_outside_module_methods():
    source = """
    import torch.nn.functional as F

    def regularize(x):
        return F.dropout(x, 0.5)

    class Options:
        def apply(self, x):
            return F.dropout(x, 0.5)

    y = F.dropout(x, 0.5)
    """
    assert findings(source) == []


def test_module_classes_through_the_users_own_bases_and_lightning():
    source = """
    import lightning as L
    import torch.nn.functional as F
    from torch import nn
    from project.layers import Layer  # not in sight: a forward method makes it a module

    class Base(nn.Module):
        pass

    class Child(Base):
        def forward(self, x):
            return F.dropout(x)

    class Lit(L.LightningModule):
        def predict_step(self, batch, batch_idx):
            return F.dropout(self(batch))

    class Unknown(Layer):
        def forward(self, x):
            return F.dropout(x)

    class Helper(Layer):
        def apply(self, x):
            return F.dropout(x)
    """
    assert findings(source) == [(12, "LA303"), (16, "LA303"), (20, "LA303")]


def test_training_only_code_and_monte_carlo_code_are_quiet():
    source = """
    import torch.nn.functional as F
    from torch import nn

    class Net(nn.Module):
        def forward(self, x, train=False):
            if self.training and self.p > 0:
                x = F.dropout(x, self.p)
            if train:
                x = F.dropout(x, 0.1)
            return x

        def guarded(self, x):
            if not self.training:
                return x
            return F.dropout(x, 0.2)

        def training_step(self, batch, batch_idx):
            return F.dropout(batch, 0.1)

        def mc_forward(self, x):
            return F.dropout(x, 0.5)

        @staticmethod
        def noise(x):
            return F.dropout(x, 0.1)

    class BayesianHead(nn.Module):
        def forward(self, x):
            return F.dropout(x, 0.5)
    """
    assert findings(source) == []


def test_a_training_test_that_does_not_guard_the_call_does_not_silence_it():
    source = """
    import torch.nn.functional as F
    from torch import nn

    class Net(nn.Module):
        def forward(self, x):
            if self.training:
                x = x + 0.1 * x.randn_like()
            return F.dropout(x, 0.5)
    """
    assert findings(source) == [(9, "LA303")]


def test_autograd_functions_are_not_modules():
    source = """
    import torch
    import torch.nn.functional as F

    class Noise(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return F.dropout(x, 0.5)

    class Sampler:
        def forward(self, x):
            return F.dropout(x, 0.5)
    """
    assert findings(source) == []
