"""One torch function mode for every probe that watches torch calls: devices, functional dropout, losses.

A :class:`~torch.overrides.TorchFunctionMode` on the stack puts every torch call on a slower path,
and dynamo guards compiled code on the mode stack. So the probes do not push a mode each: they open
and close their windows on the one :data:`WATCHER`, which keeps a single mode on the stack while any
window is open and none when all are shut, and takes it off while the model's compiled code runs
(see :mod:`lightning_advisor.runtime.compiled`). Each probe names the torch functions (and the
keyword arguments) it wants to see; the mode looks the function up in one table and hands the call,
with the frame that made it, to those probes only, before the call runs unchanged.

The mode stack is per thread: the windows are opened and shut by the Callback's hooks, on the thread
that runs the Trainer.
"""
from __future__ import annotations

import ast
import itertools
import sys
from types import FrameType
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

import torch
from torch.overrides import TorchFunctionMode

from lightning_advisor.runtime import compiled
from lightning_advisor.runtime.frames import Site, call_source, find_user_frame, library_modules, parse_source
from lightning_advisor.runtime.probe import Probe
from lightning_advisor.runtime.report import Reporter
from lightning_advisor.syntax import last_name

Inspect = Callable[[Any, tuple, dict, FrameType], None]
"""``inspect(func, args, kwargs, frame)``: a probe's look at one call; it contains its own errors."""


class _Listener:
    __slots__ = ("functions", "keywords", "inspect", "fail")

    def __init__(self, functions: Iterable[Any], keywords: Iterable[str], inspect: Inspect,
                 fail: Callable[[BaseException], None]) -> None:
        self.functions = tuple(functions)
        self.keywords = tuple(keywords)
        self.inspect = inspect
        self.fail = fail


class _Mode(TorchFunctionMode):
    """Shows the watched calls to the probes that asked for them; runs every call unchanged."""

    def __init__(self, watcher: "TorchCallWatcher") -> None:
        super().__init__()
        self._watcher = watcher

    def __torch_function__(self, func, types, args=(), kwargs=None):
        # an error in the user's call passes through this frame: tracebacks that honour the
        # convention (pytest's, IPython's and so Jupyter's) leave it out
        __tracebackhide__ = True  # noqa: F841
        if kwargs is None:
            kwargs = {}
        watcher = self._watcher
        try:
            inspects = watcher._by_function.get(func, ())
        except TypeError:  # an unhashable callable: nobody watches it
            inspects = ()
        for keyword, more in watcher._by_keyword:
            if keyword in kwargs:
                inspects = inspects + tuple(i for i in more if i not in inspects)
        if inspects:
            frame = sys._getframe(1)
            for inspect in inspects:
                inspect(func, args, kwargs, frame)
        return func(*args, **kwargs)


