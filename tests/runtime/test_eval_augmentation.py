"""LA104 at run time: evaluation loaders whose datasets apply torchvision's random transforms."""
from __future__ import annotations

import ast
import inspect
import re

import pytest
import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Subset, random_split

from lightning_advisor import AdvisorCallback, AdvisorWarning, rule
from lightning_advisor.runtime import augmentation
from lightning_advisor.runtime.augmentation import random_augmentations

T = pytest.importorskip("torchvision.transforms")
v2 = pytest.importorskip("torchvision.transforms.v2")
datasets = pytest.importorskip("torchvision.datasets")


class Vectors(Dataset):
    """A dataset of the user's with a ``transform`` attribute, as most are written."""

    def __init__(self, transform=None, length: int = 16) -> None:
        self.transform = transform
        self.data = torch.randn(length, 4)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        item = self.data[index]
        return (self.transform(item) if self.transform is not None else item,)


def noisy() -> Vectors:
    """Items through ``RandomApply``: random, and it works on any tensor."""
    return Vectors(T.Compose([T.RandomApply([torch.neg], p=0.5)]))


def la104(split: str, transform: str) -> str:
    return rule("LA104").render(split=split, transform=transform)


def loader(dataset, **options) -> DataLoader:
    return DataLoader(dataset, batch_size=4, **options)


def test_fit_validation_reported_once_over_sanity_check_and_epochs(lit, make_trainer):
    advisor = AdvisorCallback()
    trainer = make_trainer(callbacks=[advisor], max_epochs=2, num_sanity_val_steps=1)
    expected = la104("validation", "RandomApply")
    with pytest.warns(AdvisorWarning, match=f"^{re.escape(expected)}$"):
        trainer.fit(lit.BoringModel(), loader(Vectors(torch.neg)), val_dataloaders=loader(noisy()))
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [("LA104", expected, "val_dataloaders[0]")]


@pytest.mark.parametrize("method, split, prefix", [
    ("validate", "validation", "val_dataloaders"),
    ("test", "test", "test_dataloaders"),
    ("predict", "prediction", "predict_dataloaders"),
])
def test_validate_test_predict_name_the_loader(lit, make_trainer, method, split, prefix, recorded):
    advisor = AdvisorCallback()
    loaders = {"plain": loader(Vectors()), "augmented": loader(noisy())}
    with recorded() as caught:
        getattr(make_trainer(callbacks=[advisor]), method)(lit.BoringModel(), dataloaders=loaders)
    assert caught.advisor == [la104(split, "RandomApply")]
    assert [(f.code, f.location) for f in advisor.findings] == [("LA104", f"{prefix}['augmented']")]


def test_datamodule_through_random_split_and_concat(lit, make_trainer):
    advisor = AdvisorCallback()
    _, val_part = random_split(noisy(), [8, 8], generator=torch.Generator().manual_seed(0))
    both = ConcatDataset([Vectors(), Vectors(T.Compose([T.RandomChoice([torch.neg, torch.abs])]))])
    datamodule = lit.DataModule(train=loader(Vectors()), val=[loader(val_part), loader(both), loader(Vectors())])
    with pytest.warns(AdvisorWarning, match="^LA104 validation"):
        make_trainer(callbacks=[advisor]).fit(lit.BoringModel(), datamodule=datamodule)
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [
        ("LA104", la104("validation", "RandomApply"), "val_dataloaders[0]"),
        ("LA104", la104("validation", "RandomChoice"), "val_dataloaders[1]"),
    ]


def test_training_data_and_deterministic_evaluation_data_are_clean(lit, make_trainer, recorded):
    advisor = AdvisorCallback()
    with recorded() as caught:
        trainer = make_trainer(callbacks=[advisor], num_sanity_val_steps=1)
        trainer.fit(lit.BoringModel(), loader(noisy()), val_dataloaders=loader(Vectors(T.Compose([torch.abs]))))
        trainer.test(lit.BoringModel(), loader(Vectors(T.Lambda(torch.neg))))
    assert caught.advisor == []
    assert advisor.findings == []


class Jitter(T.RandomHorizontalFlip):
    """A subclass of the user's: still random."""


@pytest.mark.parametrize("dataset, names", [
    (datasets.FakeData(4, transform=T.Compose([T.RandomCrop(8), T.ToTensor(), T.ColorJitter(0.4)])),
     ["RandomCrop", "ColorJitter"]),
    (datasets.FakeData(4, transform=v2.Compose([v2.ToImage(), v2.RandAugment(), v2.RandomErasing()])),
     ["RandAugment", "RandomErasing"]),
    (datasets.FakeData(4, transform=torch.nn.Sequential(v2.RandomHorizontalFlip(), v2.RandomResizedCrop(8))),
     ["RandomHorizontalFlip", "RandomResizedCrop"]),
    (datasets.FakeData(4, target_transform=T.RandomApply([torch.neg])), ["RandomApply"]),
    (Subset(Subset(Vectors(T.Compose([T.Compose([Jitter()])])), [0, 1]), [0]), ["Jitter"]),
    (Vectors(v2.Compose([v2.ScaleJitter((8, 8)), v2.GaussianNoise(), v2.CutMix(num_classes=2)])),
     ["ScaleJitter", "GaussianNoise", "CutMix"]),
    (datasets.FakeData(4, transform=T.Compose([T.Resize(8), T.CenterCrop(8), T.ToTensor(), T.Normalize(0, 1)])), []),
    (Vectors(torch.neg), []),
    (datasets.FakeData(4, transform=T.Compose([T.RandomHorizontalFlip(p=1.0), v2.RandomGrayscale(p=0)])), []),
    (datasets.FakeData(4, transform=T.RandomVerticalFlip(p=0.3)), ["RandomVerticalFlip"]),
    (torch.utils.data.TensorDataset(torch.randn(4, 2)), []),
])
def test_random_augmentations(dataset, names):
    assert random_augmentations(DataLoader(dataset)) == names


class Fragile(Dataset):
    @property
    def transform(self):
        raise RuntimeError("not ready")


def test_a_dataset_whose_transform_raises_is_no_evidence():
    assert random_augmentations(DataLoader(Fragile())) == []


def test_the_probe_never_imports_torchvision():
    """Transforms are known by their classes' module and name: a run without torchvision pays nothing for it."""
    tree = ast.parse(inspect.getsource(augmentation))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert imported and not [name for name in imported if name.partition(".")[0] == "torchvision"]
