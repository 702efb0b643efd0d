r"""
Advisor
^^^^^^^

Watch a run for the mistakes lightning-advisor's flake8 rules look for, and for those only a
running Trainer can see, and warn about each once, with the words the linter uses.

"""
from __future__ import annotations

import re
import sys
import warnings
from typing import TYPE_CHECKING, Any, Callable, Collection, Dict, List, Optional, Tuple

# First: without Lightning this raises the ImportError that says which extra to install.
from lightning_advisor.runtime._lightning import CALLBACK_BASES, is_global_zero, settle_rank_zero_log, summary_logger
from lightning_advisor.errors import RAISED_ON_PURPOSE
from lightning_advisor.runtime.options import CallbackOptions
from lightning_advisor.runtime.frames import user_packages
from lightning_advisor.runtime.handoff import Handoff
from lightning_advisor.runtime.probe import BATCH_HOOKS, HOOKS, Probe
from lightning_advisor.runtime.registry import PROBES
from lightning_advisor.runtime.report import Finding, Reporter

if sys.version_info >= (3, 12):
    from typing import override
else:  # a dependency of Lightning, and declared by the extras that install it
    from typing_extensions import override

if TYPE_CHECKING:
    import lightning.pytorch as pl

# Lightning's own warnings that say what an LA rule says: hidden while the Callback is attached
# (unless that rule is ignored), so each problem is reported once, in lightning-advisor's words.
_LIGHTNING_DUPLICATES: Dict[str, str] = {
    "LA101": r"Your `\w+_dataloader`'s sampler has shuffling enabled",
    "LA102": r"The '\w+_dataloader' does not have many workers",
}

# Lightning calls a callback's hook only when it is callable (``_call_callback_hooks`` in trainer/call.py),
# and pays its profiler's bookkeeping for each call. So the batch hooks no probe wants now (``Probe.wants``:
# none attached, or every window shut) are None on the instance: a batch costs them nothing, less than it
# costs for an empty Callback. The Lightning hook -> the probe hooks it feeds; a hook not listed here is
# always called (it does not run per batch).
_LIGHTNING_BATCH_HOOKS: Dict[str, Tuple[str, ...]] = {
    "on_train_batch_start": ("on_batch_start",),
    "on_train_batch_end": ("on_batch_outputs", "on_batch_end"),
    "on_validation_batch_start": ("on_batch_start",),
    "on_validation_batch_end": ("on_batch_outputs", "on_batch_end"),
    "on_test_batch_start": ("on_batch_start",),
    "on_test_batch_end": ("on_batch_outputs", "on_batch_end"),
    "on_predict_batch_start": ("on_batch_start",),
    "on_predict_batch_end": ("on_batch_end",),
    # called on every training batch, and needed by no probe
    "on_before_backward": (),
    "on_after_backward": (),
    "on_before_optimizer_step": (),
    "on_before_zero_grad": (),
}

_BOUNDARIES = frozenset({"on_setup", "on_stage_start", "on_epoch_start", "on_epoch_end", "on_stage_end"})

# torch warns when a compiled module runs while global module hooks exist; the hooks are ours
# (the evaluation-mode probe, during its first batches), so the warning is ours to hide.
_OWN_SIDE_EFFECTS = (r"Using `torch.compile\(module\)` when there are global hooks",)


def _wants(probe: Probe, hook: str) -> bool:
    try:
        return bool(probe.wants(hook))
    except Exception:  # when in doubt, call it: a broken hook is then reported and switched off there
        return True


