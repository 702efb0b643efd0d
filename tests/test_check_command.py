"""``lightning-advisor check``: the flake8 plugin's findings without flake8, its exit codes, formats and options.

Most tests run the command in process through :func:`check` (``cli.main`` with captured output); the
comparison with flake8 and the stdin tests run both as real subprocesses.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lightning_advisor import cli
from lightning_advisor.catalog import RULES, rule
from rulebook import ROOT, flake8

SHUFFLED = textwrap.dedent(
    """\
    from torch.utils.data import DataLoader
    from torchvision.datasets import MNIST

    val_set = MNIST("data", train=False)
    val_loader = DataLoader(val_set, batch_size=64, shuffle=True, num_workers=4)
    """
)
LA101 = rule("LA101").render(split="validation", how="shuffle=True")
LA102 = rule("LA102").render(loader="validation DataLoader", workers=0, suggested=2)


def check(*args, cwd: Path):
    """(exit status, stdout, stderr) of ``lightning-advisor check ARGS`` run in ``cwd``."""
    out, err = io.StringIO(), io.StringIO()
    import contextlib
    import os

    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(err):
            status = cli.main(["check", *args], out=out)
    finally:
        os.chdir(previous)
    return status, out.getvalue(), err.getvalue()


def command(*args, cwd: Path, stdin: str = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lightning_advisor", "check", *args],
        input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120,
    )


@pytest.fixture
def project(tmp_path):
    (tmp_path / "train.py").write_text(SHUFFLED)
    return tmp_path


# -- findings and exit codes ------------------------------------------------------------------------


def test_reports_like_flake8_with_a_fixable_marker_and_a_summary(project):
    status, out, err = check("--isolated", "train.py", cwd=project)
    assert (status, err) == (1, "")
    assert out == f"train.py:5:14: {LA101} [*]\nFound 1 finding.\n[*] 1 fixable with --fix.\n"


def test_a_clean_file_exits_0_and_prints_nothing(project):
    (project / "train.py").write_text(SHUFFLED.replace("shuffle=True", "shuffle=False"))
    assert check("--isolated", "train.py", cwd=project) == (0, "", "")


def test_a_folder_is_searched_for_python_files_the_way_flake8_does(project):
    (project / "pkg").mkdir()
    (project / "pkg" / "loaders.py").write_text(SHUFFLED)
    (project / "pkg" / "notes.txt").write_text(SHUFFLED)
    (project / ".tox").mkdir()
    (project / ".tox" / "skipped.py").write_text(SHUFFLED)  # flake8's default exclude
    status, out, _ = check("--isolated", ".", cwd=project)
    assert status == 1
    assert [line.split(":")[0] for line in out.splitlines()[:2]] == ["./pkg/loaders.py", "./train.py"]


def test_a_missing_path_is_an_error_with_exit_2(project):
    status, out, err = check("--isolated", "nowhere.py", cwd=project)
    assert status == 2
    assert err.startswith("lightning-advisor check: error: nowhere.py: No such file or directory")


def test_a_syntax_error_is_reported_not_checked_and_exits_2(project):
    (project / "broken.py").write_text("import torch\ndef f(:\n")
    status, out, err = check("--isolated", "broken.py", "train.py", cwd=project)
    assert status == 2
    assert "lightning-advisor check: error: broken.py:2:7: syntax error, not checked" in err
    assert out.startswith(f"train.py:5:14: {LA101}")


def test_select_and_ignore_take_codes_and_prefixes(project):
    (project / "train.py").write_text(SHUFFLED.replace(", num_workers=4", ""))
    status, out, _ = check("--isolated", "--select", "LA102", "train.py", cwd=project)
    assert (status, out.splitlines()[0]) == (1, f"train.py:5:14: {LA102}")
    assert check("--isolated", "--ignore", "LA1", "train.py", cwd=project)[:2] == (0, "")


def test_an_unknown_code_is_a_usage_error_naming_the_option(project):
    status, _, err = check("--isolated", "--select", "LA999", "train.py", cwd=project)
    assert status == 2
    assert err.startswith("lightning-advisor check: error: --select: no rule code starts with 'LA999'")


# -- noqa, exactly as flake8 ----------------------------------------------------------------------------


NOQA = textwrap.dedent(
    '''\
    from torch.utils.data import DataLoader
    from torchvision.datasets import MNIST

    val_set = MNIST("data", train=False)
    a = DataLoader(val_set, shuffle=True, num_workers=4)  # noqa
    b = DataLoader(val_set, shuffle=True, num_workers=4)  # noqa: LA101
    c = DataLoader(val_set, shuffle=True, num_workers=4)  # noqa:LA1
    d = DataLoader(val_set, shuffle=True, num_workers=4)  # noqa: E501
    e = DataLoader(val_set, shuffle=True, num_workers=4, timeout=len("""
    """))  # noqa: LA101
    f = DataLoader(val_set, shuffle=True, num_workers=4)  # NOQA : LA102,LA101
    '''
)


def test_noqa_comments_silence_what_they_silence_in_flake8(project):
    (project / "train.py").write_text(NOQA)
    status, out, _ = check("--isolated", "--format", "json", "train.py", cwd=project)
    ours = [(f["line"], f["code"]) for f in json.loads(out)]
    theirs = flake8("--isolated", "--select", "LA", "train.py", cwd=project).stdout
    assert ours == [(8, "LA101")]
    assert theirs.splitlines() == [f"train.py:8:5: {LA101}"]


def test_a_flake8_noqa_file_is_skipped(project):
    (project / "train.py").write_text("# flake8: noqa\n" + SHUFFLED)
    assert check("--isolated", "train.py", cwd=project) == (0, "", "")


# -- configuration files ----------------------------------------------------------------------------------


def test_the_plugins_options_and_flake8s_filters_come_from_setup_cfg(project):
    (project / "train.py").write_text(SHUFFLED.replace("num_workers=4", "num_workers=1"))
    (project / "setup.cfg").write_text("[flake8]\nla-min-workers = 4\nextend-ignore = LA101\n")
    status, out, _ = check("train.py", cwd=project)
    expected = rule("LA102").render(loader="validation DataLoader", workers=1, suggested=4)
    assert (status, out.splitlines()[0]) == (1, f"train.py:5:14: {expected}")
    assert check("--isolated", "train.py", cwd=project)[1].splitlines()[0] == f"train.py:5:14: {LA101} [*]"


def test_per_file_ignores_and_exclude_from_tox_ini(project):
    (project / "tests").mkdir()
    (project / "tests" / "test_data.py").write_text(SHUFFLED)
    (project / "build").mkdir()
    (project / "build" / "copy.py").write_text(SHUFFLED)
    (project / "tox.ini").write_text("[flake8]\nper-file-ignores =\n    train.py: LA101\nextend-exclude = build\n")
    status, out, _ = check(".", cwd=project)
    assert status == 1
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("./")] == ["./tests/test_data.py"]


def test_a_bad_value_in_a_configuration_file_names_the_file_and_the_option(project):
    (project / ".flake8").write_text("[flake8]\nla-min-workers = many\n")
    status, out, err = check("train.py", cwd=project)
    assert (status, out) == (2, "")
    assert err.startswith("lightning-advisor check: error: la-min-workers in .flake8, section [flake8]: expected")


def test_a_missing_config_file_is_an_error(project):
    status, _, err = check("--config", "missing.cfg", "train.py", cwd=project)
    assert status == 2
    assert err.startswith("lightning-advisor check: error: --config: The specified config file does not exist")


def test_a_select_of_flake8s_own_codes_in_the_configuration_does_not_hide_the_la_rules(project):
    (project / "setup.cfg").write_text("[flake8]\nselect = E,F,W\n")
    assert check("train.py", cwd=project)[1].splitlines()[0] == f"train.py:5:14: {LA101} [*]"


# -- stdin ---------------------------------------------------------------------------------------------------


def test_stdin_is_read_with_dash_and_named_by_stdin_display_name(project):
    result = command("--isolated", "--stdin-display-name", "src/train.py", "-", cwd=project, stdin=SHUFFLED)
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.splitlines()[0] == f"src/train.py:5:14: {LA101} [*]"


def test_fixing_stdin_prints_the_fixed_code_and_reports_on_stderr(project):
    result = command("--isolated", "--fix", "-", cwd=project, stdin=SHUFFLED)
    assert result.returncode == 0
    assert result.stdout == SHUFFLED.replace("shuffle=True", "shuffle=False")
    assert result.stderr == "Found 1 finding (1 fixed, 0 remaining).\n"
    assert (project / "train.py").read_text() == SHUFFLED  # nothing written to files


# -- formats -------------------------------------------------------------------------------------------------


def test_json_lists_each_finding_with_its_fix(project):
    status, out, _ = check("--isolated", "--format", "json", "train.py", cwd=project)
    assert status == 1
    assert json.loads(out) == [{
        "filename": "train.py", "line": 5, "column": 14, "code": "LA101", "name": "eval-loader-shuffles",
        "message": LA101, "fix": {"applicability": "safe", "title": "shuffle=False", "applies": True},
    }]


def test_github_format_writes_workflow_annotations(project):
    _, out, _ = check("--isolated", "--format", "github", "train.py", cwd=project)
    assert out == f"::warning file=train.py,line=5,col=14,title=LA101 eval-loader-shuffles::{LA101}\n"


def test_sarif_is_version_2_1_0_with_every_rule_and_code_point_columns(project):
    (project / "train.py").write_text(SHUFFLED.replace("val_loader =", "é_loader ="))
    _, out, _ = check("--isolated", "--format", "sarif", "train.py", cwd=project)
    log = json.loads(out)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(RULES)
    assert run["columnKind"] == "unicodeCodePoints"
    (result,) = run["results"]
    assert result["ruleId"] == "LA101" and result["message"]["text"] == LA101
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "LA101"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "train.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "startColumn": 12}  # flake8 says 13: "é" is two UTF-8 bytes


# -- the same findings as flake8 on every file the tests lint ---------------------------------------------


def test_check_and_flake8_report_the_same_findings_on_the_rule_book_and_examples():
    paths = ["checks", "examples", "benchmarks/data"]
    fmt = "--format=%(path)s:%(row)d:%(col)d: %(code)s %(text)s"
    theirs = flake8("--isolated", "--select", "LA", fmt, *paths).stdout.splitlines()
    result = command("--isolated", *paths, cwd=ROOT)
    ours = [line.removesuffix(" [*]") for line in result.stdout.splitlines() if ": LA" in line]
    assert len(theirs) > 150
    assert sorted(ours) == sorted(theirs)
