"""The `lightning-advisor` command, and the rule pages it ships inside the package."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lightning_advisor import __version__
from lightning_advisor.catalog import RULES
from rulebook import CHECKS, ROOT

SHIPPED = ROOT / "src" / "lightning_advisor" / "rulebook"
SCRIPT = Path(sys.executable).with_name("lightning-advisor")


def run(*args: str, command=(str(SCRIPT),), cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_rules_lists_every_rule_on_one_line():
    result = run("rules")
    assert (result.returncode, result.stderr) == (0, "")
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["Code", "Name", "Checked", "What", "it", "catches"]
    assert [line.split()[0] for line in lines] == list(RULES)
    for line, rule in zip(lines, RULES.values()):
        code, name, rest = line.split(maxsplit=2)
        sides = [side for side, on in (("static", rule.static), ("runtime", rule.runtime)) if on]
        assert (code, name) == (rule.code, rule.name)
        assert rest.startswith(", ".join(sides) + " ") and rest.endswith(rule.summary)
    width = max(len(rule.name) for rule in RULES.values())  # names are padded to the longest one
    assert f"LA401  {'removed-trainer-argument':<{width}}  static " in result.stdout
    assert f"LA404  {'step-returns-log-dict':<{width}}  static, runtime " in result.stdout


@pytest.mark.parametrize("code", sorted(RULES))
def test_explain_prints_the_rule_page(code):
    result = run("explain", code, command=(sys.executable, "-m", "lightning_advisor"))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (CHECKS / RULES[code].folder / "README.md").read_text(encoding="utf-8")


def test_explain_accepts_lower_case_and_several_codes():
    result = run("explain", "la401", "LA404")
    assert result.returncode == 0
    assert result.stdout.startswith("# LA401 removed-trainer-argument\n")
    assert "\n# LA404 step-returns-log-dict\n" in result.stdout


@pytest.mark.parametrize("args", [("explain", "LA999"), ("explain", "LA101", "E501")])
def test_unknown_code_is_a_clear_error(args):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    bad = args[-1]
    assert result.stderr.startswith(f"lightning-advisor: error: unknown rule code '{bad}'; known codes: LA101, ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [(), ("lint",), ("explain",)])
def test_missing_or_unknown_command_is_a_usage_error(args):
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: lightning-advisor")
    assert "Traceback" not in result.stderr


def test_version():
    assert run("--version").stdout.strip() == f"lightning-advisor {__version__}"


def test_shipped_pages_are_the_rule_book():
    """The package's copies must equal checks/*/README.md byte for byte; the failure says how to sync them."""
    stale = [
        f"cp checks/{rule.folder}/README.md src/lightning_advisor/rulebook/{rule.folder}.md"
        for rule in RULES.values()
        if not (SHIPPED / f"{rule.folder}.md").is_file()
        or (SHIPPED / f"{rule.folder}.md").read_bytes() != (CHECKS / rule.folder / "README.md").read_bytes()
    ]
    assert stale == [], "the shipped rule pages differ from checks/; run:\n" + "\n".join(stale)
    extra = {p.name for p in SHIPPED.iterdir()} - {f"{rule.folder}.md" for rule in RULES.values()}
    assert extra == set(), "pages for rules that do not exist"


def test_a_built_wheel_ships_the_pages_and_the_command(tmp_path):
    """A regular (not editable) install: build a wheel from a copy of the project, install it alone, run it."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", str(project), "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), "-q"],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("lightning_advisor-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for rule in RULES.values():
            shipped = archive.read(f"lightning_advisor/rulebook/{rule.folder}.md")
            assert shipped == (CHECKS / rule.folder / "README.md").read_bytes()
        entry_points = next(n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt"))
        assert "lightning-advisor = lightning_advisor.cli:main" in archive.read(entry_points).decode()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    script = python.with_name("lightning-advisor.exe" if sys.platform == "win32" else "lightning-advisor")
    result = run("explain", "LA403", command=(str(script),), cwd=tmp_path)  # away from the source tree
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (CHECKS / RULES["LA403"].folder / "README.md").read_text(encoding="utf-8")
