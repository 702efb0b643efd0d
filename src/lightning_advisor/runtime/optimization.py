"""LA503 at run time: in manual optimization, an optimizer steps again on gradients nobody cleared.

The runtime twin of the Lightning part of ``static/optimization.py``. With
``automatic_optimization = False`` the user's ``training_step`` steps the optimizers and must clear
their gradients; Lightning does not. During the first training batches of each fit the probe puts
torch's own hooks on the optimizers and their parameters, and patches nothing:

* ``Optimizer.register_step_pre_hook``: at each ``step()`` (also through Lightning's
  ``LightningOptimizer`` and a ``GradScaler``), each parameter's gradient tensor and its version;
* ``Tensor.register_post_accumulate_grad_hook``: how many backward passes added into each gradient.

At the next ``step()`` of the same optimizer the evidence is in the gradients themselves. They were
cleared when a gradient is gone or is another tensor (``zero_grad()``, ``zero_grad(set_to_none=True)``,
``model.zero_grad()``, ``p.grad = None``), or when it changed more often than backward passes added to
it (``zero_grad(set_to_none=False)`` and ``p.grad.zero_()`` write it in place). LA503 is reported at the
user's ``step()`` line when none was cleared and a backward pass added onto every gradient the last
step applied: this step applies the sum of both. Gradient accumulation that clears after each step and
several optimizers each cleared are quiet; so is anything else that rewrites the gradients in place
between steps (gradient clipping, a ``GradScaler``'s unscaling, DDP's reduction): unsure is quiet.

The optimizer is named the way the static rule names it at that line (``opt``, ``opt_g``), else as the
``step()`` call writes its receiver.
"""
from __future__ import annotations

import ast
import sys
import weakref
from typing import Any, Dict, List, Optional, Set, Tuple

import torch

from lightning_advisor.errors import RAISED_ON_PURPOSE
from lightning_advisor.runtime import compiled
from lightning_advisor.runtime.frames import find_user_frame, site_of
from lightning_advisor.runtime.probe import Probe
from lightning_advisor.runtime.report import Reporter
from lightning_advisor.runtime.static_words import fields_at
from lightning_advisor.runtime.torch_calls import call_at, call_position
from lightning_advisor.static import optimization as static_optimization
from lightning_advisor.static.names import identifier_words
from lightning_advisor.syntax import dotted_name

WATCHED_BATCHES = 8
"""Training batches watched at the start of each fit: two steps even when gradients accumulate over 4."""

_OPTIMIZER = "optimizer"  # the name when the step() call cannot be read

Gradient = Tuple[Any, int, int]  # (weak reference to the .grad tensor, its version, backward passes so far)


