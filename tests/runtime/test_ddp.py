"""Two CPU processes under DDP: findings are reported once, on rank zero, and nothing hangs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lightning_advisor import rule
from ranks import run_ranks

SCRIPT = Path(__file__).with_name("ddp_run.py")


def run_ddp(tmp_path, *args: str) -> str:
    """Run ddp_run.py, killing both ranks and failing the test if it takes more than 120 s."""
    output, _ = run_ranks(SCRIPT, str(tmp_path), "lightning.pytorch", *args, timeout=120, warnings="ignore")
    return output


@pytest.mark.ddp
def test_two_process_ddp_reports_on_rank_zero_only(tmp_path):
    run_ddp(tmp_path)
    rank0, rank1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    # Lightning gave each rank a DistributedSampler(shuffle=True) in place of the RandomSampler
    expected = rule("LA101").render(split="validation", how="DistributedSampler(shuffle=True)")
    assert rank0["warnings"] == [expected]
    assert rank1["warnings"] == []
    # both ranks found it (strict mode stops every rank), only rank zero said so
    assert rank0["findings"] == rank1["findings"] == [["LA101", expected, "val_dataloaders[0]"]]


@pytest.mark.ddp
def test_a_rank_that_raises_ends_both_ranks_with_their_own_errors(tmp_path):
    """Rank 1's training_step raises: rank 1 sees its own exception, rank 0 the lost peer; nothing hangs."""
    output = run_ddp(tmp_path, "1")
    rank0, rank1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert rank1["error"] == "RankFailed: rank 1 failed in training_step"
    assert rank0["error"] is not None and "Advisor" not in rank0["error"]
    assert rank0["filters_restored"] and rank1["filters_restored"]
    expected = rule("LA101").render(split="validation", how="DistributedSampler(shuffle=True)")
    assert rank0["warnings"] == [expected] and rank1["warnings"] == []  # no "check failed" warning either
    assert rank0["findings"] == rank1["findings"] == [["LA101", expected, "val_dataloaders[0]"]]
    assert "Traceback" not in output or "lightning_advisor" not in output