class AdvisorCallback(*CALLBACK_BASES):  # type: ignore[misc]
    r"""Warn about data loading, device and evaluation mistakes while the Trainer runs.

    The runtime front end of lightning-advisor: it reports the rules of the flake8 plugin
    (``LA1xx`` data loading, ``LA2xx`` devices, ``LA3xx`` evaluation mode and dropout, LA404 logging dicts
    returned from steps, ``LA5xx`` losses and gradients) on what the Trainer actually runs, plus LA103, which
    only a run can measure. Each finding is an
    :class:`~lightning_advisor.AdvisorWarning` whose message starts with its code, issued once per
    (rule, place) for the life of the callback, on global rank zero only, and is listed in
    :attr:`findings`. When a run (``fit``, ``validate``, ...) that found something ends, a summary
    is logged at INFO level to the ``lightning_advisor`` logger under the Trainer's namespace
    (``lightning.pytorch.lightning_advisor`` or ``pytorch_lightning.lightning_advisor``), which
    Lightning prints by default.

    While attached, Lightning's own warnings about evaluation loaders that shuffle and loaders with
    few workers are hidden, since LA101 and LA102 report them; the filters that hide them are
    taken out after the run, and nothing else about the user's warning filters changes. Findings
    follow the user's filters: one they ignore is not warned about, summarised or raised in strict
    mode (it stays in :attr:`findings`), and one they turn into an error is raised as that error.

    Works with the Trainer of ``lightning.pytorch`` and of ``pytorch_lightning`` alike.

    Args:
        ignore: rule codes not to check, e.g. ``["LA102"]``.
        strict: raise :class:`~lightning_advisor.AdvisorError` at the first finding instead of warning.
        min_workers: LA102 reports loaders with fewer worker processes than this, when fetching
            their batches measurably costs and the machine has CPUs to give them (the flake8
            option ``--la-min-workers``).
        data_wait_share: LA103 reports when waiting for data takes more than this share of a
            training step (0 to 1) ...
        data_wait_floor_ms: ... and the mean wait per batch exceeds this many milliseconds, so that
            tiny models with fast in-memory data are left alone.
        warmup_batches: LA102 and LA103 measure nothing during a loader's first batches (worker
            start-up, warming caches).
        window_batches: LA102 and LA103 judge this many measured batches after the warm-up, or
            those measured when the loop ends sooner (at least 5), then stop measuring.

    Raises:
        ValueError: an unknown rule code in ``ignore`` or an argument out of range.

    Example::

        from lightning.pytorch import Trainer
        from lightning_advisor import AdvisorCallback

        advisor = AdvisorCallback(ignore=["LA102"])
        trainer = Trainer(callbacks=[advisor])
        trainer.fit(model, datamodule=dm)
        print(advisor.findings)

    """

    def __init__(
        self,
        ignore: Collection[str] = (),
        strict: bool = False,
        min_workers: int = 2,
        data_wait_share: float = 0.2,
        data_wait_floor_ms: float = 5.0,
        warmup_batches: int = 5,
        window_batches: int = 20,
    ) -> None:
        super().__init__()
        self.options = CallbackOptions(
            ignore=ignore,  # type: ignore[arg-type]  # validated into a frozenset
            strict=strict,
            min_workers=min_workers,
            data_wait_share=data_wait_share,
            data_wait_floor_ms=data_wait_floor_ms,
            warmup_batches=warmup_batches,
            window_batches=window_batches,
        )
        self._reporter = Reporter(
            ignore=self.options.ignore, strict=self.options.strict, is_rank_zero=self._is_global_zero
        )
        self._trainer: Optional["pl.Trainer"] = None  # set while attached: setup -> teardown
        self._probes: List[Probe] = []
        self._overrides: Dict[str, Tuple[Tuple[Probe, Callable[..., None]], ...]] = {}  # by every probe
        self._hooks: Dict[str, Tuple[Tuple[Probe, Callable[..., None]], ...]] = {}  # by those that want it now
        self._own_filters: List[tuple] = []  # entries of warnings.filters that are ours, while attached
        self._run: str = ""
        self._run_first_finding = 0
        self._handoff = Handoff(self)  # findings from the processes ddp_spawn starts come back through it
        self._attach_probes([])  # until setup: no probe, so no batch hook for Lightning to call

    ignore = property(lambda self: self.options.ignore, doc="Rule codes not checked.")
    strict = property(lambda self: self.options.strict, doc="Raise at the first finding.")
    min_workers = property(lambda self: self.options.min_workers, doc="LA102's threshold.")
    data_wait_share = property(lambda self: self.options.data_wait_share, doc="LA103's share of a step.")
    data_wait_floor_ms = property(lambda self: self.options.data_wait_floor_ms, doc="LA103's floor per batch.")
    warmup_batches = property(lambda self: self.options.warmup_batches, doc="LA102's and LA103's unmeasured batches.")
    window_batches = property(lambda self: self.options.window_batches, doc="LA102's and LA103's measured batches.")

    @property
    def findings(self) -> List[Finding]:
        """Every finding so far, in order: ``code``, ``message``, ``location`` (which loader or line).

        Also those made in processes the Trainer started (``ddp_spawn``, ``ddp_fork``) on rank zero.
        """
        known = self._reporter.findings
        for record in self._handoff.receive():
            finding = Finding(*record)
            if finding not in known:
                known.append(finding)
        return list(known)

    # ---- attach and detach -------------------------------------------------------------------

    @override
    def setup(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule", stage: str) -> None:
        self._finish()  # a previous run that ended without teardown
        settle_rank_zero_log(trainer)
        self._trainer = trainer
        self._run = str(getattr(stage, "value", stage))  # a TrainerFn: "fit", "validate", ...
        self._run_first_finding = len(self._reporter.findings)
        user_objects = [pl_module, getattr(trainer, "datamodule", None), *getattr(trainer, "callbacks", ())]
        self._reporter.user_packages = user_packages(*(obj for obj in user_objects if obj is not None))
        self._reporter.fallback_class = type(pl_module)
        self._hide_lightning_duplicates()
        self._attach_probes(self._make_probes())
        self._dispatch("on_setup", trainer, pl_module)  # before the module's own setup() runs

    @override
    def teardown(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule", stage: str) -> None:
        self._finish()

    @override
    def on_exception(
        self, trainer: "pl.Trainer", pl_module: "pl.LightningModule", exception: BaseException
    ) -> None:
        # Lightning does not call the teardown hook when a run raises. The user's exception is what
        # propagates: a strict-mode finding made while tearing down is recorded and warned, not raised.
        try:
            self._finish()
        except RAISED_ON_PURPOSE:
            pass

    # ---- loops ---------------------------------------------------------------------------------

    @override
    def on_train_start(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_stage_start", trainer, pl_module, "train")

    @override
    def on_train_end(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_stage_end", trainer, pl_module, "train")

    @override
    def on_validation_start(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        # also runs for the sanity check
        self._dispatch("on_stage_start", trainer, pl_module, "validate")

    @override
    def on_validation_end(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_stage_end", trainer, pl_module, "validate")

    @override
    def on_test_start(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_stage_start", trainer, pl_module, "test")

    @override
    def on_test_end(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_stage_end", trainer, pl_module, "test")

    @override
    def on_predict_start(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_stage_start", trainer, pl_module, "predict")

    @override
    def on_predict_end(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_stage_end", trainer, pl_module, "predict")

    @override
    def on_train_epoch_start(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_epoch_start", trainer, pl_module, "train")

    @override
    def on_train_epoch_end(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_epoch_end", trainer, pl_module, "train")

    @override
    def on_validation_epoch_end(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_epoch_end", trainer, pl_module, "validate")

    @override
    def on_test_epoch_end(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_epoch_end", trainer, pl_module, "test")

    @override
    def on_predict_epoch_end(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule") -> None:
        self._dispatch("on_epoch_end", trainer, pl_module, "predict")

    # ---- batches -------------------------------------------------------------------------------

    @override
    def on_train_batch_start(
        self, trainer: "pl.Trainer", pl_module: "pl.LightningModule", batch: Any, batch_idx: int
    ) -> None:
        self._dispatch("on_batch_start", trainer, pl_module, "train", batch_idx)

    @override
    def on_train_batch_end(
        self, trainer: "pl.Trainer", pl_module: "pl.LightningModule", outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._dispatch("on_batch_outputs", trainer, pl_module, "train", batch_idx, outputs)
        self._dispatch("on_batch_end", trainer, pl_module, "train", batch_idx)

    @override
    def on_validation_batch_start(
        self,
        trainer: "pl.Trainer",
        pl_module: "pl.LightningModule",
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._dispatch("on_batch_start", trainer, pl_module, "validate", batch_idx, dataloader_idx)

    @override
    def on_validation_batch_end(
        self,
        trainer: "pl.Trainer",
        pl_module: "pl.LightningModule",
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._dispatch("on_batch_outputs", trainer, pl_module, "validate", batch_idx, outputs)
        self._dispatch("on_batch_end", trainer, pl_module, "validate", batch_idx, dataloader_idx)

    @override
    def on_test_batch_start(
        self,
        trainer: "pl.Trainer",
        pl_module: "pl.LightningModule",
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._dispatch("on_batch_start", trainer, pl_module, "test", batch_idx, dataloader_idx)

    @override
    def on_test_batch_end(
        self,
        trainer: "pl.Trainer",
        pl_module: "pl.LightningModule",
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._dispatch("on_batch_outputs", trainer, pl_module, "test", batch_idx, outputs)
        self._dispatch("on_batch_end", trainer, pl_module, "test", batch_idx, dataloader_idx)

    @override
    def on_predict_batch_start(
        self,
        trainer: "pl.Trainer",
        pl_module: "pl.LightningModule",
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._dispatch("on_batch_start", trainer, pl_module, "predict", batch_idx, dataloader_idx)

    @override
    def on_predict_batch_end(
        self,
        trainer: "pl.Trainer",
        pl_module: "pl.LightningModule",
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._dispatch("on_batch_end", trainer, pl_module, "predict", batch_idx, dataloader_idx)

    # ---- helpers -------------------------------------------------------------------------------

    def _is_global_zero(self) -> bool:
        return is_global_zero(self._trainer)

    def _make_probes(self) -> List[Probe]:
        probes: List[Probe] = []
        for probe_class in PROBES:
            if set(probe_class.codes) <= self.options.ignore or self._reporter.has_failed(probe_class):
                continue  # every code ignored, or failed in an earlier run: switched off for good
            try:
                probes.append(probe_class.create(self._reporter, self.options))
            except Exception as error:  # that check is off; the others go on
                self._reporter.internal_error(probe_class, error)
        return probes

    def _attach_probes(self, probes: List[Probe]) -> None:
        """Index, per hook, the probes that override it: a batch costs nothing for the others."""
        self._probes = probes
        self._overrides = {
            hook: tuple(
                (probe, getattr(probe, hook))
                for probe in probes
                if getattr(type(probe), hook) is not getattr(Probe, hook)
            )
            for hook in HOOKS
        }
        for probe in probes:
            probe.listen(self._ask_probes)
        self._ask_probes()

    def _ask_probes(self) -> None:
        """Call each per-batch hook only for the probes that want it now, and Lightning's only when any does."""
        hooks = dict(self._overrides)
        for hook in BATCH_HOOKS:
            hooks[hook] = tuple((probe, method) for probe, method in hooks[hook] if _wants(probe, hook))
        self._hooks = hooks
        for name, feeds in _LIGHTNING_BATCH_HOOKS.items():
            if any(hooks[hook] for hook in feeds):
                self.__dict__.pop(name, None)  # the class's method again
            else:
                setattr(self, name, None)  # Lightning skips it

    def _dispatch(self, hook: str, *args: Any) -> None:
        for probe, method in self._hooks.get(hook, ()):
            try:
                method(*args)
            except RAISED_ON_PURPOSE:
                raise
            except Exception as error:
                self._switch_off(probe, error, hook)
        if hook in _BOUNDARIES:
            self._ask_probes()  # windows open and shut at boundaries

    def _teardown_probes(self) -> None:
        """Every probe's teardown runs, even after one of them reported in strict mode."""
        strict_finding: Optional[Exception] = None
        for probe, teardown in self._hooks.get("teardown", ()):
            try:
                teardown()
            except RAISED_ON_PURPOSE as error:
                strict_finding = strict_finding or error
            except Exception as error:
                self._switch_off(probe, error, "teardown")
        if strict_finding is not None:
            raise strict_finding

    def _switch_off(self, probe: Probe, error: Exception, hook: str) -> None:
        """A probe failed: say so once, undo what it installed, never call it again; training goes on."""
        self._attach_probes([p for p in self._probes if p is not probe])
        probe.fail(error)
        if hook != "teardown":
            try:
                probe.teardown()
            except Exception:  # already reported, and switched off
                pass

    def _hide_lightning_duplicates(self) -> None:
        """Put our "ignore" filters in front of the user's, to be taken out again by :meth:`_show_them`.

        Entries go into ``warnings.filters`` directly rather than through ``filterwarnings``, which
        would reset every module's show-once registry: other libraries' warnings would then repeat
        on every run. An ignore filter registers nothing, so taking it out needs no reset either.
        """
        patterns = [text for code, text in _LIGHTNING_DUPLICATES.items() if code not in self.options.ignore]
        patterns += _OWN_SIDE_EFFECTS
        self._own_filters = [("ignore", re.compile(pattern, re.I), Warning, None, 0) for pattern in patterns]
        warnings.filters[:0] = self._own_filters

    def _show_them(self) -> None:
        """Take out exactly the filters we put in; whatever the user changed meanwhile stays."""
        for entry in self._own_filters:
            for index, present in enumerate(warnings.filters):
                if present is entry:
                    del warnings.filters[index]
                    break
        self._own_filters = []

    def _finish(self) -> None:
        """Detach: tear the probes down, restore the warning filters, log the run's findings. Idempotent."""
        if self._trainer is None:
            return
        try:
            self._teardown_probes()
        finally:
            self._attach_probes([])
            self._show_them()
            self._log_summary()
            self._hand_off()
            self._trainer = None

    def _hand_off(self) -> None:
        """In a process the Trainer started, rank zero sends its findings to the user's Callback object."""
        if self._handoff.in_started_process and self._is_global_zero():
            try:
                self._handoff.send([(f.code, f.message, f.location) for f in self._reporter.findings])
            except OSError as error:  # a full or read-only temp folder: the findings stay in this process
                summary_logger(self._trainer).warning("lightning-advisor: could not hand findings back: %s", error)

    def _log_summary(self) -> None:
        found = [f for f in self._reporter.findings[self._run_first_finding:] if f in self._reporter.shown]
        if not found or not self._is_global_zero():
            return
        lines = "".join(f"\n  {f.message}" + (f"  [{f.location}]" if f.location else "") for f in found)
        summary = "lightning-advisor: %d finding(s) during %s:%s"
        summary_logger(self._trainer).info(summary, len(found), self._run, lines)
