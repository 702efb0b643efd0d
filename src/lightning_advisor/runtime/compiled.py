"""Compiled code in the user's model: where the probes step aside, so dynamo compiles what it would alone.

``torch.compile`` guards each graph on the torch function mode stack and on the module hooks it
traces through. A probe's mode or hook seen while compiling gives a graph that the next call without
it cannot reuse (a recompilation), and a frame lookup inside compiled code breaks the graph. So, while
the probes are attached:

* modules whose calls run inside compiled code get no hooks from them: everything below a
  ``torch.compile(module)`` wrapper, below a module whose ``forward`` was compiled (Lightning's
  ``from_compiled`` too), and a module compiled in place with ``module.compile()``, with its own;
* each compiled callable of the model (a compiled ``forward`` or step, an in-place compiled module's
  call, a wrapper's compiled forward) is wrapped so that whatever the probes installed is taken off
  while it runs and put back after. Inside compiled code the wrapper is traced as a plain call.

Everything is put back as it was when the last probe lets go.
"""
from __future__ import annotations

import functools
from typing import Callable, Dict, List, Optional, Set, Tuple

import torch

_STEPS = ("training_step", "validation_step", "test_step", "predict_step")
_CALLABLES = ("forward", *_STEPS, "_compiled_call_impl")
"""Instance attributes where compiled callables of a module live."""

Listener = Tuple[Callable[[], None], Callable[[], None]]  # (pause, resume)


def is_compiled(function: object) -> bool:
    """A callable ``torch.compile`` returned."""
    try:
        return getattr(function, "_torchdynamo_orig_callable", None) is not None
    except Exception:  # a user object whose attribute lookup raises: not compiled code we know
        return False


def _is_wrapper(module: torch.nn.Module) -> bool:
    optimized = getattr(getattr(torch, "_dynamo", None), "OptimizedModule", None)
    return optimized is not None and isinstance(module, optimized)


class CompiledCode:
    """The compiled parts of one model, and the probes that step aside around them."""

    def __init__(self, root: torch.nn.Module) -> None:
        self.root = root
        self.inside: Set[int] = set()
        """``id`` of each module whose calls run inside compiled code."""
        self.steps_compiled = any(is_compiled(vars(root).get(name)) for name in _STEPS)
        """The LightningModule's own steps are compiled: every module runs inside them in a step."""
        self._listeners: List[Listener] = []
        self._paused = 0
        self._wrapped: List[Tuple[torch.nn.Module, str, object]] = []
        below: Set[int] = set()  # strictly below some compiled entry
        for module in root.modules():
            own = vars(module)
            if _is_wrapper(module) or is_compiled(own.get("forward")) or own.get("_compiled_call_impl") is not None:
                below.update(id(m) for m in module.modules() if m is not module)
                if own.get("_compiled_call_impl") is not None:
                    self.inside.add(id(module))  # its whole call, hooks included, is compiled
        self.inside |= below
        for module in root.modules():
            if id(module) in below:
                continue  # only ever reached from compiled code: a wrapper there would be traced
            own = vars(module)
            for name in _CALLABLES:
                original = own.get(name)
                if original is not None and (is_compiled(original) or name == "_compiled_call_impl"):
                    setattr(module, name, self._stepping_aside(original))
                    self._wrapped.append((module, name, original))

    @property
    def present(self) -> bool:
        return bool(self.inside or self._wrapped)

    def _stepping_aside(self, original: Callable) -> Callable:
        code = self

        @functools.wraps(original)
        def call(*args, **kwargs):
            if torch.compiler.is_compiling():
                return original(*args, **kwargs)
            code._pause()
            try:
                return original(*args, **kwargs)
            finally:
                code._resume()

        call.__wrapped_by_lightning_advisor__ = original  # type: ignore[attr-defined]
        return call

    def _pause(self) -> None:
        self._paused += 1
        if self._paused == 1:
            for pause, _ in self._listeners:
                pause()

    def _resume(self) -> None:
        self._paused -= 1
        if self._paused == 0:
            for _, resume in self._listeners:
                resume()

    @property
    def paused(self) -> bool:
        """Compiled code of the model is running now."""
        return self._paused > 0

    def _restore(self) -> None:
        wrapped, self._wrapped = self._wrapped, []
        for module, name, original in reversed(wrapped):
            current = vars(module).get(name)
            if getattr(current, "__wrapped_by_lightning_advisor__", None) is original:
                setattr(module, name, original)


_ATTACHED: Dict[int, CompiledCode] = {}


def attach(
    root: torch.nn.Module,
    pause: Callable[[], None],
    resume: Callable[[], None],
    current: Optional[CompiledCode] = None,
) -> Optional[CompiledCode]:
    """Step aside around ``root``'s compiled code: ``pause()`` as it starts, ``resume()`` as it ends.

    ``current``: what this probe attached to before; kept when it is ``root``'s, let go otherwise.
    None when ``root`` has no compiled code. The same :class:`CompiledCode` serves every probe.
    """
    if current is not None and current.root is root:
        return current
    detach(current, pause)
    if not isinstance(root, torch.nn.Module):
        return None
    code = _ATTACHED.get(id(root))
    if code is None or code.root is not root:
        code = CompiledCode(root)
        if not code.present:
            return None
        _ATTACHED[id(root)] = code
    code._listeners.append((pause, resume))
    return code


def detach(code: Optional[CompiledCode], pause: Callable[[], None]) -> None:
    """The probe whose ``pause`` this is needs no stepping aside any more; the last one out restores."""
    if code is None:
        return
    code._listeners = [listener for listener in code._listeners if listener[0] != pause]
    if not code._listeners:
        code._restore()
        if _ATTACHED.get(id(code.root)) is code:
            del _ATTACHED[id(code.root)]
