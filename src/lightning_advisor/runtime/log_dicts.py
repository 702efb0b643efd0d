"""LA404 at run time: a step that returns a ``"log"`` / ``"progress_bar"`` dict, which nothing logs.

The runtime twin of the LA404 part of ``static/migration.py``. Lightning hands each step's return
value to the batch-end hooks (``outputs``), so the probe sees the dict the step really returned,
however it was built. A plain dict without those keys (what automatic optimization hands over) costs a
type test and a key test per batch.
"""
from __future__ import annotations

import inspect
import linecache
from typing import Any, Mapping, Optional, Set

from lightning_advisor.removed_api import LOGGING_KEYS, logging_keys
from lightning_advisor.runtime.frames import Site
from lightning_advisor.runtime.probe import Probe
from lightning_advisor.runtime.report import Reporter
from lightning_advisor.vocabulary import STEP_METHODS

_MAX_DECORATOR_LINES = 20


class LogDictProbe(Probe):
    """LA404: ``training_step`` / ``validation_step`` / ``test_step`` returned a logging dict."""

    codes = ("LA404",)

    def __init__(self, reporter: Reporter) -> None:
        super().__init__(reporter)
        self._reported: Set[str] = set()

    def on_batch_outputs(self, trainer, pl_module, stage: str, batch_idx: int, outputs: Any) -> None:
        if type(outputs) is dict and outputs.keys().isdisjoint(LOGGING_KEYS):
            return  # what automatic optimization hands over: {"loss": ...}
        if not isinstance(outputs, Mapping) or stage in self._reported:
            return
        step = STEP_METHODS.get(stage)
        keys = logging_keys(outputs.keys()) if step is not None else None
        if keys is None:
            return
        self._reported.add(stage)
        where = f"{type(pl_module).__qualname__}.{step}"
        self.reporter.report("LA404", site=step_site(pl_module, step), key=where, step=step, keys=keys)


def step_site(pl_module: object, step: str) -> Optional[Site]:
    """``(file, line)`` of the ``def`` of the module's step method; None when it has no Python code."""
    try:
        code = inspect.unwrap(getattr(type(pl_module), step)).__code__
    except (AttributeError, TypeError, ValueError):
        return None
    line = code.co_firstlineno  # the first decorator's line, for a decorated method
    for offset in range(_MAX_DECORATOR_LINES):
        text = linecache.getline(code.co_filename, line + offset).lstrip()
        if text.startswith(("def ", "async def ")):
            return code.co_filename, line + offset
    return code.co_filename, line
