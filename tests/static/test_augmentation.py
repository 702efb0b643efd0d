"""LA104: evaluation data built with random augmentation, through the plugin in-process."""
import ast

import pytest

from lightning_advisor.catalog import rule
from lightning_advisor.static import augmentation
from lightning_advisor.static.context import ModuleContext
from rulebook import lint

HEADER = """\
import torch
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, transforms as T
from torchvision.transforms import v2
"""


def la104(source: str):
    """``(line, column, message)`` of each LA104 finding; the header's four lines come first."""
    return [(f.line - 4, f.column, f.message) for f in lint(HEADER + source) if f.code == "LA104"]


def message(split: str, transform: str) -> str:
    return rule("LA104").render(split=split, transform=transform)


def test_a_named_pipeline_is_reported_at_its_compose_with_every_random_transform_in_order():
    source = "val_transform = T.Compose([T.RandomCrop(32), T.ToTensor(), T.RandomCrop(28), T.ColorJitter(0.4)])\n"
    assert la104(source) == [(1, 17, message("validation", "RandomCrop, ColorJitter"))]


def test_a_dataset_is_reported_at_its_construction_and_its_pipeline_stays_quiet():
    source = (
        "transform = T.Compose([T.RandomHorizontalFlip(), T.ToTensor()])\n"
        'test_set = datasets.MNIST("data", train=False, transform=transform)\n'
    )
    assert la104(source) == [(2, 12, message("test", "RandomHorizontalFlip"))]


@pytest.mark.parametrize("pipeline, transform", [
    ("T.RandomResizedCrop(224)", "RandomResizedCrop"),
    ("v2.RandomResizedCrop(224)", "RandomResizedCrop"),
    ("v2.Compose([v2.ToImage(), v2.RandAugment()])", "RandAugment"),
    ("T.Compose([T.RandomApply([T.ColorJitter(0.4)], p=0.8)])", "RandomApply"),
    ("T.Compose([T.RandomChoice([T.Resize(32), T.CenterCrop(32)])])", "RandomChoice"),
    ("torch.nn.Sequential(v2.RandomErasing(), v2.Normalize((0.5,), (0.5,)))", "RandomErasing"),
    ("T.Compose([T.Compose([T.AutoAugment()]), T.TrivialAugmentWide(), T.AugMix()])",
     "AutoAugment, TrivialAugmentWide, AugMix"),
    ("v2.Compose([v2.ScaleJitter((64, 64)), v2.GaussianNoise()])", "ScaleJitter, GaussianNoise"),
])
def test_random_transforms_of_v1_and_v2_by_their_torchvision_names(pipeline, transform):
    assert la104(f"test_transform = {pipeline}\n") == [(1, 18, message("test", transform))]


@pytest.mark.parametrize("imports, call", [
    ("import torchvision", "torchvision.transforms.RandomCrop(32)"),
    ("import torchvision.transforms.v2 as tv2", "tv2.RandomCrop(32)"),
    ("from torchvision.transforms import RandomCrop as Cut", "Cut(32)"),
    ("from torchvision.transforms.transforms import RandomCrop", "RandomCrop(32)"),
])
def test_names_resolve_through_the_imports(imports, call):
    assert la104(f"{imports}\nval_tf = {call}\n") == [(2, 10, message("validation", "RandomCrop"))]


@pytest.mark.parametrize("source", [
    "class RandomCrop:\n    pass\nval_tf = T.Compose([RandomCrop()])\n",
    "import kornia.augmentation as K\nval_tf = torch.nn.Sequential(K.RandomHorizontalFlip())\n",
    "val_tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize((0.5,), (0.5,))])\n",
    "val_tf = T.Compose([T.GaussianBlur(3, sigma=1.0), T.FiveCrop(32)])\n",
    # a chance of 0 or 1: never or always applied
    "val_tf = T.Compose([T.RandomHorizontalFlip(p=1.0), v2.RandomGrayscale(0), T.RandomSolarize(128, 1)])\n",
])
def test_not_torchvision_or_not_random_is_quiet(source):
    assert la104(source) == []


@pytest.mark.parametrize("target", [
    "self.test_tf", 'pipelines["val"]', "valid_transforms", "predict_tf", "eval_pipeline",
])
def test_evaluation_names(target):
    source = f"class Data:\n    def setup(self, pipelines):\n        {target} = T.RandomCrop(32)\n"
    assert [split for _, _, split in la104(source)] != []


@pytest.mark.parametrize("target", ["train_tf", "train_val_transform", "transform", "tta_transform", "test_tta",
                                    "test_time_aug", "val_contrast_tf", "simclr_val"])
def test_training_unsplit_and_deliberate_names_are_quiet(target):
    assert la104(f"{target} = T.RandomCrop(32)\n") == []


def test_returned_by_a_function_named_for_evaluation_but_not_by_a_pytest_test():
    source = (
        "def val_transforms():\n    return T.Compose([T.RandomCrop(32)])\n"
        "def test_crop():\n    return T.Compose([T.RandomCrop(32)])\n"
    )
    assert la104(source) == [(2, 12, message("validation", "RandomCrop"))]


@pytest.mark.parametrize("dataset, split", [
    ('datasets.MNIST("d", train=False, transform=AUG)', "test"),
    ('datasets.STL10("d", split="test", transform=AUG)', "test"),
    ('datasets.ImageFolder("d", AUG)', None),  # no split known
    ('MyDataset(split="val", transform=AUG)', "validation"),
    ('MyDataset(mode="test", img_transform=AUG)', "test"),
    ("ValDataset(AUG)", "validation"),  # positional: ``ds`` says it is a dataset
])
def test_dataset_splits_from_their_construction(dataset, split):
    source = f"AUG = T.Compose([T.RandomCrop(32)])\nds = {dataset}\n"
    assert [found[2] for found in la104(source)] == ([message(split, "RandomCrop")] if split else [])


