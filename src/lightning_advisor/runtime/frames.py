"""Find the user's line behind a call that a runtime check intercepted deep inside torch.

A frame is *library* code when it runs torch, Lightning, this package, the standard
library or another package installed into site-packages; the first frame that is
not is the user's. The user's own packages (those defining the LightningModule, the
DataModule and their callbacks) are user code wherever they are installed: a project
installed with ``pip install .`` lives in site-packages too.

Checks also look at which library frames lie between the interception and the user's
frame: a ``Tensor.to`` reached through Lightning's batch transfer is Lightning's doing,
one reached through ``nn.Module._apply`` is the user's.
"""
from __future__ import annotations

import ast
import functools
import inspect
import itertools
import linecache
import os
import site
import sys
import sysconfig
from types import FrameType
from typing import FrozenSet, List, Optional, Tuple

from lightning_advisor.syntax import dotted_name
from lightning_advisor.vocabulary import LIBRARY_PACKAGES, top_package

Site = Tuple[str, int]
"""``(filename, line)`` of the user's code."""


def _library_dirs() -> Tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths.get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    try:
        dirs.update(site.getsitepackages())
        dirs.add(site.getusersitepackages())
    except AttributeError:  # old virtualenv's site module lacks these
        pass
    found = set()
    for path in filter(None, dirs):
        found.add(os.path.join(os.path.normcase(path), ""))
        found.add(os.path.join(os.path.normcase(os.path.realpath(path)), ""))
    return tuple(sorted(found))


_LIBRARY_DIRS = _library_dirs()
_THIS_PACKAGE = top_package(__name__)


@functools.lru_cache(maxsize=4096)  # one entry per source file the run executes
def _is_library(filename: str, module: str) -> bool:
    if top_package(module) in LIBRARY_PACKAGES:
        return True
    if filename.startswith("<"):  # <frozen ...>, <string>; IPython's old cell names are the user's
        return not filename.startswith("<ipython-input")
    path = os.path.normcase(filename)
    if f"{os.sep}site-packages{os.sep}" in path or f"{os.sep}dist-packages{os.sep}" in path:
        return True
    return path.startswith(_LIBRARY_DIRS)


def user_packages(*objects: object) -> FrozenSet[str]:
    """The top-level packages the classes of ``objects`` (and their bases) come from, libraries left out."""
    found = set()
    for obj in objects:
        for cls in type(obj).__mro__:
            top = top_package(cls.__module__ or "")
            if top and top not in LIBRARY_PACKAGES and top not in ("builtins", "__main__"):
                found.add(top)
    return frozenset(found)


def is_library_frame(frame: FrameType, user: FrozenSet[str] = frozenset()) -> bool:
    """Whether ``frame`` runs library code: torch, Lightning, stdlib, this package, or site-packages
    outside the ``user`` packages."""
    module = str(frame.f_globals.get("__name__") or "")
    if user and top_package(module) in user:
        return False
    return _is_library(frame.f_code.co_filename, module)


def find_user_frame(
    frame: Optional[FrameType], user: FrozenSet[str] = frozenset()
) -> Tuple[Optional[FrameType], List[str]]:
    """The first user frame from ``frame`` outwards, and the modules of the library frames before it.

    ``frame`` itself counts: pass the frame that made the intercepted call. ``user``: the user's own
    top-level packages, user code even where installed (:func:`user_packages`).
    """
    skipped: List[str] = []
    while frame is not None and is_library_frame(frame, user):
        skipped.append(str(frame.f_globals.get("__name__") or frame.f_code.co_filename))
        frame = frame.f_back
    return frame, skipped


def site_of(frame: FrameType) -> Site:
    """``(filename, line)`` of the statement ``frame`` is executing."""
    return frame.f_code.co_filename, frame.f_lineno


def call_source(frame: FrameType) -> Optional[str]:
    """The source text of the call ``frame`` is executing: ``model.to("cuda")``, not the whole line.

    On Python 3.11+ the instruction positions give the exact expression, also across lines;
    before that (or when they are missing) this is the whole line. ``None`` without source.
    """
    filename = frame.f_code.co_filename
    lines = linecache.getlines(filename, frame.f_globals)
    if not lines:
        return None
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is not None and frame.f_lasti >= 0:
        try:
            start, end, col, end_col = next(itertools.islice(positions(), frame.f_lasti // 2, None))
        except (StopIteration, ValueError):
            start = None
        if None not in (start, end, col, end_col) and end <= len(lines):
            # columns are UTF-8 byte offsets
            chunk = [line.encode("utf-8") for line in lines[start - 1:end]]
            if len(chunk) == 1:
                text = chunk[0][col:end_col]
            else:
                text = chunk[0][col:] + b"".join(chunk[1:-1]) + chunk[-1][:end_col]
            return text.decode("utf-8", errors="replace")
    lineno = frame.f_lineno
    return lines[lineno - 1] if 0 < lineno <= len(lines) else None


def parse_source(text: str) -> Optional[ast.AST]:
    """``text`` parsed as an expression, else as statements (a whole line); ``None`` if neither works."""
    text = text.strip()
    for mode in ("eval", "exec"):
        try:
            return ast.parse(text, mode=mode)
        except SyntaxError:
            continue
    return None


def called_model(frame: FrameType) -> Optional[str]:
    """The callee of the call ``frame`` is executing, as the user wrote it: ``self``, ``model.encoder``.

    ``model.forward(x)`` gives ``model``, like the static rules. ``None`` when the call is not a plain
    (dotted) name or its exact expression is unknown.
    """
    text = call_source(frame)
    tree = parse_source(text) if text else None
    if not (isinstance(tree, ast.Expression) and isinstance(tree.body, ast.Call)):
        return None
    func = tree.body.func
    if isinstance(func, ast.Attribute) and func.attr == "forward":
        func = func.value
    return dotted_name(func)


def library_modules(skipped: List[str]) -> List[str]:
    """``skipped`` without this package's own frames, which always sit at the interception."""
    return [name for name in skipped if top_package(name) != _THIS_PACKAGE]


def user_site(frame: Optional[FrameType], user: FrozenSet[str] = frozenset()) -> Optional[Site]:
    """The site of the first user frame from ``frame`` outwards; None when there is none."""
    found, _ = find_user_frame(frame, user)
    return site_of(found) if found is not None else None


def class_site(cls: type, user: FrozenSet[str] = frozenset()) -> Optional[Site]:
    """Where the user's class ``cls`` is defined (``class LitModel(...)``); None for a library's class.

    Where a finding has no line of its own and no user frame is on the stack (a process that
    ``ddp_spawn`` started runs no line of the user's script), it points here.
    """
    module = sys.modules.get(cls.__module__)
    filename = getattr(module, "__file__", None)
    if not filename or _is_library(filename, cls.__module__) and top_package(cls.__module__) not in user:
        return None
    try:
        _, line = inspect.getsourcelines(cls)
    except (OSError, TypeError):
        return None
    return filename, line


__all__ = [
    "Site",
    "call_source",
    "class_site",
    "called_model",
    "find_user_frame",
    "is_library_frame",
    "library_modules",
    "parse_source",
    "site_of",
    "user_packages",
    "user_site",
]
