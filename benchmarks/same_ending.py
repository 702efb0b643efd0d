"""A real Lightning program with and without AdvisorCallback: does the run end the same way?

The reference trainer's modules (``examples/mnist_clean.py`` and ``mnist_mistakes.py``) on synthetic
digits, deterministic, each fitted twice from the same seed: without the Callback and with it. Compared:
the Trainer's final status, its global step, every logged metric (exactly), and every tensor of the
final state dict (``torch.equal``). Prints the comparison and the Callback's findings; exits 1 when a
run ends differently.

    python benchmarks/same_ending.py [--epochs 2] [--batches 40] [--workers 0]
"""
from __future__ import annotations

import argparse
import logging
import sys
import warnings
from typing import Dict, List, Optional, Tuple

from harness import ROOT

EXAMPLES = ROOT / "examples"


def fit(module_class, datamodule_class, args, with_callback: bool) -> Tuple[dict, List[str]]:
    import mnist_common
    import torch

    from lightning_advisor import AdvisorCallback

    pl = mnist_common.pl
    pl.seed_everything(mnist_common.SEED, workers=True)
    datamodule = datamodule_class("data", 64, True, args.workers)
    advisor = AdvisorCallback()
    trainer = pl.Trainer(
        max_epochs=args.epochs, limit_train_batches=args.batches, limit_val_batches=args.batches // 4,
        accelerator="cpu", devices=1, deterministic=True, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, callbacks=[advisor] if with_callback else [],
    )
    model = module_class()
    trainer.fit(model, datamodule=datamodule)
    ending = {
        "status": str(trainer.state.status),
        "global_step": trainer.global_step,
        "metrics": {k: float(v) for k, v in sorted(trainer.callback_metrics.items())},
        "weights": {k: v.detach().clone() for k, v in model.state_dict().items()},
    }
    del torch
    return ending, [f"{f.code} [{f.location}]" for f in advisor.findings] if with_callback else []


def compare(a: dict, b: dict) -> Dict[str, bool]:
    import torch

    return {
        "status": a["status"] == b["status"],
        "global step": a["global_step"] == b["global_step"],
        "metrics": a["metrics"] == b["metrics"],
        "weights": a["weights"].keys() == b["weights"].keys()
        and all(torch.equal(a["weights"][k], b["weights"][k]) for k in a["weights"]),
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batches", type=int, default=40, help="training batches per epoch")
    parser.add_argument("--workers", type=int, default=0, help="num_workers of the clean variant's loaders")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(EXAMPLES))
    warnings.filterwarnings("ignore")
    for name in ("lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import mnist_clean
    import mnist_mistakes

    programs = {
        "mnist_clean": (mnist_clean.CleanClassifier, mnist_clean.CleanDataModule),
        "mnist_mistakes": (mnist_mistakes.MistakesClassifier, mnist_mistakes.MistakesDataModule),
    }
    same_everywhere = True
    for name, (module_class, datamodule_class) in programs.items():
        without, _ = fit(module_class, datamodule_class, args, with_callback=False)
        with_advisor, findings = fit(module_class, datamodule_class, args, with_callback=True)
        checks = compare(without, with_advisor)
        same_everywhere &= all(checks.values())
        print(f"{name}: {without['status']}, {without['global_step']} steps; "
              + ", ".join(f"{what} {'same' if same else 'DIFFERENT'}" for what, same in checks.items()))
        print(f"  metrics: {without['metrics']}")
        print(f"  findings with the Callback: {', '.join(findings) or 'none'}")
    return 0 if same_everywhere else 1


if __name__ == "__main__":
    raise SystemExit(main())
