"""pytest plugin for ``benchmarks/lightning_suite.py``: Lightning's own tests, with an AdvisorCallback in every Trainer.

Loaded with ``-p lightning_suite_plugin`` (this folder on ``PYTHONPATH``). With
``ADVISOR_SUITE_ARM=with``, every ``lightning.pytorch.Trainer`` (and ``pytorch_lightning.Trainer``)
built during the run gets ``AdvisorCallback()`` appended to its callbacks; with ``without`` nothing
is changed. Either way each test's outcome, the first lines of its failure, and any internal error
the Callback reported are written as JSON lines to ``ADVISOR_SUITE_OUT``.
"""
from __future__ import annotations

import functools
import importlib
import json
import os
from typing import Dict, List

ARM = os.environ.get("ADVISOR_SUITE_ARM", "without")
OUT = os.environ.get("ADVISOR_SUITE_OUT", "suite-outcomes.jsonl")

_outcomes: Dict[str, dict] = {}
_internal_errors: List[str] = []  # reported by the Callback during the current test


def _with_advisor(original):
    from lightning_advisor import AdvisorCallback

    @functools.wraps(original)
    def __init__(self, *args, **kwargs):
        callbacks = kwargs.get("callbacks")
        if callbacks is None:
            callbacks = []
        elif not isinstance(callbacks, (list, tuple)):
            callbacks = [callbacks]
        kwargs["callbacks"] = [*callbacks, AdvisorCallback()]
        original(self, *args, **kwargs)

    return __init__


def pytest_configure(config) -> None:
    if ARM != "with":
        return
    for name in ("lightning.pytorch.trainer.trainer", "pytorch_lightning.trainer.trainer"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        module.Trainer.__init__ = _with_advisor(module.Trainer.__init__)
    from lightning_advisor.runtime.report import Reporter

    original = Reporter.internal_error

    def internal_error(self, probe, error):
        _internal_errors.append(f"{getattr(probe, '__name__', probe)}: {type(error).__name__}: {error}")
        return original(self, probe, error)

    Reporter.internal_error = internal_error


def pytest_runtest_logreport(report) -> None:
    seen = _outcomes.setdefault(report.nodeid, {"test": report.nodeid, "outcome": "passed", "failure": ""})
    if report.failed:
        seen["outcome"] = "failed" if report.when == "call" else f"error in {report.when}"
        seen["failure"] = seen["failure"] or str(report.longrepr).strip().splitlines()[-1][:300]
    elif report.skipped and seen["outcome"] == "passed":
        seen["outcome"] = "skipped"
    if report.when == "teardown":
        seen["internal_errors"] = list(_internal_errors)
        _internal_errors.clear()


def pytest_sessionfinish(session, exitstatus) -> None:
    with open(OUT, "w", encoding="utf-8") as handle:
        for outcome in _outcomes.values():
            handle.write(json.dumps(outcome) + "\n")
