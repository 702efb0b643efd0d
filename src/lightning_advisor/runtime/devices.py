"""LA201 / LA202 at run time: ``.cuda()`` and hard-coded CUDA devices run by the user's hooks.

While a window is open (each stage's start hooks and its first batches) the shared
torch function mode (:mod:`lightning_advisor.runtime.torch_calls`) shows it every ``Tensor.cuda``, every
``Tensor.to`` and every torch call with a ``device=`` argument (``torch.zeros``,
``torch.tensor``, ``x.new_ones`` ...), and Lightning's own ``LightningModule.cuda``
is wrapped, because it asks CUDA for the current device before any tensor moves.
A finding is reported from inside the interception, before the call runs: on a
machine without a GPU the call then fails, and the warning already says why.

Whose call is it? Only calls whose first non-library frame is the user's count,
and only in the literal forms the rules are about:

* called directly from user code (``x.cuda()``, ``torch.ones(2, device="cuda")``):
  ``Tensor.cuda`` is LA201; a CUDA ``device`` is LA202 when it is a string
  (``"cuda"``, a constant or a variable holding one) or when the call's source holds
  a ``"cuda..."`` literal (``x.to(torch.device("cuda"))``). A ``torch.device`` object
  alone is not enough: ``x.to(self.device)`` passes the same ``cuda:0`` on a GPU.
* reached through library code (``model.cuda()`` and ``model.to("cuda")`` go through
  ``nn.Module._apply``; Lightning's batch transfer and torchmetrics' state moves
  go through their own frames): the user's call expression decides, so only
  ``<anything>.cuda(...)`` (LA201) and ``<anything>.to(...)`` with a ``"cuda..."``
  literal (LA202) count. ``trainer.fit(model)`` or ``self.log(...)`` never do.

The call expression is read from the instruction positions of the user's frame
(Python 3.11+: exactly ``model.to("cuda")``, also across lines), else from the line.
"""
from __future__ import annotations

import ast
import functools
import re
import sys
from types import FrameType
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from lightning_advisor.runtime.frames import (
    call_source,
    find_user_frame,
    library_modules,
    parse_source,
    site_of,
)
from lightning_advisor.runtime.report import Reporter
from lightning_advisor.runtime.torch_calls import DISPATCH_MODULES, WATCHED_BATCHES, WATCHER, WindowProbe
from lightning_advisor.runtime.torch_calls import remove_function_mode as _remove_function_mode  # noqa: F401
from lightning_advisor.vocabulary import LIGHTNING_PACKAGES, top_package

# Windows that end at the next batch: from the run's setup, and from each training epoch's start.
_SETUP, _EPOCH_START = "setup", "epoch start"
_BEFORE_BATCHES = frozenset({_SETUP, _EPOCH_START})

_TENSOR_CUDA = torch.Tensor.cuda
_TENSOR_TO = torch.Tensor.to
_CUDA_LITERAL = re.compile(r"cuda(:\d+)?\Z")

Verdict = Tuple[str, Dict[str, object]]  # (code, message fields) of a finding to report