class ZeroGradProbe(Probe):
    """LA503: manual optimization steps an optimizer twice without its gradients cleared in between.

    Args:
        reporter: where findings go.
        batches: training batches watched at the start of each fit.
    """

    codes = ("LA503",)

    def __init__(self, reporter: Reporter, batches: int = WATCHED_BATCHES) -> None:
        super().__init__(reporter)
        if batches < 0:
            raise ValueError(f"batches must be >= 0, got {batches}")
        self.batches = batches
        self._handles: List[Any] = []
        self._params: Dict[int, List[torch.Tensor]] = {}  # id(optimizer) -> its parameters, while watched
        self._passes: Dict[int, int] = {}  # id(parameter) -> backward passes that added into its gradient
        self._applied: Dict[int, Dict[int, Gradient]] = {}  # id(optimizer) -> its gradients at its last step
        self._compiled: Optional[compiled.CompiledCode] = None
        self._failed = False

    # -- Probe hooks ---------------------------------------------------------------------------

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        if stage == "train" and self.batches and getattr(pl_module, "automatic_optimization", True) is False:
            self._compiled = compiled.attach(pl_module, self._step_aside, self._step_aside, self._compiled)
            if self._compiled is not None and self._compiled.steps_compiled:
                return  # its step() calls run inside compiled code: hooks there would be traced
            optimizers = list(getattr(trainer, "optimizers", None) or ())
            self._install(optimizers, _eager_parameters(pl_module, self._compiled))

    def wants(self, hook: str) -> bool:
        return bool(self._handles)  # only to take them out

    def on_batch_end(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self._handles and stage == "train" and batch_idx + 1 >= self.batches:
            self._uninstall()

    def on_stage_end(self, trainer, pl_module, stage: str) -> None:
        if stage == "train":
            self._uninstall()

    def teardown(self) -> None:
        try:
            self._uninstall()
        finally:
            compiled.detach(self._compiled, self._step_aside)
            self._compiled = None

    def _step_aside(self) -> None:
        """Nothing of this probe runs inside compiled code: the parameters it hooks are outside it."""

    # -- hooks on the optimizers ---------------------------------------------------------------

    def _install(self, optimizers: List[Any], eager: Set[int]) -> None:
        self._uninstall()
        try:
            for optimizer in optimizers:
                if not isinstance(optimizer, torch.optim.Optimizer):
                    continue
                params = [p for group in optimizer.param_groups for p in group["params"]]
                self._params[id(optimizer)] = params
                self._handles.append(optimizer.register_step_pre_hook(self._before_step))
                for param in params:
                    if param.requires_grad and id(param) in eager and id(param) not in self._passes:
                        self._passes[id(param)] = 0
                        self._handles.append(param.register_post_accumulate_grad_hook(self._accumulated))
        except BaseException:
            self._uninstall()
            raise

    def _uninstall(self) -> None:
        handles, self._handles = self._handles, []
        self._params, self._passes, self._applied = {}, {}, {}
        for handle in reversed(handles):
            handle.remove()
        if handles:
            self.needs_changed()

    def _accumulated(self, param: torch.Tensor) -> None:
        passes = self._passes
        key = id(param)
        if key in passes:
            passes[key] += 1

    def _before_step(self, optimizer: Any, args: tuple, kwargs: dict) -> None:
        if self._failed:
            return
        try:
            stale = self._stale(optimizer)
            if stale:
                self._report(sys._getframe(1))
        except RAISED_ON_PURPOSE:
            raise
        except Exception as error:  # inside the user's step(): contain it
            self._failed = True
            self._uninstall()
            self.fail(error)

    def _stale(self, optimizer: Any) -> bool:
        """Every gradient this step applies is the last step's, with more backward passes added into it."""
        before = self._applied.get(id(optimizer))
        now: Dict[int, Gradient] = {}
        compared = added = 0
        cleared = False
        for param in self._params.get(id(optimizer), ()):
            grad = param.grad
            if grad is None:
                continue
            passes = self._passes.get(id(param))
            if passes is None:
                continue  # not counted (a parameter of compiled code): nothing to judge it by
            now[id(param)] = (weakref.ref(grad), grad._version, passes)
            if before is None or id(param) not in before:
                continue
            ref, version, passes_then = before[id(param)]
            compared += 1
            if ref() is not grad or grad._version - version != passes - passes_then:
                cleared = True  # another tensor, or written in place by something else than backward
            elif passes > passes_then:
                added += 1
        self._applied[id(optimizer)] = now
        return compared > 0 and not cleared and added == compared

    def _report(self, caller) -> None:
        user, _ = find_user_frame(caller, self.reporter.user_packages)
        if user is None:
            return
        self.reporter.report("LA503", site=site_of(user), optimizer=_optimizer_name(user))


def _eager_parameters(pl_module: torch.nn.Module, code: Optional[compiled.CompiledCode]) -> Set[int]:
    """``id`` of the parameters of modules that run outside compiled code: dynamo guards on their hooks."""
    inside = code.inside if code is not None else set()
    return {
        id(param)
        for module in pl_module.modules() if id(module) not in inside
        for param in module.parameters(recurse=False)
    }


def _optimizer_name(user) -> str:
    """The static rule's name for the optimizer at this line, else the receiver the ``step()`` call writes."""
    line, column = call_position(user)
    static = fields_at(static_optimization.CHECK, user.f_code.co_filename, line, column)
    if static is not None:
        return str(static["optimizer"])
    call = call_at(user, ("step",))
    if call is None or not isinstance(call.func, ast.Attribute):
        return _OPTIMIZER
    receiver: Optional[ast.AST] = call.func.value
    name = dotted_name(receiver) or ""
    if call.args and "scaler" in identifier_words(name.rpartition(".")[2] or "x"):
        receiver = call.args[0]  # scaler.step(optimizer)
    return dotted_name(receiver) or ast.unparse(receiver)
