"""checks/UPGRADE-COVERAGE.md accounts for every row of Lightning's upgrade guide, and names real entries.

The guide's rows are read from a checked-in copy (``tests/data/upgrade_guide_rows.tsv``, taken from
``docs/source-pytorch/upgrade/sections/`` of Lightning-AI/pytorch-lightning): no network at test time.
Whether each entry is right about the installed Lightning is ``tests/test_removed_api.py``'s job.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import List, Tuple

import pytest

from lightning_advisor import removed_api
from lightning_advisor.catalog import RULES

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "checks" / "UPGRADE-COVERAGE.md"
GUIDE = ROOT / "tests" / "data" / "upgrade_guide_rows.tsv"
# Which rule reports the entries of each table of removed_api.py.
RULE_OF = {
    "REMOVED_TRAINER_ARGUMENTS": "LA401",
    "REMOVED_TRAINER_VALUES": "LA401",
    "REMOVED_HOOKS": "LA402",
    "CHANGED_HOOK_SIGNATURES": "LA402",
    "DATALOADER_ITER_STEPS": "LA402",
    "REMOVED_MODULES": "LA403",
    "REMOVED_NAMES": "LA403",
    "LOGGING_KEYS": "LA404",
    "REMOVED_TRAINER_MEMBERS": "LA405",
    "REMOVED_TRAINER_METHOD_ARGUMENTS": "LA405",
    "REMOVED_LIGHTNING_MEMBERS": "LA405",
    "REMOVED_CALL_ARGUMENTS": "LA405",
    "REMOVED_LOG_ARGUMENTS": "LA405",
    "REQUIRED_ARGUMENTS": "LA405",
}
_ENTRY = re.compile(r"^`(LA\d{3}) ([A-Z_]+)((?:\[[^\]]+\])+)`$")


def _guide_rows() -> List[Tuple[str, str]]:
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]


def _table_rows() -> List[Tuple[str, str, str]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("| Row "):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.append(tuple(cells))
    return rows


def _keys(subscripts: str) -> List[object]:
    return [ast.literal_eval(key) if key != "dict" else dict for key in re.findall(r"\[([^\]]+)\]", subscripts)]


def test_every_guide_row_is_in_the_table_in_order_with_its_text():
    assert [(key, text) for key, text, _ in _table_rows()] == _guide_rows()
    assert len(_guide_rows()) > 300


def test_every_row_is_covered_not_detectable_or_a_gap():
    for key, _, status in _table_rows():
        assert _ENTRY.match(status) or status.startswith(("not detectable: ", "gap: ")), (key, status)


@pytest.mark.parametrize("row", [r for r in _table_rows() if r[2].startswith("`")], ids=lambda r: r[0])
def test_every_covered_row_names_an_entry_of_removed_api_and_its_rule(row):
    code, table, subscripts = _ENTRY.match(row[2]).groups()
    assert code in RULES and RULE_OF[table] == code, row
    entry = getattr(removed_api, table)
    for key in _keys(subscripts):
        if isinstance(entry, (set, frozenset)):
            assert key in entry, row
            entry = None
        else:
            assert key in entry, (row, key)
            entry = entry[key]


def test_the_counts_are_those_of_the_table():
    statuses = [status for _, _, status in _table_rows()]
    covered = sum(s.startswith("`") for s in statuses)
    gaps = sum(s.startswith("gap: ") for s in statuses)
    counts = (
        f"Rows: {len(statuses)}. Covered: {covered}. Not detectable: {len(statuses) - covered - gaps}. Gaps: {gaps}."
    )
    assert counts in TABLE.read_text(encoding="utf-8")
