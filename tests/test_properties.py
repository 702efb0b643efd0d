"""Property-based tests of the DataLoader rules (LA101, LA102) and of the plugin as a whole.

hypothesis writes DataLoader calls with random keyword sets, literal and non-literal values, import
aliases and target names; the tests check what must hold for every one of them. The plugin runs
in-process on the parsed source, as flake8 would run it.
"""
from __future__ import annotations

import ast
import logging
from typing import Dict, List, Optional, Set, Tuple

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from lightning_advisor.catalog import RULES
from lightning_advisor.static.base import Options
from rulebook import lint

PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# How the module gets at torch's DataLoader: (import lines, the expression that names it).
ALIASES = {
    "name": ("from torch.utils.data import DataLoader", "DataLoader"),
    "alias": ("from torch.utils.data import DataLoader as DL", "DL"),
    "module alias": ("import torch.utils.data as tud", "tud.DataLoader"),
    "submodule": ("from torch.utils import data", "data.DataLoader"),
    "full path": ("import torch.utils.data", "torch.utils.data.DataLoader"),
    "defining module": ("from torch.utils.data.dataloader import DataLoader", "DataLoader"),
}
TARGETS = ["val_loader", "test_dl", "valid_data_loader", "loader", "train_loader", "trainval_loader", None]
DATASETS = [
    "val_set", "train_set", "ds", "MNIST(root, train=False)", "TensorDataset(x, y)", "self.test_data",
    "torch.utils.data.Subset(MNIST(root), idx)", "Folder(root, transform=augment)",
]
# Datasets in sight whose items cost work to fetch: the only ones LA102 speaks about.
LOADING = {"MNIST(root, train=False)", "torch.utils.data.Subset(MNIST(root), idx)", "Folder(root, transform=augment)"}
# Values for a keyword: a literal, or code whose value the linter cannot know.
LITERALS = {
    "batch_size": [1, 32, 256],
    "shuffle": [True, False],
    "num_workers": [0, 1, 2, 4, 16],
    "pin_memory": [True, False],
    "drop_last": [True, False],
    "persistent_workers": [True, False],
}
NON_LITERALS = ["args.value", "cfg['value']", "get_value()", "os.cpu_count()", "n_value if fast else 1", "-n"]
SAMPLERS = ["RandomSampler(ds)", "SequentialSampler(ds)", "sampler", "DistributedSampler(ds, shuffle=False)"]


def run_plugin(source: str, min_workers: int = 2) -> List[Tuple[int, int, str]]:
    """(line, 1-based column, code) of each finding."""
    return [(f.line, f.column, f.code) for f in lint(source, options=Options(min_workers=min_workers), dedent=False)]


@st.composite
def keyword_values(draw, name: str) -> Tuple[str, bool]:
    """(source of the value, whether it is a literal the linter can read)."""
    if name == "sampler":
        return draw(st.sampled_from(SAMPLERS)), False
    if draw(st.booleans()):
        return repr(draw(st.sampled_from(LITERALS[name]))), True
    return draw(st.sampled_from(NON_LITERALS)).replace("value", name), False


@st.composite
def loader_calls(draw) -> Dict[str, object]:
    names = draw(st.lists(st.sampled_from(sorted(LITERALS) + ["sampler"]), unique=True, max_size=5))
    keywords = {}
    for name in names:
        keywords[name] = draw(keyword_values(name))
    return {
        "alias": draw(st.sampled_from(sorted(ALIASES))),
        "target": draw(st.sampled_from(TARGETS)),
        "dataset": draw(st.sampled_from(DATASETS)),
        "keywords": keywords,
        "bind_literals": draw(st.booleans()),  # pass literals through a name bound once: ``workers = 4``
        "opaque_kwargs": draw(st.booleans()) and draw(st.booleans()),  # ``**options`` from elsewhere
    }