def test_a_positional_pipeline_counts_only_where_the_call_is_evidently_a_dataset():
    source = "AUG = T.Compose([T.RandomCrop(32)])\nviews = TwoViews(AUG, split='test')\nval_tf = Wrap(AUG)\n"
    assert la104(source) == []


def test_a_dataset_read_by_an_evaluation_loader_or_in_a_loader_hook():
    source = (
        "AUG = T.Compose([T.RandomCrop(32)])\n"
        "ds = datasets.ImageFolder('d', AUG)\n"
        "test_loader = DataLoader(ds, num_workers=4)\n"
        "class DM:\n"
        "    def predict_dataloader(self):\n"
        "        return DataLoader(datasets.ImageFolder('d', AUG), num_workers=4)\n"
    )
    assert la104(source) == [(2, 6, message("test", "RandomCrop")), (6, 27, message("prediction", "RandomCrop"))]


def test_a_dataset_read_by_a_training_loader_is_quiet_even_when_an_evaluation_loader_reads_it_too():
    source = (
        "ds = datasets.ImageFolder('d', T.RandomCrop(32))\n"
        "train_loader = DataLoader(ds, shuffle=True, num_workers=4)\n"
        "val_loader = DataLoader(ds, num_workers=4)\n"
    )
    assert la104(source) == []


def test_the_evaluation_part_of_a_split_is_reported_at_the_split():
    source = (
        "full = datasets.CIFAR10('d', train=True, transform=T.RandomCrop(32))\n"
        "train_set, val_set = random_split(full, [45000, 5000])\n"
        "other = datasets.CIFAR10('d', train=True, transform=T.RandomCrop(32))\n"
        "train_set2, _ = random_split(other, [45000, 5000])\n"
    )
    assert la104(source) == [(2, 22, message("validation", "RandomCrop"))]


def test_quiet_when_the_transform_is_set_again():
    source = (
        "full = datasets.CIFAR10('d', train=True, transform=T.RandomCrop(32))\n"
        "train_set, val_set = random_split(full, [45000, 5000])\n"
        "val_set.dataset.transform = T.ToTensor()\n"
        "test_set = datasets.MNIST('d', train=False, transform=T.RandomCrop(28))\n"
        "test_set.transform = T.ToTensor()\n"
    )
    assert la104(source) == []


@pytest.mark.parametrize("source", [
    # a parameter: one pipeline shared by the training and the evaluation path
    "def make(transform):\n    return datasets.MNIST('d', train=False, transform=transform)\n",
    # a function's result, a conditional expression
    "def get(train):\n    return T.ToTensor()\ntest_set = datasets.MNIST('d', train=False, transform=get(False))\n",
    "test_set = datasets.MNIST('d', train=False, transform=T.RandomCrop(28) if AUG else T.ToTensor())\n",
    # under a training or augmentation flag
    "def setup(train):\n    if train:\n        val_tf = T.RandomCrop(32)\n",
    "def setup(self):\n    if self.hparams.augment:\n"
    "        self.test_set = datasets.MNIST('d', train=False, transform=T.RandomCrop(28))\n",
    # bound twice
    "val_tf = T.RandomCrop(32)\nval_tf = T.CenterCrop(32)\n",
    # a DataModule's training keyword
    "dm = DataModule(train_transforms=T.RandomCrop(32), val_transforms=T.CenterCrop(32))\n",
])
def test_quiet_when_unsure_or_meant(source):
    assert la104(source) == []


def test_datamodule_keywords_name_the_split():
    source = "aug = T.RandomCrop(32)\ndm = DataModule(train_transforms=aug, test_transforms=aug)\n"
    assert la104(source) == [(2, 6, message("test", "RandomCrop"))]


def test_files_without_random_transforms_do_no_work(monkeypatch):
    source = HEADER + "val_tf = T.Compose([T.CenterCrop(32)])\ntest_set = datasets.MNIST('d', train=False)\n"
    ctx = ModuleContext(ast.parse(source), "x.py", source.splitlines(True))
    assert augmentation.candidates(ctx) == []
    without = source.replace("CenterCrop", "Resize")
    ctx = ModuleContext(ast.parse(without), "x.py", None)  # no text to pre-check: the calls still decide
    assert augmentation.candidates(ctx) == []


def test_a_chance_between_0_and_1_or_unknown_is_random():
    source = (
        "p = 0.3\nval_tf = T.Compose([T.RandomHorizontalFlip(p), T.RandomVerticalFlip(p=q), T.RandomInvert(0.5)])\n"
    )
    assert la104(source) == [(2, 10, message("validation", "RandomHorizontalFlip, RandomVerticalFlip, RandomInvert"))]


def test_random_transforms_follows_names_bound_once():
    source = HEADER + "a = T.RandomCrop(3)\nb = T.Compose([a, T.ToTensor(), v2.RandomHorizontalFlip()])\nc = b\n"
    ctx = ModuleContext(ast.parse(source), "x.py", source.splitlines(True))
    name = ctx.tree.body[-1].targets[0]
    assert augmentation.random_transforms(ctx, name) == ["RandomCrop", "RandomHorizontalFlip"]
