"""Fixes for Lightning 1.x code: LA403 (safe), LA404 and LA402 (unsafe).

* LA403: an import of a module or name that moved unchanged (``pytorch_lightning.core.lightning``)
  imports from where it lives now. Names that were renamed or removed are left to the user.
* LA404: a step's returned ``{"loss": ..., "log": {...}, "progress_bar": {...}}`` becomes
  ``self.log_dict(...)`` calls and the return of what is left (the loss alone in ``training_step``).
* LA405: ``parser = Trainer.add_argparse_args(parser)`` is deleted and ``Trainer.from_argparse_args(args, **kw)``
  becomes ``Trainer(**kw)``: the program runs, and a Trainer option given on its command line is an error
  (argparse names it) instead of a silently different run. LightningCLI is the full replacement.
* LA402: ``validation_epoch_end(self, outputs)`` / ``test_epoch_end`` become ``on_*_epoch_end(self)``:
  the step appends what it returns to ``self.<stage>_step_outputs`` (made empty in ``__init__``), the hook
  reads that list as ``outputs``, logs what its returned dict asked to log, and empties the list.

Unsafe fixes restructure code: they keep what the 1.x program meant, which 2.x may run differently
(``self.log`` in a validation step averages over the epoch). Each fix is refused when the code does not
have the one shape it knows.
"""
from __future__ import annotations

import ast
import re
from typing import Dict, List, Optional, Sequence, Set, Tuple

from lightning_advisor.fixes.edits import Edit, Fix, Source, insert, replace
from lightning_advisor.removed_api import logging_keys, moved_import
from lightning_advisor.static.base import Diagnostic
from lightning_advisor.static.context import FunctionNode, ModuleContext
from lightning_advisor.static.migration import dict_keys, logging_returns
from lightning_advisor.syntax import returns_of
from lightning_advisor.vocabulary import MODULE

_EPOCH_END_STEPS = {"validation_epoch_end": ("validation", "validation_step"), "test_epoch_end": ("test", "test_step")}


# -- LA403 -------------------------------------------------------------------------------------


def moved_import_fix(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    statement = diagnostic.node
    if not isinstance(statement, ast.ImportFrom) or statement.level or not statement.module:
        return None
    targets = {moved_import(statement.module, alias.name) for alias in statement.names}
    if len(targets) != 1 or None in targets:
        return None
    (target,) = targets
    pattern = r"from\s+" + r"\s*\.\s*".join(map(re.escape, statement.module.split(".")))
    start = source.start(statement)
    found = re.compile(pattern).match(source.text, start)
    if found is None:
        return None
    begin = start + found.group(0).rindex(statement.module.split(".")[0])
    return Fix(f"import from {target}", (Edit(begin, found.end(), target),))


# -- LA404 -------------------------------------------------------------------------------------


def logging_return_fix(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    statement = diagnostic.node
    method = ctx.enclosing_function(statement)
    if method is None or not isinstance(statement, ast.Return) or not source.starts_line(statement):
        return None
    owner = _self_name(method)
    if owner is None:
        return None
    rewritten = _logged_dict(ctx, source, owner, statement.value, keep_others=True, step=method.name)
    if rewritten is None:
        return None
    calls, rest = rewritten
    lines = calls + ([f"return {rest}"] if rest is not None else ([] if _is_last(method, statement) else ["return"]))
    return Fix("log with self.log_dict and return the rest", (_statements(source, statement, lines),))


def _logged_dict(
    ctx: ModuleContext, source: Source, owner: str, value: Optional[ast.AST], *, keep_others: bool, step: str
) -> Optional[Tuple[List[str], Optional[str]]]:
    """``self.log_dict(...)`` calls for a returned logging dict literal, and the source of what remains returned.

    ``keep_others``: keys besides the logging ones stay in the returned dict (a step's outputs); else they
    are logged for callbacks only (``logger=False``: 1.x read an epoch end's top-level keys as callback
    metrics). None when the dict is not a literal this can rewrite.
    """
    if not isinstance(value, ast.Dict) or any(key is None for key in value.keys):
        return None
    entries = {}
    for key, item in zip(value.keys, value.values):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)) or key.value in entries:
            return None
        entries[key.value] = (key, item)
    logged, shown = (entries.pop(name, (None, None))[1] for name in ("log", "progress_bar"))
    found = _log_calls(ctx, source, owner, logged, shown)
    if found is None:
        return None
    calls, seen = found
    rest: Optional[str] = None
    if keep_others:
        if step == "training_step" and list(entries) == ["loss"]:
            rest = source.segment(entries["loss"][1])
        elif entries:
            rest = _dict_source(source, entries.values())
    else:
        others = [entry for name, entry in entries.items() if name not in seen]
        if others:
            calls.append(f"{owner}.log_dict({_dict_source(source, others)}, logger=False)")
    return calls, rest


