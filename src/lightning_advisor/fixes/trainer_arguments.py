"""The LA401 fix (safe): a removed ``Trainer(...)`` keyword becomes exactly what its message advises.

The advice is the one fact: where the message says ``pass accelerator="gpu", devices=1`` the fix writes
those keywords in place of ``gpus=1``; where it says ``remove it`` (or that the tuner never ran) the fix
deletes the keyword. Only the arguments in :data:`EQUIVALENT` are fixed, because only for them is that
advice an exact 2.x equivalent (``terminate_on_nan=True`` -> ``detect_anomaly=True`` is advice, not an
equivalent); advice in words (``..., or callbacks=[...] if it is a ModelCheckpoint``) is never applied.

``callbacks=[TQDMProgressBar(refresh_rate=20)]`` joins a ``callbacks=[...]`` list the call already has and
imports the class from the user's Lightning namespace when the module does not; ``resume_from_checkpoint``
moves to the trainer's one ``fit(...)`` call as ``ckpt_path=``.
"""
from __future__ import annotations

import ast
import re
from typing import Dict, List, Optional, Tuple

from lightning_advisor.fixes.edits import Edit, Fix, Source, insert
from lightning_advisor.removed_api import REMOVAL_ADVICE, split_namespace
from lightning_advisor.static.base import Diagnostic
from lightning_advisor.static.context import ModuleContext
from lightning_advisor.vocabulary import LIGHTNING_NAMESPACES

ANY, REMOVAL, COUNT = "any", "removal", "count"
EQUIVALENT: Dict[str, str] = {
    # advice that is the same run in 2.x: device counts the code spells out, renamed arguments, values that
    # did nothing. A device count of 0 or None meant the CPU, which 2.x's accelerator="auto" does not.
    "gpus": COUNT, "tpu_cores": COUNT, "num_processes": COUNT, "progress_bar_refresh_rate": ANY,
    "replace_sampler_ddp": ANY, "distributed_backend": ANY, "checkpoint_callback": ANY, "weights_summary": ANY,
    "reload_dataloaders_every_epoch": ANY, "accelerator": ANY, "strategy": ANY,
    "auto_lr_find": REMOVAL, "auto_scale_batch_size": REMOVAL, "auto_select_gpus": REMOVAL,
    "track_grad_norm": REMOVAL, "move_metrics_to_cpu": REMOVAL, "stochastic_weight_avg": REMOVAL,
    "terminate_on_nan": REMOVAL, "log_gpu_memory": REMOVAL, "enable_pl_optimizer": REMOVAL,
    "resume_from_checkpoint": ANY,
}
CALLBACK_MODULE = "callbacks"  # where the callbacks the advice names live, in the user's namespace
_PASS = re.compile(r"^(?:it was renamed: )?pass (?P<keywords>.+)$")
_TO_FIT = re.compile(r"^pass it to fit: trainer\.fit\(model, ckpt_path=(?P<value>.+)\)$")


def trainer_argument_fix(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    keyword = diagnostic.node
    call = ctx.parents.get(keyword)
    if not (isinstance(keyword, ast.keyword) and keyword.arg and isinstance(call, ast.Call)):
        return None
    argument = str(diagnostic.fields["argument"]).split("=", 1)[0]
    advice = str(diagnostic.fields["replacement"])
    if argument != keyword.arg or argument not in EQUIVALENT or "..." in advice:
        return None
    kind = EQUIVALENT[argument]
    if kind == COUNT and not _spelled_out_count(ctx, keyword.value):
        return None
    if advice in REMOVAL_ADVICE:
        return Fix("remove it", (_delete_keyword(source, call, keyword),))
    if kind == REMOVAL:
        return None
    moved = _TO_FIT.match(advice)
    if moved:
        return _move_to_fit(ctx, source, call, keyword)
    found = _PASS.match(advice)
    new = _keywords(found.group("keywords")) if found else None
    if new is None:
        return None
    present = {k.arg for k in call.keywords if k is not keyword}
    if None in present:
        return None  # a ``**options`` may already hold what we would add
    texts, edits = [], []
    for name, text, value in new:
        if name == "callbacks":
            merged = _callbacks(ctx, source, call, keyword, value)
            if merged is None:
                return None
            text, more = merged
            edits.extend(more)
            if text is None:
                continue
        elif name in present:
            return None
        texts.append(text)
    if texts:
        edits.append(Edit(source.start(keyword), source.end(keyword), ", ".join(texts)))
    else:
        edits.append(_delete_keyword(source, call, keyword))
    return Fix(f"pass {', '.join(t for _, t, _ in new)}", tuple(edits))


def _spelled_out_count(ctx: ModuleContext, value: ast.AST) -> bool:
    """A device count the code states: a whole number above 0 (or -1, all), a list of indices, a string of them."""
    known, constant = ctx.constant(value)
    if known:
        return (isinstance(constant, int) and not isinstance(constant, bool) and constant != 0) or (
            isinstance(constant, str) and constant.strip() not in ("", "0")
        )
    literal = ctx.follow(value)
    return isinstance(literal, (ast.List, ast.Tuple)) and bool(literal.elts) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, int) for e in literal.elts
    )


