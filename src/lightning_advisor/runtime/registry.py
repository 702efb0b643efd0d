"""Every runtime probe, one line each: the only module that imports the probe modules."""
from __future__ import annotations

from typing import Tuple, Type

from lightning_advisor.runtime.augmentation import AugmentationProbe
from lightning_advisor.runtime.data_wait import DataWaitProbe
from lightning_advisor.runtime.dataloaders import ShuffleProbe, WorkersProbe
from lightning_advisor.runtime.devices import DeviceProbe
from lightning_advisor.runtime.dropout import DropoutProbe
from lightning_advisor.runtime.graphs import KeptGraphProbe
from lightning_advisor.runtime.log_dicts import LogDictProbe
from lightning_advisor.runtime.losses import SoftmaxLossProbe
from lightning_advisor.runtime.modes import ModeProbe
from lightning_advisor.runtime.optimization import ZeroGradProbe
from lightning_advisor.runtime.probe import Probe

PROBES: Tuple[Type[Probe], ...] = (ShuffleProbe, WorkersProbe, DataWaitProbe, DeviceProbe, ModeProbe, LogDictProbe,
                                   AugmentationProbe, DropoutProbe, SoftmaxLossProbe, KeptGraphProbe, ZeroGradProbe)
