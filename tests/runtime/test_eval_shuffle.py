"""LA101 at run time: evaluation loaders that shuffle, wherever they come from."""
from __future__ import annotations

import re

import pytest
import torch
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    DistributedSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)

from lightning_advisor import AdvisorCallback, AdvisorWarning, rule
from lightning_advisor.runtime.dataloaders import how_it_shuffles

DATA = TensorDataset(torch.randn(16, 4))


class Buckets(BatchSampler):
    """A custom batch sampler, as users write them."""


def la101(split: str, how: str) -> str:
    return rule("LA101").render(split=split, how=how)


def test_fit_val_dataloaders_shuffled(lit, make_trainer, make_loader):
    advisor = AdvisorCallback()
    trainer = make_trainer(callbacks=[advisor], max_epochs=2, num_sanity_val_steps=1)
    expected = la101("validation", "RandomSampler")
    with pytest.warns(AdvisorWarning, match=f"^{re.escape(expected)}$"):
        trainer.fit(lit.BoringModel(), make_loader(), val_dataloaders=make_loader(shuffle=True))
    # sanity check and two validation epochs: still one finding
    assert [(f.code, f.message, f.location) for f in advisor.findings] == [
        ("LA101", expected, "val_dataloaders[0]")
    ]


def test_datamodule_loaders_each_reported_by_position(lit, make_trainer, make_loader):
    advisor = AdvisorCallback()
    datamodule = lit.DataModule(train=make_loader(), val=[make_loader(), make_loader(shuffle=True)])
    with pytest.warns(AdvisorWarning, match="^LA101 validation"):
        make_trainer(callbacks=[advisor]).fit(lit.BoringModel(), datamodule=datamodule)
    assert [(f.code, f.location) for f in advisor.findings] == [("LA101", "val_dataloaders[1]")]


@pytest.mark.parametrize("method, split, prefix", [
    ("validate", "validation", "val_dataloaders"),
    ("test", "test", "test_dataloaders"),
    ("predict", "prediction", "predict_dataloaders"),
])
def test_validate_test_predict(lit, make_trainer, make_loader, method, split, prefix):
    advisor = AdvisorCallback()
    loaders = {"plain": make_loader(), "shuffled": make_loader(sampler=RandomSampler(DATA))}
    with pytest.warns(AdvisorWarning, match=f"^{re.escape(la101(split, 'RandomSampler'))}$"):
        getattr(make_trainer(callbacks=[advisor]), method)(lit.BoringModel(), dataloaders=loaders)
    assert [(f.code, f.location) for f in advisor.findings] == [("LA101", f"{prefix}['shuffled']")]


def test_distributed_sampler_with_shuffle_that_lightning_misses(lit, make_trainer, make_loader, recorded):
    sampler = DistributedSampler(DATA, num_replicas=1, rank=0, shuffle=True)
    advisor = AdvisorCallback()
    with recorded() as caught:
        make_trainer(callbacks=[advisor]).validate(lit.BoringModel(), make_loader(sampler=sampler))
    assert caught.advisor == [la101("validation", "DistributedSampler(shuffle=True)")]


def test_sequential_eval_loaders_are_clean(lit, make_trainer, make_loader, recorded):
    advisor = AdvisorCallback()
    sampler = DistributedSampler(DATA, num_replicas=1, rank=0, shuffle=False)
    with recorded() as caught:
        trainer = make_trainer(callbacks=[advisor], num_sanity_val_steps=1)
        val = [make_loader(), make_loader(sampler=sampler)]
        trainer.fit(lit.BoringModel(), make_loader(shuffle=True), val_dataloaders=val)
        trainer.test(lit.BoringModel(), make_loader())
    assert caught.advisor == []
    assert advisor.findings == []


@pytest.mark.parametrize("loader, how", [
    (DataLoader(DATA, shuffle=True), "RandomSampler"),
    (DataLoader(DATA, sampler=SubsetRandomSampler(range(8))), "SubsetRandomSampler"),
    (DataLoader(DATA, sampler=WeightedRandomSampler([1.0] * 16, 16)), "WeightedRandomSampler"),
    (DataLoader(DATA, sampler=DistributedSampler(DATA, 2, 0)), "DistributedSampler(shuffle=True)"),
    (DataLoader(DATA, batch_sampler=BatchSampler(RandomSampler(DATA), 4, False)), "RandomSampler"),
    (DataLoader(DATA, batch_sampler=Buckets(RandomSampler(DATA), 4, False)), "Buckets(RandomSampler)"),
    (DataLoader(DATA), None),
    (DataLoader(DATA, sampler=DistributedSampler(DATA, num_replicas=2, rank=0, shuffle=False)), None),
    (DataLoader(DATA, batch_sampler=BatchSampler(SequentialSampler(DATA), 4, False)), None),
])
def test_how_it_shuffles(loader, how):
    assert how_it_shuffles(loader) == how


def test_how_it_shuffles_looks_inside_lightnings_sampler_wrappers():
    from lightning_fabric.utilities.distributed import DistributedSamplerWrapper
    from pytorch_lightning.overrides.distributed import UnrepeatedDistributedSamplerWrapper

    weighted = WeightedRandomSampler([1.0] * 16, 16)
    wrapped = DistributedSamplerWrapper(weighted, num_replicas=2, rank=0, shuffle=False)
    how = how_it_shuffles(DataLoader(DATA, sampler=wrapped))
    assert how == "DistributedSamplerWrapper(WeightedRandomSampler)"
    predicting = UnrepeatedDistributedSamplerWrapper(RandomSampler(DATA), 2, 0, shuffle=False)
    how = how_it_shuffles(DataLoader(DATA, sampler=predicting))
    assert how == "UnrepeatedDistributedSamplerWrapper(RandomSampler)"
    quiet = DistributedSamplerWrapper(SequentialSampler(DATA), num_replicas=2, rank=0, shuffle=False)
    assert how_it_shuffles(DataLoader(DATA, sampler=quiet)) is None


def test_validate_after_fit_checks_the_new_loaders(lit, make_trainer, make_loader, recorded):
    advisor = AdvisorCallback()
    trainer = make_trainer(callbacks=[advisor])
    with recorded() as caught:
        trainer.fit(lit.BoringModel(), make_loader(), val_dataloaders=make_loader())
        # not fit's loaders, which the Trainer still holds
        trainer.validate(trainer.lightning_module, dataloaders=make_loader(shuffle=True))
    assert caught.advisor == [la101("validation", "RandomSampler")]
