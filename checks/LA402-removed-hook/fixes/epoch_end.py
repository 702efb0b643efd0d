# fix: unsafe
import torch
from torch.nn import functional as F
from pytorch_lightning import LightningModule


class Classifier(LightningModule):
    def __init__(self, hidden: int = 8):
        super().__init__()
        self.layer = torch.nn.Linear(4, 2)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.layer(x), y)
        return loss

    def validation_epoch_end(self, outputs):
        """Average the losses of the epoch."""
        avg = torch.stack(outputs).mean()  # one value per batch
        return {"log": {"val_loss": avg}, "progress_bar": {"val_loss": avg, "epoch": self.current_epoch}}

    def test_step(self, batch, batch_idx):
        x, y = batch
        return {"test_loss": F.cross_entropy(self.layer(x), y)}

    def test_epoch_end(self, outputs):
        self.print(torch.stack([o["test_loss"] for o in outputs]).mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class NoInit(LightningModule):
    """Not fixed: no __init__ to keep the outputs list in."""

    def validation_step(self, batch, batch_idx):
        return batch

    def validation_epoch_end(self, outputs):
        pass
