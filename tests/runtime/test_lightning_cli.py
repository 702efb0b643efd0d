"""AdvisorCallback from LightningCLI: on the command line and in a YAML config, as the README shows."""
from __future__ import annotations

import importlib
import textwrap

import pytest
import torch
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from lightning_advisor import AdvisorCallback, rule

pytest.importorskip("jsonargparse")

DATA = TensorDataset(torch.randn(16, 4))
QUIET = [
    "--trainer.max_epochs=1", "--trainer.limit_train_batches=2", "--trainer.limit_val_batches=2",
    "--trainer.logger=false", "--trainer.enable_progress_bar=false", "--trainer.enable_checkpointing=false",
    "--trainer.enable_model_summary=false", "--trainer.accelerator=cpu",
]


def model_class(lit):
    class ShuffledValidation(lit.BoringModel):
        def train_dataloader(self):
            return DataLoader(DATA, batch_size=4)

        def val_dataloader(self):
            return DataLoader(DATA, batch_size=4, sampler=RandomSampler(DATA))  # noqa: LA101 (the mistake under test)

    return ShuffledValidation


def run_cli(lit, *args):
    cli = importlib.import_module(f"{lit.name}.cli")
    with pytest.warns(UserWarning):  # LA101, and Lightning's own advice about this tiny run
        return cli.LightningCLI(model_class(lit), args=["fit", *QUIET, *args], save_config_callback=None)


def advisor_of(trainer) -> AdvisorCallback:
    (advisor,) = [c for c in trainer.callbacks if isinstance(c, AdvisorCallback)]
    return advisor


def test_added_on_the_command_line(lit):
    cli = run_cli(lit, "--trainer.callbacks+=lightning_advisor.AdvisorCallback")
    advisor = advisor_of(cli.trainer)
    assert [f.message for f in advisor.findings] == [
        rule("LA101").render(split="validation", how="RandomSampler")
    ]


def test_its_arguments_on_the_command_line(lit):
    cli = run_cli(
        lit, "--trainer.callbacks+=lightning_advisor.AdvisorCallback", "--trainer.callbacks.ignore=[LA101]"
    )
    advisor = advisor_of(cli.trainer)
    assert advisor.ignore == frozenset({"LA101"}) and advisor.findings == []


def test_in_a_yaml_config_with_init_args(lit, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(textwrap.dedent(
        """\
        trainer:
          callbacks:
            - class_path: lightning_advisor.AdvisorCallback
              init_args:
                ignore: [la101]
                min_workers: 4
        """
    ))
    cli = run_cli(lit, f"--config={config}")
    advisor = advisor_of(cli.trainer)
    assert (advisor.ignore, advisor.min_workers, advisor.findings) == (frozenset({"LA101"}), 4, [])
