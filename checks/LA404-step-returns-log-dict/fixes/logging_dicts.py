# fix: unsafe
import torch
from torch.nn import functional as F
import pytorch_lightning as pl


class Classifier(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 2)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.layer(x), y)
        accuracy = (self.layer(x).argmax(1) == y).float().mean()
        return {
            "loss": loss,  # what the optimizer minimises
            "log": {"train_loss": loss, "train_acc": accuracy},
            "progress_bar": {"train_acc": accuracy},
        }

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.layer(x), y)
        if batch_idx == 0:
            return {"val_loss": loss, "log": {"first_val_loss": loss}}
        logs = {"val_loss": loss}
        return {"val_loss": loss, "progress_bar": logs}

    def test_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.layer(x), y)
        output = {"log": {"test_loss": loss}}
        return output  # not fixed: the dict is built elsewhere

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
