"""Unusual files flake8 can still read: flake8 exits normally with the right findings, or none.

Each case is a file written at test time; a trailing ``# LA101 LA102`` comment marks the findings
expected on its line, as in the rule book. Every case runs twice: in-process through the sweep's
reader (flake8's own FileProcessor, and any error the plugin contains counts as a failure), and
through one real ``flake8`` run over all of them, which must end without a traceback.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Set, Tuple

import pytest

from rulebook import ROOT, flake8, reported_findings

_spec = importlib.util.spec_from_file_location("la_sweep", ROOT / "benchmarks" / "sweep.py")
sweep = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sweep)

# Datasets whose items cost work (torchvision's MNIST): LA102 speaks only about those.
HEAD = (
    "import torch\nfrom torch.utils.data import DataLoader\nfrom torchvision.datasets import MNIST\n"
    "ds = val_set = test_set = MNIST('data')\n"
)
MISTAKE = "val_loader = DataLoader(MNIST('data', train=False), shuffle=True)  # LA101 LA102\n"
_EXPECTED = re.compile(r"#\s*(LA\d{3}(?:\s+LA\d{3})*)\s*$")
PY312 = sys.version_info >= (3, 12)
# pyflakes, which flake8 always runs, recurses on nested expressions: past ~300 levels it fails on
# its own (flake8 then says '"pyflakes[F]" failed during execution'), whatever other plugins do.
FLAKE8_DEPTH = 250


@dataclass
class Case:
    source: str
    encoding: str = "utf-8"
    prefix: bytes = b""
    parses: bool = True  # False: flake8 reports E999 / E902 and calls no plugin
    raw: Optional[bytes] = None  # the exact bytes, when the source cannot be encoded
    flake8_skips: bool = False  # ``# flake8: noqa``: flake8 drops the findings the plugin makes

    def data(self) -> bytes:
        return self.raw if self.raw is not None else self.prefix + self.source.encode(self.encoding)

    def expected(self, by_flake8: bool = True) -> Set[Tuple[int, str]]:
        if not self.parses or (by_flake8 and self.flake8_skips):
            return set()
        found = set()
        for number, line in enumerate(self.source.split("\n"), start=1):  # not splitlines: \f is no newline
            match = _EXPECTED.search(line)
            if match:
                found.update((number, code) for code in match.group(1).split())
        return found


def _deep(depth: int) -> str:
    """Expressions nested ``depth`` levels deep, in every place a check looks."""
    binop = "+".join(["a"] * depth)
    return HEAD + "import lightning as L\n" + textwrap.dedent(
        f"""\
        val_loader = DataLoader({binop}, shuffle=True, sampler={binop})  # LA101
        loader = DataLoader(ds, num_workers={"-" * depth}1)  # not a constant the rule follows: quiet
        x = a{".b" * depth}
        y = f{"(1)" * depth}
        z = {"not " * depth}a
        w = a{"[0]" * depth}
        v = {"lambda: " * depth}1
        u = {"a if b else " * depth}c
        nested = {"[" * 150}val_loader{"]" * 150}
        trainer = L.Trainer()
        trainer.fit(model, val_dataloaders=nested)
        t.to(f"cuda:{{{binop}}}")  # LA202
        t.to(torch.device("cuda", {binop}))  # LA202
        for batch in {"(" * 150}val_loader{")" * 150}:  # LA301 LA302
            model(batch)
        for batch in val_loader:  # LA301 LA302
            net({binop})
        """
    )


JUPYTER = """\
#!/usr/bin/env python
# coding: utf-8

# In[1]:


get_ipython().run_line_magic('matplotlib', 'inline')
import torch
from torch.utils.data import DataLoader


# In[2]:


get_ipython().system('nvidia-smi')
val_loader = DataLoader(val_set, batch_size=64, shuffle=True)  # val_set is not in sight: no LA102  # LA101


# In[ ]:


for images, labels in val_loader:  # LA301 LA302
    outputs = model(images)