def _log_calls(
    ctx: ModuleContext, source: Source, owner: str, logged: Optional[ast.AST], shown: Optional[ast.AST]
) -> Optional[Tuple[List[str], Set[str]]]:
    """One ``log_dict`` call per way of logging (logger, progress bar, both), and the keys they log.

    A key logged twice in one hook with different options stops the run in Lightning 2.x, so the keys of
    both dicts must be known: literals, or names assigned a literal once and never changed.
    """
    if logged is None and shown is None:
        return None
    keys = {id(d): _keys(ctx, d) for d in (logged, shown) if d is not None}
    if any(k is None for k in keys.values()):
        return None
    seen = set().union(*keys.values())
    bar_only = ", prog_bar=True, logger=False"
    if logged is None or shown is None:
        only = logged if shown is None else shown
        return [f"{owner}.log_dict({source.segment(only)}{'' if shown is None else bar_only})"], seen
    overlap = keys[id(logged)] & keys[id(shown)]
    if not overlap:
        calls = [f"{owner}.log_dict({source.segment(logged)})", f"{owner}.log_dict({source.segment(shown)}{bar_only})"]
        return calls, seen
    if not isinstance(shown, ast.Dict):
        return None
    shown_only = [(key, item) for key, item in zip(shown.keys, shown.values) if key.value not in overlap]
    if isinstance(logged, ast.Dict):
        groups: Dict[str, List[Tuple[ast.AST, ast.AST]]] = {"": [], ", prog_bar=True": []}
        for key, item in zip(logged.keys, logged.values):
            groups[", prog_bar=True" if key.value in overlap else ""].append((key, item))
        calls = [f"{owner}.log_dict({_dict_source(source, kept)}{options})" for options, kept in groups.items() if kept]
    else:  # a dict by name: all of it on the progress bar too, rather than none of what 1.x showed there
        calls = [f"{owner}.log_dict({source.segment(logged)}, prog_bar=True)"]
    if shown_only:
        calls.append(f"{owner}.log_dict({_dict_source(source, shown_only)}{bar_only})")
    return calls, seen


def _keys(ctx: ModuleContext, node: ast.AST) -> Optional[Set[str]]:
    """The string keys of a dict literal, or of the literal a local name was assigned once and never changed."""
    literal = node if isinstance(node, ast.Dict) else None
    if isinstance(node, ast.Name):
        function = ctx.enclosing_function(node)
        literal = ctx.follow(node) if function is not None and not _changed(function, node.id) else None
    if not isinstance(literal, ast.Dict):
        return None
    if not all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in literal.keys):
        return None
    return {k.value for k in literal.keys}


def _changed(function: ast.AST, name: str) -> bool:
    """``name[...] = ``, ``del name[...]`` or a method call on ``name`` (``update``) anywhere in the function."""
    for node in ast.walk(function):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
            target = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == name:
            return True
    return False


def _dict_source(source: Source, items) -> str:
    return "{" + ", ".join(f"{source.segment(key)}: {source.segment(item)}" for key, item in items) + "}"


# -- LA405 -------------------------------------------------------------------------------------


