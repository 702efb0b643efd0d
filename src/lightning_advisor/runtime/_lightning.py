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
from typing import Dict, Optional, Tuple

from lightning_advisor.vocabulary import LIGHTNING_NAMESPACES as NAMESPACE_NAMES


def _import(name: str) -> Optional[ModuleType]:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


_RANK_ZERO = "lightning_utilities.core.rank_zero"
_SHARED = ("log", "rank_zero_deprecation_category")
_FABRIC = {"lightning.pytorch": "lightning.fabric", "pytorch_lightning": "lightning_fabric"}


def _shared_state() -> Optional[Dict[str, object]]:
    rank_zero = sys.modules.get(_RANK_ZERO)
    return None if rank_zero is None else {name: getattr(rank_zero, name, None) for name in _SHARED}


def _state_of(namespace: str) -> Dict[str, object]:
    """What importing ``namespace`` leaves in lightning_utilities' rank-zero module."""
    fabric = sys.modules.get(f"{_FABRIC.get(namespace, namespace)}.utilities.rank_zero")
    return {
        "log": logging.getLogger(f"{namespace}.utilities.rank_zero"),
        "rank_zero_deprecation_category": getattr(fabric, "LightningDeprecationWarning", DeprecationWarning),
    }


def _set_shared_state(state: Dict[str, object]) -> None:
    rank_zero = sys.modules[_RANK_ZERO]
    for name, value in state.items():
        setattr(rank_zero, name, value)


# Importing a namespace points lightning_utilities' rank-zero module at that namespace: its logger
# (Lightning's "`Trainer.fit` stopped: ..." messages) and its LightningDeprecationWarning class. Importing
# both here would hand a lightning.pytorch user's messages to pytorch_lightning's logger and make its
# deprecations pytorch_lightning's class, which the user's filters and `pytest.warns` do not match. Left
# as the user's own imports set them.
_USER_IMPORTED = [name for name in NAMESPACE_NAMES if name in sys.modules]
_BEFORE = _shared_state()
NAMESPACES: Tuple[ModuleType, ...] = tuple(ns for ns in map(_import, NAMESPACE_NAMES) if ns is not None)
if not NAMESPACES:
    raise ImportError(
        "lightning_advisor.AdvisorCallback needs PyTorch Lightning: "
        "pip install 'lightning-advisor[lightning]' (or '[runtime]' for pytorch_lightning)"
    )
_OUR_CHOICE: Optional[Dict[str, object]] = None
"""The rank-zero state this module chose, when the user had imported no namespace before it."""
if sys.modules.get(_RANK_ZERO) is not None:
    if _USER_IMPORTED and _BEFORE is not None:
        _set_shared_state(_BEFORE)
    else:
        _OUR_CHOICE = _state_of(NAMESPACES[0].__name__)
        _set_shared_state(_OUR_CHOICE)


def settle_rank_zero_log(trainer: object) -> None:
    """If the rank-zero state is still the one chosen here, set the Trainer's namespace's instead.

    That is what the user's own ``import`` of that namespace would have set, had this module not
    imported it first.
    """
    global _OUR_CHOICE
    choice, _OUR_CHOICE = _OUR_CHOICE, None
    if choice is None or _shared_state() != choice:
        return
    namespace = next((ns.__name__ for ns in NAMESPACES if type(trainer).__module__.startswith(ns.__name__)), None)
    if namespace is not None:
        _set_shared_state(_state_of(namespace))


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
