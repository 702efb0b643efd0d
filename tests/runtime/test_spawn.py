"""ddp_spawn / ddp_fork: findings made in the started processes reach the launching process, and
their warnings point at user code."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from lightning_advisor import rule
from ranks import run_ranks

SCRIPT = Path(__file__).with_name("spawn_run.py")


@pytest.mark.ddp
@pytest.mark.parametrize("namespace, strategy", [
    ("lightning.pytorch", "ddp_spawn"), ("pytorch_lightning", "ddp_spawn"), ("lightning.pytorch", "ddp_fork"),
])
def test_started_ranks_hand_their_findings_back(tmp_path, namespace, strategy):
    script = tmp_path / "spawned.py"  # a folder without "lightning" in its name: see the label check below
    shutil.copy(SCRIPT, script)
    out = tmp_path / "out.json"
    output, pid = run_ranks(script, str(out), namespace, strategy, timeout=180, warnings="default", cwd=tmp_path)
    result = json.loads(out.read_text())
    expected = rule("LA101").render(split="validation", how="DistributedSampler(shuffle=True)")
    # before: [] in the launching process; the finding stayed in the spawned rank zero
    assert result["findings"] == [["LA101", expected, "val_dataloaders[0]"]]
    assert result["again"] == 1
    # a spawned rank runs no line of the script: the warning points at the model's class, with its label;
    # a forked rank carries the script's stack along: it points at the user's trainer.fit(...) line
    fit_line = next(n for n, text in enumerate(script.read_text().splitlines(), 1) if "trainer.fit(" in text)
    line = result["class_line"] if strategy == "ddp_spawn" else fit_line
    assert f"{script}:{line}: AdvisorWarning: {expected}" in output
    assert "lightning_advisor" not in output.split("AdvisorWarning")[0].rsplit("\n", 1)[-1]
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"lightning-advisor-{pid}-*.json"))
