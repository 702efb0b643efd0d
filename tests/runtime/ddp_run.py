"""Run by test_ddp.py: a 2-process CPU DDP fit whose validation loader shuffles.

Usage: ``python ddp_run.py OUT_DIR NAMESPACE``. Lightning's "ddp" strategy starts rank 1 by
running this script again; each rank writes ``rank<N>.json`` with the AdvisorWarnings it issued
and the findings its callback recorded, and rank 0 exits only once rank 1's file is there.
"""
import importlib
import json
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from lightning_advisor import AdvisorCallback, AdvisorWarning


def main(out_dir: Path, namespace: str) -> None:
    ns = importlib.import_module(namespace)

    class Model(ns.LightningModule):
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

    advisor = AdvisorCallback()
    trainer = ns.Trainer(
        accelerator="cpu",
        devices=2,
        strategy="ddp",
        max_epochs=2,
        limit_train_batches=2,
        limit_val_batches=2,
        num_sanity_val_steps=1,
        callbacks=[advisor],
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        logger=False,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(Model(), loader(), val_dataloaders=loader(shuffle=True))
    report = {
        "rank": trainer.global_rank,
        "warnings": [str(w.message) for w in caught if issubclass(w.category, AdvisorWarning)],
        "findings": [[f.code, f.message, f.location] for f in advisor.findings],
    }
    partial = out_dir / f"rank{trainer.global_rank}.partial"
    partial.write_text(json.dumps(report))
    partial.rename(out_dir / f"rank{trainer.global_rank}.json")  # whole or not at all
    if trainer.global_rank == 0:
        # rank 1 is a child process that may still be finishing: the test reads both files once we exit
        deadline = time.monotonic() + 60
        while not (out_dir / "rank1.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
