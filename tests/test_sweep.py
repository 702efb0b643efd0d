"""The reliability sweep, reduced: a few thousand real files, no exception, no contained error.

The full sweep (``python benchmarks/sweep.py``: the standard library, torch, Lightning, torchvision
and numpy) is in RELIABILITY.md; this is a fixed, seeded sample of the same files, checked
in-process the way flake8 reads and parses them.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from rulebook import ROOT

_spec = importlib.util.spec_from_file_location("la_sweep", ROOT / "benchmarks" / "sweep.py")
sweep = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sweep)

SAMPLE = 2_500


def _failures(summary: dict) -> str:
    return "\n".join(f"{f['kind']}: {f['path']}: {f['error']} {f.get('message', '')}" for f in summary["failures"])


def test_a_sample_of_torch_and_lightning_runs_clean():
    files = sweep.collect(["torch", "lightning", "pytorch_lightning", "torchvision"], sample=SAMPLE, seed=0)
    if len(files) < SAMPLE:
        pytest.skip("torch, Lightning and torchvision are not all installed")
    summary = sweep.summarise(files, sweep.run(files), seconds=0.0)
    assert summary["exceptions"] == 0 and summary["internal_errors"] == 0, _failures(summary)
    assert summary["files"] == SAMPLE and summary["lines"] > 500_000
    assert summary["skipped"] <= 5  # torch ships a file or two this Python cannot parse


def test_every_check_on_a_sample_of_the_standard_library():
    """``--every-file``: all checks run, also on code that never imports torch."""
    files = sweep.collect(["stdlib"], sample=250, seed=1)
    summary = sweep.summarise(files, sweep.run(files, every_file=True), seconds=0.0)
    assert summary["exceptions"] == 0 and summary["internal_errors"] == 0, _failures(summary)
    assert summary["files"] == 250


def test_a_contained_error_fails_the_sweep(monkeypatch, tmp_path):
    """The plugin keeps flake8 running after an error of its own; the sweep still counts it."""
    from lightning_advisor.static import dataloaders
    from lightning_advisor.static.base import Check
    from lightning_advisor.static.registry import CHECKS

    def broken(ctx, node, options):
        raise RuntimeError("boom")

    real = dataloaders.CHECK
    patched = tuple(Check(c.codes, c.candidates, broken) if c is real else c for c in CHECKS)
    monkeypatch.setattr("lightning_advisor.static.findings.CHECKS", patched)
    path = tmp_path / "train.py"
    path.write_text("import torch\nfrom torch.utils.data import DataLoader\nDataLoader(ds)\n")
    result = sweep.sweep_file(path)
    assert [f["kind"] for f in result["failures"]] == ["internal error"]
    assert "RuntimeError: boom" in result["failures"][0]["error"]
    summary = sweep.summarise([("test", path)], [result], seconds=0.0)
    assert summary["internal_errors"] == 1


def test_the_command_line_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "sweep.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "sweep.py"), "stdlib", "--sample", "40", "--json", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "| **total** | 40 |" in result.stdout and "Exceptions: 0; internal errors: 0" in result.stdout
    payload = json.loads(out.read_text())
    assert payload["files"] == 40 and payload["exceptions"] == 0 and payload["internal_errors"] == 0
    assert {"findings_by_code", "skipped", "lines", "wall_s", "all_findings", "sources"} <= set(payload)
