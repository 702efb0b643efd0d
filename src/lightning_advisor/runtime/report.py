"""Where runtime findings go: once per (code, site), on rank zero, as AdvisorWarning.

Every runtime check reports through :class:`Reporter`, which renders the message
from the rule catalog, so the training log reads like the editor.
"""
from __future__ import annotations

import logging
import sys
import warnings
from dataclasses import dataclass
from typing import Callable, Collection, FrozenSet, List, Optional, Set, Tuple

from lightning_advisor.catalog import rule
from lightning_advisor.errors import AdvisorError, AdvisorWarning
from lightning_advisor.runtime.frames import Site, class_site, user_site


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
        self.shown: List[Finding] = []
        """The findings the user's warning filters let through: what the end-of-run summary lists."""
        self._seen: Set[Tuple[str, object]] = set()
        self._failed: Set[type] = set()  # probe classes that failed: each is said once, then stays off
        self.user_packages: FrozenSet[str] = frozenset()
        """The user's own top-level packages, user code even where installed (set for each run)."""
        self.fallback_class: Optional[type] = None
        """Their LightningModule's class: where a finding points when nothing on the stack is the user's."""
        self._fallback: Optional[Tuple[type, FrozenSet[str], Optional[Site]]] = None  # once looked up

    @property
    def fallback_site(self) -> Optional[Site]:
        """The ``class`` line of :attr:`fallback_class`; read from its source only when a finding needs it."""
        cls = self.fallback_class
        if cls is None:
            return None
        if self._fallback is None or self._fallback[:2] != (cls, self.user_packages):
            self._fallback = (cls, self.user_packages, class_site(cls, self.user_packages))
        return self._fallback[2]

    def user_site(self) -> Optional[Site]:
        """The user's line that led to this report: their hook, or their ``trainer.fit(...)``."""
        try:
            return user_site(sys._getframe(2), self.user_packages) or self.fallback_site
        except Exception:  # a report must never fail for want of a nice location
            return self.fallback_site

    def has_failed(self, probe: type) -> bool:
        return probe in self._failed

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
        finding = Finding(code, message, location)
        self.findings.append(finding)
        site = site or self.user_site()
        if _silenced(message, site):
            return True  # the user's filter says ignore: not warned, summarised or raised
        self.shown.append(finding)
        if self.is_rank_zero():
            _warn(message, site)  # raises the finding itself where the user's filters say "error"
        if self.strict:
            raise AdvisorError(message + (f" (at {location})" if location else ""))
        return True

    def internal_error(self, probe: type, error: BaseException) -> None:
        """The check ``probe`` (a ``Probe`` class) failed: say so once, keep it off for good; training goes on."""
        if probe in self._failed:
            return
        self._failed.add(probe)
        if self.is_rank_zero():
            message = (
                f"lightning-advisor: the {probe.label()} check failed ({type(error).__name__}: {error})"
                " and is switched off; training continues. Please report this."
            )
            try:
                _warn(message, self.user_site())
            except Warning:  # AdvisorWarnings are errors here: our own failure must still not stop the run
                logging.getLogger(__package__.partition(".")[0]).warning(message)


def _warn(message: str, site: Optional[Site]) -> None:
    """Warn at ``site``: the user's line, or the one that started the run (their ``trainer.fit(...)``).

    Pointing into this package would also let Lightning's warning formatter, which takes any path
    containing "lightning" for its own, drop the ``AdvisorWarning:`` category from the message.
    """
    if site is not None:
        warnings.warn_explicit(message, AdvisorWarning, site[0], site[1])
    else:
        warnings.warn(message, AdvisorWarning, stacklevel=3)


def _silenced(message: str, site: Optional[Site]) -> bool:
    """The user's warning filters ignore this finding (``filterwarnings("ignore", message="LA102")``).

    The first filter that matches decides, as in :func:`warnings.warn_explicit`, which derives the
    module a filter's ``module`` pattern is matched against from the file name.
    """
    filename, lineno = site if site is not None else ("<unknown>", 0)
    module = filename[:-3] if filename.lower().endswith(".py") else filename
    for action, text, category, module_pattern, line in warnings.filters:
        if (
            (text is None or text.match(message))
            and issubclass(AdvisorWarning, category)
            and (module_pattern is None or module_pattern.match(module))
            and (line == 0 or line == lineno)
        ):
            return action == "ignore"
    return warnings.defaultaction == "ignore"
