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


class Shared(LightningModule):
    """The hook's return value goes, the call that computes (and logs) it stays."""

    def __init__(self):
        super().__init__()

    def validation_step(self, batch, batch_idx):
        return {"val_loss": batch.sum()}

    def validation_epoch_end(self, outputs):
        return self._shared_epoch_end(outputs, "val")

    def _shared_epoch_end(self, outputs, stage):
        self.log(f"{stage}_loss", torch.stack([o[f"{stage}_loss"] for o in outputs]).mean())


class Reused(LightningModule):
    """Not fixed: test_epoch_end returns a dict made elsewhere, which may hold 'log' keys."""

    def __init__(self):
        super().__init__()

    def test_step(self, batch, batch_idx):
        return {"test_loss": batch.sum()}

    def test_epoch_end(self, outputs):
        result = self.summarise(outputs)
        return result

    def summarise(self, outputs):
        return {"log": {"test_loss": torch.stack([o["test_loss"] for o in outputs]).mean()}}


class NoInit(LightningModule):
    """Not fixed: no __init__ to keep the outputs list in."""

    def validation_step(self, batch, batch_idx):
        return batch

    def validation_epoch_end(self, outputs):
        pass