"""

PERCENT_CELLS = """\
# %% [markdown]
# # Training
# %%
import torch
from torch.utils.data import DataLoader
# %%
test_dl = DataLoader(test_set, shuffle=True, num_workers=4)  # LA101
# %%
get_ipython().run_cell_magic('time', '', 'train()')
"""

REBINDS_DATALOADER = HEAD + """\
import functools

def build(DataLoader):
    val_loader = DataLoader(ds, shuffle=True)  # a parameter called DataLoader: not torch's

def build_local():
    DataLoader = MyLoader
    return DataLoader(ds, shuffle=True)

for DataLoader in (MyLoader, OtherLoader):
    val_loader = DataLoader(ds, shuffle=True)
"""

REBINDS_DATALOADER_MODULE = HEAD + """\
import functools

DataLoader = functools.partial(DataLoader, num_workers=8)
val_loader = DataLoader(ds)  # the partial has workers: no LA102
"""

SHADOWED_IN_ONE_FUNCTION = HEAD + """\
def build(DataLoader):
    return DataLoader(ds, shuffle=True)

val_loader = DataLoader(ds, shuffle=True)  # LA101 LA102
"""

REBINDS_TORCH = """\
import torch
import lightning as L

class Model(L.LightningModule):
    def helper(self, torch):
        return torch.zeros(1, device="cuda")  # a parameter called torch

    def step(self, x):
        return torch.zeros(1, device="cuda")  # LA202
"""

TORCH_IS_SOMETHING_ELSE = """\
import numpy as torch
import lightning as L

class Model(L.LightningModule):
    def step(self):
        return torch.zeros(1, device="cuda")
"""

REBINDS_NN = """\
import torch
import torch.nn as nn

nn = load_layers()  # no longer torch.nn: Encoder is not known to be a model

class Encoder(nn.Block):
    pass

enc = Encoder()
for batch in test_loader:
    enc(batch)
"""

IMPORTED_TWICE = HEAD + """\
try:
    from lightning.pytorch import Trainer
except ImportError:
    from pytorch_lightning import Trainer  # the same Trainer: still known

def elsewhere():
    from mylib import DataLoader
    return DataLoader(ds, shuffle=True)

trainer = Trainer()
x.cuda()  # LA201
"""

STAR_IMPORTS = """\
import torch
from torch.utils.data import *
from torch import *
val_loader = DataLoader(val_set, shuffle=True)
"""

EXEC_GENERATED = HEAD + """\
exec("val_loader = DataLoader(val_set, shuffle=True)")
exec(compile("test_loader = DataLoader(ds, shuffle=True)", "<generated>", "exec"))
code = "for b in val_loader: model(b)"
exec(code, globals())
globals()["test_loader"] = DataLoader(test_set, shuffle=True)  # LA101 LA102
"""

MATCH_AND_WALRUS = HEAD + """\
match config:
    case {"split": "val", **rest}:
        val_loader = DataLoader(ds, shuffle=True)  # LA101 LA102
    case DataLoader(num_workers=n) if n > 2:
        pass
    case [first, *others]:
        pass
if (test_loader := DataLoader(ds, shuffle=True, num_workers=4)):  # LA101
    pass

async def evaluate(model):
    return [model(b) async for b in val_loader]
"""

PY312_SYNTAX = HEAD + """\
type Loader = DataLoader
type Pair[T] = tuple[T, T]

def make[T](dataset: T, **options) -> Loader:
    return DataLoader(dataset, **options)

class Box[T: (int, str)]:
    val_loader = DataLoader(val_set, shuffle=True)  # LA101 LA102

def first[*Ts, **P](*args: *Ts) -> None:
    test_loader = DataLoader(test_set, shuffle=True, num_workers=2)  # LA101
"""

# Names bound to containers that hold themselves, and devices built from themselves: the checks
# follow single assignments, so each of these once recursed until Python stopped them.
SELF_REFERENCES = HEAD + """\
import lightning as L

