# fix: safe
from pytorch_lightning.core.lightning import LightningModule  # the module
from pytorch_lightning.callbacks.base import (  # the callback base class
    Callback,
)
from pytorch_lightning.utilities.seed import seed_everything
from lightning.pytorch.utilities.distributed import rank_zero_only, rank_zero_info
from pytorch_lightning.trainer.supporters import CombinedLoader as Combined

# Not fixed: renamed classes, the metrics that became torchmetrics, a module imported whole.
from pytorch_lightning.callbacks import GPUStatsMonitor
from pytorch_lightning.metrics import Accuracy
import pytorch_lightning.core.lightning


class Model(LightningModule):
    pass


__all__ = [
    "Accuracy", "Callback", "Combined", "GPUStatsMonitor", "Model", "pytorch_lightning", "rank_zero_info",
    "rank_zero_only", "seed_everything",
]
