"""What each install gets: the linter without torch or Lightning, the Callback's clear error without them."""
from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

from rulebook import ROOT

SRC = ROOT / "src" / "lightning_advisor"
# Packages the project may import, each declared in pyproject.toml (the extras) or part of Python.
DECLARED = {"flake8", "astroid", "torch", "lightning", "pytorch_lightning", "typing_extensions", "lightning_advisor"}


def _run_without(blocked, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter where importing any of ``blocked`` fails, as if not installed."""
    prelude = textwrap.dedent(
        f"""
        import importlib.abc, sys
        BLOCKED = {sorted(blocked)!r}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        sys.meta_path.insert(0, Block())
        """
    )
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, text=True)


def test_without_lightning_the_callback_says_which_extra_to_install():
    result = _run_without(
        {"lightning", "pytorch_lightning", "typing_extensions"},
        """
        import lightning_advisor
        try:
            lightning_advisor.AdvisorCallback
        except ImportError as error:
            print(error)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "lightning_advisor.AdvisorCallback needs PyTorch Lightning: "
        "pip install 'lightning-advisor[lightning]' (or '[runtime]' for pytorch_lightning)"
    )


def test_the_linter_runs_without_torch_lightning_or_typing_extensions(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("from torch.utils.data import DataLoader\nval_loader = DataLoader(ds, shuffle=True)\n")
    result = _run_without(
        {"torch", "lightning", "pytorch_lightning", "typing_extensions", "numpy"},
        f"""
        from flake8.main.cli import main
        raise SystemExit(main(["--isolated", "--select", "LA", {str(script)!r}]))
        """,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(f"{script}:2:14: LA101 validation DataLoader shuffles its data")


def test_every_import_is_of_a_declared_package_or_the_standard_library():
    undeclared = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in DECLARED and top not in sys.stdlib_module_names:
                    undeclared.add(f"{Path(path).relative_to(ROOT)}: {name}")
    assert undeclared == set()
