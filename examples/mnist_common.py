"""What the two MNIST trainers share: data, model, command line and the run itself.

``mnist_mistakes.py`` and ``mnist_clean.py`` differ only where a mistake is made
or fixed; everything else lives here, and is itself free of LA findings.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Tuple, Type

import torch
from torch import nn
from torch.utils.data import Dataset, random_split

import lightning.pytorch as pl

SEED = 1234
IMAGE_SHAPE = (1, 28, 28)
NUM_CLASSES = 10
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
VAL_SIZE = 5000


# -- data -------------------------------------------------------------------------------------
def mnist_transform():
    from torchvision import transforms

    return transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])


# Seven-segment strokes (rows/columns in a 20x12 box) per digit: enough structure to learn.
_SEGMENTS = {
    "top": (slice(0, 3), slice(0, 12)),
    "middle": (slice(9, 11), slice(0, 12)),
    "bottom": (slice(17, 20), slice(0, 12)),
    "upper_left": (slice(0, 10), slice(0, 3)),
    "upper_right": (slice(0, 10), slice(9, 12)),
    "lower_left": (slice(10, 20), slice(0, 3)),
    "lower_right": (slice(10, 20), slice(9, 12)),
}
_DIGITS = {
    0: ("top", "bottom", "upper_left", "upper_right", "lower_left", "lower_right"),
    1: ("upper_right", "lower_right"),
    2: ("top", "upper_right", "middle", "lower_left", "bottom"),
    3: ("top", "upper_right", "middle", "lower_right", "bottom"),
    4: ("upper_left", "upper_right", "middle", "lower_right"),
    5: ("top", "upper_left", "middle", "lower_right", "bottom"),
    6: ("top", "upper_left", "middle", "lower_left", "lower_right", "bottom"),
    7: ("top", "upper_right", "lower_right"),
    8: ("top", "bottom", "middle", "upper_left", "upper_right", "lower_left", "lower_right"),
    9: ("top", "middle", "bottom", "upper_left", "upper_right", "lower_right"),
}


def synthetic_digits(count: int, seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """``count`` digit-like 28x28 uint8 images (shifted, noisy seven-segment digits) and their labels."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, NUM_CLASSES, (count,), generator=generator)
    images = torch.zeros(count, 28, 28)
    offsets = torch.randint(0, 5, (count, 2), generator=generator)
    for index, (label, (dy, dx)) in enumerate(zip(labels.tolist(), offsets.tolist())):
        glyph = torch.zeros(20, 12)
        for segment in _DIGITS[label]:
            glyph[_SEGMENTS[segment]] = 1.0
        images[index, 2 + dy : 22 + dy, 6 + dx : 18 + dx] = glyph
    images = images * 200 + torch.rand(count, 28, 28, generator=generator) * 80
    return images.clamp(0, 255).to(torch.uint8), labels


class SyntheticMNIST(Dataset):
    """Stands in for ``torchvision.datasets.MNIST`` offline: same shapes, dtypes and transform path."""

    def __init__(self, train: bool = True, transform=None, size: Optional[int] = None) -> None:
        size = size or (6000 if train else 1000)
        self.data, self.targets = synthetic_digits(size, SEED + (0 if train else 1))
        self.transform = transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        from PIL import Image

        image = Image.fromarray(self.data[index].numpy(), mode="L")
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])


def load_mnist(data_dir: str, synthetic: bool = False) -> Tuple[Dataset, Dataset, str]:
    """(train, test, source): torchvision's MNIST, downloaded into ``data_dir`` if needed,
    or synthetic digits when the download is impossible or ``synthetic`` is asked for."""
    transform = mnist_transform()
    if not synthetic:
        from torchvision.datasets import MNIST

        try:
            train = MNIST(data_dir, train=True, download=True, transform=transform)
            test = MNIST(data_dir, train=False, download=True, transform=transform)
            return train, test, "MNIST"
        except Exception as error:  # offline machines and CI cannot download
            reason = (str(error).splitlines() or [type(error).__name__])[0].rstrip(":")[:100]
            print(f"MNIST is not in {data_dir!r} and could not be downloaded ({reason}); "
                  "using synthetic digits instead: accuracy below is not MNIST accuracy.", file=sys.stderr)
    return SyntheticMNIST(True, transform), SyntheticMNIST(False, transform), "synthetic digits"


