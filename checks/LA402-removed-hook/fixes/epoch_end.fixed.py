# fix: unsafe
import torch
from torch.nn import functional as F
from pytorch_lightning import LightningModule


class Classifier(LightningModule):
    def __init__(self, hidden: int = 8):
        super().__init__()
        self.test_step_outputs = []
        self.validation_step_outputs = []
        self.layer = torch.nn.Linear(4, 2)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.layer(x), y)
        self.validation_step_outputs.append(loss)
        return loss

    def on_validation_epoch_end(self):
        """Average the losses of the epoch."""
        outputs = self.validation_step_outputs
        avg = torch.stack(outputs).mean()  # one value per batch
        self.log_dict({"val_loss": avg}, prog_bar=True)
        self.log_dict({"epoch": self.current_epoch}, prog_bar=True, logger=False)
        self.validation_step_outputs.clear()

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.test_step_outputs.append({"test_loss": F.cross_entropy(self.layer(x), y)})
        return self.test_step_outputs[-1]

    def on_test_epoch_end(self):
        outputs = self.test_step_outputs
        self.print(torch.stack([o["test_loss"] for o in outputs]).mean())
        self.test_step_outputs.clear()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class NoInit(LightningModule):
    """Not fixed: no __init__ to keep the outputs list in."""

    def validation_step(self, batch, batch_idx):
        return batch

    def validation_epoch_end(self, outputs):
        pass
