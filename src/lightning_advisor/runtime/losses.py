"""LA501 at run time: ``cross_entropy`` given probabilities, not logits.

The runtime twin of ``static/losses.py``. During each stage's start hooks and first batches, the
shared torch function mode (:mod:`~lightning_advisor.runtime.torch_calls`) shows the probe every call
of ``torch.nn.functional.cross_entropy`` (``nn.CrossEntropyLoss`` calls it too). The evidence is the
input itself: every value non-negative and each sample's values summing to 1 along the class
dimension (dimension 1, or 0 for one unbatched sample), with at least two classes. Logits almost never
look like that; ``log_softmax`` output is never non-negative (so ``cross_entropy(log_softmax(x))``,
which computes the right loss, is quiet). One check costs a reduction over the input and one
synchronisation, in the first batches only.

Reported at the user's loss call (``F.cross_entropy(...)``, ``criterion(...)``), when nothing but torch's
loss module lies between it and the call. The message names the loss as that call writes it; the softmax
is named the way the static rule names it at that line (``F.softmax``, ``forward()'s self.softmax``),
and plainly ``softmax`` where the linter cannot see where the probabilities came from.
"""
from __future__ import annotations

from types import FrameType
from typing import Any, Dict, Optional, Set

import torch
import torch.nn.functional as F

from lightning_advisor.runtime.frames import Site, site_of
from lightning_advisor.runtime.static_words import fields_at
from lightning_advisor.runtime.torch_calls import CallWindowProbe, Verdict, call_at, call_position, user_caller
from lightning_advisor.static import losses as static_losses

# F.cross_entropy's own frame, and nn.CrossEntropyLoss called as a module
_THROUGH = frozenset({"torch.nn.functional", "torch.nn.modules.loss", "torch.nn.modules.module"})
_SOFTMAX = "softmax"  # the word when the linter cannot tell which softmax it was
_LOSS = "F.cross_entropy"  # the loss as written, when the call cannot be read


class SoftmaxLossProbe(CallWindowProbe):
    """LA501: the input of a cross-entropy loss is a probability distribution over the classes."""

    codes = ("LA501",)
    stages = frozenset({"train", "validate", "test", "predict"})
    functions = (F.cross_entropy,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decided: Set[Site] = set()  # lines already reported: their later calls are not measured

    def examine(self, func: Any, args: tuple, kwargs: dict, frame: FrameType) -> Optional[Verdict]:
        scores = args[0] if args else kwargs.get("input")
        if not _looks_like_scores(scores):
            return None
        user = user_caller(frame, self.reporter.user_packages, _THROUGH)
        if user is None:
            return None
        site = site_of(user)
        if site in self._decided or not _probabilities(scores):
            return None
        self._decided.add(site)
        return "LA501", site, _fields(user)


def _looks_like_scores(scores: Any) -> bool:
    """A floating tensor of at least two classes: what the numbers can be judged on."""
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point() or scores.dim() == 0:
        return False
    if scores.is_meta or scores.is_sparse or scores.numel() == 0:
        return False
    return scores.shape[1 if scores.dim() > 1 else 0] >= 2


def _probabilities(scores: torch.Tensor) -> bool:
    """Non-negative, and summing to 1 along the class dimension for every sample."""
    with torch.no_grad():
        values = scores.detach().float()
        sums = values.sum(dim=1 if values.dim() > 1 else 0)
        classes = values.shape[1 if values.dim() > 1 else 0]
        # rounding of low-precision probabilities adds up over the classes
        tolerance = max(1e-3, classes * torch.finfo(scores.dtype).eps)
        return bool((values.min() >= 0) & ((sums - 1).abs().max() <= tolerance))


def _fields(user: FrameType) -> Dict[str, object]:
    """The static rule's words at this line where it reports one; else the loss as written and ``softmax``."""
    line, column = call_position(user)
    static = fields_at(static_losses.CHECK, user.f_code.co_filename, line, column)
    if static is not None:
        return static
    call = call_at(user, ("cross_entropy",))
    loss = static_losses._written(call.func) if call is not None else _LOSS
    return {"loss": loss, "softmax": _SOFTMAX}
