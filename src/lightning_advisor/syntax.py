"""Small helpers over ``ast`` nodes that both halves use: the static checks and the runtime's reading of a call."""
from __future__ import annotations

import ast
from typing import Iterator, List, Optional, Tuple


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk``: the same nodes in the same (breadth-first) order, at about half the cost.

    ``ast.walk`` runs two generators per node (``iter_child_nodes`` over ``iter_fields``); the checks walk
    subtrees on every file flake8 lints, so this reads each node's ``_fields`` in one loop instead.
    """
    todo = [node]
    for node in todo:  # the list grows while it is read: breadth first
        todo.extend(child_nodes(node))
        yield node


def child_nodes(node: ast.AST) -> List[ast.AST]:
    """``ast.iter_child_nodes`` as a list: the same nodes in the same order, without its two generators."""
    children = []
    for field in node._fields:
        value = getattr(node, field, None)
        if type(value) is list:
            for item in value:
                if isinstance(item, ast.AST):
                    children.append(item)
        elif isinstance(value, ast.AST):
            children.append(value)
    return children


def dotted_name(node: ast.AST) -> Optional[str]:
    """``self.model.net`` -> ``"self.model.net"``; None for anything but names and attributes."""
    split = root_and_attributes(node)
    return None if split is None else ".".join((split[0].id, *split[1]))


def root_and_attributes(node: ast.AST) -> Optional[Tuple[ast.Name, List[str]]]:
    """``a.b.c`` -> (the Name ``a``, ``["b", "c"]``); None unless names and attributes only."""
    attributes = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    attributes.reverse()
    return node, attributes


def last_name(node: ast.AST) -> Optional[str]:
    """The identifier an expression ends in: ``self.val_loader`` -> ``val_loader``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def loop_runs_once(loop: ast.AST) -> bool:
    """A ``for`` loop whose body always ends the loop on its first pass: ``for x in loader: ...; break``."""
    body = getattr(loop, "body", None)
    if not body or not isinstance(body[-1], (ast.Break, ast.Return, ast.Raise)):
        return False
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Continue):
            return False  # may skip the break: more passes
        if not isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.FunctionDef, ast.AsyncFunctionDef,
                                 ast.Lambda, ast.ClassDef)):
            stack.extend(child_nodes(node))
    return True


# Statements that may hold a ``return`` of the function being walked (not of a nested one).
_BLOCKS = (ast.stmt, ast.excepthandler) + ((ast.match_case,) if hasattr(ast, "match_case") else ())
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def returns_of(function: ast.AST) -> Iterator[ast.Return]:
    """The ``return`` statements of ``function`` itself, not of functions or classes nested in it."""
    stack: List[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Return):
            yield node
        elif not isinstance(node, _NESTED):
            stack.extend(child for child in child_nodes(node) if isinstance(child, _BLOCKS))


def parameter_names(function: ast.AST) -> List[str]:
    """Every name a function (or lambda) binds as a parameter, ``*args`` and ``**kwargs`` included; [] for
    anything else (a module, a class)."""
    args = getattr(function, "args", None)
    if not isinstance(args, ast.arguments):
        return []
    named = args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]
    return [arg.arg for arg in named]
