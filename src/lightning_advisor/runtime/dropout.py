"""LA303 at run time: functional dropout that runs with ``training=True`` in evaluation.

The runtime twin of ``static/dropout.py``. During each validation, test and prediction loop's
start hooks and first batches, the shared torch function mode (:mod:`~lightning_advisor.runtime.torch_calls`)
shows the probe every call of ``torch.nn.functional.dropout`` / ``dropout1d`` / ``dropout2d`` /
``dropout3d``. One that runs with ``training=True`` while Lightning evaluates keeps dropping
activations: reported at the user's line that made the call, naming the function as that line
writes it (``F.dropout``), like the static rule.

Quiet, as the static rule is, where ``training=True`` is deliberate: the user's call passes a
``training`` argument (by keyword, third positionally, or possibly in ``*args`` / ``**kwargs``),
read from the call's source; an explicit ``training=True`` in evaluation is Monte Carlo dropout.
Also quiet in a method or class named for Monte Carlo sampling (``mc_predict``, ``BayesianHead``),
for a call whose source cannot be read, and for calls made by library code (``nn.Dropout``
passes the module's mode: a module left in training mode is LA301's finding).
"""
from __future__ import annotations

import ast
from types import FrameType
from typing import Any, Optional

import torch.nn.functional as F

from lightning_advisor.runtime.frames import site_of
from lightning_advisor.runtime.torch_calls import CallWindowProbe, Verdict, call_at, user_caller
from lightning_advisor.static.dropout import _DROPOUT_LAYERS, _SAMPLING_WORDS, _passes_training
from lightning_advisor.static.names import identifier_words

_DROPOUTS = {getattr(F, name): name for name in _DROPOUT_LAYERS}
_THROUGH = frozenset({"torch.nn.functional"})  # F.dropout's own frame, which hands the call to the mode


class DropoutProbe(CallWindowProbe):
    """LA303: ``F.dropout`` without ``training=`` runs with dropout on in an evaluation loop."""

    codes = ("LA303",)
    stages = frozenset({"validate", "test", "predict"})
    functions = tuple(_DROPOUTS)

    def examine(self, func: Any, args: tuple, kwargs: dict, frame: FrameType) -> Optional[Verdict]:
        if kwargs.get("training", True) is not True:
            return None
        user = user_caller(frame, self.reporter.user_packages, _THROUGH)
        if user is None or _sampling(user):
            return None
        name = _DROPOUTS[func]
        call = call_at(user, (name,))
        if call is None or _passes_training(call):
            return None  # unreadable, or training= given on purpose (Monte Carlo dropout)
        return "LA303", site_of(user), {"function": ast.unparse(call.func), "layer": _DROPOUT_LAYERS[name]}


def _sampling(frame: FrameType) -> bool:
    """The user's method (or its class) is named for Monte Carlo sampling: ``mc_predict``, ``BayesianHead``."""
    qualname = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)  # Python 3.11+: "Class.method"
    words = {word for part in qualname.split(".") for word in identifier_words(part)}
    return bool(words & _SAMPLING_WORDS)
