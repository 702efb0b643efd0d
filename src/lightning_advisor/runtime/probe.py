"""What a runtime check is: a probe that follows the run through the Callback's hooks.

The list of probes lives in :mod:`lightning_advisor.runtime.registry`, which only the
Callback imports.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Tuple

from lightning_advisor.catalog import rule
from lightning_advisor.runtime.report import Reporter

if TYPE_CHECKING:
    from lightning_advisor.runtime.options import CallbackOptions


class Probe:
    """A runtime check. Subclasses set :attr:`codes` and override the hooks they need.

    Stages are ``"train"``, ``"validate"``, ``"test"`` and ``"predict"``
    (``"sanity_check"`` runs as ``"validate"``). The Callback calls these
    methods in order and switches a probe off when one of them raises
    anything but :class:`~lightning_advisor.AdvisorError`, or when the probe
    calls :meth:`fail` itself (from inside torch, where raising would break
    the user's call).
    """

    codes: Tuple[str, ...] = ()
    """The rule codes this probe reports; it is not created when all of them are ignored."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self._on_needs_changed: Callable[[], None] = _nothing

    def wants(self, hook: str) -> bool:
        """Whether the per-batch ``hook`` (one of :data:`BATCH_HOOKS`) must be called now.

        A probe whose window has shut says False: when no probe wants a batch hook, the Callback
        leaves Lightning's hook unset, and a batch costs nothing for it. The Callback asks at every
        setup, stage and epoch boundary, and whenever the probe calls :meth:`needs_changed`.
        """
        return True

    def needs_changed(self) -> None:
        """What :meth:`wants` says may have changed between boundaries: the Callback asks again."""
        self._on_needs_changed()

    def listen(self, on_needs_changed: Callable[[], None]) -> None:
        """Called by the Callback: what :meth:`needs_changed` tells."""
        self._on_needs_changed = on_needs_changed

    @classmethod
    def create(cls, reporter: Reporter, options: "CallbackOptions") -> "Probe":
        """The probe for one run, configured from the Callback's options."""
        return cls(reporter)

    @classmethod
    def label(cls) -> str:
        """How messages name the check: ``"LA101 eval-loader-shuffles"``."""
        return " / ".join(f"{code} {rule(code).name}" for code in cls.codes) or cls.__name__

    @property
    def failed(self) -> bool:
        """The probe failed in this Callback's life: it stays off, in this run and the next ones."""
        return self.reporter.has_failed(type(self))

    def fail(self, error: BaseException) -> None:
        """Say once that this check failed; the Callback stops calling it."""
        self.reporter.internal_error(type(self), error)

    def on_setup(self, trainer, pl_module) -> None:
        """The run is being set up: the user's ``setup``, ``configure_model`` and ``on_fit_start`` come next."""

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        """A loop (fit's training or validation, validate, test, predict) begins."""

    def on_epoch_start(self, trainer, pl_module, stage: str) -> None:
        """A training epoch begins: the Callback's own hook, before the LightningModule's."""

    def on_batch_start(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        """Just before the batch hook (training_step, validation_step, ...) runs."""

    def on_batch_end(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        """Just after the batch hook ran."""

    def on_batch_outputs(self, trainer, pl_module, stage: str, batch_idx: int, outputs: Any) -> None:
        """What the training, validation or test step returned, just before ``on_batch_end``."""

    def on_epoch_end(self, trainer, pl_module, stage: str) -> None:
        """The loop's epoch ends: the Callback's own epoch-end hook, before the LightningModule's."""

    def on_stage_end(self, trainer, pl_module, stage: str) -> None:
        """The loop ended (its epoch-end hooks ran)."""

    def teardown(self) -> None:
        """The run is over, normally or by an exception: undo anything installed."""


def _nothing() -> None:
    pass


HOOKS: Tuple[str, ...] = (
    "on_setup", "on_stage_start", "on_epoch_start", "on_batch_start", "on_batch_outputs", "on_batch_end",
    "on_epoch_end", "on_stage_end", "teardown",
)
"""The hooks a probe may override, in the order a batch meets them."""

BATCH_HOOKS: Tuple[str, ...] = ("on_batch_start", "on_batch_outputs", "on_batch_end")
"""The hooks called for every batch: the ones :meth:`Probe.wants` decides on."""