class TorchCallWatcher:
    """The shared mode and the probes' open windows on it."""

    def __init__(self) -> None:
        self._open: Dict[object, _Listener] = {}  # owner (a probe) -> what it watches, while its window is open
        self._following: Set[object] = set()  # owners that asked to step aside around a model's compiled code
        self._by_function: Dict[Any, Tuple[Inspect, ...]] = {}
        self._by_keyword: Tuple[Tuple[str, Tuple[Inspect, ...]], ...] = ()
        self._mode: Optional[_Mode] = None
        self._paused_mode: Optional[_Mode] = None  # taken off while the model's compiled code runs
        self._compiled: Optional[compiled.CompiledCode] = None

    @property
    def installed(self) -> bool:
        """The mode is on the stack, or would be but for compiled code running now."""
        return self._mode is not None

    def is_open(self, owner: object) -> bool:
        return owner in self._open

    def open(self, owner: object, functions: Iterable[Any], inspect: Inspect,
             fail: Callable[[BaseException], None], keywords: Iterable[str] = ()) -> None:
        """``owner`` sees calls of ``functions`` (and calls passing one of ``keywords``) until :meth:`close`."""
        if owner in self._open:
            return
        self._open[owner] = _Listener(functions, keywords, inspect, fail)
        self._sync()

    def close(self, owner: object) -> None:
        if self._open.pop(owner, None) is not None:
            self._sync()

    def follow(self, owner: object, root: Any) -> None:
        """Step aside around ``root``'s compiled code (the LightningModule of the run)."""
        self._following.add(owner)
        self._compiled = compiled.attach(root, self._pause, self._resume, self._compiled)

    def release(self, owner: object) -> None:
        """``owner`` is done (its teardown): its window shuts; the last one out lets go of compiled code."""
        self._following.discard(owner)
        try:
            self.close(owner)
        finally:
            if not self._following and not self._open:
                compiled.detach(self._compiled, self._pause)
                self._compiled = None

    # -- the mode on the stack -----------------------------------------------------------------

    def _sync(self) -> None:
        by_function: Dict[Any, Tuple[Inspect, ...]] = {}
        by_keyword: Dict[str, Tuple[Inspect, ...]] = {}
        for listener in self._open.values():
            for function in listener.functions:
                by_function[function] = by_function.get(function, ()) + (listener.inspect,)
            for keyword in listener.keywords:
                by_keyword[keyword] = by_keyword.get(keyword, ()) + (listener.inspect,)
        self._by_function, self._by_keyword = by_function, tuple(by_keyword.items())
        try:
            if self._open:
                if self._mode is None:
                    mode = _Mode(self)
                    mode.__enter__()
                    self._mode = mode
            else:
                self._uninstall()
        except BaseException:
            self._open.clear()
            self._by_function, self._by_keyword = {}, ()
            self._uninstall()
            raise

    def _uninstall(self) -> None:
        mode, self._mode = self._mode, None
        if mode is not None and self._paused_mode is not mode:
            remove_function_mode(mode)

    def _pause(self) -> None:
        """The model's compiled code starts: no mode of ours on the stack for dynamo to guard on."""
        try:
            if self._mode is not None and self._paused_mode is None:
                remove_function_mode(self._mode)
                self._paused_mode = self._mode
        except Exception as error:  # inside the user's call: contain it
            self._broken(error)

    def _resume(self) -> None:
        mode, self._paused_mode = self._paused_mode, None
        try:
            if mode is not None and mode is self._mode:
                torch._C._push_on_torch_function_stack(mode)
        except Exception as error:
            self._broken(error)

    def _broken(self, error: BaseException) -> None:
        """The stack could not be changed: every open window shuts, and its probe says it failed."""
        listeners: List[_Listener] = list(self._open.values())
        self._open.clear()
        self._by_function, self._by_keyword = {}, ()
        self._mode = self._paused_mode = None
        for listener in listeners:
            listener.fail(error)


WATCHER = TorchCallWatcher()
"""The one watcher of this process."""

WATCHED_BATCHES = 3
"""Batches watched at the start of each stage by the window probes (devices, dropout, losses)."""

Verdict = Tuple[str, Optional[Site], Dict[str, object]]  # (code, the user's line, message fields)