class MNISTDataModuleBase(pl.LightningDataModule):
    """Train/val split of MNIST's training set, and its test set; loaders come from the subclasses."""

    def __init__(self, data_dir: str = "data", batch_size: int = 64, synthetic: bool = False, num_workers: int = 2):
        super().__init__()
        self.data_dir = data_dir
        self.batch_size = batch_size
        self.synthetic = synthetic
        self.num_workers = num_workers
        self.source = "MNIST"

    def setup(self, stage: Optional[str] = None) -> None:
        if hasattr(self, "mnist_test"):
            return
        full, self.mnist_test, self.source = load_mnist(self.data_dir, self.synthetic)
        val_size = min(VAL_SIZE, len(full) // 6)
        generator = torch.Generator().manual_seed(SEED)
        self.mnist_train, self.mnist_val = random_split(full, [len(full) - val_size, val_size], generator=generator)


# -- model ------------------------------------------------------------------------------------
class MNISTClassifier(pl.LightningModule):
    """A small MLP: 784 -> 128 -> 10 with dropout and batch norm (which is why eval mode matters)."""

    def __init__(self, hidden: int = 128, lr: float = 1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(28 * 28, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(hidden, NUM_CLASSES),
        )
        self.loss = nn.CrossEntropyLoss()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = self.loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def _evaluate(self, batch, stage: str) -> None:
        x, y = batch
        logits = self(x)
        self.log(f"{stage}_loss", self.loss(logits, y), prog_bar=True)
        self.log(f"{stage}_acc", (logits.argmax(dim=1) == y).float().mean(), prog_bar=True)

    def validation_step(self, batch, batch_idx):
        self._evaluate(batch, "val")

    def test_step(self, batch, batch_idx):
        self._evaluate(batch, "test")

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


# -- command line and run ---------------------------------------------------------------------
def parse_args(description: str, argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DATA_DIR", "data"), help="where MNIST is kept")
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-workers", type=int, default=min(os.cpu_count() or 1, 4),
                        help="DataLoader workers where the trainer chooses them (default: CPUs, at most 4)")
    parser.add_argument("--accelerator", default="auto", help="Lightning accelerator: auto, cpu, gpu, mps...")
    parser.add_argument("--fast-dev-run", action="store_true", help="one batch of each stage, as a smoke test")
    parser.add_argument("--limit-batches", type=float, default=None,
                        help="limit train/val/test batches per epoch (a count, or a fraction if < 1)")
    parser.add_argument("--synthetic", action="store_true", help="use synthetic digits instead of MNIST")
    return parser.parse_args(argv)


def run(
    module_class: Type[MNISTClassifier],
    datamodule_class: Type[MNISTDataModuleBase],
    args: argparse.Namespace,
) -> dict:
    """Fit with ``AdvisorCallback`` attached, then print validation and test accuracy."""
    from lightning_advisor import AdvisorCallback

    pl.seed_everything(SEED, workers=True)
    datamodule = datamodule_class(args.data_dir, args.batch_size, args.synthetic, args.num_workers)
    advisor = AdvisorCallback()
    limits = {}
    if args.limit_batches is not None:
        limit = int(args.limit_batches) if args.limit_batches >= 1 else args.limit_batches
        limits = dict(limit_train_batches=limit, limit_val_batches=limit, limit_test_batches=limit)
    trainer = pl.Trainer(
        max_epochs=args.max_epochs,
        accelerator=args.accelerator,
        fast_dev_run=args.fast_dev_run,
        callbacks=[advisor],
        logger=False,
        enable_checkpointing=False,
        **limits,
    )
    model = module_class()
    trainer.fit(model, datamodule=datamodule)
    val = trainer.validate(model, datamodule=datamodule, verbose=False)[0]
    test = trainer.test(model, datamodule=datamodule, verbose=False)[0]
    note = "" if datamodule.source == "MNIST" else " (synthetic digits, not MNIST accuracy)"
    print(f"validation accuracy: {val['val_acc']:.4f}{note}")
    print(f"test accuracy: {test['test_acc']:.4f}{note}")
    print(f"lightning-advisor findings: {', '.join(f.code for f in advisor.findings) or 'none'}")
    return {"val_acc": val["val_acc"], "test_acc": test["test_acc"], "source": datamodule.source,
            "findings": [f.code for f in advisor.findings]}


def main(module_class, datamodule_class, description: str, argv=None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    run(module_class, datamodule_class, parse_args(description, argv))
