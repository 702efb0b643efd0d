# fix: unsafe
import torch
from torch.nn import functional as F
import pytorch_lightning as pl


class GAN(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.generator = torch.nn.Linear(4, 4)
        self.discriminator = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx, optimizer_idx):
        (real,) = batch
        fake = self.generator(torch.randn_like(real))
        if optimizer_idx == 0:  # the generator
            target = torch.ones(len(real), 1)
            return F.binary_cross_entropy_with_logits(self.discriminator(fake), target)
        real_loss = F.binary_cross_entropy_with_logits(self.discriminator(real), torch.ones(len(real), 1))
        fake_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake.detach()), torch.zeros(len(real), 1))
        return {"loss": (real_loss + fake_loss) / 2}

    def configure_optimizers(self):
        return [torch.optim.SGD(self.generator.parameters(), lr=0.1),
                torch.optim.SGD(self.discriminator.parameters(), lr=0.1)]


class Scheduled(pl.LightningModule):
    """Not fixed: manual optimization would stop stepping the schedulers."""

    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx, optimizer_idx):
        return self.layer(batch[0]).sum()

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, 1)]
