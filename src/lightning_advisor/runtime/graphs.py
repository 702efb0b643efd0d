"""LA502 at run time: the LightningModule keeps tensors with their autograd graphs across training steps.

The runtime twin of ``static/graphs.py``. At the end of each training epoch's first batch the probe
notes what the module's own attributes hold (not its parameters, buffers or submodules); at the
epoch's end (the Callback's hook runs before the LightningModule's ``on_train_epoch_end``, which
often clears such lists) it looks again. An attribute is reported when it grew across the steps:

* a list, tuple, deque or dict (also one level into its items: a list of dicts) that holds more tensors
  with a ``grad_fn`` than after the first batch, at least two;
* a tensor whose autograd graph still contains the graph it had after the first batch (``self.total +=
  loss`` chains every step's graph onto the last).

``loss.item()``, ``loss.detach()`` and ``float(loss)`` hold no graph and are never reported; nor is a
list made anew in each step, or an attribute that holds only the last step's output.

The message names the attribute as ``self.<name>``. The loss is named, and the finding placed, the way
the static rule does at the statement that accumulates into that attribute; without one the finding
points at the LightningModule's class and calls the tensor ``loss``. Cost: one look at the module's
attributes after the first batch of each epoch and one at its end.
"""
from __future__ import annotations

import ast
import collections
import inspect
import linecache
from typing import Any, Dict, Iterable, Optional, Tuple

import torch

from lightning_advisor.runtime.frames import Site, class_site
from lightning_advisor.runtime.probe import Probe
from lightning_advisor.runtime.report import Reporter
from lightning_advisor.runtime.static_words import static_findings
from lightning_advisor.static import graphs as static_graphs

_MAX_ITEMS = 10_000  # items of one container looked at
_MAX_NODES = 20_000  # autograd nodes walked to find an earlier step's graph
_CONTAINERS = (list, tuple, collections.deque)
_MODULE_STATE = frozenset(vars(torch.nn.Module()))  # torch's own bookkeeping on every module
_LOSS = "loss"  # the tensor's name when no statement in the class says it

Holding = Tuple[int, Optional[Tuple[str, int]]]  # (tensors with a graph, the identity of a tensor's graph root)


class KeptGraphProbe(Probe):
    """LA502: attributes of the LightningModule that keep more autograd graphs with every training step."""

    codes = ("LA502",)

    def __init__(self, reporter: Reporter) -> None:
        super().__init__(reporter)
        self._first: Optional[Dict[str, Holding]] = None
        self._noting = False  # the next training batch end notes what the attributes hold

    def on_epoch_start(self, trainer, pl_module, stage: str) -> None:
        if stage == "train":
            self._first, self._noting = None, True

    def wants(self, hook: str) -> bool:
        return self._noting  # the epoch's first training batch end only

    def on_batch_end(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        if self._noting and stage == "train":
            self._noting = False
            self.needs_changed()
            self._first = holdings(pl_module)

    def on_epoch_end(self, trainer, pl_module, stage: str) -> None:
        if stage != "train" or self._first is None:
            return
        first, self._first = self._first, None
        for name, value in _attributes(pl_module):
            if _grew(first.get(name), value):
                self._report(pl_module, name)

    def _report(self, pl_module: torch.nn.Module, name: str) -> None:
        target = f"self.{name}"
        site, loss = _accumulation(type(pl_module), target)
        key = f"{type(pl_module).__qualname__}.{name}"
        self.reporter.report("LA502", site=site or class_site(type(pl_module), self.reporter.user_packages),
                             key=key, target=target, loss=loss)


def _attributes(module: torch.nn.Module) -> Iterable[Tuple[str, Any]]:
    """The module's own attributes that may hold tensors: not torch's bookkeeping, parameters or submodules."""
    for name, value in list(vars(module).items()):
        if name not in _MODULE_STATE and isinstance(value, (torch.Tensor, *_CONTAINERS, dict)):
            yield name, value


def holdings(module: torch.nn.Module) -> Dict[str, Holding]:
    """What each of the module's own attributes holds with an autograd graph."""
    found: Dict[str, Holding] = {}
    for name, value in _attributes(module):
        if isinstance(value, torch.Tensor):
            if value.grad_fn is not None:
                found[name] = (1, _identity(value.grad_fn))
        else:
            count = _graphs_in(value)
            if count:
                found[name] = (count, None)
    return found


def _identity(node: Any) -> Tuple[str, int]:
    """An autograd node's identity without holding it: its kind and its place in the thread's sequence.

    Not ``id``: torch makes a node's Python object anew when the last one was freed.
    """
    return node.name(), node._sequence_nr()


def _graphs_in(container: Any, depth: int = 0) -> int:
    items: Iterable[Any] = container.values() if isinstance(container, dict) else container
    count = 0
    for index, item in enumerate(items):
        if index >= _MAX_ITEMS:
            break
        if isinstance(item, torch.Tensor):
            count += item.grad_fn is not None
        elif depth == 0 and isinstance(item, (*_CONTAINERS, dict)):
            count += _graphs_in(item, depth + 1)
    return count


def _grew(first: Optional["Holding"], value: Any) -> bool:
    """``value`` (at the epoch's end) holds more graphs than ``first`` (after its first batch)."""
    if isinstance(value, torch.Tensor):
        node = value.grad_fn
        if node is None or first is None or first[1] is None or _identity(node) == first[1]:
            return False
        return _contains(node, first[1])  # self.total += loss: every step's graph hangs on the first one
    before = first[0] if first is not None and first[1] is None else 0
    count = _graphs_in(value)
    return count >= 2 and count > before


def _contains(root: Any, wanted: Tuple[int, int]) -> bool:
    """The graph below ``root`` holds the node ``wanted`` (walked up to a bound: unsure is no)."""
    seen = set()
    stack = [root]
    while stack and len(seen) < _MAX_NODES:
        node = stack.pop()
        if node is None:
            continue
        identity = _identity(node)
        if identity == wanted:
            return True
        if identity in seen:
            continue
        seen.add(identity)
        stack.extend(child for child, _ in node.next_functions)
    return False


def _accumulation(cls: type, target: str) -> Tuple[Optional[Site], str]:
    """Where the class accumulates into ``target``, and the name it accumulates: the static rule's, else any."""
    try:
        filename = inspect.getsourcefile(cls)
        _, first_line = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None, _LOSS
    if not filename:
        return None, _LOSS
    for line, _, fields in static_findings(static_graphs.CHECK, filename):
        if fields.get("target") == target:
            return (filename, line), str(fields["loss"])
    tree = _class_tree(filename, first_line)
    for method in (tree.body if tree is not None else ()):
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for statement, name, kept in static_graphs._kept_in_self(method):
                if kept == target:
                    return (filename, statement.lineno), name
    return None, _LOSS


def _class_tree(filename: str, first_line: int) -> Optional[ast.ClassDef]:
    try:
        tree = ast.parse("".join(linecache.getlines(filename)), filename)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and (node.decorator_list[0].lineno if node.decorator_list
                                               else node.lineno) == first_line:
            return node
    return None