def _keywords(text: str) -> Optional[List[Tuple[str, str, ast.AST]]]:
    """``'accelerator="gpu", devices=1'`` -> ``[(name, "name=value" as written, value node)]``; None if not that."""
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None for k in call.keywords):
        return None
    snippet = f"f({text})"
    return [(k.arg, ast.get_source_segment(snippet, k), k.value) for k in call.keywords]


def _delete_keyword(source: Source, call: ast.Call, keyword: ast.keyword) -> Edit:
    """The keyword and one comma next to it, so that the call stays valid and comments stay where they are."""
    arguments = sorted([*call.args, *call.keywords], key=lambda node: (node.lineno, node.col_offset))
    index = arguments.index(keyword)
    start, end = source.start(keyword), source.end(keyword)
    after = re.match(r"[ \t]*,?[ \t]*", source.text[end:]).end()
    if source.starts_line(keyword) and source.text[end + after:source.line_end(keyword.end_lineno)].strip() == "":
        return Edit(source.line_start(keyword.lineno), source.line_end(keyword.end_lineno), "")  # its own lines
    if index + 1 < len(arguments):  # up to the next argument
        return Edit(start, source.start(arguments[index + 1]), "")
    before = source.end(arguments[index - 1]) if index > 0 else None
    if before is not None and "#" not in source.text[before:start]:
        return Edit(before, end, "")  # from the end of the one before
    return Edit(start, end + after, "")


def _callbacks(ctx, source: Source, call: ast.Call, keyword: ast.keyword, value: ast.AST):
    """(keyword text or None when merged into an existing list, the edits that merge and import)."""
    if not (isinstance(value, ast.List) and all(isinstance(e, ast.Call) for e in value.elts)):
        return None
    classes = {e.func.id for e in value.elts if isinstance(e.func, ast.Name)}
    if len(classes) != len(value.elts):
        return None
    edits: List[Edit] = []
    for name in sorted(classes):
        imported = _import(ctx, source, call, name)
        if imported is None:
            return None
        edits.extend(imported)
    elements = ", ".join(ast.unparse(e) for e in value.elts)
    existing = next((k for k in call.keywords if k.arg == "callbacks"), None)
    if existing is None:
        return f"callbacks=[{elements}]", edits
    if not isinstance(existing.value, ast.List):
        return None
    items = existing.value.elts
    if items:
        edits.append(insert(source.end(items[-1]), f", {elements}"))
    else:
        edits.append(Edit(source.start(existing.value), source.end(existing.value), f"[{elements}]"))
    return None, edits


def _import(ctx: ModuleContext, source: Source, call: ast.Call, name: str) -> Optional[List[Edit]]:
    """No edit when ``name`` already is the Lightning callback; an import after the module's last one otherwise."""
    qualname = ctx.imports.qualname(call.func) or ""
    namespace = (split_namespace(qualname) or (LIGHTNING_NAMESPACES[0], ""))[0]
    module = f"{namespace}.{CALLBACK_MODULE}"
    bound = ctx.imports.names.get(name)
    if bound is not None:
        return [] if bound in (f"{module}.{name}", f"{namespace}.{name}") else None
    top = [s for s in ctx.import_statements if ctx.parents.get(s) is ctx.tree]
    if not top or not source.ends_line(top[-1]):
        return None
    last = top[-1]
    line = f"from {module} import {name}{source.newline(last.end_lineno)}"
    return [insert(source.line_end(last.end_lineno), line)]


def _move_to_fit(ctx: ModuleContext, source: Source, call: ast.Call, keyword: ast.keyword) -> Optional[Fix]:
    """``trainer = Trainer(resume_from_checkpoint=p)``, ``trainer.fit(model)``: ``trainer.fit(model, ckpt_path=p)``."""
    value = keyword.value
    if not isinstance(value, (ast.Constant, ast.Name, ast.Attribute)):
        return None
    statement = ctx.parents.get(call)
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
        return None
    target = statement.targets[0]
    if not isinstance(target, ast.Name):
        return None
    scope = ctx.scope_of(call)
    fits = [
        c for c in ctx.calls
        if isinstance(c.func, ast.Attribute) and c.func.attr == "fit" and isinstance(c.func.value, ast.Name)
        and c.func.value.id == target.id and ctx.scope_of(c) is scope
    ]
    if len(fits) != 1:
        return None
    (fit,) = fits
    if len(fit.args) >= 5 or not (fit.args or fit.keywords) or any(k.arg in ("ckpt_path", None) for k in fit.keywords):
        return None  # ckpt_path given already (or maybe, in ``**options``), or no argument to put it after
    last = max([*fit.args, *fit.keywords], key=lambda node: (node.end_lineno, node.end_col_offset))
    edits = (_delete_keyword(source, call, keyword), insert(source.end(last), f", ckpt_path={source.segment(value)}"))
    return Fix(f"pass ckpt_path={source.segment(value)} to {target.id}.fit(...)", edits)
