"""The README's install and integration commands work as written: pre-commit, a wheel, the changelog.

These run real tools (pip, pre-commit, git) against this checkout; they use the package registry only
for flake8 and astroid, which a linter-only install needs.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from rulebook import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
MISTAKE = "from torch.utils.data import DataLoader\nval_loader = DataLoader(ds, shuffle=True, num_workers=4)\n"
FINDING = "train.py:2:14: LA101 validation DataLoader shuffles its data (shuffle=True)"


def readme_block(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)```\n<!-- /{marker} -->", README, flags=re.S)
    assert match, f"README.md lost its {marker} markers"
    return match.group(1)


def run(*command, cwd, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def user_project(tmp_path: Path) -> Path:
    """A git repository holding one training script with a mistake, as a user's project would."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "train.py").write_text(MISTAKE)
    for command in (["init", "-q"], ["add", "train.py"]):
        run("git", *command, cwd=project)
    return project


@pytest.fixture
def pre_commit_env(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("pre-commit needs git")
    return dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))


def test_the_readme_pre_commit_snippet_runs_the_hook(tmp_path, pre_commit_env):
    project = user_project(tmp_path)
    config = readme_block("pre-commit-config").replace("<URL of this repository>", str(ROOT))
    rev = re.search(r"rev: (\S+)", config).group(1)
    assert run("git", "cat-file", "-e", f"{rev}^{{commit}}", cwd=ROOT).returncode == 0, f"{rev} is not a commit here"
    (project / ".pre-commit-config.yaml").write_text(config)
    result = run(sys.executable, "-m", "pre_commit", "run", "--all-files", cwd=project, env=pre_commit_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lightning-advisor" in result.stdout and FINDING in result.stdout


def test_pre_commit_try_repo_on_this_checkout(tmp_path, pre_commit_env):
    project = user_project(tmp_path)
    result = run(
        sys.executable, "-m", "pre_commit", "try-repo", ROOT, "lightning-advisor", "--all-files",
        cwd=project, env=pre_commit_env,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert FINDING in result.stdout and "Traceback" not in result.stdout


def test_the_fix_hook_fixes_the_file_and_fails_the_commit_once(tmp_path, pre_commit_env):
    project = user_project(tmp_path)
    command = (sys.executable, "-m", "pre_commit", "try-repo", ROOT, "lightning-advisor-fix", "--all-files")
    result = run(*command, cwd=project, env=pre_commit_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "files were modified by this hook" in result.stdout and "Traceback" not in result.stdout
    assert (project / "train.py").read_text() == MISTAKE.replace("shuffle=True", "shuffle=False")
    again = run(*command, cwd=project, env=pre_commit_env)
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel the README's second install command builds, from this tree."""
    out = tmp_path_factory.mktemp("dist")
    result = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", out, ROOT, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    (found,) = out.glob("lightning_advisor-*.whl")
    return found


def venv(path: Path, *, see_packages_of_this_env: bool = False) -> Path:
    """A fresh virtual environment; optionally one that also sees this test environment's packages."""
    run(sys.executable, "-m", "venv", path, cwd=path.parent)
    python = path / "bin" / "python"
    if see_packages_of_this_env:
        purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=path).stdout
        (Path(purelib.strip()) / "this-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_the_wheel_installs_the_linter_without_torch(tmp_path, wheel):
    python = venv(tmp_path / "lint-only")
    install = run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    assert install.returncode == 0, install.stderr
    assert run(python, "-c", "import torch", cwd=tmp_path).returncode == 1  # the linter brought no torch
    project = user_project(tmp_path)
    result = run(python, "-m", "flake8", "--select", "LA", "train.py", cwd=project)
    assert result.returncode == 1 and result.stdout.startswith(FINDING), result.stdout + result.stderr
    explain = run(tmp_path / "lint-only" / "bin" / "lightning-advisor", "explain", "LA101", cwd=tmp_path)
    assert explain.stdout.startswith("# LA101 eval-loader-shuffles\n")
    callback = run(python, "-c", "import lightning_advisor; lightning_advisor.AdvisorCallback", cwd=tmp_path)
    assert callback.returncode == 1
    assert "needs PyTorch Lightning: pip install 'lightning-advisor[lightning]'" in callback.stderr


def test_the_wheel_declares_its_extras_and_runs_the_callback_where_they_are_installed(tmp_path, wheel):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(name).decode()
        assert "lightning_advisor/rulebook/LA101-eval-loader-shuffles.md" in archive.namelist()
    for extra, package in (("lightning", "lightning"), ("runtime", "pytorch-lightning"), ("example", "torchvision")):
        assert re.search(rf"^Requires-Dist: {package}>=[\d.]+; extra == \"{extra}\"$", metadata, flags=re.M), extra
    python = venv(tmp_path / "with-lightning", see_packages_of_this_env=True)
    install = run(python, "-m", "pip", "install", "-q", "--no-deps", wheel, cwd=tmp_path)
    assert install.returncode == 0, install.stderr
    script = textwrap.dedent(
        """
        import warnings
        import lightning_advisor, torch
        from lightning.pytorch import Trainer
        from lightning.pytorch.demos.boring_classes import BoringModel
        from torch.utils.data import DataLoader, RandomSampler
        from lightning.pytorch.demos.boring_classes import RandomDataset

        class Shuffled(BoringModel):
            def val_dataloader(self):
                data = RandomDataset(32, 16)
                return DataLoader(data, batch_size=4, sampler=RandomSampler(data))

        advisor = lightning_advisor.AdvisorCallback(ignore=["LA102"])
        warnings.simplefilter("ignore")
        Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=2, logger=False, enable_progress_bar=False,
                enable_checkpointing=False, accelerator="cpu", callbacks=[advisor]).fit(Shuffled())
        print(lightning_advisor.__file__)
        print([f.code for f in advisor.findings])
        """
    )
    result = run(python, "-c", script, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    where, found = result.stdout.splitlines()[-2:]
    assert where.startswith(str(tmp_path / "with-lightning")), where  # the wheel's copy, not this checkout
    assert found == "['LA101']"


def test_the_readme_install_commands_are_the_tested_ones():
    commands = [line.split("#")[0].strip() for line in readme_block("install-commands").splitlines()]
    assert commands == [
        "pip install .",
        "pip wheel --no-deps -w dist . && pip install dist/lightning_advisor-*.whl",
        'pip install "lightning-advisor @ git+<URL of this repository>"',
    ]
    assert "not on PyPI yet" in README


def test_the_changelog_has_this_version_and_an_unreleased_section():
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", changelog, flags=re.M)
    assert headings[0] == ("Unreleased", "")
    assert headings[1][0] == version and headings[1][1], "the newest release must be pyproject's version, dated"
    from lightning_advisor import __version__

    assert __version__ == version  # read from the installed metadata: pyproject.toml is the one place


def _oldest_claimed_python() -> Path:
    """An interpreter of the oldest Python that pyproject.toml claims, from pyenv or the PATH."""
    import tomllib

    claimed = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    version = re.fullmatch(r">=(\d+\.\d+)", claimed).group(1)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(pyenv.glob(f"{version}.*/bin/python{version}")) + [
        Path(p) for p in filter(None, [shutil.which(f"python{version}")])
    ]
    if not found:
        pytest.skip(f"no Python {version} interpreter on this machine")
    return found[0]


def test_the_linter_on_the_oldest_python_claimed_reports_the_rule_book_exactly(tmp_path, wheel):
    from rulebook import FIXTURES, snapshot_path

    base = _oldest_claimed_python()
    env = tmp_path / "oldest"
    assert run(base, "-m", "venv", env, cwd=tmp_path).returncode == 0
    install = run(env / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)
    assert install.returncode == 0, install.stderr
    for fixture in FIXTURES:
        result = run(env / "bin" / "python", "-m", "flake8", "--isolated", "--select", "LA", fixture.name,
                     cwd=fixture.parent)
        assert result.stderr == "" and result.stdout == snapshot_path(fixture).read_text(), fixture