class WindowProbe(Probe):
    """A probe that watches torch calls while one of its windows is open: from where a window opens (a
    stage's start hooks, for most) through the first ``batches`` batches of that stage.

    Subclasses open a window by adding its name to ``_open`` and calling :meth:`_sync`, and say what
    watching is (:meth:`_watch`, undone by :meth:`_unwatch`). Batches cost them nothing once every window
    has shut (:meth:`wants`).

    Args:
        reporter: where findings go.
        batches: how many batches of each stage to watch after its start hooks.
    """

    def __init__(self, reporter: Reporter, batches: int = WATCHED_BATCHES) -> None:
        super().__init__(reporter)
        if batches < 0:
            raise ValueError(f"batches must be >= 0, got {batches}")
        self.batches = batches
        self._open: Set[str] = set()  # windows open now: stages, or the moments before them
        self._failed = False

    def wants(self, hook: str) -> bool:
        return bool(self._open)  # batches matter only while a window is open

    def on_batch_start(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        if batch_idx >= self.batches:
            self._close(stage)

    def on_batch_end(self, trainer, pl_module, stage: str, batch_idx: int, dataloader_idx: int = 0) -> None:
        if batch_idx + 1 >= self.batches:
            self._close(stage)

    def on_stage_end(self, trainer, pl_module, stage: str) -> None:
        self._close(stage)

    def teardown(self) -> None:
        self._open.clear()
        try:
            self._unwatch()
        finally:
            WATCHER.release(self)

    def _watch(self) -> None:
        """Start watching (again): the windows' calls reach this probe."""
        raise NotImplementedError

    def _unwatch(self) -> None:
        WATCHER.close(self)

    def _fail_inside(self, error: BaseException) -> None:
        """Failed inside the user's call: contained, said once, and this check is off."""
        self._failed = True
        self.fail(error)

    def _close(self, window: str) -> None:
        if window in self._open:
            self._open.discard(window)
            self._sync()

    def _sync(self) -> None:
        try:
            if self._open and not self._failed:
                self._watch()
            else:
                self._unwatch()
        except BaseException:
            self._unwatch()
            raise
        finally:
            self.needs_changed()


class CallWindowProbe(WindowProbe):
    """A probe that looks at some torch calls from the start of each of its stages through their first batches.

    Subclasses set :attr:`stages` and :attr:`functions` and implement :meth:`examine`.
    """

    stages: FrozenSet[str] = frozenset()
    functions: Tuple[Any, ...] = ()

    def on_stage_start(self, trainer, pl_module, stage: str) -> None:
        if stage in self.stages and self.batches:
            WATCHER.follow(self, pl_module)
            self._open.add(stage)
            self._sync()

    def examine(self, func: Any, args: tuple, kwargs: dict, frame: FrameType) -> Optional[Verdict]:
        """The finding one watched call makes, if any; runs inside the user's call, before it."""
        raise NotImplementedError

    def _watch(self) -> None:
        WATCHER.open(self, self.functions, self._look, self._fail_inside)

    def _look(self, func: Any, args: tuple, kwargs: dict, frame: FrameType) -> None:
        if self._failed:
            return
        try:
            verdict = self.examine(func, args, kwargs, frame)
        except Exception as error:  # a broken check must not break the user's call
            self._fail_inside(error)
            return
        if verdict is not None:
            code, site, fields = verdict
            self.reporter.report(code, site=site, **fields)

    def _fail_inside(self, error: BaseException) -> None:
        """Failed inside the user's call: contained, said once, and this check's window shuts."""
        WATCHER.close(self)
        super()._fail_inside(error)


DISPATCH_MODULES = frozenset({
    "torch.overrides",
    # torch function modes that pass calls along: `with torch.device(...)`, and Lightning's init and
    # precision contexts around configure_model()
    "torch.utils._device",
    "lightning.fabric.utilities.init",
    "lightning_fabric.utilities.init",
    "lightning.fabric.plugins.precision.utils",
    "lightning_fabric.plugins.precision.utils",
})
"""Library frames that may lie between a user's torch call and the mode: torch's dispatch, other modes."""


def user_caller(frame: FrameType, user: FrozenSet[str], through: FrozenSet[str]) -> Optional[FrameType]:
    """The user's frame that made the watched call, when only ``through`` (and dispatch) frames lie between.

    None when the call came from elsewhere: Lightning, another library, ``nn.Dropout``'s own forward.
    """
    found, skipped = find_user_frame(frame, user)
    if found is None or not set(library_modules(skipped)) <= through | DISPATCH_MODULES:
        return None
    return found


def call_at(frame: FrameType, names: Iterable[str]) -> Optional[ast.Call]:
    """The call expression ``frame`` is executing, parsed; None when it cannot be told.

    Python 3.11+ gives the exact expression. Else (a whole line) the one call on it whose function's
    last name is in ``names``.
    """
    text = call_source(frame)
    tree = parse_source(text) if text else None
    if isinstance(tree, ast.Expression) and isinstance(tree.body, ast.Call):
        return tree.body
    if tree is None:
        return None
    wanted = set(names)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and last_name(node.func) in wanted]
    return calls[0] if len(calls) == 1 else None


def remove_function_mode(mode: TorchFunctionMode) -> None:
    """Take ``mode`` off this thread's torch function mode stack, wherever it sits in it."""
    above = []
    try:
        while torch._C._len_torch_function_stack() > 0:
            top = torch._C._pop_torch_function_stack()
            if top is mode:
                break
            above.append(top)
    finally:
        for other in reversed(above):
            torch._C._push_on_torch_function_stack(other)


def call_position(frame: FrameType) -> Tuple[int, Optional[int]]:
    """Line and column (UTF-8 bytes, as ``ast`` counts) where the call ``frame`` is executing starts.

    The column is None before Python 3.11, which records lines only.
    """
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is not None and frame.f_lasti >= 0:
        try:
            start, _, column, _ = next(itertools.islice(positions(), frame.f_lasti // 2, None))
        except (StopIteration, ValueError):
            start = column = None
        if start is not None and column is not None:
            return start, column
    return frame.f_lineno, None
