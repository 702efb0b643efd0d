r"""
Advisor
^^^^^^^

Watch a run for the mistakes lightning-advisor's flake8 rules look for, and for those only a
running Trainer can see, and warn about each once, with the words the linter uses.

"""
from __future__ import annotations

import numbers
import warnings
from typing import TYPE_CHECKING, Any, Callable, Collection, Dict, Iterable, List, Optional, Tuple

from typing_extensions import override

from lightning_advisor.catalog import RULES
from lightning_advisor.errors import AdvisorError
from lightning_advisor.runtime._lightning import CALLBACK_BASES, is_global_zero, summary_logger
from lightning_advisor.runtime.data_wait import DataWaitProbe
from lightning_advisor.runtime.dataloaders import ShuffleProbe, WorkersProbe
from lightning_advisor.runtime.log_dicts import LogDictProbe
from lightning_advisor.runtime.report import Finding, Probe, Reporter

try:  # written alongside this module; the Callback runs without them until they exist
    from lightning_advisor.runtime.devices import DeviceProbe
except ImportError:
    DeviceProbe = None  # type: ignore[assignment,misc]
try:
    from lightning_advisor.runtime.modes import ModeProbe
except ImportError:
    ModeProbe = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    import lightning.pytorch as pl

# Lightning's own warnings that say what an LA rule says: hidden while the Callback is attached
# (unless that rule is ignored), so each problem is reported once, in lightning-advisor's words.
_LIGHTNING_DUPLICATES: Dict[str, str] = {
    "LA101": r"Your `\w+_dataloader`'s sampler has shuffling enabled",
    "LA102": r"The '\w+_dataloader' does not have many workers",
}

# torch warns when a compiled module runs while global module hooks exist; the hooks are ours
# (the evaluation-mode probe, during its first batches), so the warning is ours to hide.
_OWN_SIDE_EFFECTS = (r"Using `torch.compile\(module\)` when there are global hooks",)

_PROBE_HOOKS = (
    "on_stage_start", "on_batch_start", "on_batch_outputs", "on_batch_end", "on_epoch_end", "on_stage_end", "teardown"
)


