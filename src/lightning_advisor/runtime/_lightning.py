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
import sys
from types import ModuleType
from typing import Optional, Tuple

from lightning_advisor.vocabulary import LIGHTNING_NAMESPACES as NAMESPACE_NAMES


def _import(name: str) -> Optional[ModuleType]:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


_RANK_ZERO = "lightning_utilities.core.rank_zero"


def _rank_zero_log() -> Optional[logging.Logger]:
    return getattr(sys.modules.get(_RANK_ZERO), "log", None)


# Importing a namespace points lightning_utilities' rank-zero logger (Lightning's "`Trainer.fit`
# stopped: ..." messages) at that namespace's logger: importing both here would send a
# lightning.pytorch user's messages to pytorch_lightning's logger. Left as the user's own imports set it.
_LOG_BEFORE = _rank_zero_log()
NAMESPACES: Tuple[ModuleType, ...] = tuple(ns for ns in map(_import, NAMESPACE_NAMES) if ns is not None)
if not NAMESPACES:
    raise ImportError(
        "lightning_advisor.AdvisorCallback needs PyTorch Lightning: "
        "pip install 'lightning-advisor[lightning]' (or '[runtime]' for pytorch_lightning)"
    )
_OUR_CHOICE: Optional[logging.Logger] = None
"""The rank-zero logger this module chose, when no namespace had been imported before it."""
if sys.modules.get(_RANK_ZERO) is not None:
    if _LOG_BEFORE is not None and _LOG_BEFORE.name != _RANK_ZERO:
        sys.modules[_RANK_ZERO].log = _LOG_BEFORE  # type: ignore[attr-defined]
    else:
        _OUR_CHOICE = logging.getLogger(f"{NAMESPACES[0].__name__}.utilities.rank_zero")
        sys.modules[_RANK_ZERO].log = _OUR_CHOICE  # type: ignore[attr-defined]


def settle_rank_zero_log(trainer: object) -> None:
    """If the rank-zero logger is still the one chosen here, point it at the Trainer's namespace.

    That is where the user's own ``import`` of that namespace would have pointed it, had this
    module not imported it first.
    """
    global _OUR_CHOICE
    rank_zero = sys.modules.get(_RANK_ZERO)
    if _OUR_CHOICE is None or rank_zero is None or getattr(rank_zero, "log", None) is not _OUR_CHOICE:
        _OUR_CHOICE = None
        return
    namespace = next((ns.__name__ for ns in NAMESPACES if type(trainer).__module__.startswith(ns.__name__)), None)
    if namespace is not None:
        rank_zero.log = logging.getLogger(f"{namespace}.utilities.rank_zero")
    _OUR_CHOICE = None


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
