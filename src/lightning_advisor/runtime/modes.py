"""LA301 / LA302 at run time: evaluation in training mode or with autograd on.

Two situations, both watched through forward hooks on the LightningModule and its submodules
(none on modules that run inside compiled code: see :mod:`lightning_advisor.runtime.compiled`):

* **Inside Lightning's evaluation loops.** During the first batches of ``validate`` and
  ``test``, every call of one of the model's modules is checked as it happens: that is
  where the truth is. Lightning switches the model to eval mode and turns autograd off
  around the whole loop, but the user's ``on_validation_epoch_start``,
  ``on_validation_batch_start`` (a LightningModule hook, run *after* the Callback's) or
  the step itself can undo either. A module that runs in training mode gives LA301,
  named after the outermost module in training mode (``LitModel`` after ``self.train()``,
  ``LitModel.dropout`` after ``self.dropout.train()``) and said once per module, with no
  line (the ``.train()`` that caused it is elsewhere). A top-level forward that records an
  autograd graph nobody backpropagates by the batch's end gives LA302 at the user's line
  (saliency maps or adversarial evaluation call ``backward``/``autograd.grad`` and stay quiet).

* **Outside Lightning's steps** (stage start and epoch-end hooks, between batches),
  where a manual evaluation pass over a loader would run. An evaluation-style pass is
  the same user line calling a model (a module that has parameters) at least
  ``repeats`` times within one stretch between batch boundaries, with none of those
  outputs ever backpropagated. Then: called in training mode gives LA301, recording an
  autograd graph gives LA302, both at that line, naming the model as that line writes it
  (``self``, ``model.encoder``), like the static rules. One extra forward (an EMA target, a
  sample for logging) and manual training loops (they call backward) stay quiet.

Watched stretches: from the start of each stage, after each of its first ``batches``
batches (an "every N steps" evaluation fires at batch 0), after the last training batch
of an epoch, and from the Callback's own epoch-end hook, which Lightning calls before
the LightningModule's. An evaluation pass between later batches (after batch 7 of 10,
say) is missed: that is the price of the next point.

Cost: nothing is installed during steps, nor between batches after the first ``batches``
of a stage, so steady-state steps pay nothing. While installed, the hooks put the model's
module calls on PyTorch's slower hooked path. The stack is only walked for calls already in
training mode or with autograd on. While the model's compiled code runs, the hooks are off.
"""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import torch

from lightning_advisor.errors import RAISED_ON_PURPOSE
from lightning_advisor.runtime import compiled
from lightning_advisor.runtime.frames import Site, called_model, find_user_frame, library_modules, site_of
from lightning_advisor.runtime.probe import Probe
from lightning_advisor.runtime.report import Reporter

CHECKED_BATCHES = 3
"""Evaluation batches checked at the start of each ``validate`` / ``test`` stage."""

EVAL_REPEATS = 2
"""Calls from one line, outside Lightning's steps, that make a pass look like evaluation."""

_EVALUATION_STAGES = frozenset({"validate", "test"})
# torch's frames between a user's ``model(x)`` and the forward hooks: calling a module (and its wrappers)
_CALL_MACHINERY = ("torch.nn.modules.", "torch.nn.parallel.", "torch._dynamo.")


@dataclass
class _Calls:
    """Top-level calls of a model from one user line within one stretch of the run."""

    model: str
    count: int = 0
    training: bool = False
    """A call ran a module holding parameters in training mode."""
    graph: bool = False
    """A call recorded an autograd graph."""
    backward: bool = False
    """Some backward pass (or ``autograd.grad``) reached one of those graphs."""

    def backpropagated(self, grad_outputs: Any) -> None:
        self.backward = True


