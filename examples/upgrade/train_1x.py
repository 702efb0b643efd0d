"""A Lightning 1.x tutorial program, written the way 1.x tutorials wrote it: Lightning 2.x cannot run it.

``lightning-advisor check --fix --unsafe-fixes examples/upgrade/train_1x.py`` turns it into the
``train_2x.py`` beside it; the test suite checks that it does, and trains the result on Lightning 2.x.
Random digit-shaped data stands in for MNIST, so that it runs offline.
"""
from argparse import ArgumentParser

import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset
from pytorch_lightning import Trainer
from pytorch_lightning.core.lightning import LightningModule
from pytorch_lightning.utilities.seed import seed_everything


def digits(count, seed):
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(count, 1, 28, 28, generator=generator)
    return TensorDataset(images, torch.randint(0, 10, (count,), generator=generator))


class LitClassifier(LightningModule):
    def __init__(self, hidden_dim=64, learning_rate=1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.l1 = torch.nn.Linear(28 * 28, hidden_dim)
        self.l2 = torch.nn.Linear(hidden_dim, 10)

    def forward(self, x):
        return self.l2(torch.relu(self.l1(x.view(x.size(0), -1))))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        return {"loss": loss, "log": {"train_loss": loss}}

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        acc = (logits.argmax(dim=1) == y).float().mean()
        return {"val_loss": loss, "val_acc": acc}

    def validation_epoch_end(self, outputs):
        avg_loss = torch.stack([x["val_loss"] for x in outputs]).mean()
        avg_acc = torch.stack([x["val_acc"] for x in outputs]).mean()
        tensorboard_logs = {"val_loss": avg_loss, "val_acc": avg_acc}
        return {"val_loss": avg_loss, "log": tensorboard_logs, "progress_bar": {"val_acc": avg_acc}}

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.learning_rate)

    def train_dataloader(self):
        return DataLoader(digits(256, seed=0), batch_size=32, shuffle=True)

    def val_dataloader(self):
        return DataLoader(digits(64, seed=1), batch_size=32, shuffle=True)

    @staticmethod
    def add_model_specific_args(parent_parser):
        parser = ArgumentParser(parents=[parent_parser], add_help=False)
        parser.add_argument("--hidden_dim", type=int, default=64)
        parser.add_argument("--learning_rate", type=float, default=1e-3)
        return parser


def main(argv=None):
    """The script: python train_1x.py --max_epochs 3 --hidden_dim 128"""
    seed_everything(1234)
    parser = ArgumentParser()
    parser = Trainer.add_argparse_args(parser)
    parser = LitClassifier.add_model_specific_args(parser)
    args = parser.parse_args(argv)
    trainer = Trainer.from_argparse_args(args)
    trainer.fit(LitClassifier(args.hidden_dim, args.learning_rate))
    return trainer


def notebook():
    """The tutorial's notebook cell: one GPU, a quieter progress bar, the learning-rate finder."""
    seed_everything(1234)
    trainer = Trainer(gpus=1, progress_bar_refresh_rate=20, auto_lr_find=True)
    trainer.fit(LitClassifier())
    return trainer


if __name__ == "__main__":
    main()