def argparse_fix(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    member = diagnostic.node
    call = ctx.parents.get(member)
    if not (isinstance(member, ast.Attribute) and isinstance(call, ast.Call) and call.func is member):
        return None
    if member.attr == "from_argparse_args":
        if len(call.args) != 1:
            return None
        (args,) = call.args
        if call.keywords:  # they stay as written, ``**options`` too
            end = source.start(min(call.keywords, key=lambda k: (k.lineno, k.col_offset)))
        else:
            end = source.end(args) + re.match(r"\s*,?\s*", source.text[source.end(args):]).end()
        edits = (replace(source, member, source.segment(member.value)), Edit(source.start(args), end, ""))
        return Fix("Trainer(...) with the call's own keywords", edits)
    if member.attr != "add_argparse_args":
        return None
    statement = ctx.parents.get(call)
    if isinstance(statement, ast.Assign):
        targets = statement.targets
        same = len(targets) == 1 and isinstance(targets[0], ast.Name) and len(call.args) == 1
        if not (same and isinstance(call.args[0], ast.Name) and call.args[0].id == targets[0].id):
            return None  # ``parser = Trainer.add_argparse_args(other)`` binds a new name: deleting it would break
    elif not isinstance(statement, ast.Expr):
        return None
    block = ctx.parents.get(statement)
    fields = ("body", "orelse", "finalbody")
    siblings = next((getattr(block, f) for f in fields if statement in getattr(block, f, [])), [])
    if len(siblings) < 2 or not (source.starts_line(statement) and source.ends_line(statement)):
        return None
    rest = source.text[source.end(statement):source.line_end(statement.end_lineno)]
    if rest.strip():  # a comment after it stays, on its own line
        edit = Edit(source.start(statement), source.end(statement) + len(rest) - len(rest.lstrip()), "")
    else:
        edit = Edit(source.line_start(statement.lineno), source.line_end(statement.end_lineno), "")
    return Fix("delete it: Lightning 2.x adds no Trainer options to an argparse parser", (edit,))


# -- LA402 -------------------------------------------------------------------------------------


def removed_hook_fix(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    """LA402: the epoch-end hooks, and ``training_step(..., optimizer_idx)``; the other hooks are the user's."""
    if str(diagnostic.fields.get("hook", "")).startswith("training_step(") and "optimizer_idx" in str(
        diagnostic.fields.get("hook")
    ):
        return manual_optimization_fix(ctx, source, diagnostic)
    return epoch_end_fix(ctx, source, diagnostic)


MANUAL_STEP = "training_step_per_optimizer"
_MANUAL_LOOP = (
    "def training_step(self, batch, batch_idx):",
    "    # what Lightning 1.x did under automatic optimization: one pass, backward and step per optimizer",
    "    optimizers = self.optimizers()",
    "    for optimizer_idx, optimizer in enumerate(optimizers if isinstance(optimizers, list) else [optimizers]):",
    "        self.toggle_optimizer(optimizer)",
    "        output = self.{step}(batch, batch_idx, optimizer_idx)",
    "        loss = output[\"loss\"] if isinstance(output, dict) else output",
    "        if loss is not None:",
    "            optimizer.zero_grad()",
    "            self.manual_backward(loss)",
    "            optimizer.step()",
    "        self.untoggle_optimizer(optimizer)",
)
# Hooks whose 1.x meaning the loop above would change, and configuration manual optimization ignores.
_AUTOMATIC_ONLY = ("optimizer_step", "optimizer_zero_grad", "backward", "lr_scheduler_step")
_SCHEDULING = re.compile(r"scheduler|frequency", re.IGNORECASE)


def manual_optimization_fix(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    """``training_step(self, batch, batch_idx, optimizer_idx)`` under automatic optimization -> manual optimization.

    The 1.x step keeps its body under a new name, and a new ``training_step`` runs it once per optimizer the
    way 1.x did (toggle, step output, zero_grad, backward, step). Refused where that is not the whole story:
    learning-rate schedulers or optimizer frequencies (manual optimization steps neither), overridden
    optimizer hooks, a decorated step, or automatic_optimization already set.
    """
    step = diagnostic.node
    cls = ctx.parents.get(step)
    if not (isinstance(step, ast.FunctionDef) and isinstance(cls, ast.ClassDef)) or step.decorator_list:
        return None
    if ctx.lightning_kind(cls) != MODULE or _mentions(cls, "automatic_optimization"):
        return None
    methods = {s.name: s for s in cls.body if isinstance(s, FunctionNode)}
    init, configure = methods.get("__init__"), methods.get("configure_optimizers")
    if init is None or configure is None or MANUAL_STEP in methods or any(m in methods for m in _AUTOMATIC_ONLY):
        return None
    if _SCHEDULING.search(source.segment(configure)):
        return None
    args = step.args
    names = [a.arg for a in args.args]
    if names[1:] != ["batch", "batch_idx", "optimizer_idx"] or args.vararg or args.kwarg or args.kwonlyargs:
        return None
    owner = names[0]
    header = re.compile(r"def\s+training_step\b").match(source.text, source.start(step))
    if header is None or not source.starts_line(step):
        return None
    initialised = _initialise(source, init, "automatic_optimization", value="False")
    if initialised is None:
        return None
    indent = source.indent(step.lineno)
    newline = source.newline(step.lineno)
    loop = [line.replace("self.", f"{owner}.").replace("(self,", f"({owner},") for line in _MANUAL_LOOP]
    text = (newline + indent).join(line.format(step=MANUAL_STEP) for line in loop) + newline + newline + indent
    name_at = source.start(step) + header.group(0).rindex("training_step")
    edits = [*initialised, insert(source.start(step), text), Edit(name_at, name_at + len("training_step"), MANUAL_STEP)]
    return Fix(f"manual optimization: training_step runs {MANUAL_STEP} once per optimizer", tuple(edits))


def epoch_end_fix(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    hook = diagnostic.node
    if not isinstance(hook, ast.FunctionDef) or hook.name not in _EPOCH_END_STEPS:
        return None
    cls = ctx.parents.get(hook)
    if not isinstance(cls, ast.ClassDef) or ctx.lightning_kind(cls) != MODULE:
        return None
    stage, step_name = _EPOCH_END_STEPS[hook.name]
    store = f"{stage}_step_outputs"
    methods = {s.name: s for s in cls.body if isinstance(s, FunctionNode)}
    step, init = methods.get(step_name), methods.get("__init__")
    if step is None or init is None or f"on_{stage}_epoch_end" in methods or _mentions(cls, store):
        return None
    owner, outputs = _parameters(hook)
    if outputs is None or _self_name(step) is None or _has_parameter(step, "dataloader_idx"):
        return None
    if logging_returns(ctx, step):
        return None  # the step's own logging dicts are rewritten first (LA404), then this fix applies
    edits: List[Edit] = []
    parts = (_initialise(source, init, store), _collect(source, step, store), _hook(ctx, source, hook, stage, store))
    for part in parts:
        if part is None:
            return None
        edits.extend(part)
    title = f"on_{stage}_epoch_end, with what {step_name} returns kept in self.{store}"
    return Fix(title, tuple(edits))


def _initialise(source: Source, init: ast.AST, store: str, value: str = "[]") -> Optional[List[Edit]]:
    """``self.<store> = []`` (or ``value``) after ``super().__init__(...)``."""
    owner = _self_name(init)
    for statement in init.body:
        if _is_super_init(statement) and source.ends_line(statement):
            at = source.line_end(statement.end_lineno)
            line = f"{source.indent(statement.lineno)}{owner}.{store} = {value}{source.newline(statement.end_lineno)}"
            return [insert(at, line)]
    return None


def _collect(source: Source, step: ast.AST, store: str) -> Optional[List[Edit]]:
    """Each ``return value`` of the step also appends the value to ``self.<store>``."""
    owner = _self_name(step)
    edits = []
    for statement in returns_of(step):
        if statement.value is None or (isinstance(statement.value, ast.Constant) and statement.value.value is None):
            continue
        if not source.starts_line(statement):
            return None
        if isinstance(statement.value, ast.Name):
            line = f"{owner}.{store}.append({statement.value.id}){source.newline(statement.lineno)}"
            edits.append(insert(source.start(statement), line + source.indent(statement.lineno)))
        else:
            lines = [f"{owner}.{store}.append({source.segment(statement.value)})", f"return {owner}.{store}[-1]"]
            edits.append(_statements(source, statement, lines))
    return edits


def _hook(ctx: ModuleContext, source: Source, hook: ast.FunctionDef, stage: str, store: str) -> Optional[List[Edit]]:
    owner, outputs = hook.args.args
    header = re.compile(r"def\s+" + re.escape(hook.name)).match(source.text, source.start(hook))
    first, last = hook.body[0], hook.body[-1]
    if header is None or not source.starts_line(first) or any(r is not last for r in returns_of(hook)):
        return None
    name_at = source.start(hook) + header.group(0).rindex(hook.name)
    edits = [
        Edit(name_at, name_at + len(hook.name), f"on_{stage}_epoch_end"),
        Edit(source.end(owner), source.end(outputs), ""),
    ]
    indent = source.indent(first.lineno)
    alias = f"{outputs.arg} = {owner.arg}.{store}"
    if _is_docstring(first):
        if not source.ends_line(first):
            return None
        edits.append(insert(source.line_end(first.end_lineno), f"{indent}{alias}{source.newline(first.end_lineno)}"))
    else:
        edits.append(insert(source.line_start(first.lineno), f"{indent}{alias}{source.newline(first.lineno)}"))
    clear = f"{owner.arg}.{store}.clear()"
    if isinstance(last, ast.Return):
        if not source.starts_line(last):
            return None
        calls: List[str] = []
        value = last.value
        if isinstance(value, ast.Dict) and logging_keys(dict_keys(ctx, value)):
            rewritten = _logged_dict(ctx, source, owner.arg, value, keep_others=False, step=hook.name)
            if rewritten is None:
                return None
            calls = rewritten[0]
        elif value is not None and any(isinstance(node, ast.Call) for node in ast.walk(value)):
            calls = [source.segment(value)]  # 2.x ignores what the hook returns, not what computing it does
        elif value is not None and not isinstance(value, ast.Constant) and _keys(ctx, value) is None:
            return None  # a dict made elsewhere may hold 'log' keys: what it meant to log is not ours to drop
        edits.append(_statements(source, last, calls + [clear]))
    else:
        if not source.ends_line(last):
            return None
        at = source.line_end(last.end_lineno)
        edits.append(insert(at, f"{indent}{clear}{source.newline(last.end_lineno)}"))
    return edits


# -- shared -------------------------------------------------------------------------------------


def _statements(source: Source, statement: ast.stmt, lines: Sequence[str]) -> Edit:
    """Replace one statement (which starts its line) by several at its indentation."""
    joiner = source.newline(statement.lineno) + source.indent(statement.lineno)
    return replace(source, statement, joiner.join(lines))


def _is_last(function: ast.AST, statement: ast.stmt) -> bool:
    return function.body[-1] is statement


def _self_name(function: ast.AST) -> Optional[str]:
    args = function.args
    positional = args.posonlyargs + args.args
    return positional[0].arg if positional else None


def _parameters(function: ast.AST) -> Tuple[Optional[ast.arg], Optional[ast.arg]]:
    """(self, outputs) of ``def hook(self, outputs)``; Nones for any other signature."""
    args = function.args
    if args.posonlyargs or args.vararg or args.kwarg or args.kwonlyargs or args.defaults or len(args.args) != 2:
        return None, None
    return args.args[0], args.args[1]


def _has_parameter(function: ast.AST, name: str) -> bool:
    args = function.args
    return any(a.arg == name for a in args.posonlyargs + args.args + args.kwonlyargs)


def _mentions(cls: ast.ClassDef, attribute: str) -> bool:
    return any(isinstance(node, ast.Attribute) and node.attr == attribute for node in ast.walk(cls))


def _is_super_init(statement: ast.stmt) -> bool:
    call = statement.value if isinstance(statement, ast.Expr) else None
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "__init__"
        and isinstance(call.func.value, ast.Call)
        and isinstance(call.func.value.func, ast.Name)
        and call.func.value.func.id == "super"
    )


def _is_docstring(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )
