"""Wrong option values stop flake8 at start-up with one clear line: the option and what it accepts."""
from __future__ import annotations

import pytest

from rulebook import flake8

ACCEPTED = "expected a whole number of DataLoader workers, 0 or more (0 turns LA102 off)"


def assert_clear_error(result, value: str, source: str = "argument --la-min-workers") -> None:
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if not line.startswith("usage:")]
    assert errors == [f"flake8: error: {source}: {ACCEPTED}, got {value!r}"]


@pytest.mark.parametrize("value", ["-1", "four", "2.5", "", "1e3", "0x10"])
def test_bad_value_on_the_command_line(tmp_path, value):
    (tmp_path / "x.py").write_text("import torch\n")
    assert_clear_error(flake8("--isolated", f"--la-min-workers={value}", "x.py", cwd=tmp_path), value)


@pytest.mark.parametrize("config", ["setup.cfg", "tox.ini", ".flake8"])
@pytest.mark.parametrize("value, written", [("four", "four"), ("-1", "-1"), ("4 # four", "4 # four")])
def test_bad_value_in_a_config_file(tmp_path, config, value, written):
    (tmp_path / "x.py").write_text("import torch\n")
    (tmp_path / config).write_text(f"[flake8]\nla-min-workers = {written}\n")
    assert_clear_error(flake8("x.py", cwd=tmp_path), value, f"la-min-workers in {config}, section [flake8]")


def test_bad_value_in_an_appended_config_names_that_file(tmp_path):
    (tmp_path / "x.py").write_text("import torch\n")
    (tmp_path / "setup.cfg").write_text("[flake8]\nla-min-workers = 3\n")
    (tmp_path / "extra.ini").write_text("[flake8]\nla_min_workers = lots\n")
    result = flake8("--append-config", "extra.ini", "x.py", cwd=tmp_path)
    assert_clear_error(result, "lots", "la-min-workers in extra.ini, section [flake8]")


def test_the_command_line_overrides_a_bad_config_value(tmp_path):
    (tmp_path / "x.py").write_text(
        "from torch.utils.data import DataLoader\nfrom torchvision.datasets import MNIST\n"
        "DataLoader(MNIST(root), num_workers=2)\n"
    )
    (tmp_path / "setup.cfg").write_text("[flake8]\nla-min-workers = lots\n")
    result = flake8("--select", "LA", "--la-min-workers", "3", "x.py", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.startswith("x.py:3:1: LA102 DataLoader has num_workers=2, too few")


@pytest.mark.parametrize("value", ["0", "8", " 3 ", "+2"])
def test_good_values_are_accepted(tmp_path, value):
    (tmp_path / "x.py").write_text("import torch\n")
    result = flake8("--isolated", "--select", "LA", f"--la-min-workers={value}", "x.py", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")


def test_bad_value_in_a_config_given_with_config_names_that_file(tmp_path):
    (tmp_path / "x.py").write_text("import torch\n")
    (tmp_path / "lint.cfg").write_text("[flake8]\nla-min-workers = -2\n")
    result = flake8("--config", "lint.cfg", "x.py", cwd=tmp_path)
    assert_clear_error(result, "-2", "la-min-workers in lint.cfg, section [flake8]")