a = [b]
b = {"val": a}
c = [c]
d = torch.device(d)
e = torch.device(f, 0)
f = torch.device(e)
opts = dict(**opts)
loader = DataLoader(ds, shuffle=True)  # LA102
unknown = DataLoader(ds, **opts)
trainer = L.Trainer()
trainer.fit(model, val_dataloaders=a)
trainer.validate(model, c)
x.to(d)
x.to(e)
x.to(torch.device("cuda", 1))  # LA202
"""

# Generated code: a hierarchy deeper than Python's stack. Quiet is fine ("don't know"), failing is not.
CLASS_CHAIN = (
    "import torch\nimport lightning as L\n\nclass C0(L.LightningModule):\n    pass\n"
    + "".join(f"class C{i + 1}(C{i}):\n    pass\n" for i in range(1_000))
    + "class Last(C1000):\n    def f(self):\n        return self.cuda()\n"
    + "class Near(C10):\n    def f(self):\n        return self.cuda()  # LA201\n"
)

NON_ASCII = HEAD + """\
val_lödér = DataLoader(ds, shuffle=True)  # LA101 LA102
for x in val_loader:  # LA301 LA302
    модель(x)
    y = model(x)
s = "\\ud800 \\U0001F600 😀"
"""

CASES: Dict[str, Case] = {
    "empty": Case(""),
    "only_comments": Case("# a torch training script\n# import torch\n#\n"),
    "only_a_docstring": Case('"""Trains with torch and lightning."""\n'),
    "torch_only_in_a_string": Case('s = "import torch; DataLoader(ds, shuffle=True)"\n'),
    "bom": Case(HEAD + MISTAKE, prefix=b"\xef\xbb\xbf"),
    "latin1_declared": Case("# -*- coding: latin-1 -*-\n" + HEAD + "name = 'café'\n" + MISTAKE, encoding="latin-1"),
    "shift_jis_declared": Case("# coding: shift_jis\n" + HEAD + "s = 'テスト'\n" + MISTAKE, encoding="shift_jis"),
    # not UTF-8 and no declaration: flake8 falls back to latin-1 and still checks the file
    "invalid_utf8_undeclared": Case(HEAD + "s = 'éÿ'\n" + MISTAKE, encoding="latin-1"),
    "null_byte": Case(HEAD + MISTAKE, raw=(HEAD + "x = 1\0\n" + MISTAKE).encode(), parses=False),
    "crlf": Case(HEAD + MISTAKE, raw=(HEAD + MISTAKE).replace("\n", "\r\n").encode()),
    "cr_only": Case(HEAD + MISTAKE, raw=(HEAD + MISTAKE).replace("\n", "\r").encode()),
    "form_feeds_and_tabs": Case(HEAD + "\f\n" + "if True:\n\tval_dl = DataLoader(ds, shuffle=True)  # LA101 LA102\n"),
    "no_final_newline": Case((HEAD + MISTAKE).rstrip("\n")),
    # sizes keep flake8's own checks (pycodestyle is quadratic on many statements per line) quick
    "long_line": Case(HEAD + "a = 1; " * 3_000 + MISTAKE),
    "long_call": Case(HEAD + "val_loader = DataLoader(ds, " + "".join(f"a{i}=1, " for i in range(5_000))
                      + "shuffle=True)  # LA101 LA102\n"),
    "huge_literals": Case(
        HEAD
        + "blob = '" + "x" * 2_000_000 + "'\n"
        + "numbers = [" + ", ".join(map(str, range(20_000))) + "]\n"
        + "options = {" + ", ".join(f"'k{i}': {i}" for i in range(5_000)) + "}\n"
        + "loader = DataLoader(ds, **options)  # LA102\n"
    ),
    "many_findings": Case(HEAD + "".join(f"val_loader_{i} = DataLoader(ds, shuffle=True)  # LA101 LA102\n"
                                         for i in range(2_000))),
    "deep_nesting": Case(_deep(FLAKE8_DEPTH)),
    "python2": Case('import torch\nprint "training"\n', parses=False),
    "syntax_error": Case(HEAD + "def broken(:\n" + MISTAKE, parses=False),
    "mixed_tabs_and_spaces": Case(HEAD + "if x:\n        a = 1\n\tb = 2\n", parses=False),
    "file_level_noqa": Case("# flake8: noqa\n" + HEAD + MISTAKE, flake8_skips=True),
    "match_and_walrus": Case(MATCH_AND_WALRUS),
    "python312_syntax": Case(PY312_SYNTAX, parses=PY312),
    "rebinds_dataloader": Case(REBINDS_DATALOADER),
    "rebinds_dataloader_at_module_level": Case(REBINDS_DATALOADER_MODULE),
    "shadowed_in_one_function_only": Case(SHADOWED_IN_ONE_FUNCTION),
    "rebinds_torch": Case(REBINDS_TORCH),
    "torch_is_something_else": Case(TORCH_IS_SOMETHING_ELSE),
    "rebinds_nn": Case(REBINDS_NN),
    "imported_twice": Case(IMPORTED_TWICE),
    "star_imports": Case(STAR_IMPORTS),
    "exec_generated": Case(EXEC_GENERATED),
    "jupyter_export": Case(JUPYTER),
    "jupyter_percent_cells": Case(PERCENT_CELLS),
    "non_ascii": Case(NON_ASCII),
    "self_references": Case(SELF_REFERENCES),
    "class_chain": Case(CLASS_CHAIN),
}


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_input")
    for name, case in CASES.items():
        (folder / f"{name}.py").write_bytes(case.data())
    return folder


@pytest.fixture(scope="module")
def flake8_run(case_dir):
    """One real flake8 run over every case, verbose so that contained errors show on stderr."""
    return flake8("--isolated", "--select", "LA,E9", "--jobs", "1", "-v", ".", cwd=case_dir)


def test_flake8_ends_normally_on_all_of_them(flake8_run):
    assert flake8_run.returncode == 1, flake8_run.stderr[-3000:]  # 1: there are findings
    for sign in ("Traceback", "failed during execution", "PluginExecutionFailed", "lightning-advisor:"):
        assert sign not in flake8_run.stderr, flake8_run.stderr[-3000:]


@pytest.mark.parametrize("name", sorted(CASES))
def test_flake8_findings(name, flake8_run):
    case = CASES[name]
    mine = [line for line in flake8_run.stdout.splitlines() if line.startswith(f"./{name}.py:")]
    la = {(line, code) for line, code in reported_findings("\n".join(mine)) if code.startswith("LA")}
    assert la == case.expected()
    syntax_errors = [line for line in mine if re.search(r":\d+:\d+: E9\d\d ", line)]
    assert bool(syntax_errors) == (not case.parses), mine[:5]


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_process_findings_and_no_contained_error(name, case_dir):
    result = sweep.sweep_file(case_dir / f"{name}.py")
    assert result["failures"] == []
    assert ("skipped" in result) == (not CASES[name].parses)
    found = {(line, message.split()[0]) for line, _, message in result["findings"]}
    assert found == CASES[name].expected(by_flake8=False)


def _deepest_parsable(make, start: int = 3000) -> str:
    """The deepest version of a source this interpreter's parser accepts (its limit varies by version)."""
    import ast

    depth = start
    while depth > 200:
        try:
            ast.parse(make(depth))
            return make(depth - 100)  # the parser's limit shrinks as the stack grows: flake8's is deeper
        except (RecursionError, MemoryError, SyntaxError):
            depth -= 100
    pytest.fail("nothing parses")


