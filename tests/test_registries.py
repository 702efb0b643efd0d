"""The catalog, the two registries and the README agree: each rule is checked where the catalog says."""
from __future__ import annotations

import re

import pytest

from lightning_advisor.catalog import RULES
from lightning_advisor.cli import rules_markdown
from lightning_advisor.static.registry import CHECKS
from rulebook import ROOT


def test_every_static_rule_has_a_check_and_no_check_reports_an_unknown_or_runtime_only_code():
    checked = [code for check in CHECKS for code in check.codes]
    assert len(checked) == len(set(checked)), "a code is checked by two families"
    assert set(checked) == {code for code, rule in RULES.items() if rule.static}


def test_every_runtime_rule_has_a_probe_and_every_probe_names_its_codes():
    pytest.importorskip("lightning")
    from lightning_advisor.runtime.registry import PROBES

    assert all(probe.codes for probe in PROBES), [p.__name__ for p in PROBES if not p.codes]
    probed = [code for probe in PROBES for code in probe.codes]
    assert len(probed) == len(set(probed)), "a code is reported by two probes"
    assert set(probed) == {code for code, rule in RULES.items() if rule.runtime}


def test_the_readme_rules_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- rules-table: [^\n]*-->\n(.*?)<!-- /rules-table -->", readme, flags=re.S)
    assert match, "README.md lost its rules-table markers"
    assert match.group(1) == rules_markdown(), (
        "the README's rules table is stale: paste the output of `lightning-advisor rules --markdown`"
    )
