"""Callback overhead: ``Trainer.fit`` of the MNIST example with and without ``AdvisorCallback``, on CPU.

    python benchmarks/callback_overhead.py               # 20 alternated pairs of fits
    python benchmarks/callback_overhead.py --pairs 40 --json benchmarks/results/callback_overhead.json
    python benchmarks/callback_overhead.py --ignore LA201,LA202 --profile 25   # what one probe costs

The model is the example's ``MNISTClassifier`` (784-128-10 MLP, ``examples/mnist_common.py``); the data
are the example's synthetic digits, normalized once and kept in memory (``num_workers=0``), so a batch
costs little and the Callback's share is as large as it gets. Both arms fit a freshly seeded model with
the same Trainer settings, alternately, in one process, after a warm-up fit of each.
"""
from __future__ import annotations

import cProfile
import gc
import io
import logging
import pstats
import sys
import time
import warnings
from typing import List, Optional

import harness
from harness import ROOT, median

EXAMPLES = ROOT / "examples"
TARGET_RATIO = 1.02
BATCH_SIZE = 64


def main(argv: Optional[List[str]] = None) -> None:
    cli = harness.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--pairs", type=int, default=20, help="alternated pairs of fits (default 20)")
    cli.add_argument("--train-batches", type=int, default=300, help="training batches per fit (default 300)")
    cli.add_argument("--val-batches", type=int, default=50, help="validation batches per fit (default 50)")
    cli.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: steadier timings)")
    cli.add_argument("--ignore", default="", metavar="CODES",
                     help="comma-separated rule codes the Callback skips, to see what each probe costs")
    cli.add_argument("--profile", type=int, metavar="N", default=0,
                     help="also profile one fit with the Callback (cProfile): lightning_advisor's top N")
    args = cli.parse_args(argv)
    if args.quick:
        args.pairs, args.train_batches, args.val_batches = 1, 10, 2
    if not (EXAMPLES / "mnist_common.py").is_file():
        sys.exit(f"{EXAMPLES / 'mnist_common.py'} is missing: this benchmark runs the example's model")

    sys.path.insert(0, str(EXAMPLES))
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    import mnist_common
    from lightning_advisor import AdvisorCallback

    pl = mnist_common.pl  # the Lightning namespace the example uses
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")  # Lightning's and the Callback's advice would only clutter the table
    for name in ("lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("lightning_advisor").setLevel(logging.ERROR)

    samples = BATCH_SIZE * (args.train_batches + args.val_batches)
    images, labels = mnist_common.synthetic_digits(samples, mnist_common.SEED)
    images = ((images.float() / 255 - mnist_common.MNIST_MEAN) / mnist_common.MNIST_STD).unsqueeze(1)
    split = BATCH_SIZE * args.train_batches
    train_set = TensorDataset(images[:split], labels[:split])
    val_set = TensorDataset(images[split:], labels[split:])

    class InMemoryDigits(pl.LightningDataModule):
        def train_dataloader(self):
            return DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True, num_workers=0)

        def val_dataloader(self):
            return DataLoader(val_set, batch_size=BATCH_SIZE, shuffle=False, num_workers=0)

    findings: List[str] = []
    ignore = [code.strip() for code in args.ignore.split(",") if code.strip()]

    class EmptyCallback(pl.Callback):
        """What any Callback costs: Lightning calls every hook of every callback, overridden or not."""

    def fit(with_callback: bool, empty: bool = False) -> float:
        gc.collect()  # the previous fit's garbage is not this one's to collect
        start = time.perf_counter()
        torch.manual_seed(mnist_common.SEED)
        model = mnist_common.MNISTClassifier()
        callbacks = [AdvisorCallback(ignore=ignore)] if with_callback else [EmptyCallback()] if empty else []
        trainer = pl.Trainer(
            max_epochs=1, limit_train_batches=args.train_batches, limit_val_batches=args.val_batches,
            num_sanity_val_steps=0, accelerator="cpu", devices=1, callbacks=callbacks,
            enable_progress_bar=False, logger=False, enable_checkpointing=False, enable_model_summary=False,
        )
        datamodule = InMemoryDigits()
        trainer.fit(model, datamodule=datamodule)
        seconds = time.perf_counter() - start
        if with_callback:
            findings[:] = [f.code for f in callbacks[0].findings]
        return seconds

    info = harness.machine()
    harness.announce(args, info)
    print(f"\nEach fit: {args.train_batches} training + {args.val_batches} val batches of {BATCH_SIZE}, "
          f"CPU, {args.threads} torch thread(s); {args.pairs} alternated pairs after a warm-up fit of each"
          + (f"; the Callback ignores {', '.join(ignore)}" if ignore else ""))
    fit(False), fit(False, empty=True), fit(True)  # warm-up: imports, allocator, first-call caches
    timings = harness.alternate({"without AdvisorCallback": lambda: fit(False),
                                 "with an empty Callback": lambda: fit(False, empty=True),
                                 "with AdvisorCallback": lambda: fit(True)}, args.pairs)
    batches = args.train_batches + args.val_batches

    def paired(kind: str, pair, baseline: str = "without AdvisorCallback") -> float:
        series = getattr(timings, kind)
        return median(pair(a, b) for a, b in zip(series[baseline], series["with AdvisorCallback"]))

    ratio = paired("wall", lambda a, b: b / a)
    per_batch_us = paired("wall", lambda a, b: (b - a) / batches * 1e6)
    own_us = paired("wall", lambda a, b: (b - a) / batches * 1e6, baseline="with an empty Callback")
    without, empty = timings.wall["without AdvisorCallback"], timings.wall["with an empty Callback"]
    empty_us = median((b - a) / batches * 1e6 for a, b in zip(without, empty))

    print()
    print(harness.table(["arm", "median s per fit", "min s", "median CPU s", "median ms per batch"],
                        [[name, median(t), min(t), median(timings.cpu[name]), median(t) / batches * 1000]
                         for name, t in timings.wall.items()]))
    results = [
        {"measure": "fit time with / without (median of paired ratios)", "value": ratio,
         "target": f"<= {TARGET_RATIO:g}", "verdict": harness.verdict(ratio, TARGET_RATIO)},
        {"measure": "added per batch, median of paired differences (us)", "value": per_batch_us,
         "target": "", "verdict": ""},
        {"measure": "of which any Callback costs (empty Callback vs none, us per batch)", "value": empty_us,
         "target": "", "verdict": ""},
        {"measure": "of which AdvisorCallback's own code (vs an empty Callback, us per batch)", "value": own_us,
         "target": "", "verdict": ""},
        {"measure": "with / without in CPU time: ratio", "value": paired("cpu", lambda a, b: b / a),
         "target": "", "verdict": ""},
        {"measure": "with / without in CPU time: added per batch (us)", "target": "", "verdict": "",
         "value": paired("cpu", lambda a, b: (b - a) / batches * 1e6)},
        {"measure": "findings reported during the fit", "value": ", ".join(findings) or "none",
         "target": "", "verdict": ""},
    ]
    print()
    print(harness.table(["measure", "value", "target", "verdict"],
                        [[r["measure"], r["value"], r["target"], r["verdict"]] for r in results]))

    profile = _profile(lambda: fit(True), args.profile) if args.profile else None
    if profile:
        print(f"\ncProfile of one fit with AdvisorCallback, lightning_advisor only, top {args.profile}:")
        print(profile)

    harness.write_json(args.json, {
        "benchmark": "callback_overhead", "quick": args.quick, "pairs": args.pairs, "machine": info,
        "setup": {"train_batches": args.train_batches, "val_batches": args.val_batches,
                  "batch_size": BATCH_SIZE,
                  "threads": args.threads, "lightning": pl.__name__, "ignore": ignore},
        "arms": [{"arm": name, "median_s": median(t), "timings_s": t, "cpu_s": timings.cpu[name]}
                 for name, t in timings.wall.items()],
        "results": results, "profile": profile,
    })


def _profile(run, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats("lightning_advisor", top)
    return out.getvalue().split("\n", 4)[-1].strip("\n")


if __name__ == "__main__":
    main()
