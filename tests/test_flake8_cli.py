"""flake8 end to end, as editors, pre-commit and CI run it (real subprocesses)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from lightning_advisor import __version__
from lightning_advisor.catalog import rule
from rulebook import flake8, reported_findings

SOURCE = textwrap.dedent(
    """\
    from torch.utils.data import DataLoader
    from torchvision.datasets import MNIST

    val_set = MNIST("data", train=False)
    val_loader = DataLoader(val_set, batch_size=64, shuffle=True)
    val_noqa = DataLoader(val_set, batch_size=64, shuffle=True)  # noqa
    val_partial = DataLoader(val_set, batch_size=64, shuffle=True)  # noqa: LA102
    two_workers = DataLoader(val_set, num_workers=2)
    """
)


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(SOURCE)
    return path


def run_on(script, *args):
    result = flake8("--isolated", *args, str(script.name), cwd=script.parent)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_reports_exact_codes_lines_columns_and_messages(script):
    result = run_on(script, "--select", "LA")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "train.py:5:14: " + rule("LA101").render(split="validation", how="shuffle=True"),
        "train.py:5:14: " + rule("LA102").render(loader="validation DataLoader", workers=0, suggested=2),
        "train.py:7:15: " + rule("LA101").render(split="validation", how="shuffle=True"),
    ]


def test_noqa_with_and_without_codes(script):
    findings = reported_findings(run_on(script, "--select", "LA").stdout)
    assert (6, "LA101") not in findings and (6, "LA102") not in findings  # bare noqa
    assert (7, "LA101") in findings and (7, "LA102") not in findings  # noqa: LA102 only


def test_select_and_extend_ignore(script):
    assert reported_findings(run_on(script, "--select", "LA101").stdout) == [(5, "LA101"), (7, "LA101")]
    assert reported_findings(run_on(script, "--select", "LA", "--extend-ignore", "LA101").stdout) == [(5, "LA102")]


def test_per_file_ignores_from_config(tmp_path, script):
    (tmp_path / "setup.cfg").write_text("[flake8]\nselect = LA\nper-file-ignores =\n    train.py: LA101\n")
    result = flake8("train.py", cwd=tmp_path)
    assert reported_findings(result.stdout) == [(5, "LA102")]


def test_min_workers_option_and_config(tmp_path, script):
    assert (8, "LA102") in reported_findings(run_on(script, "--select", "LA", "--la-min-workers", "3").stdout)
    assert reported_findings(run_on(script, "--select", "LA", "--la-min-workers", "0").stdout) == [
        (5, "LA101"),
        (7, "LA101"),
    ]
    (tmp_path / "tox.ini").write_text("[flake8]\nselect = LA\nla-min-workers = 3\n")
    result = flake8("train.py", cwd=tmp_path)
    assert (8, "LA102") in reported_findings(result.stdout)
    assert rule("LA102").render(loader="validation DataLoader", workers=2, suggested=3) in result.stdout


@pytest.mark.parametrize("value", ["many", "-1", "2.5"])
def test_bad_min_workers_is_a_clear_error_naming_the_option(script, value):
    result = run_on(script, "--select", "LA", f"--la-min-workers={value}")
    assert result.returncode == 2
    assert "--la-min-workers" in result.stderr
    assert result.stdout == ""


def test_stdin_as_editors_call_it():
    result = flake8("--isolated", "--select", "LA", "-", "--stdin-display-name", "x.py", stdin=SOURCE)
    assert result.returncode == 1
    assert reported_findings(result.stdout) == [(5, "LA101"), (5, "LA102"), (7, "LA101")]
    assert result.stdout.startswith("x.py:5:14: LA101 ")


def test_version_lists_the_plugin():
    result = flake8("--version")
    assert f"lightning-advisor: {__version__}" in result.stdout


def test_clean_file_exits_zero(tmp_path):
    path = tmp_path / "ok.py"
    path.write_text("import torch\n\nx = torch.zeros(3)\n")
    result = flake8("--isolated", "--select", "LA", "ok.py", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_importing_the_plugin_imports_neither_torch_nor_lightning():
    code = (
        "import sys, lightning_advisor, lightning_advisor.static.plugin as p; "
        "heavy = ('torch', 'lightning', 'pytorch_lightning', 'astroid'); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_flake8_run_never_imports_the_fixes_or_the_check_command(tmp_path):
    """The fixing path is for `lightning-advisor check`; flake8 in the editor pays nothing for it."""
    path = tmp_path / "train.py"
    path.write_text("from pytorch_lightning.core.lightning import LightningModule\nimport torch\n")
    code = (
        "import sys; from flake8.main.cli import main\n"
        "try:\n    main(['--isolated', '--select', 'LA', 'train.py'])\n"
        "except SystemExit:\n    pass\n"
        "paths = ('lightning_advisor.fixes', 'lightning_advisor.command')\n"
        "print(sorted(m for m in sys.modules if m.startswith(paths)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert "LA403" in result.stdout
    assert result.stdout.splitlines()[-1] == "[]"


def test_the_project_lints_itself_clean_apart_from_its_deliberate_mistakes():
    """Dogfooding: `flake8` at the root (setup.cfg) finds only the LA mistakes made on purpose."""
    result = flake8()
    deliberate = ("./checks/", "./examples/mnist_mistakes.py", "./examples/upgrade/train_1x.py", "./benchmarks/data/")
    unexpected = [
        line for line in result.stdout.splitlines()
        if not (line.startswith(deliberate) and line.split(": ", 1)[1].startswith("LA"))
    ]
    assert unexpected == [] and result.stderr == ""
