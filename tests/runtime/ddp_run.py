"""Run by test_ddp.py: a 2-process CPU DDP fit whose validation loader shuffles.

Usage: ``python ddp_run.py OUT_DIR NAMESPACE [FAILING_RANK]``. Lightning's "ddp" strategy starts
rank 1 by running this script again; each rank writes ``rank<N>.json`` with the AdvisorWarnings it
issued and the findings its callback recorded, and rank 0 exits only once rank 1's file is there.
With ``FAILING_RANK``, that rank's ``training_step`` raises ``RankFailed`` on its second batch:
each rank then records the exception that ended its run (if it got one) instead.
"""
import importlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

from lightning_advisor import AdvisorCallback, AdvisorWarning


class RankFailed(Exception):
    """The user's own error, raised by one rank."""


def main(out_dir: Path, namespace: str, failing_rank: int = -1) -> None:
    ns = importlib.import_module(namespace)

    class Model(ns.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(4, 2)

        def training_step(self, batch, batch_idx):
            if self.global_rank == failing_rank and batch_idx == 1:
                raise RankFailed(f"rank {failing_rank} failed in training_step")
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
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filters = list(warnings.filters)
        try:
            trainer.fit(Model(), loader(), val_dataloaders=loader(shuffle=True))
        except Exception as raised:
            if failing_rank < 0:
                raise
            error = f"{type(raised).__name__}: {raised}"
        filters_restored = warnings.filters == filters
    report = {
        "rank": trainer.global_rank,
        "warnings": [str(w.message) for w in caught if issubclass(w.category, AdvisorWarning)],
        "findings": [[f.code, f.message, f.location] for f in advisor.findings],
        "error": error,
        "filters_restored": filters_restored,
    }
    partial = out_dir / f"rank{trainer.global_rank}.partial"
    partial.write_text(json.dumps(report))
    partial.rename(out_dir / f"rank{trainer.global_rank}.json")  # whole or not at all
    if trainer.global_rank == 0:
        # rank 1 is a child process that may still be finishing: the test reads both files once we exit
        deadline = time.monotonic() + (60 if failing_rank < 0 else 10)
        while not (out_dir / "rank1.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    if failing_rank >= 0:
        # After a peer failed, the process group's C++ threads can abort interpreter shutdown now and then
        # ("terminate called without an active exception", SIGABRT): torch's teardown, after the report
        # above is written. Leave without running it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else -1)