class DeviceProbe(WindowProbe):
    """Reports ``.cuda()`` (LA201) and literal CUDA devices (LA202) in the user's hooks.

    Its windows: each stage's start hooks and first ``batches`` batches, the run's setup (the user's
    ``setup()``, ``configure_model()`` and ``on_fit_start()``), and each training epoch's start hooks.

    Args:
        reporter: where findings go.
        batches: how many batches of each stage to observe after its start hooks.
    """

    codes = ("LA201", "LA202")

    def __init__(self, reporter: Reporter, batches: int = WATCHED_BATCHES) -> None:
        super().__init__(reporter, batches)
        self._wrapped: List[Tuple[type, Any]] = []  # (class, original cuda) while wrapped
        self._module_type: Optional[type] = None

    # -- Probe hooks ---------------------------------------------------------------------------

    def on_setup(self, trainer, pl_module) -> None:
        # the user's setup(), configure_model() and on_fit_start() run before any loop starts
        self._module_type = type(pl_module)
        WATCHER.follow(self, pl_module)
        self._open.add(_SETUP)
        self._sync()

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        self._module_type = type(pl_module)
        # configure_model() may have compiled parts since setup
        WATCHER.follow(self, pl_module)
        self._open.add(stage)
        self._sync()

    def on_epoch_start(self, trainer, pl_module, stage: str) -> None:
        self._open.add(_EPOCH_START)  # the module's on_train_epoch_start, every epoch, until its first batch
        self._sync()

    def on_batch_start(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self._open & _BEFORE_BATCHES:
            self._open -= _BEFORE_BATCHES
            self._sync()
        super().on_batch_start(trainer, pl_module, stage, batch_idx, dataloader_idx)

    # -- watching ------------------------------------------------------------------------------

    def _watch(self) -> None:
        WATCHER.open(self, (_TENSOR_CUDA, _TENSOR_TO), self._on_torch_call, self._fail_inside, keywords=("device",))
        if not self._wrapped and self._module_type is not None:
            for owner in _lightning_cuda_owners(self._module_type):
                original = owner.__dict__["cuda"]
                setattr(owner, "cuda", self._wrap_module_cuda(original))
                self._wrapped.append((owner, original))

    def _unwatch(self) -> None:
        wrapped, self._wrapped = self._wrapped, []
        try:
            WATCHER.close(self)
        finally:
            for owner, original in reversed(wrapped):
                # leave a wrapper someone put over ours alone; ours passes through once the window is shut
                if getattr(owner.__dict__.get("cuda"), "__wrapped__", None) is original:
                    setattr(owner, "cuda", original)

    def _wrap_module_cuda(self, original: Callable) -> Callable:
        probe = self

        @functools.wraps(original)
        def cuda(module, *args, **kwargs):
            if WATCHER.is_open(probe):
                probe._inspect(_classify_module_cuda, sys._getframe(1))
            return original(module, *args, **kwargs)

        return cuda

    # -- interception --------------------------------------------------------------------------

    def _on_torch_call(self, func, args: tuple, kwargs: dict, frame: FrameType) -> None:
        if func is _TENSOR_CUDA:
            device = None
        else:
            if "device" in kwargs:
                device = kwargs["device"]
            else:  # x.to("cuda"), x.to(device, dtype)
                device = args[1] if func is _TENSOR_TO and len(args) > 1 else None
            if not _is_cuda(device):
                return
        self._inspect(functools.partial(_classify_torch_call, func is _TENSOR_CUDA, device), frame)

    def _inspect(self, classify: Callable[[FrameType, bool], Optional[Verdict]], frame: FrameType) -> None:
        if self._failed:
            return
        try:
            user, skipped = find_user_frame(frame, self.reporter.user_packages)
            if user is None:
                return
            direct = set(library_modules(skipped)) <= DISPATCH_MODULES  # torch dispatch only: a direct call
            finding = classify(user, direct)
        except Exception as error:  # a broken check must not break the user's call
            self._failed = True
            self.fail(error)
            return
        if finding is not None:
            code, fields = finding
            self.reporter.report(code, site=site_of(user), **fields)


def _classify_torch_call(is_cuda_call: bool, device: Any, user: FrameType, direct: bool) -> Optional[Verdict]:
    """The finding for an intercepted ``Tensor.cuda`` (``is_cuda_call``) or a move to CUDA ``device``."""
    method, literal = _read_call(user)
    if direct:
        if is_cuda_call:
            return "LA201", {}
        if isinstance(device, str) or literal:
            return "LA202", {"device": _device_name(device)}
        return None
    if method == "cuda":
        return "LA201", {}
    if method == "to" and literal:
        return "LA202", {"device": _device_name(device)}
    return None


def _classify_module_cuda(user: FrameType, direct: bool) -> Optional[Verdict]:
    """The finding for ``LightningModule.cuda()``: LA201 when the user's own code called it."""
    if direct or _read_call(user)[0] == "cuda":
        return "LA201", {}
    return None


def _read_call(frame: FrameType) -> Tuple[Optional[str], bool]:
    """The method of the call ``frame`` runs (``"cuda"``, ``"to"``...) and whether a CUDA literal is in it."""
    source = call_source(frame)
    tree = parse_source(source) if source else None
    if tree is None:
        return None, False
    if isinstance(tree, ast.Expression) and isinstance(tree.body, ast.Call):
        calls = [tree.body]  # the exact call expression
    else:  # a whole line: any call on it
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    methods = {call.func.attr for call in calls if isinstance(call.func, ast.Attribute)}
    method = "cuda" if "cuda" in methods else "to" if "to" in methods else next(iter(methods), None)
    literal = any(_is_cuda_literal(node) for call in calls for node in ast.walk(call))
    return method, literal


def _is_cuda_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_CUDA_LITERAL.match(node.value.strip()))
    if isinstance(node, ast.JoinedStr) and node.values:  # f"cuda:{rank}"
        head = node.values[0]
        return isinstance(head, ast.Constant) and str(head.value).startswith("cuda:")
    return False


def _is_cuda(device: Any) -> bool:
    if isinstance(device, str):
        return device.strip().startswith("cuda")
    return isinstance(device, torch.device) and device.type == "cuda"


def _device_name(device: Any) -> str:
    return device.strip() if isinstance(device, str) else str(device)


def _lightning_cuda_owners(module_type: type) -> List[type]:
    """Lightning classes in ``module_type``'s MRO that define ``cuda`` (the device mixins).

    ``LightningModule.cuda()`` asks ``torch.cuda.current_device()`` before moving any tensor,
    so on a machine without a GPU it fails before the TorchFunctionMode sees anything.
    """
    return [
        owner
        for owner in module_type.__mro__
        if "cuda" in vars(owner) and top_package(owner.__module__) in LIGHTNING_PACKAGES
    ]