def _undo_on_error(method):
    """Remove the hooks when a probe method fails: the callback switches the probe off then."""

    @functools.wraps(method)
    def guarded(self: "ModeProbe", *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RAISED_ON_PURPOSE:
            raise
        except BaseException:
            self._uninstall()
            raise

    return guarded


class ModeProbe(Probe):
    """Reports evaluation in training mode (LA301) and with autograd on (LA302).

    Args:
        reporter: where findings go.
        batches: evaluation batches checked at the start of each validate / test stage.
        repeats: calls from one line outside Lightning's steps that look like an evaluation pass.
    """

    codes = ("LA301", "LA302")

    def __init__(
        self, reporter: Reporter, batches: int = CHECKED_BATCHES, repeats: int = EVAL_REPEATS
    ) -> None:
        super().__init__(reporter)
        if batches < 0:
            raise ValueError(f"batches must be >= 0, got {batches}")
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self.batches = batches
        self.repeats = repeats
        self._names: Dict[int, str] = {}  # id(module) -> "LitModel.encoder"
        self._parents: Dict[int, torch.nn.Module] = {}
        self._modules: List[torch.nn.Module] = []  # keeps the ids above valid
        self._hooked: List[torch.nn.Module] = []  # the modules that get hooks: not inside compiled code
        self._compiled: Optional[compiled.CompiledCode] = None
        self._handles: list = []
        self._paused_handles = False  # hooks taken off while compiled code runs, to put back after
        self._switched: Dict[int, Site] = {}  # id(module) -> the user's line that called its .train()
        self._module_train: Optional[Any] = None  # nn.Module.train as it was, while ours is in
        self._checking = False  # inside one of the first evaluation steps
        self._depth = 0  # nesting of the model's module calls
        self._open_call: Optional[_Calls] = None
        self._calls: Dict[Site, _Calls] = {}
        self._needed = self.repeats  # calls per line that count in the current stretch
        self._training = False  # between the training stage's start and end: its last batch matters
        self._last_training_batch = float("inf")  # the index of this epoch's last training batch
        self._failed = False

    # -- Probe hooks ---------------------------------------------------------------------------

    @_undo_on_error
    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        self._flush()
        self._training = self._training or stage == "train"
        self._switched = {}
        self._index(pl_module)
        self._enter_stretch(checking=False)

    def on_epoch_start(self, trainer, pl_module, stage: str) -> None:
        if stage == "train":  # known by now: Lightning sets up (or reloads) its data before the epoch-start hooks
            self._last_training_batch = getattr(trainer, "num_training_batches", float("inf")) - 1

    def wants(self, hook: str) -> bool:
        # between batches only while hooks are in, or calls wait to be judged; and each training batch's
        # end, to watch what follows the epoch's last one
        return bool(self._handles or self._paused_handles or self._calls) or (
            hook == "on_batch_end" and self._training
        )

    @_undo_on_error
    def on_batch_start(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self._calls:
            self._flush()
        if stage in _EVALUATION_STAGES and batch_idx < self.batches:
            self._enter_stretch(checking=True)
        elif self._handles:  # a step nobody checks: nothing installed, nothing paid
            self._uninstall()

    @_undo_on_error
    def on_batch_end(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self._calls:
            self._flush()
        if batch_idx < self.batches or (stage == "train" and batch_idx >= self._last_training_batch):
            self._enter_stretch(checking=False)  # the epoch's last batch: epoch-end hooks come next

    @_undo_on_error
    def on_epoch_end(self, trainer, pl_module, stage: str) -> None:
        if not self._handles:  # the epoch's last stretch was not watched: watch the epoch-end hooks
            self._enter_stretch(checking=False)

    @_undo_on_error
    def on_stage_end(self, trainer, pl_module, stage: str) -> None:
        self._training = self._training and stage != "train"
        self._flush()

    def teardown(self) -> None:
        try:
            self._flush()
        finally:
            self._uninstall()
            compiled.detach(self._compiled, self._pause)
            self._compiled = None
            self._names, self._parents, self._modules, self._hooked = {}, {}, [], []

    # -- stretches between boundaries ----------------------------------------------------------

    def _index(self, pl_module: torch.nn.Module) -> None:
        self._compiled = compiled.attach(pl_module, self._pause, self._resume, self._compiled)
        inside = self._compiled.inside if self._compiled is not None else ()
        root = type(pl_module).__name__
        names: Dict[int, str] = {}
        parents: Dict[int, torch.nn.Module] = {}
        modules = []
        for qualname, module in pl_module.named_modules():
            names[id(module)] = f"{root}.{qualname}" if qualname else root
            modules.append(module)
            for child in module.children():
                parents.setdefault(id(child), module)
        self._names, self._parents, self._modules = names, parents, modules
        self._hooked = [module for module in modules if id(module) not in inside]

    def _enter_stretch(self, checking: bool) -> None:
        self._checking = checking
        self._needed = 1 if checking else self.repeats
        self._depth = 0
        self._open_call = None
        if self._failed or not self._names:
            self._uninstall()
        elif not self._handles:
            self._install()

    def _install(self) -> None:
        handles = []
        for module in self._hooked:
            handles.append(module.register_forward_pre_hook(self._before_forward))
            handles.append(module.register_forward_hook(self._after_forward, always_call=True))
        self._handles = handles
        if self._module_train is None:
            self._module_train = original = torch.nn.Module.train
            torch.nn.Module.train = self._watching_train(original)
        self.needs_changed()

    def _uninstall(self) -> None:
        self._remove_handles()
        self._paused_handles = False
        self._depth = 0
        self._open_call = None
        self.needs_changed()

    def _remove_handles(self) -> None:
        handles, self._handles = self._handles, []
        for handle in handles:
            handle.remove()
        original, self._module_train = self._module_train, None
        if original is not None and getattr(torch.nn.Module.train, "__wrapped__", None) is original:
            torch.nn.Module.train = original  # one someone put over ours stays: ours passes through then

    def _watching_train(self, original):
        probe = self

        @functools.wraps(original)
        def train(module, mode: bool = True):
            if mode and probe._module_train is not None and id(module) in probe._names:
                probe._saw_train(module, sys._getframe(1))
            return original(module, mode)

        return train

    def _saw_train(self, module: torch.nn.Module, caller) -> None:
        """The user's line that put one of the model's modules in training mode: where LA301 points."""
        try:
            user, _ = find_user_frame(caller, self.reporter.user_packages)
            if user is not None:
                self._switched[id(module)] = site_of(user)
        except Exception as error:  # inside the user's call: contain it
            self._fail(error)

    def _pause(self) -> None:
        """The model's compiled code starts: no hooks of ours for dynamo to trace."""
        try:
            if self._handles:
                self._remove_handles()
                self._paused_handles = True
        except Exception as error:  # inside the user's call: contain it
            self._fail(error)

    def _resume(self) -> None:
        try:
            if self._paused_handles and not self._failed:
                self._paused_handles = False
                self._install()
        except Exception as error:
            self._fail(error)

    def _flush(self) -> None:
        """Decide on the calls of the stretch that just ended."""
        calls, self._calls = self._calls, {}
        self._open_call = None
        if calls:
            self.needs_changed()
        for site, seen in calls.items():
            if seen.count < self._needed or seen.backward:
                continue
            if seen.training:
                self.reporter.report("LA301", site=site, model=seen.model)
            if seen.graph:
                self.reporter.report("LA302", site=site, model=seen.model)

    # -- forward hooks -------------------------------------------------------------------------

    def _before_forward(self, module: torch.nn.Module, args: Any) -> None:
        name = self._names.get(id(module))
        if name is None:
            return None
        depth = self._depth
        self._depth = depth + 1
        if self._failed:
            return None
        try:
            if self._checking and module.training:
                self._report_training_module(module)
            if depth == 0:
                self._open_call = self._record_call(module, name, sys._getframe(1))
        except RAISED_ON_PURPOSE:
            raise
        except Exception as error:  # a broken check must not break the user's forward
            self._fail(error)
        return None

    def _after_forward(self, module: torch.nn.Module, args: Any, output: Any) -> None:
        if id(module) not in self._names:
            return None
        self._depth = max(self._depth - 1, 0)
        if self._depth == 0 and self._open_call is not None:
            seen, self._open_call = self._open_call, None
            try:
                for node in _graph_nodes(output):
                    seen.graph = True
                    node.register_prehook(seen.backpropagated)
            except Exception as error:
                self._fail(error)
        return None

    def _report_training_module(self, module: torch.nn.Module) -> None:
        """LA301 inside an evaluation step, named after the outermost module in training mode."""
        while True:
            parent = self._parents.get(id(module))
            if parent is None or not parent.training:
                break
            module = parent
        name = self._names[id(module)]
        # at the user's .train() that did it, when one ran while the probe watched; else named only
        self.reporter.report("LA301", site=self._switched.get(id(module)), key=name, model=name)

    def _record_call(self, module: torch.nn.Module, name: str, caller) -> Optional[_Calls]:
        """Count a top-level call of the model by a user line, if it can be a finding."""
        grad = torch.is_grad_enabled()
        training = module.training and not self._checking  # in a step, LA301 is said per module
        if not (grad or training):
            return None
        user, skipped = find_user_frame(caller, self.reporter.user_packages)
        if user is None or not all(mod.startswith(_CALL_MACHINERY) for mod in library_modules(skipped)):
            # called by Lightning or another library, not by the user's line: swa_utils.update_bn runs
            # forward passes in training mode on purpose, to recompute batch-norm statistics
            return None
        site = site_of(user)
        seen = self._calls.get(site)
        if seen is None:
            # named as the line writes it (``self``, ``model.encoder``), the way the static rule names it
            seen = self._calls[site] = _Calls(model=called_model(user) or name)
        seen.count += 1
        if training and next(module.parameters(), None) is not None:
            seen.training = True
        return seen if grad else None

    def _fail(self, error: BaseException) -> None:
        self._failed = True
        self.fail(error)


def _graph_nodes(output: Any, depth: int = 0) -> List[Any]:
    """The autograd nodes (``grad_fn``) of the tensors in a forward's output, one level into containers."""
    if isinstance(output, torch.Tensor):
        return [output.grad_fn] if output.grad_fn is not None else []
    if depth > 1:
        return []
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (list, tuple)):
        return [node for item in output[:16] for node in _graph_nodes(item, depth + 1)]
    return []