@pytest.mark.parametrize("shape", ["binop", "attribute", "call", "unary", "subscript", "lambda", "ifexp"])
def test_nesting_to_the_parsers_limit(shape, tmp_path):
    """Past pyflakes' limit and up to Python's own: every check still answers, none fails."""
    atoms = {
        "binop": lambda n: "+".join(["a"] * n),
        "attribute": lambda n: "a" + ".b" * n,
        "call": lambda n: "f" + "(1)" * n,
        "unary": lambda n: "-" * n + "1",
        "subscript": lambda n: "a" + "[0]" * n,
        "lambda": lambda n: "lambda: " * n + "1",
        "ifexp": lambda n: "a if b else " * n + "c",
    }
    atom = atoms[shape]
    places = (
        "val_loader = DataLoader({e}, shuffle={e}, sampler={e}, num_workers={e})\n"
        "DataLoader(ds, **{e})\n"
        "t.to({e})\n"
        "t.to(f'cuda:{{({e})}}')\n"
        "torch.zeros(1, device=torch.device('cuda', {e}))\n"
        "for batch in {e}:\n    model(batch)\n"
        "for batch in val_loader:\n    {e}(batch)\n"
        "with {e}:\n    pass\n"
        "trainer.fit(m, val_dataloaders={e})\n"
        "class A({e}):\n    pass\n"
    )
    path = tmp_path / "deep.py"
    path.write_text(_deepest_parsable(lambda n: HEAD + "import lightning as L\ntrainer = L.Trainer()\n"
                                      + places.format(e=atom(n))))
    result = sweep.sweep_file(path)
    assert "skipped" not in result and result["failures"] == []


