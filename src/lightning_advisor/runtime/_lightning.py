"""The Lightning namespaces this process has: ``lightning.pytorch`` and/or ``pytorch_lightning``.

Lightning ships the same Trainer twice, as ``lightning.pytorch`` (package ``lightning``)
and as the standalone ``pytorch_lightning``. Their classes are distinct: a Trainer of one
namespace rejects a Callback of the other. ``AdvisorCallback`` subclasses the ``Callback``
of every namespace found here, so either Trainer accepts it, and the rest of the runtime
asks this module (never the namespaces directly) for Lightning types.
"""
from __future__ import annotations

import importlib
import logging
from types import ModuleType
from typing import Optional, Tuple

from lightning_advisor.vocabulary import LIGHTNING_NAMESPACES as NAMESPACE_NAMES


def _import(name: str) -> Optional[ModuleType]:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


NAMESPACES: Tuple[ModuleType, ...] = tuple(ns for ns in map(_import, NAMESPACE_NAMES) if ns is not None)
if not NAMESPACES:
    raise ImportError(
        "lightning_advisor.AdvisorCallback needs PyTorch Lightning: "
        "pip install 'lightning-advisor[lightning]' (or '[runtime]' for pytorch_lightning)"
    )

CALLBACK_BASES: Tuple[type, ...] = tuple(ns.Callback for ns in NAMESPACES)
"""The ``Callback`` class of each namespace, in ``NAMESPACE_NAMES`` order."""

COMBINED_LOADERS: Tuple[type, ...] = tuple(ns.utilities.CombinedLoader for ns in NAMESPACES)


def is_global_zero(trainer: object) -> bool:
    """Whether this process is global rank zero; ``True`` outside a run."""
    if trainer is not None:
        return bool(getattr(trainer, "is_global_zero", True))
    # no Trainer at hand: fall back to the rank Lightning records for its rank_zero_* helpers
    for ns in NAMESPACES:
        rank = getattr(ns.utilities.rank_zero.rank_zero_only, "rank", None)
        if rank is not None:
            return rank == 0
    return True


def summary_logger(trainer: object) -> "logging.Logger":
    """A logger under the Trainer's own namespace, so Lightning's console handler shows it by default."""
    module = type(trainer).__module__
    namespace = next((name for name in NAMESPACE_NAMES if module.startswith(name)), "lightning_advisor")
    return logging.getLogger(f"{namespace}.lightning_advisor" if namespace != "lightning_advisor" else namespace)
