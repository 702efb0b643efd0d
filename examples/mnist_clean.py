"""The MNIST trainer done right: the same code as ``mnist_mistakes.py`` with every mistake fixed.

    flake8 --select LA examples/mnist_clean.py     # no findings
    python examples/mnist_clean.py --synthetic     # no AdvisorWarning during the run
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from mnist_common import MNISTClassifier, MNISTDataModuleBase, main


class CleanDataModule(MNISTDataModuleBase):
    # setup is inherited unchanged: test images keep their deterministic transform (ToTensor, Normalize).

    def train_dataloader(self):
        # Workers load and transform batches while the model trains.
        return DataLoader(self.mnist_train, batch_size=self.batch_size, shuffle=True,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)

    def val_dataloader(self):
        # Evaluation reads its data in a fixed order.
        return DataLoader(self.mnist_val, batch_size=self.batch_size, shuffle=False, num_workers=self.num_workers)

    def test_dataloader(self):
        return DataLoader(self.mnist_test, batch_size=self.batch_size, num_workers=self.num_workers)


class CleanClassifier(MNISTClassifier):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.epoch_losses = []
        self.automatic_optimization = False  # stepped by hand, like the plain PyTorch loop it was ported from

    def forward(self, x):
        # Functional dropout follows the module's mode: off in evaluation.
        return super().forward(F.dropout(x, 0.1, training=self.training))

    def training_step(self, batch, batch_idx):
        # Lightning moves the model and every batch to the right device; the loss gets the logits.
        loss = super().training_step(batch, batch_idx)
        # The epoch's losses kept as values, without their autograd graphs.
        self.epoch_losses.append(loss.detach())
        optimizer = self.optimizers()
        optimizer.zero_grad()  # each step applies this batch's gradients only
        self.manual_backward(loss)
        optimizer.step()
        return loss

    def on_train_epoch_end(self):
        self.log("train_loss_epoch", torch.stack(self.epoch_losses).mean())
        self.epoch_losses.clear()
        # The same hand-written accuracy pass, in eval mode and without autograd, then back to training.
        self.eval()
        correct = total = 0
        with torch.no_grad():
            for x, y in self.trainer.datamodule.val_dataloader():
                predictions = self(x.to(self.device)).argmax(dim=1)
                correct += int((predictions.cpu() == y).sum())
                total += len(y)
        self.train()
        self.log("epoch_end_val_acc", correct / max(total, 1))


if __name__ == "__main__":
    main(CleanClassifier, CleanDataModule, "MNIST trainer with every lightning-advisor check passing")
