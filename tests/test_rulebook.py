"""checks/ is the executable rule book: real flake8 on every fixture must match its inline expectations."""
from __future__ import annotations

import re

import pytest

from lightning_advisor.catalog import RULES
from rulebook import CHECKS, FIXTURES, expected_findings, flake8, reported_findings

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Options")


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_fixture_findings_match_inline_expectations(fixture):
    result = flake8("--isolated", "--select", "LA", str(fixture))
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    # a finding reported twice is one more than its line expects
    assert sorted(reported_findings(result.stdout)) == sorted(expected_findings(fixture)), result.stdout


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_has_a_documented_folder(code):
    rule = RULES[code]
    readme = CHECKS / rule.folder / "README.md"
    assert readme.is_file(), f"{rule.folder}/README.md is missing"
    text = readme.read_text()
    assert text.startswith(f"# {rule.code} {rule.name}\n")
    headings = re.findall(r"^## (.+?)\s*$", text, flags=re.M)
    for section in SECTIONS:
        assert section in headings, f"{rule.folder}/README.md lacks '## {section}'"


@pytest.mark.parametrize("code", sorted(c for c, r in RULES.items() if r.static))
def test_every_static_rule_has_fixtures_that_expect_it_and_hard_negatives(code):
    fixtures = list((CHECKS / RULES[code].folder / "fixtures").glob("*.py"))
    assert fixtures, f"{code} has no fixtures"
    expected = {c for f in fixtures for _, c in expected_findings(f)}
    assert code in expected
    lines_without_expectation = sum(
        1 for f in fixtures for line in f.read_text().splitlines() if "(" in line and not line.rstrip().endswith(code)
    )
    assert lines_without_expectation > 0  # the fixtures hold code that must stay quiet


def test_no_folder_without_a_rule():
    folders = {p.name for p in CHECKS.iterdir() if p.is_dir()}
    assert folders == {rule.folder for rule in RULES.values()}
