"""Importing the Callback leaves Lightning's own logging where the user's imports put it.

The Callback subclasses the ``Callback`` of every Lightning namespace installed, so it imports both
``lightning.pytorch`` and ``pytorch_lightning``. Each import points lightning_utilities' rank-zero
logger (Lightning's "`Trainer.fit` stopped: ..." messages) and its deprecation-warning class at its own
namespace: found by running Lightning's test suite with the Callback added, where a ``lightning.pytorch``
test's ``caplog`` no longer saw those messages and its ``pytest.warns(LightningDeprecationWarning)`` no
longer matched.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("pytorch_lightning")
pytest.importorskip("lightning.pytorch")

PROBE = (
    "import lightning_utilities.core.rank_zero as r; "
    "print(r.log.name, r.rank_zero_deprecation_category.__module__)"
)


def rank_zero_logger(*imports: str) -> str:
    code = "; ".join(f"import {name}" for name in imports) + "; " + PROBE
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("namespace", ["lightning.pytorch", "pytorch_lightning"])
def test_the_users_namespace_keeps_its_logger(namespace):
    alone = rank_zero_logger(namespace)
    fabric = {"lightning.pytorch": "lightning.fabric", "pytorch_lightning": "lightning_fabric"}[namespace]
    # its logger, and its own LightningDeprecationWarning class (which `pytest.warns` and filters name)
    assert alone == f"{namespace}.utilities.rank_zero {fabric}.utilities.rank_zero"
    assert rank_zero_logger(namespace, "lightning_advisor.runtime.callback") == alone


def test_imported_first_the_logger_follows_the_trainer_that_runs():
    code = (
        "import lightning_advisor.runtime.callback as c; import pytorch_lightning as pl; "
        "import lightning_utilities.core.rank_zero as r; "
        "c.settle_rank_zero_log(pl.Trainer(logger=False, enable_progress_bar=False)); "
        "print(r.log.name, r.rank_zero_deprecation_category.__module__)"
    )
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        "pytorch_lightning.utilities.rank_zero lightning_fabric.utilities.rank_zero"
    )