class AdvisorCallback(*CALLBACK_BASES):  # type: ignore[misc]
    r"""Warn about data loading, device and evaluation mistakes while the Trainer runs.

    The runtime front end of lightning-advisor: it reports the rules of the flake8 plugin
    (``LA1xx`` data loading, ``LA2xx`` devices, ``LA3xx`` evaluation mode, LA404 logging dicts returned
    from steps) on what the Trainer actually runs, plus LA103, which only a run can measure. Each finding is an
    :class:`~lightning_advisor.AdvisorWarning` whose message starts with its code, issued once per
    (rule, place) for the life of the callback, on global rank zero only, and is listed in
    :attr:`findings`. When a run (``fit``, ``validate``, ...) that found something ends, a summary
    is logged at INFO level to the ``lightning_advisor`` logger under the Trainer's namespace
    (``lightning.pytorch.lightning_advisor`` or ``pytorch_lightning.lightning_advisor``), which
    Lightning prints by default.

    While attached, Lightning's own warnings about evaluation loaders that shuffle and loaders with
    few workers are hidden, since LA101 and LA102 report them; the warning filters in place before
    the run are restored after it.

    Works with the Trainer of ``lightning.pytorch`` and of ``pytorch_lightning`` alike.

    Args:
        ignore: rule codes not to check, e.g. ``["LA102"]``.
        strict: raise :class:`~lightning_advisor.AdvisorError` at the first finding instead of warning.
        min_workers: LA102 reports loaders with fewer worker processes than this, when the machine
            has CPUs to give them (the flake8 option ``--la-min-workers``).
        data_wait_share: LA103 reports when waiting for data takes more than this share of a
            training step (0 to 1) ...
        data_wait_floor_ms: ... and the mean wait per batch exceeds this many milliseconds, so that
            tiny models with fast in-memory data are left alone.
        warmup_batches: LA103 measures nothing during the first training batches (worker start-up,
            warming caches).
        window_batches: LA103 judges the data wait of this many training batches after the warm-up,
            or of those measured when training ends sooner (at least 5), then stops measuring.

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
        self.ignore = _rule_codes("ignore", ignore)
        self.strict = _flag("strict", strict)
        self.min_workers = _whole_number("min_workers", min_workers, minimum=0)
        self.data_wait_share = _share("data_wait_share", data_wait_share)
        self.data_wait_floor_ms = _non_negative("data_wait_floor_ms", data_wait_floor_ms)
        self.warmup_batches = _whole_number("warmup_batches", warmup_batches, minimum=0)
        self.window_batches = _whole_number("window_batches", window_batches, minimum=1)

        self._reporter = Reporter(ignore=self.ignore, strict=self.strict, is_rank_zero=self._is_global_zero)
        self._trainer: Optional["pl.Trainer"] = None  # set while attached: setup -> teardown
        self._probes: List[Probe] = []
        self._hooks: Dict[str, Tuple[Tuple[Probe, Callable[..., None]], ...]] = {}
        self._warning_filters: Optional[warnings.catch_warnings] = None
        self._run: str = ""
        self._run_first_finding = 0

    @property
    def findings(self) -> List[Finding]:
        """Every finding so far, in order: ``code``, ``message``, ``location`` (which loader or line)."""
        return list(self._reporter.findings)

    # ---- attach and detach -------------------------------------------------------------------

    @override
    def setup(self, trainer: "pl.Trainer", pl_module: "pl.LightningModule", stage: str) -> None:
        self._finish()  # a previous run that ended without teardown
        self._trainer = trainer
        self._run = str(getattr(stage, "value", stage))  # a TrainerFn: "fit", "validate", ...
        self._run_first_finding = len(self._reporter.findings)
        self._hide_lightning_duplicates()
        self._attach_probes(self._make_probes())

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
        except AdvisorError:
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
        self._dispatch("on_batch_start", trainer, pl_module, "validate", batch_idx)

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
        self._dispatch("on_batch_end", trainer, pl_module, "validate", batch_idx)

    @override
    def on_test_batch_start(
        self,
        trainer: "pl.Trainer",
        pl_module: "pl.LightningModule",
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._dispatch("on_batch_start", trainer, pl_module, "test", batch_idx)

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
        self._dispatch("on_batch_end", trainer, pl_module, "test", batch_idx)

    @override
    def on_predict_batch_start(
        self,
        trainer: "pl.Trainer",
        pl_module: "pl.LightningModule",
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        self._dispatch("on_batch_start", trainer, pl_module, "predict", batch_idx)

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
        self._dispatch("on_batch_end", trainer, pl_module, "predict", batch_idx)

    # ---- helpers -------------------------------------------------------------------------------

    def _is_global_zero(self) -> bool:
        return is_global_zero(self._trainer)

    def _probe_options(self) -> List[Tuple[Optional[type], Dict[str, Any]]]:
        """Each probe class with its options; a class is None while its module is not written yet."""
        return [
            (ShuffleProbe, {}),
            (WorkersProbe, {"min_workers": self.min_workers}),
            (
                DataWaitProbe,
                {
                    "share": self.data_wait_share,
                    "floor_ms": self.data_wait_floor_ms,
                    "warmup_batches": self.warmup_batches,
                    "window_batches": self.window_batches,
                },
            ),
            (DeviceProbe, {}),
            (ModeProbe, {}),
            (LogDictProbe, {}),
        ]

    def _make_probes(self) -> List[Probe]:
        probes: List[Probe] = []
        for probe_class, options in self._probe_options():
            if probe_class is None or _all_ignored(probe_class, self.ignore):
                continue
            if getattr(probe_class, "name", probe_class.__name__) in self._reporter.failed:
                continue  # failed in an earlier run: switched off for good
            try:
                probes.append(probe_class(self._reporter, **options))
            except Exception as error:  # that check is off; the others go on
                self._reporter.internal_error(getattr(probe_class, "name", probe_class.__name__), error)
        return probes

    def _attach_probes(self, probes: List[Probe]) -> None:
        """Index, per hook, the probes that override it: a batch costs nothing for the others."""
        self._probes = probes
        self._hooks = {
            hook: tuple(
                (probe, getattr(probe, hook))
                for probe in probes
                if getattr(type(probe), hook) is not getattr(Probe, hook)
            )
            for hook in _PROBE_HOOKS
        }

    def _dispatch(self, hook: str, *args: Any) -> None:
        for probe, method in self._hooks.get(hook, ()):
            try:
                method(*args)
            except AdvisorError:
                raise
            except Exception as error:
                self._switch_off(probe, error, hook)

    def _teardown_probes(self) -> None:
        """Every probe's teardown runs, even after one of them reported in strict mode."""
        strict_finding: Optional[AdvisorError] = None
        for probe, teardown in self._hooks.get("teardown", ()):
            try:
                teardown()
            except AdvisorError as error:
                strict_finding = strict_finding or error
            except Exception as error:
                self._switch_off(probe, error, "teardown")
        if strict_finding is not None:
            raise strict_finding

    def _switch_off(self, probe: Probe, error: Exception, hook: str) -> None:
        """A probe failed: say so once, undo what it installed, never call it again; training goes on."""
        self._attach_probes([p for p in self._probes if p is not probe])
        self._reporter.internal_error(getattr(probe, "name", type(probe).__name__), error)
        if hook != "teardown":
            try:
                probe.teardown()
            except Exception:  # already reported, and switched off
                pass

    def _hide_lightning_duplicates(self) -> None:
        patterns = [text for code, text in _LIGHTNING_DUPLICATES.items() if code not in self.ignore]
        patterns += _OWN_SIDE_EFFECTS
        self._warning_filters = warnings.catch_warnings()  # saves the user's filters for _finish
        self._warning_filters.__enter__()
        for pattern in patterns:
            warnings.filterwarnings("ignore", message=pattern)

    def _finish(self) -> None:
        """Detach: tear the probes down, restore the warning filters, log the run's findings. Idempotent."""
        if self._trainer is None:
            return
        try:
            self._teardown_probes()
        finally:
            self._attach_probes([])
            if self._warning_filters is not None:
                self._warning_filters.__exit__(None, None, None)
                self._warning_filters = None
            self._log_summary()
            self._trainer = None

    def _log_summary(self) -> None:
        found = self._reporter.findings[self._run_first_finding:]
        if not found or not self._is_global_zero():
            return
        lines = "".join(f"\n  {f.message}" + (f"  [{f.location}]" if f.location else "") for f in found)
        summary = "lightning-advisor: %d finding(s) during %s:%s"
        summary_logger(self._trainer).info(summary, len(found), self._run, lines)


