"""``lightning-advisor check --fix``: every rule's before / after files, idempotence, and files left alone.

Each ``checks/<rule>/fixes/NAME.py`` starts with ``# fix: safe`` (fixed with ``--fix``) or ``# fix: unsafe``
(``--fix --unsafe-fixes``); ``NAME.fixed.py`` beside it is the exact result. ``pytest --update-expected``
rewrites the ``.fixed.py`` files (review the diff). The files hold cases the fix must leave alone too.
"""
from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from lightning_advisor.catalog import RULES
from lightning_advisor.fixes.registry import FIXERS
from rulebook import CHECKS
from test_check_command import check

BEFORE = sorted(p for p in CHECKS.glob("*/fixes/*.py") if not p.name.endswith(".fixed.py"))


def _after(path: Path) -> Path:
    return path.with_name(path.stem + ".fixed.py")


def _flags(path: Path):
    mode = path.read_text(encoding="utf-8").splitlines()[0]
    assert mode in ("# fix: safe", "# fix: unsafe"), f"{path.name} must start with '# fix: safe' or '# fix: unsafe'"
    return ["--fix"] + (["--unsafe-fixes"] if mode.endswith("unsafe") else [])


def _fixed(tmp_path: Path, before: Path) -> str:
    target = tmp_path / before.name
    shutil.copyfile(before, target)
    status, _, err = check("--isolated", *_flags(before), target.name, cwd=tmp_path)
    assert status in (0, 1) and err == "", err
    return target.read_text(encoding="utf-8")