def render(call: Dict[str, object], extra: Optional[Dict[str, str]] = None, func: Optional[str] = None) -> str:
    """A small module with the call on its last line."""
    imports, name = ALIASES[call["alias"]]
    lines = ["import os", "import torch", imports,
             "from torch.utils.data import RandomSampler, SequentialSampler, DistributedSampler, TensorDataset",
             "from torchvision.datasets import MNIST"]
    arguments = [call["dataset"]]
    for keyword, (value, literal) in {**call["keywords"], **(extra or {})}.items():
        if literal and call["bind_literals"]:
            lines.append(f"{keyword}_value = {value}")
            value = f"{keyword}_value"
        arguments.append(f"{keyword}={value}")
    if call["opaque_kwargs"]:
        arguments.append("**options")
    expression = f"{func or name}({', '.join(arguments)})"
    lines.append(f"{call['target']} = {expression}" if call["target"] else expression)
    return "\n".join(lines) + "\n"


def codes(findings) -> Set[str]:
    return {code for _, _, code in findings}


@pytest.fixture
def no_contained_errors(caplog):
    caplog.set_level(logging.WARNING, logger="flake8.lightning_advisor")
    yield
    assert "lightning-advisor" not in caplog.text


@PROPERTY_SETTINGS
@given(loader_calls())
def test_findings_sit_on_the_call_and_only_say_la101_or_la102(no_contained_errors, call):
    source = render(call)
    last = source.count("\n")
    column = (len(f"{call['target']} = ") if call["target"] else 0) + 1
    for line, col, code in run_plugin(source):
        assert (line, col, code in ("LA101", "LA102")) == (last, column, True)


@PROPERTY_SETTINGS
@given(loader_calls(), st.sampled_from(NON_LITERALS), st.integers(min_value=0, max_value=16))
def test_a_worker_count_the_linter_cannot_read_is_never_reported(no_contained_errors, call, workers, minimum):
    call["keywords"]["num_workers"] = (workers.replace("value", "workers"), False)
    assert "LA102" not in codes(run_plugin(render(call), minimum))


@PROPERTY_SETTINGS
@given(loader_calls(), st.integers(min_value=0, max_value=16))
def test_la102_exactly_when_few_known_workers_read_a_dataset_that_loads(no_contained_errors, call, minimum):
    value, literal = call["keywords"].get("num_workers", ("0", True))
    assume(literal and not call["opaque_kwargs"])
    expected = int(value) < minimum and call["dataset"] in LOADING
    assert ("LA102" in codes(run_plugin(render(call), minimum))) == expected


@PROPERTY_SETTINGS
@given(loader_calls(), st.integers(min_value=0, max_value=8), st.integers(min_value=0, max_value=8))
def test_a_higher_minimum_never_removes_la102(no_contained_errors, call, low, extra):
    source = render(call)
    if "LA102" in codes(run_plugin(source, low)):
        assert "LA102" in codes(run_plugin(source, low + extra))


@PROPERTY_SETTINGS
@given(loader_calls())
def test_adding_shuffle_false_never_creates_a_finding(no_contained_errors, call):
    assume("shuffle" not in call["keywords"])
    before = {(col, code) for _, col, code in run_plugin(render(call))}  # the call is the last line
    after = {(col, code) for _, col, code in run_plugin(render(call, extra={"shuffle": ("False", True)}))}
    assert after <= before


@PROPERTY_SETTINGS
@given(loader_calls())
def test_la101_needs_shuffle_true_or_a_shuffling_sampler_and_an_evaluation_split(no_contained_errors, call):
    found = codes(run_plugin(render(call)))
    if "LA101" not in found:
        return
    shuffle = call["keywords"].get("shuffle")
    sampler = call["keywords"].get("sampler", ("", False))[0]
    assert shuffle == ("True", True) or sampler == "RandomSampler(ds)"
    assert call["target"] not in ("train_loader", "trainval_loader")


@PROPERTY_SETTINGS
@given(loader_calls())
def test_every_way_of_importing_dataloader_gives_the_same_findings(no_contained_errors, call):
    results = set()
    for alias in ALIASES:
        findings = run_plugin(render(dict(call, alias=alias)))
        results.add(tuple(sorted((line, code) for line, _, code in findings)))
    assert len(results) == 1


