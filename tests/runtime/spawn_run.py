"""Run by test_spawn.py: a 2-process CPU ``ddp_spawn`` fit whose validation loader shuffles.

Usage: ``python spawn_run.py OUT_FILE NAMESPACE [STRATEGY]`` (``ddp_spawn`` by default, or
``ddp_fork``). Lightning starts both ranks as new processes on a copy of the Trainer; this, the
launching process, writes to ``OUT_FILE`` the findings its own ``AdvisorCallback`` object holds
after ``fit`` returns, and the line its model class starts on.
"""
import importlib
import inspect
import json
import sys

import torch
from torch.utils.data import DataLoader, TensorDataset

from lightning_advisor import AdvisorCallback

ns = importlib.import_module(sys.argv[2] if len(sys.argv) > 2 else "lightning.pytorch")


class SpawnedModel(ns.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 2)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def validation_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def loader(**options):
    return DataLoader(TensorDataset(torch.randn(16, 4)), batch_size=2, **options)


if __name__ == "__main__":
    advisor = AdvisorCallback()
    strategy = sys.argv[3] if len(sys.argv) > 3 else "ddp_spawn"
    trainer = ns.Trainer(
        accelerator="cpu", devices=2, strategy=strategy, max_epochs=1, limit_train_batches=2, limit_val_batches=2,
        num_sanity_val_steps=0, callbacks=[advisor], enable_progress_bar=False, enable_model_summary=False,
        enable_checkpointing=False, logger=False,
    )
    trainer.fit(SpawnedModel(), loader(), val_dataloaders=loader(shuffle=True))
    with open(sys.argv[1], "w") as out:
        json.dump({
            "findings": [[f.code, f.message, f.location] for f in advisor.findings],
            "again": len(advisor.findings),  # asking twice gives the same list
            "class_line": inspect.getsourcelines(SpawnedModel)[1],
        }, out)
