"""Shared pieces for the AdvisorCallback tests: a BoringModel-style module, small datasets, a
Trainer factory, each for both Lightning namespaces (``pytorch_lightning`` and ``lightning.pytorch``).
"""
from __future__ import annotations

import contextlib
import importlib
import time
import warnings
from types import SimpleNamespace
from typing import Dict, Iterator, List

import pytest
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from lightning_advisor import AdvisorWarning

NAMESPACES = ("pytorch_lightning", "lightning.pytorch")
_KITS: Dict[str, SimpleNamespace] = {}


class RandomDataset(Dataset):
    """A map-style dataset of random vectors (not a TensorDataset: LA102 applies to it)."""

    def __init__(self, length: int = 16, size: int = 4, delay_s: float = 0.0) -> None:
        self.data = torch.randn(length, size)
        self.delay_s = delay_s

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        if self.delay_s:
            time.sleep(self.delay_s)  # an expensive decode / augmentation
        return (self.data[index],)


def _kit(name: str) -> SimpleNamespace:
    """The namespace module and a BoringModel / DataModule subclassing its classes, built once."""
    if name in _KITS:
        return _KITS[name]
    ns = importlib.import_module(name)

    class BoringModel(ns.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(4, 2)

        def forward(self, x):
            return self.layer(x)

        def training_step(self, batch, batch_idx):
            return self(batch[0]).sum()

        def validation_step(self, batch, batch_idx, dataloader_idx=0):
            return self(batch[0]).sum()

        def test_step(self, batch, batch_idx, dataloader_idx=0):
            return self(batch[0]).sum()

        def predict_step(self, batch, batch_idx, dataloader_idx=0):
            return self(batch[0])

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    class BoringDataModule(ns.LightningDataModule):
        def __init__(self, train=None, val=None, test=None, predict=None) -> None:
            super().__init__()
            self.loaders = {"train": train, "val": val, "test": test, "predict": predict}

        def train_dataloader(self):
            return self.loaders["train"]

        def val_dataloader(self):
            return self.loaders["val"]

        def test_dataloader(self):
            return self.loaders["test"]

        def predict_dataloader(self):
            return self.loaders["predict"]

    _KITS[name] = SimpleNamespace(name=name, ns=ns, BoringModel=BoringModel, DataModule=BoringDataModule)
    return _KITS[name]


def pytest_configure(config):
    config.addinivalue_line("markers", "ddp: a 2-process CPU DDP run (runs by default; -m 'not ddp' skips)")


@pytest.fixture(params=NAMESPACES)
def lit(request) -> SimpleNamespace:
    """``lit.ns`` (the namespace), ``lit.BoringModel``, ``lit.DataModule``."""
    return _kit(request.param)


@pytest.fixture
def make_trainer(lit):
    """A small, quiet CPU Trainer of the namespace under test."""

    def make(**overrides):
        options = dict(
            accelerator="cpu",
            devices=1,
            max_epochs=1,
            limit_train_batches=2,
            limit_val_batches=2,
            limit_test_batches=2,
            limit_predict_batches=2,
            num_sanity_val_steps=0,
            enable_progress_bar=False,
            enable_model_summary=False,
            enable_checkpointing=False,
            logger=False,
        )
        options.update(overrides)
        return lit.ns.Trainer(**options)

    return make


@pytest.fixture
def make_loader():
    """``make_loader("tensor" | "random" | "slow", length=16, **DataLoader options)``, batch size 4.

    ``"tensor"``: an in-memory TensorDataset; ``"random"``: a map-style dataset; ``"slow"``: one
    whose items take 3 ms each to load.
    """

    def make(dataset: str = "tensor", length: int = 16, **options) -> DataLoader:
        data = {
            "tensor": lambda: TensorDataset(torch.randn(length, 4)),
            "random": lambda: RandomDataset(length),
            "slow": lambda: RandomDataset(length, delay_s=0.003),
        }[dataset]()
        options.setdefault("batch_size", 4)
        return DataLoader(data, **options)

    return make


@pytest.fixture(autouse=True)
def cpus(monkeypatch):
    """This 'machine' has 4 usable CPUs unless a test says otherwise: ``cpus(8)``."""
    from lightning_advisor.runtime import dataloaders

    def set_cpus(count: int) -> None:
        monkeypatch.setattr(dataloaders, "usable_cpus", lambda: count)

    set_cpus(4)
    return set_cpus


class Recorded(list):
    """Warnings caught by :func:`recorded`; ``.advisor`` lists the AdvisorWarning messages."""

    @property
    def advisor(self) -> List[str]:
        return [str(w.message) for w in self if issubclass(w.category, AdvisorWarning)]

    def containing(self, text: str) -> List[str]:
        return [str(w.message) for w in self if text in str(w.message)]


@pytest.fixture
def recorded():
    """``with recorded() as caught:`` records every warning, each time it is issued."""

    @contextlib.contextmanager
    def record() -> Iterator[Recorded]:
        caught = Recorded()
        with warnings.catch_warnings(record=True) as raw:
            warnings.simplefilter("always")
            try:
                yield caught
            finally:
                caught.extend(raw)

    return record