def test_beyond_the_parsers_limit_flake8_fails_before_any_plugin(tmp_path):
    """Python itself cannot build the tree; flake8 reports that, never lightning-advisor."""
    (tmp_path / "deeper.py").write_text(HEAD + "x = " + "+".join(["a"] * 100_000) + "\n")
    result = flake8("--isolated", "--select", "LA", "deeper.py", cwd=tmp_path)
    assert "lightning_advisor" not in result.stderr and "lightning-advisor" not in result.stderr


def _newer_python() -> Optional[str]:
    """A Python >= 3.12 on this machine (pyenv's, python3.13, python3.12), to parse PEP 695 syntax."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [str(p) for p in sorted(root.glob("3.1[2-9]*/bin/python"), reverse=True)] if root.is_dir() else []
    candidates += filter(None, (shutil.which(name) for name in ("python3.13", "python3.12")))
    for python in candidates:  # a pyenv shim exists but fails when its version is not selected
        check = subprocess.run([python, "-c", "import sys; assert sys.version_info >= (3, 12)"], capture_output=True)
        if check.returncode == 0:
            return python
    return None


@pytest.mark.skipif(PY312, reason="this interpreter already runs the 3.12 case above")
def test_python312_syntax_under_a_newer_interpreter(case_dir):
    python = _newer_python()
    if python is None:
        pytest.skip("no Python >= 3.12 on this machine")
    script = (
        "import sys, json; sys.path[:0] = sys.argv[1:3]\n"
        "import sweep\n"
        "r = sweep.sweep_file(__import__('pathlib').Path(sys.argv[3]))\n"
        "print(json.dumps([sorted((l, m.split()[0]) for l, _, m in r['findings']), r['failures'], 'skipped' in r]))\n"
    )
    result = subprocess.run(
        [python, "-c", script, str(ROOT / "src"), str(ROOT / "benchmarks"), str(case_dir / "python312_syntax.py")],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    findings, failures, skipped = json.loads(result.stdout)
    assert not skipped and failures == []
    assert {tuple(f) for f in findings} == Case(PY312_SYNTAX).expected()


@pytest.mark.parametrize("name", ["bom", "latin1_declared", "crlf", "cr_only", "deep_nesting", "jupyter_export"])
def test_through_stdin_as_editors_send_it(name, case_dir):
    """Editors pipe the buffer to ``flake8 -``: the same findings as from the file.

    (Not the undeclared non-UTF-8 case: flake8's own stdin reader fails on it before any plugin runs.)
    """
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "LA", "-", "--stdin-display-name", f"{name}.py"],
        input=CASES[name].data(), capture_output=True, cwd=case_dir, timeout=120,
    )
    stdout, stderr = result.stdout.decode(), result.stderr.decode()
    assert result.returncode in (0, 1) and "Traceback" not in stderr, stderr[-2000:]
    assert set(reported_findings(stdout)) == CASES[name].expected()