def _all_ignored(probe_class: type, ignore: frozenset) -> bool:
    """A probe class that declares its ``codes`` is left out when all of them are ignored."""
    codes = frozenset(getattr(probe_class, "codes", ()))
    return bool(codes) and codes <= ignore


def _rule_codes(argument: str, codes: Optional[Collection[str]]) -> frozenset:
    if codes is None:
        codes = ()
    elif isinstance(codes, str):
        codes = [codes]
    elif not isinstance(codes, Iterable):
        raise ValueError(f"`{argument}` must be rule codes such as ['LA102'], got {codes!r}")
    codes = list(codes)
    unknown = [code for code in codes if not isinstance(code, str) or code not in RULES]
    if unknown:
        raise ValueError(
            f"`{argument}` got unknown rule code(s) {', '.join(map(repr, unknown))};"
            f" known codes: {', '.join(RULES)}"
        )
    return frozenset(codes)


def _whole_number(argument: str, value: int, minimum: int) -> int:
    # numbers.Integral: numpy integers from a config are whole numbers too
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{argument}` must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _flag(argument: str, value: bool) -> bool:
    # bool("false") is True: a string here is a configuration mistake, not a yes
    if not isinstance(value, (bool, int)) or value not in (0, 1):
        raise ValueError(f"`{argument}` must be True or False, got {value!r}")
    return bool(value)


def _non_negative(argument: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"`{argument}` must be a number >= 0, got {value!r}")
    return float(value)


def _share(argument: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{argument}` must be a share between 0 and 1 (e.g. 0.2 for 20%), got {value!r}")
    return float(value)
