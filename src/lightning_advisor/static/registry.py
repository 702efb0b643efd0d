"""Every static check, one line each: the only module that imports the check modules."""
from __future__ import annotations

from typing import Tuple

from lightning_advisor.static import (
    augmentation, dataloaders, devices, dropout, evaluation, graphs, losses, migration, optimization,
)
from lightning_advisor.static.base import Check

CHECKS: Tuple[Check, ...] = (dataloaders.CHECK, devices.CHECK, evaluation.CHECK, migration.CHECK, dropout.CHECK,
                             losses.CHECK, graphs.CHECK, optimization.CHECK, augmentation.CHECK)
