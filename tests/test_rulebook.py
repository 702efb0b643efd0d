"""checks/ is the executable rule book: its fixtures, its pages' examples, and its pages' headers.

Each fixture ``checks/<rule>/fixtures/NAME.py`` marks the lines it expects findings on with a trailing
``# LA101`` comment, and ``NAME.expected`` locks what the plugin prints there: line, column and the
whole message, as flake8 shows them. ``pytest --update-expected`` rewrites the ``.expected`` files
(review the diff). flake8 itself runs once per rule family, in ``test_flake8_runs_each_family``.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

from lightning_advisor.catalog import RULES
from lightning_advisor.static.context import ModuleContext
from lightning_advisor.static.registry import CHECKS as STATIC_CHECKS
from rulebook import CHECKS, FIXTURES, ROOT, expected_findings, flake8, lint, snapshot_path

SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Options")


def _fixture_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name}"


def _rendered(fixture: Path) -> str:
    source = fixture.read_text(encoding="utf-8")
    return "".join(f + "\n" for f in (r.render(fixture.name) for r in lint(source, str(fixture), dedent=False)))


@pytest.mark.parametrize("fixture", FIXTURES, ids=_fixture_id)
def test_fixture_output_is_locked_with_columns_and_messages(fixture, request):
    rendered = _rendered(fixture)
    expected = snapshot_path(fixture)
    if request.config.getoption("--update-expected"):
        expected.write_text(rendered, encoding="utf-8")
    assert expected.is_file(), f"{expected.name} is missing: run pytest --update-expected and review it"
    assert rendered == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("fixture", FIXTURES, ids=_fixture_id)
def test_fixture_findings_are_on_the_marked_lines(fixture):
    # a finding reported twice is one more than its line expects
    reported = [(r.line, r.code) for r in lint(fixture.read_text(encoding="utf-8"), str(fixture), dedent=False)]
    assert sorted(reported) == sorted(expected_findings(fixture))


def test_no_expected_file_without_its_fixture():
    orphans = [p for p in CHECKS.glob("*/fixtures/*.expected") if not p.with_suffix(".py").is_file()]
    assert orphans == []


@pytest.mark.parametrize("check", STATIC_CHECKS, ids=lambda c: "/".join(c.codes))
def test_flake8_runs_each_family(check):
    """End to end: the real flake8 (entry point, options, sorting, output format) on one family's fixtures."""
    fixtures = sorted(f for f in FIXTURES if f.parent.parent.name.split("-")[0] in check.codes)
    result = flake8("--isolated", "--select", "LA", *(str(f.relative_to(ROOT)) for f in fixtures))
    assert result.returncode == 1 and result.stderr == ""
    expected = "".join(
        line.replace(f.name, str(f.relative_to(ROOT)), 1) + "\n"
        for f in fixtures
        for line in snapshot_path(f).read_text(encoding="utf-8").splitlines()
    )
    assert result.stdout == expected


# -- the pages ---------------------------------------------------------------------------------


def _page(code: str) -> str:
    return (CHECKS / RULES[code].folder / "README.md").read_text(encoding="utf-8")


def _python_blocks(page: str, section: str) -> List[str]:
    match = re.search(rf"^## {re.escape(section)}\s*\n(.*?)(?=^## |\Z)", page, flags=re.S | re.M)
    assert match, f"no '## {section}' section"
    blocks = re.findall(r"^```python\n(.*?)^```", match.group(1), flags=re.S | re.M)
    assert blocks, f"'## {section}' has no python block"
    return blocks


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_rule_has_a_page_whose_header_is_rendered_from_the_catalog(code):
    rule = RULES[code]
    page = _page(code)
    assert page.startswith(rule.page_header()), "the header differs from Rule.page_header()"
    headings = re.findall(r"^## (.+?)\s*$", page, flags=re.M)
    for section in SECTIONS:
        assert section in headings, f"{rule.folder}/README.md lacks '## {section}'"


@pytest.mark.parametrize("code", sorted(c for c, r in RULES.items() if r.static))
def test_every_example_fires_its_rule(code):
    for block in _python_blocks(_page(code), "Example"):
        assert code in [r.code for r in lint(block, dedent=False)], block


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_use_instead_is_quiet_torch_code(code):
    import ast

    for block in _python_blocks(_page(code), "Use instead"):
        tree = ast.parse(block)
        # torch or Lightning code: quiet because it is right, not because the plugin skips the file
        assert ModuleContext(tree, "x.py", block.splitlines(True)).imports.uses_torch, block
        assert lint(block, dedent=False) == [], block


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
