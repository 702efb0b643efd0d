"""The MNIST trainer with every lightning-advisor mistake made on purpose, once, at a marked line.

    flake8 --select LA examples/mnist_mistakes.py     # the static findings, one per marked line
    python examples/mnist_mistakes.py --synthetic     # the same advice from AdvisorCallback at run time

Compare with ``mnist_clean.py``, the same trainer done right.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import transforms

from mnist_common import MNISTClassifier, MNISTDataModuleBase, main, mnist_transform


class MistakesDataModule(MNISTDataModuleBase):
    def setup(self, stage=None):
        super().setup(stage)
        # Mistake: test images rotated at random, so the test accuracy changes with every draw.
        test_transform = transforms.Compose([transforms.RandomRotation(15), mnist_transform()])  # LA104
        self.mnist_test.transform = test_transform

    def train_dataloader(self):
        # Mistake: no num_workers, so every batch is decoded in the training process.
        return DataLoader(self.mnist_train, batch_size=self.batch_size, shuffle=True)  # LA102

    def val_dataloader(self):
        # Mistake: validation data in a new random order every epoch.
        return DataLoader(self.mnist_val, batch_size=self.batch_size, shuffle=True, num_workers=2)  # LA101

    def test_dataloader(self):
        return DataLoader(self.mnist_test, batch_size=self.batch_size, num_workers=self.num_workers)


class MistakesClassifier(MNISTClassifier):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.epoch_losses = []
        self.automatic_optimization = False  # stepped by hand, like the plain PyTorch loop it was ported from

    def forward(self, x):
        # Mistake: functional dropout keeps its default training=True: evaluation drops pixels too.
        return super().forward(F.dropout(x, 0.1))  # LA303

    def training_step(self, batch, batch_idx):
        x, y = batch
        # Leftovers from the script this model was ported from. Real leftovers sit behind a guard like
        # this one, which is also why the demo still runs on machines without a GPU: there the callback
        # cannot see these lines execute, but flake8 reports them all the same.
        if torch.cuda.is_available():
            x = x.cuda()  # LA201
            y = y.to("cuda")  # LA202
        # Mistake: probabilities into cross_entropy, which applies log_softmax itself.
        probabilities = F.softmax(self(x), dim=1)
        loss = F.cross_entropy(probabilities, y)  # LA501
        self.log("train_loss", loss)
        # Mistake: the loss kept with its autograd graph, so every step's graph stays in memory.
        self.epoch_losses.append(loss)  # LA502
        optimizer = self.optimizers()
        self.manual_backward(loss)
        # Mistake: the gradients are never cleared, so each step applies the sum of every batch's so far.
        optimizer.step()  # LA503
        return loss

    def on_train_epoch_end(self):
        self.log("train_loss_epoch", torch.stack(self.epoch_losses).mean())
        self.epoch_losses.clear()
        # Mistake: a hand-written accuracy pass in training mode (dropout, batch norm) with autograd on.
        correct = total = 0
        for x, y in self.trainer.datamodule.val_dataloader():  # LA301 LA302
            predictions = self(x.to(self.device)).argmax(dim=1)
            correct += int((predictions.cpu() == y).sum())
            total += len(y)
        self.log("epoch_end_val_acc", correct / max(total, 1))


if __name__ == "__main__":
    main(MistakesClassifier, MistakesDataModule, "MNIST trainer with every lightning-advisor mistake made on purpose")