@pytest.mark.parametrize("before", BEFORE, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_fix_gives_the_locked_result_and_a_second_fix_changes_nothing(before, tmp_path, request):
    fixed = _fixed(tmp_path, before)
    after = _after(before)
    if request.config.getoption("--update-expected"):
        after.write_text(fixed, encoding="utf-8")
    assert after.is_file(), f"{after.name} is missing: run pytest --update-expected and review it"
    assert fixed == after.read_text(encoding="utf-8")
    ast.parse(fixed)
    again = tmp_path / "again"
    again.mkdir()
    assert _fixed(again, after) == fixed


@pytest.mark.parametrize("before", BEFORE, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_the_fix_applies_to_its_own_rule(before, tmp_path):
    code = before.parent.parent.name.split("-")[0]
    assert _flags(before) == ["--fix"] + ([] if FIXERS[code].safe else ["--unsafe-fixes"])
    target = tmp_path / before.name
    shutil.copyfile(before, target)
    _, out, _ = check("--isolated", "--select", code, *_flags(before)[1:], target.name, cwd=tmp_path)
    assert " [*]" in out, f"{before.name} shows no fixable {code} finding"


def test_every_rule_with_a_fix_has_before_and_after_files():
    with_files = {p.parent.parent.name.split("-")[0] for p in BEFORE}
    assert set(FIXERS) <= with_files


@pytest.mark.parametrize("code", sorted(FIXERS))
def test_the_rule_page_says_whether_its_fix_is_safe(code):
    page = (CHECKS / RULES[code].folder / "README.md").read_text(encoding="utf-8")
    assert "\n## Fix\n\n" in page, f"{RULES[code].folder}/README.md lacks '## Fix'"
    first = page.split("\n## Fix\n\n", 1)[1]
    expected = "Safe fix (`lightning-advisor check --fix`)" if FIXERS[code].safe else (
        "Unsafe fix (`lightning-advisor check --fix --unsafe-fixes`"
    )
    assert first.startswith(expected)


def test_a_safe_fix_run_leaves_unsafe_fixes_and_says_how_many(tmp_path):
    before = CHECKS / "LA404-step-returns-log-dict" / "fixes" / "logging_dicts.py"
    target = tmp_path / "steps.py"
    shutil.copyfile(before, target)
    status, out, _ = check("--isolated", "--fix", target.name, cwd=tmp_path)
    assert status == 1
    assert target.read_text() == before.read_text()
    assert out.splitlines()[-1] == "3 more fixes available with --unsafe-fixes."


def test_a_file_with_a_syntax_error_is_never_fixed(tmp_path):
    source = "from pytorch_lightning.core.lightning import LightningModule\ndef broken(:\n"
    target = tmp_path / "broken.py"
    target.write_text(source)
    status, _, err = check("--isolated", "--fix", "--unsafe-fixes", target.name, cwd=tmp_path)
    assert status == 2 and "syntax error, not checked" in err
    assert target.read_text() == source


def test_fixes_keep_line_endings_encoding_and_the_rest_of_the_file(tmp_path):
    source = "# -*- coding: latin-1 -*-\r\n# caf\xe9\r\n"
    source += "from pytorch_lightning.core.lightning import LightningModule\r\n"
    target = tmp_path / "crlf.py"
    target.write_bytes(source.encode("latin-1"))
    assert check("--isolated", "--fix", target.name, cwd=tmp_path)[0] == 0
    assert target.read_bytes() == source.replace(".core.lightning", "").encode("latin-1")


def test_diff_prints_the_fixes_marked_safe_or_unsafe_and_writes_nothing(tmp_path):
    before = CHECKS / "LA402-removed-hook" / "fixes" / "epoch_end.py"
    target = tmp_path / "model.py"
    shutil.copyfile(before, target)
    status, out, _ = check("--isolated", "--diff", "--unsafe-fixes", target.name, cwd=tmp_path)
    assert status == 1
    validation = "# unsafe fix: on_validation_epoch_end, with what validation_step returns kept in "
    validation += "self.validation_step_outputs"
    assert out.splitlines()[:5] == [
        validation,
        validation,  # the second class's
        "# unsafe fix: on_test_epoch_end, with what test_step returns kept in self.test_step_outputs",
        "--- a/model.py",
        "+++ b/model.py",
    ]
    assert target.read_text() == before.read_text()
    assert check("--isolated", "--diff", target.name, cwd=tmp_path)[:2] == (0, "")  # no safe fix to show


def test_the_manual_optimization_fix_trains_both_optimizers_on_lightning_2x(tmp_path):
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    import pytorch_lightning as pl

    fixed = (CHECKS / "LA402-removed-hook" / "fixes" / "optimizer_idx.fixed.py").read_text()
    namespace = {"__name__": "gan"}
    exec(compile(fixed, "optimizer_idx.fixed.py", "exec"), namespace)
    model = namespace["GAN"]()
    before = [p.detach().clone() for p in model.parameters()]
    trainer = pl.Trainer(fast_dev_run=True, accelerator="cpu", logger=False, enable_progress_bar=False,
                         enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(model, DataLoader(TensorDataset(torch.randn(8, 4)), batch_size=4))
    assert trainer.state.status.value == "finished"
    changed = [not torch.equal(a, b) for a, b in zip(before, model.parameters())]
    assert changed == [True, True, True, True]  # generator and discriminator: weight and bias each


def test_fixing_every_fixture_of_the_rule_book_gives_code_that_parses_and_is_stable(tmp_path):
    """Every fix on every fixture at once: no internal error, each file parses, a second run changes nothing."""
    sources = sorted(CHECKS.glob("*/fixtures/*.py"))
    for index, path in enumerate(sources):
        shutil.copyfile(path, tmp_path / f"{index:03d}_{path.name}")
    status, out, err = check("--isolated", "--fix", "--unsafe-fixes", ".", cwd=tmp_path)
    assert err == "" and status in (0, 1)
    assert " fixed, " in out  # the summary: "Found N findings (K fixed, M remaining)."
    fixed = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.py")}
    for name, text in fixed.items():
        ast.parse(text, name)
    assert check("--isolated", "--fix", "--unsafe-fixes", ".", cwd=tmp_path)[2] == ""
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("*.py")} == fixed
