"""Where runtime findings go: once per (code, site), on rank zero, as AdvisorWarning.

Every runtime check reports through :class:`Reporter`, which renders the message
from the rule catalog, so the training log reads like the editor.
"""
from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Collection, List, Optional, Set, Tuple

from lightning_advisor.catalog import rule
from lightning_advisor.errors import AdvisorError, AdvisorWarning

Site = Tuple[str, int]  # (filename, line) of the user's code


@dataclass(frozen=True)
class Finding:
    """One runtime finding, as listed in ``AdvisorCallback.findings``."""

    code: str
    message: str
    location: Optional[str] = None
    """``"path/to/file.py:42"`` for findings tied to a line of user code, else a short description."""


class Reporter:
    """Renders, deduplicates and emits findings; raises in strict mode."""

    def __init__(
        self,
        ignore: Collection[str] = (),
        strict: bool = False,
        is_rank_zero: Callable[[], bool] = lambda: True,
    ) -> None:
        self.ignore = frozenset(ignore)
        self.strict = strict
        self.is_rank_zero = is_rank_zero
        self.findings: List[Finding] = []
        self._seen: Set[Tuple[str, object]] = set()
        self.failed: Set[str] = set()
        """Checks that failed: each is said once and stays off for the life of the reporter."""

    def enabled(self, code: str) -> bool:
        return code not in self.ignore

    def report(self, code: str, site: Optional[Site] = None, key: object = None, **fields: object) -> bool:
        """Report ``code`` once per ``site`` (or ``key`` when there is no line to point at).

        Returns True when this call produced a new finding.
        """
        if code in self.ignore:
            return False
        dedupe = (code, site if site is not None else key)
        if dedupe in self._seen:
            return False
        self._seen.add(dedupe)
        message = rule(code).render(**fields)
        location = f"{site[0]}:{site[1]}" if site is not None else (str(key) if key is not None else None)
        self.findings.append(Finding(code, message, location))
        if self.is_rank_zero():
            _warn(message, site)
        if self.strict:
            raise AdvisorError(message + (f" (at {location})" if location else ""))
        return True

    def internal_error(self, what: str, error: BaseException) -> None:
        """A check failed: say so once and let training go on."""
        if what in self.failed:
            return
        self.failed.add(what)
        if self.is_rank_zero():
            _warn(
                f"lightning-advisor: the {what} check failed ({type(error).__name__}: {error})"
                " and is switched off; training continues. Please report this.",
                None,
            )


def _warn(message: str, site: Optional[Site]) -> None:
    """Warn at ``site``; without one, at the user's line that started the run (their ``trainer.fit(...)``).

    Pointing into this package would also let Lightning's warning formatter, which takes any path
    containing "lightning" for its own, drop the ``AdvisorWarning:`` category from the message.
    """
    site = site or _user_site()
    if site is not None:
        warnings.warn_explicit(message, AdvisorWarning, site[0], site[1])
    else:
        warnings.warn(message, AdvisorWarning, stacklevel=3)


def _user_site() -> Optional[Site]:
    try:
        from lightning_advisor.runtime.frames import find_user_frame, site_of  # frames imports this module

        frame, _ = find_user_frame(sys._getframe(2))
        return site_of(frame) if frame is not None else None
    except Exception:  # a report must never fail for want of a nice location
        return None


class Probe:
    """A runtime check that follows the run through the Callback's hooks.

    Stages are ``"train"``, ``"validate"``, ``"test"`` and ``"predict"``
    (``"sanity_check"`` runs as ``"validate"``). The Callback calls these
    methods in order and switches a probe off when one of them raises
    anything but :class:`AdvisorError`.
    """

    name = "probe"

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        """A loop (fit's training or validation, validate, test, predict) begins."""

    def on_batch_start(self, trainer, pl_module, stage: str, batch_idx: int) -> None:
        """Just before the batch hook (training_step, validation_step, ...) runs."""

    def on_batch_end(self, trainer, pl_module, stage: str, batch_idx: int) -> None:
        """Just after the batch hook ran."""

    def on_batch_outputs(self, trainer, pl_module, stage: str, batch_idx: int, outputs: Any) -> None:
        """What the training, validation or test step returned, just before ``on_batch_end``."""

    def on_epoch_end(self, trainer, pl_module, stage: str) -> None:
        """The loop's epoch ends: the Callback's own epoch-end hook, before the LightningModule's."""

    def on_stage_end(self, trainer, pl_module, stage: str) -> None:
        """The loop ended (its epoch-end hooks ran)."""

    def teardown(self) -> None:
        """The run is over, normally or by an exception: undo anything installed."""
