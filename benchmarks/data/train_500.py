"""Train a small ResNet on CIFAR-10 (or a folder of images) with PyTorch Lightning.

Benchmark input for ``benchmarks/editor_latency.py``: a realistic, ~500-line training script as an
editor hands it to flake8 on every save. It is not run by the benchmarks. A few lightning-advisor
findings are left in on purpose, as in real code under development.

    python train_500.py --data-dir ~/data --max-epochs 30 --batch-size 256
    python train_500.py --evaluate-only --checkpoint runs/best.ckpt
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, Dataset, Subset, random_split

import lightning.pytorch as pl
from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

log = logging.getLogger("train")

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    data_dir: str = "data"
    output_dir: str = "runs"
    batch_size: int = 128
    eval_batch_size: int = 512
    num_workers: int = 8
    max_epochs: int = 30
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_epochs: int = 2
    label_smoothing: float = 0.1
    widths: Tuple[int, ...] = (64, 128, 256)
    blocks_per_stage: int = 2
    dropout: float = 0.0
    mixup_alpha: float = 0.0
    val_fraction: float = 0.1
    seed: int = 42
    precision: str = "32-true"
    accelerator: str = "auto"
    devices: str = "auto"
    limit_train_batches: Optional[float] = None
    patience: int = 8
    tags: List[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))


def parse_args(argv: Optional[Sequence[str]] = None) -> Tuple[TrainConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = TrainConfig()
    parser.add_argument("--data-dir", default=defaults.data_dir)
    parser.add_argument("--output-dir", default=defaults.output_dir)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--eval-batch-size", type=int, default=defaults.eval_batch_size)
    parser.add_argument("--num-workers", type=int, default=defaults.num_workers)
    parser.add_argument("--max-epochs", type=int, default=defaults.max_epochs)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--momentum", type=float, default=defaults.momentum)
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    parser.add_argument("--warmup-epochs", type=int, default=defaults.warmup_epochs)
    parser.add_argument("--label-smoothing", type=float, default=defaults.label_smoothing)
    parser.add_argument("--widths", type=int, nargs="+", default=list(defaults.widths))
    parser.add_argument("--blocks-per-stage", type=int, default=defaults.blocks_per_stage)
    parser.add_argument("--dropout", type=float, default=defaults.dropout)
    parser.add_argument("--mixup-alpha", type=float, default=defaults.mixup_alpha)
    parser.add_argument("--val-fraction", type=float, default=defaults.val_fraction)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--precision", default=defaults.precision)
    parser.add_argument("--accelerator", default=defaults.accelerator)
    parser.add_argument("--devices", default=defaults.devices)
    parser.add_argument("--limit-train-batches", type=float, default=None)
    parser.add_argument("--patience", type=int, default=defaults.patience)
    parser.add_argument("--tag", dest="tags", action="append", default=[])
    parser.add_argument("--evaluate-only", action="store_true", help="skip training; evaluate --checkpoint")
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    config = TrainConfig(**{
        name: getattr(args, name)
        for name in TrainConfig.__dataclass_fields__
        if hasattr(args, name)
    })
    config.widths = tuple(config.widths)
    return config, args


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
def train_transform():
    from torchvision import transforms

    return transforms.Compose([
        transforms.RandomCrop(32, padding=4, padding_mode="reflect"),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(CIFAR_MEAN, CIFAR_STD),
    ])


def eval_transform():
    from torchvision import transforms

    return transforms.Compose([transforms.ToTensor(), transforms.Normalize(CIFAR_MEAN, CIFAR_STD)])


class TransformedSubset(Dataset):
    """A subset of a dataset with its own transform (train and val split one dataset)."""

    def __init__(self, subset: Subset, transform) -> None:
        self.subset = subset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.subset)

    def __getitem__(self, index: int):
        image, label = self.subset[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, label


class CIFARDataModule(pl.LightningDataModule):
    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.config = config
        self.train_set: Optional[Dataset] = None
        self.val_set: Optional[Dataset] = None
        self.test_set: Optional[Dataset] = None

    def prepare_data(self) -> None:
        from torchvision.datasets import CIFAR10

        CIFAR10(self.config.data_dir, train=True, download=True)
        CIFAR10(self.config.data_dir, train=False, download=True)

    def setup(self, stage: Optional[str] = None) -> None:
        from torchvision.datasets import CIFAR10

        if stage in (None, "fit", "validate") and self.train_set is None:
            full = CIFAR10(self.config.data_dir, train=True, transform=None)
            val_size = int(len(full) * self.config.val_fraction)
            generator = torch.Generator().manual_seed(self.config.seed)
            train, val = random_split(full, [len(full) - val_size, val_size], generator=generator)
            self.train_set = TransformedSubset(train, train_transform())
            self.val_set = TransformedSubset(val, eval_transform())
        if stage in (None, "test") and self.test_set is None:
            self.test_set = CIFAR10(self.config.data_dir, train=False, transform=eval_transform())

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.train_set,
            batch_size=self.config.batch_size,
            shuffle=True,
            num_workers=self.config.num_workers,
            pin_memory=True,
            drop_last=True,
            persistent_workers=self.config.num_workers > 0,
        )

    def val_dataloader(self) -> DataLoader:
        # TODO: shuffling was only for the debugging plots; take it out
        return DataLoader(self.val_set, batch_size=self.config.eval_batch_size, shuffle=True, num_workers=0)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(
            self.test_set, batch_size=self.config.eval_batch_size, num_workers=self.config.num_workers
        )


# ---------------------------------------------------------------------------------------------
# model
# ---------------------------------------------------------------------------------------------
class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, widths: Sequence[int], blocks_per_stage: int, num_classes: int = 10,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        stages = []
        in_channels = widths[0]
        for index, width in enumerate(widths):
            for block in range(blocks_per_stage):
                stride = 2 if (block == 0 and index > 0) else 1
                stages.append(BasicBlock(in_channels, width, stride))
                in_channels = width
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(in_channels, num_classes),
        )
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


def warmup_cosine(warmup_steps: int, total_steps: int):
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def mixup(x: torch.Tensor, y: torch.Tensor, alpha: float):
    """Mix each image with another of the batch: (mixed images, labels, partner labels, weight)."""
    lam = float(np.random.beta(alpha, alpha))
    index = torch.randperm(x.size(0), device=x.device)
    return lam * x + (1 - lam) * x[index], y, y[index], lam


class CIFARClassifier(pl.LightningModule):
    def __init__(self, config: TrainConfig) -> None:
        super().__init__()
        self.save_hyperparameters(asdict(config))
        self.config = config
        self.model = ResNet(config.widths, config.blocks_per_stage, len(CLASSES), config.dropout)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
        self.confusion = torch.zeros(len(CLASSES), len(CLASSES), dtype=torch.long)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        x, y = batch
        if self.config.mixup_alpha > 0:
            x, y_a, y_b, lam = mixup(x, y, self.config.mixup_alpha)
            logits = self(x)
            loss = lam * self.criterion(logits, y_a) + (1 - lam) * self.criterion(logits, y_b)
        else:
            logits = self(x)
            loss = self.criterion(logits, y)
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"], on_step=True)
        return loss

    def _shared_eval(self, batch, stage: str) -> torch.Tensor:
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        accuracy = (logits.argmax(dim=1) == y).float().mean()
        self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=stage == "val", sync_dist=True)
        self.log(f"{stage}/acc", accuracy, on_epoch=True, prog_bar=stage == "val", sync_dist=True)
        return logits

    def validation_step(self, batch, batch_idx: int) -> None:
        self._shared_eval(batch, "val")

    def on_test_epoch_start(self) -> None:
        self.confusion = torch.zeros(len(CLASSES), len(CLASSES), dtype=torch.long, device="cuda")

    def test_step(self, batch, batch_idx: int) -> None:
        logits = self._shared_eval(batch, "test")
        predictions = logits.argmax(dim=1)
        for truth, predicted in zip(batch[1].tolist(), predictions.tolist()):
            self.confusion[truth, predicted] += 1

    def on_test_epoch_end(self) -> None:
        per_class = self.confusion.diag().float() / self.confusion.sum(dim=1).clamp(min=1).float()
        for name, value in zip(CLASSES, per_class.tolist()):
            self.log(f"test/acc_{name}", value)

    def configure_optimizers(self):
        decay, no_decay = [], []
        for name, parameter in self.named_parameters():
            (no_decay if parameter.ndim <= 1 or name.endswith(".bias") else decay).append(parameter)
        optimizer = torch.optim.SGD(
            [
                {"params": decay, "weight_decay": self.config.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=self.config.lr,
            momentum=self.config.momentum,
            nesterov=True,
        )
        steps_per_epoch = self.trainer.estimated_stepping_batches // max(1, self.config.max_epochs)
        total_steps = self.trainer.estimated_stepping_batches
        schedule = warmup_cosine(self.config.warmup_epochs * steps_per_epoch, total_steps)
        scheduler = LambdaLR(optimizer, schedule)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


# ---------------------------------------------------------------------------------------------
# evaluation outside the Trainer (plain PyTorch): used for checkpoints from older runs
# ---------------------------------------------------------------------------------------------
@dataclass
class EvalResult:
    loss: float
    accuracy: float
    per_class: Dict[str, float]
    seconds: float
    samples: int


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> EvalResult:
    start = time.perf_counter()
    total_loss, correct, seen = 0.0, 0, 0
    class_correct = torch.zeros(len(CLASSES))
    class_total = torch.zeros(len(CLASSES))
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        logits = model(images)
        total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
        predictions = logits.argmax(dim=1)
        hits = predictions == labels
        correct += int(hits.sum())
        seen += labels.numel()
        for label, hit in zip(labels.cpu().tolist(), hits.cpu().tolist()):
            class_total[label] += 1
            class_correct[label] += int(hit)
    per_class = {
        name: float(class_correct[i] / class_total[i]) if class_total[i] else float("nan")
        for i, name in enumerate(CLASSES)
    }
    return EvalResult(
        loss=total_loss / max(1, seen),
        accuracy=correct / max(1, seen),
        per_class=per_class,
        seconds=time.perf_counter() - start,
        samples=seen,
    )


def load_checkpoint(path: Path, config: TrainConfig, device: torch.device) -> nn.Module:
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    state = checkpoint.get("state_dict", checkpoint)
    state = {key.removeprefix("model."): value for key, value in state.items() if key.startswith("model.")}
    model = ResNet(config.widths, config.blocks_per_stage, len(CLASSES), config.dropout)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        log.warning("checkpoint %s: %d missing and %d unexpected keys", path, len(missing), len(unexpected))
    return model.to(device)


def evaluate_checkpoint(config: TrainConfig, checkpoint: Path) -> EvalResult:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    datamodule = CIFARDataModule(config)
    datamodule.prepare_data()
    datamodule.setup("test")
    model = load_checkpoint(checkpoint, config, device)
    result = evaluate(model, datamodule.test_dataloader(), device)
    log.info("checkpoint %s: loss %.4f, accuracy %.2f%% on %d images in %.1fs",
             checkpoint, result.loss, 100 * result.accuracy, result.samples, result.seconds)
    for name, accuracy in sorted(result.per_class.items(), key=lambda item: item[1]):
        log.info("  %-10s %.2f%%", name, 100 * accuracy)
    return result


# ---------------------------------------------------------------------------------------------
# training
# ---------------------------------------------------------------------------------------------
class EpochTimer(pl.Callback):
    """Logs how long each training epoch took, and how many images per second it processed."""

    def __init__(self) -> None:
        self.start = 0.0
        self.images = 0

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.start = time.perf_counter()
        self.images = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.images += batch[0].size(0)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        seconds = time.perf_counter() - self.start
        pl_module.log("perf/epoch_seconds", seconds)
        pl_module.log("perf/images_per_second", self.images / max(seconds, 1e-9))


def build_trainer(config: TrainConfig, run_dir: Path) -> pl.Trainer:
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / "checkpoints",
        filename="epoch{epoch:02d}-acc{val/acc:.4f}",
        monitor="val/acc",
        mode="max",
        save_top_k=2,
        save_last=True,
        auto_insert_metric_name=False,
    )
    callbacks = [
        checkpoint,
        EarlyStopping(monitor="val/acc", mode="max", patience=config.patience),
        LearningRateMonitor(logging_interval="step"),
        EpochTimer(),
    ]
    limits = {}
    if config.limit_train_batches is not None:
        limits["limit_train_batches"] = config.limit_train_batches
    return pl.Trainer(
        max_epochs=config.max_epochs,
        accelerator=config.accelerator,
        devices=config.devices,
        precision=config.precision,
        callbacks=callbacks,
        logger=CSVLogger(run_dir, name="logs"),
        deterministic=False,
        benchmark=True,
        log_every_n_steps=25,
        **limits,
    )


def next_run_dir(output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    numbers = (p.name.split("-")[-1] for p in output_dir.glob("run-*"))
    existing = sorted(int(number) for number in numbers if number.isdigit())
    run_dir = output_dir / f"run-{(existing[-1] + 1) if existing else 0:03d}"
    run_dir.mkdir()
    return run_dir


def summarize(trainer: pl.Trainer, run_dir: Path) -> Dict[str, float]:
    metrics = {key: float(value) for key, value in trainer.callback_metrics.items() if value.numel() == 1}
    summary_path = run_dir / "summary.json"
    summary_path.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    log.info("summary written to %s", summary_path)
    return metrics


def train(config: TrainConfig) -> Dict[str, float]:
    seed_everything(config.seed)
    run_dir = next_run_dir(Path(config.output_dir))
    config.save(run_dir / "config.json")
    datamodule = CIFARDataModule(config)
    model = CIFARClassifier(config)
    trainer = build_trainer(config, run_dir)
    log.info("run %s: %s", run_dir.name, ", ".join(f"{k}={v}" for k, v in asdict(config).items()))
    trainer.fit(model, datamodule=datamodule)
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else None
    trainer.test(model, datamodule=datamodule, ckpt_path=best or None)
    metrics = summarize(trainer, run_dir)
    if best:
        log.info("best checkpoint: %s", best)
        plain = evaluate_checkpoint(config, Path(best))
        metrics["plain_eval/acc"] = plain.accuracy
    return metrics


def main(argv: Optional[Sequence[str]] = None) -> int:
    config, args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    torch.set_float32_matmul_precision("high")
    if args.evaluate_only:
        if args.checkpoint is None:
            log.error("--evaluate-only needs --checkpoint")
            return 2
        evaluate_checkpoint(config, args.checkpoint)
        return 0
    metrics = train(config)
    width = max(map(len, metrics), default=0)
    for key in sorted(metrics):
        print(f"{key:<{width}}  {metrics[key]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