@PROPERTY_SETTINGS
@given(loader_calls(), st.sampled_from(["MyLoader", "loaders.DataLoader", "DataLoaderX"]))
def test_a_loader_that_is_not_torchs_is_never_reported(no_contained_errors, call, func):
    assert run_plugin(render(call, func=func)) == []


@PROPERTY_SETTINGS
@given(loader_calls(), st.sampled_from([
    "DataLoader = functools.partial(DataLoader, num_workers=8)",
    "def DataLoader(*args, **kwargs):\n    return make_loader(*args, **kwargs)",
    "from mylib import DataLoader",
]))
def test_a_rebound_dataloader_is_never_reported(no_contained_errors, call, rebinding):
    call = dict(call, alias="name")
    lines = render(call).splitlines()
    lines.insert(-1, "import functools\n" + rebinding)
    assert run_plugin("\n".join(lines) + "\n") == []


@PROPERTY_SETTINGS
@given(loader_calls())
def test_the_same_source_gives_the_same_findings(no_contained_errors, call):
    source = render(call)
    assert run_plugin(source) == run_plugin(source)


# -- the plugin as a whole, on random arrangements of training-code statements ------------------

STATEMENTS = [
    "val_loader = DataLoader(val_set, shuffle=True)",
    "train_loader = DataLoader(train_set, shuffle=True, num_workers=workers)",
    "loader = DataLoader(ds, sampler=RandomSampler(ds), **options)",
    "model = Net().cuda()",
    "x = x.to('cuda')",
    "y = torch.zeros(3, device=f'cuda:{rank}')",
    "model.eval()",
    "model.train()",
    "loss.backward()",
    "optimizer.step()",
    "out = model(batch)",
    "out = self(batch)",
    "self.log('loss', loss)",
    "trainer.fit(model, val_dataloaders=val_loader)",
    "trainer.validate(model, [loader, val_loader])",
    "workers = os.cpu_count()",
    "DataLoader = DataLoader",
    "torch = torch",
    "return DataLoader(ds, shuffle=True)",
    "pass",
]
HEADERS = [
    "for batch in val_loader:",
    "for i, (x, y) in enumerate(test_loader):",
    "with torch.no_grad():",
    "with torch.inference_mode():",
    "with evaluating(model):",
    "def val_dataloader(self):",
    "def validation_step(self, batch, batch_idx):",
    "def helper(model, loader):",
    "@torch.no_grad()\ndef evaluate(model):",
    "class Model(L.LightningModule):",
    "class Data(pl.LightningDataModule):",
    "class Net(nn.Module):",
    "if fast:",
    "try:",
    "async def serve():",
    "while True:",
]
PRELUDE = (
    "import os\nimport torch\nimport torch.nn as nn\nimport lightning as L\nimport pytorch_lightning as pl\n"
    "from torch.utils.data import DataLoader, RandomSampler\ntrainer = L.Trainer()\n"
)


@st.composite
def blocks(draw, depth: int = 0) -> List[str]:
    """Statements, some nested under loops, ``with`` blocks, functions and classes."""
    lines: List[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if depth < 4 and draw(st.booleans()):
            header = draw(st.sampled_from(HEADERS))
            body = draw(blocks(depth + 1))
            lines.extend(header.splitlines())
            lines.extend("    " + line for line in body)
            if header == "try:":
                lines.append("except Exception:")
                lines.append("    pass")
        else:
            lines.append(draw(st.sampled_from(STATEMENTS)))
    return lines


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blocks())
def test_random_training_code_never_makes_the_plugin_fail(no_contained_errors, body):
    source = PRELUDE + "\n".join(body) + "\n"
    try:
        ast.parse(source)
    except SyntaxError:  # ``await`` outside ``async def`` and the like
        assume(False)
    prelude_lines = PRELUDE.count("\n")
    for line, col, code in run_plugin(source):
        assert line > prelude_lines and col >= 0 and code in RULES
