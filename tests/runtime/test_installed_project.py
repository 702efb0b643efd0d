"""A project installed into site-packages (``pip install .``, a Docker image, a conda env) is user code."""
from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from lightning_advisor import AdvisorCallback, rule

PROJECT = textwrap.dedent(
    """\
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    from {ns}.demos.boring_classes import BoringModel

    DATA = TensorDataset(torch.randn(8, 32))


    class InstalledModel(BoringModel):
        def on_train_start(self):
            for (x,) in DataLoader(DATA, batch_size=4):
                self(x)  # evaluation

        def train_dataloader(self):
            return DataLoader(TensorDataset(torch.randn(8, 32)), batch_size=4)

        def training_step(self, batch, batch_idx):
            return super().training_step(batch[0], batch_idx)
    """
)


@pytest.fixture
def installed(lit, tmp_path, monkeypatch):
    """``myproject.model`` installed in a site-packages folder of its own."""
    site = tmp_path / "lib" / "python3" / "site-packages"
    package = site / f"myproject_{lit.name.replace('.', '_')}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "model.py").write_text(PROJECT.format(ns=lit.name))
    monkeypatch.syspath_prepend(str(site))
    module = importlib.import_module(f"{package.name}.model")
    yield module
    sys.modules.pop(f"{package.name}.model", None)
    sys.modules.pop(package.name, None)


def test_an_installed_projects_hooks_are_checked(installed, make_trainer):
    advisor = AdvisorCallback(ignore=["LA102"])
    with pytest.warns(UserWarning):
        make_trainer(callbacks=[advisor]).fit(installed.InstalledModel())
    line = PROJECT.splitlines().index("            self(x)  # evaluation") + 1
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [
        ("LA301", rule("LA301").render(model="self"), f"{installed.__file__}:{line}"),
        ("LA302", rule("LA302").render(model="self"), f"{installed.__file__}:{line}"),
    ]
