"""The plugin never breaks flake8: internal errors are contained, odd code is fine."""
from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from lightning_advisor.static.base import Check
from lightning_advisor.static.registry import CHECKS
from rulebook import codes


def run_plugin(source: str, filename: str = "x.py"):
    return codes(source, filename=filename, dedent=False)


TWO_LOADERS = textwrap.dedent(
    """\
    from torch.utils.data import DataLoader; from torchvision.datasets import MNIST
    a = DataLoader(MNIST("data"))
    b = DataLoader(MNIST("data"))
    """
)


def test_an_internal_error_skips_one_node_and_the_rest_is_still_checked(monkeypatch, caplog):
    from lightning_advisor.static import dataloaders

    original = dataloaders.CHECK

    def flaky(ctx, node, options):
        if node.lineno == 2:
            raise RuntimeError("boom")
        return original.examine(ctx, node, options)

    broken = Check(original.codes, original.candidates, flaky)
    monkeypatch.setattr(
        "lightning_advisor.static.findings.CHECKS", tuple(broken if c is original else c for c in CHECKS)
    )
    with caplog.at_level(logging.WARNING, logger="flake8.lightning_advisor"):
        assert run_plugin(TWO_LOADERS) == [(3, "LA102")]
    assert "internal error in the LA101/LA102 check at x.py:2" in caplog.text


ODD_SOURCES = [
    "",
    "# only a comment about torch\n",
    "import torch\n",
    "import torch\nx = [y async for y in z]\n",
    "import torch\nmatch x:\n    case {'a': 1}:\n        pass\n",
    "import torch\nfrom torch.utils.data import *\nDataLoader(*a, **k)\n",
    "import torch\nfrom torch.utils.data import DataLoader\nDataLoader(**{**a}, num_workers=n)\n",
    "import torch\nfrom torch.utils.data import DataLoader\n"
    "DataLoader(ds, num_workers=-1)\nDataLoader(ds, num_workers=None)\n",
    "import torch\nf = lambda m: [m(x) for x in loader]\n(x := torch.zeros(1)).cuda()\n",
    "import torch\nclass A(B, metaclass=M):\n    x: int\n    def f(self, /, a, *b, c, **d): ...\n",
    "import torch\nfor (a, b) in loader:\n    model(a)\nelse:\n    pass\n",
    "import torch\nimport lightning as L\n"
    "class M(L.LightningModule):\n    def f(self):\n        global g\n        del g\n",
]


@pytest.mark.parametrize("source", ODD_SOURCES)
def test_odd_code_never_raises(source, caplog):
    with caplog.at_level(logging.WARNING, logger="flake8.lightning_advisor"):
        run_plugin(source)
    assert "internal error" not in caplog.text


def _package_sources(name, limit=400):
    try:
        module = __import__(name)
    except ImportError:
        return []
    return sorted(Path(module.__file__).parent.rglob("*.py"))[:limit]


@pytest.mark.parametrize("package", ["pytorch_lightning", "torchvision"])
def test_real_code_runs_without_internal_errors(package, caplog):
    files = _package_sources(package)
    if not files:
        pytest.skip(f"{package} is not installed")
    with caplog.at_level(logging.WARNING, logger="flake8.lightning_advisor"):
        for path in files:
            source = path.read_text(encoding="utf-8", errors="replace")
            try:
                run_plugin(source, str(path))
            except SyntaxError:
                continue
    assert "internal error" not in caplog.text and "could not analyse" not in caplog.text


def test_a_files_analysis_is_freed_as_soon_as_it_ends():
    """No reference cycle keeps a file's context (a parent for every node) alive until the next collection:
    an editor's or a daemon's flake8 process would otherwise carry each file's analysis around."""
    import ast
    import gc
    import weakref

    from lightning_advisor.static.findings import findings, module_context
    from lightning_advisor.static.base import Options

    source = (Path(__file__).parents[1] / "benchmarks" / "data" / "train_500.py").read_text()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        ctx = module_context(ast.parse(source), "train.py", source.splitlines(True))
        assert len(list(findings(ctx, Options()))) == 4
        analysis = weakref.ref(ctx)
        del ctx
        assert analysis() is None
    finally:
        if was_enabled:
            gc.enable()
