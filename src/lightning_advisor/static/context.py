"""What the static checks know about one module, computed once per file.

One ``ast`` walk records parents, scopes, single assignments and the nodes the
checks look at. Everything here answers "I don't know" (``None``) rather than
guess: the checks stay quiet on ``None``.
"""
from __future__ import annotations

import ast
import os
from functools import cached_property
from typing import Callable, Dict, List, Optional, Set, Tuple, TypeVar, Union

from lightning_advisor.static import inference

from lightning_advisor.static.names import LIGHTNING_KIND_OF, TRAINER, ImportTable
from lightning_advisor.syntax import dotted_name, parameter_names
from lightning_advisor.vocabulary import LIBRARY_PACKAGES, MODULE, top_package

Scope = Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
FunctionNode = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_AMBIGUOUS = object()  # a name bound more than once, or in a way we do not follow


class Unpacked:
    """A name bound once by unpacking a call's result: ``train, val = random_split(data, [0.9, 0.1])``."""

    __slots__ = ("call", "index")

    def __init__(self, call: ast.Call, index: int) -> None:
        self.call, self.index = call, index


_MAX_DEPTH = 8
_MAX_BASES = 300  # classes followed to classify one: a generated 1,000-deep hierarchy is "don't know"
_MAX_HOPS = 4  # imports followed from the checked file to find a class's Lightning base
Fact = TypeVar("Fact")


class ModuleContext:
    """A parsed module plus the cheap facts every check shares."""

    def __init__(
        self,
        tree: ast.Module,
        filename: str = "stdin",
        lines: Optional[List[str]] = None,
        import_depth: int = 0,
        imported: Optional[Dict[Tuple[str, float], "ModuleContext"]] = None,
    ) -> None:
        self.tree = tree
        self.import_depth = import_depth  # how many imports away from the file flake8 is checking
        # The user's other modules read to follow class bases, shared by every context of one checked file:
        # it lives as long as that file's analysis, not as long as the editor's flake8 process.
        self._imported = {} if imported is None else imported
        self._memo: Dict[Callable, object] = {}
        self.filename = filename
        self.lines = lines
        self.parents: Dict[ast.AST, ast.AST] = {}
        self.calls: List[ast.Call] = []
        self.attributes: List[ast.Attribute] = []  # every ``x.name``, in source order
        self.import_statements: List[Union[ast.Import, ast.ImportFrom]] = []
        self.loops: List[Union[ast.For, ast.AsyncFor]] = []
        self.classes: Dict[str, ast.ClassDef] = {}
        self.functions: Dict[str, Union[ast.FunctionDef, ast.AsyncFunctionDef]] = {}  # module-level ones
        # scope -> name -> the single value assigned to it (or _AMBIGUOUS)
        self._bindings: Dict[ast.AST, Dict[str, object]] = {}
        # class -> "self.attr" -> value assigned in any of its methods (or _AMBIGUOUS)
        self._attributes: Dict[ast.ClassDef, Dict[str, object]] = {}
        self._lightning_kinds: Dict[ast.ClassDef, Optional[str]] = {}
        self._definitions: List[ast.AST] = []  # imports, classes and functions, for the import table
        self._walk()
        self.imports = ImportTable(self._definitions)
        self.imports.shadow((name for names in self._bindings.values() for name in names), self._shadows_import)

    # -- the one walk ---------------------------------------------------------------------
    # The plugin's main cost on every file: a plain loop over ``_fields`` (no ``ast.iter_child_nodes``
    # generators), one dict lookup per node for the few node types that bind names, no visits to the
    # shared operator / ``Load`` singletons, and none to leaves (names, constants): their parent is all
    # there is to record. The scope and class in force change only at the nodes that open one, which
    # push a marker to restore them after their children: no tuple per node.
    def _walk(self) -> None:
        parents = self.parents
        visitors, fields_of, leaves = _VISITORS, _CHILD_FIELDS, _LEAVES
        scope: ast.AST = self.tree
        cls: Optional[ast.ClassDef] = None
        stack: List[ast.AST] = [self.tree]
        pop, push = stack.pop, stack.append
        while stack:
            node = pop()
            kind = type(node)
            if kind is _Restore:
                scope, cls = node.scope, node.cls
                continue
            visit = visitors.get(kind)
            if visit is not None:
                visit(self, node, scope, cls)
                if kind is ast.ClassDef:
                    push(_Restore(scope, cls))
                    cls = node
                elif kind in _NEW_SCOPES:
                    push(_Restore(scope, cls))
                    scope = node
                    for name in parameter_names(node):  # lambdas too: their parameters shadow outer names
                        self._bind(scope, name, None)
            fields = fields_of.get(kind)
            if fields is None:
                fields = _child_fields(kind)
            # Children are pushed last field first, so that they are visited in source order.
            for field in fields:
                value = getattr(node, field, None)
                if type(value) is list:
                    for child in reversed(value):
                        if isinstance(child, ast.AST):
                            parents[child] = node
                            if type(child) not in leaves:
                                push(child)
                elif isinstance(value, ast.AST):
                    parents[value] = node
                    if type(value) not in leaves:
                        push(value)

    def _visit_call(self, node, scope, cls) -> None:
        self.calls.append(node)

    def _visit_attribute(self, node, scope, cls) -> None:
        self.attributes.append(node)

    def _visit_loop(self, node, scope, cls) -> None:
        self.loops.append(node)
        self._bind_target(scope, node.target, None)

    def _visit_assign(self, node, scope, cls) -> None:
        for target in node.targets:
            self._bind_target(scope, target, node.value, cls)

    def _visit_annotated(self, node, scope, cls) -> None:
        self._bind_target(scope, node.target, node.value, cls)

    def _visit_augmented(self, node, scope, cls) -> None:
        self._bind_target(scope, node.target, None, cls)

    def _visit_walrus(self, node, scope, cls) -> None:
        self._bind_target(scope, node.target, node.value)

    def _visit_with(self, node, scope, cls) -> None:
        for item in node.items:
            if item.optional_vars is not None:
                self._bind_target(scope, item.optional_vars, None)

    def _visit_global(self, node, scope, cls) -> None:
        for name in node.names:
            self._bind(scope, name, None)
            if isinstance(node, ast.Global):  # reassigned from inside a function
                self._bind(self.tree, name, None)

    def _visit_class(self, node, scope, cls) -> None:
        if scope is self.tree:
            self.classes[node.name] = node
        self._bind(scope, node.name, None)
        self._definitions.append(node)

    def _visit_function(self, node, scope, cls) -> None:
        if scope is self.tree:
            self.functions[node.name] = node
        self._bind(scope, node.name, None)
        self._definitions.append(node)

    def _visit_lambda(self, node, scope, cls) -> None:
        pass  # only a new scope

    def _visit_comprehension(self, node, scope, cls) -> None:
        self._bind_target(scope, node.target, None)

    def _visit_handler(self, node, scope, cls) -> None:
        if node.name:
            self._bind(scope, node.name, None)

    def _visit_import(self, node, scope, cls) -> None:
        self._definitions.append(node)
        self.import_statements.append(node)

    def _bind(self, scope: ast.AST, name: str, value: Optional[ast.AST]) -> None:
        names = self._bindings.setdefault(scope, {})
        names[name] = _AMBIGUOUS if (name in names or value is None) else value

    def _bind_target(self, scope, target, value, cls: Optional[ast.ClassDef] = None) -> None:
        if isinstance(target, ast.Name):
            self._bind(scope, target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            starred = any(isinstance(element, ast.Starred) for element in target.elts)
            for index, element in enumerate(target.elts):
                unpacked = Unpacked(value, index) if isinstance(value, ast.Call) and not starred else None
                self._bind_target(scope, element, unpacked, cls)
        elif isinstance(target, ast.Starred):
            self._bind_target(scope, target.value, None, cls)
        elif cls is not None and isinstance(target, ast.Attribute):
            key = dotted_name(target)
            if key and key.startswith("self.") and key.count(".") == 1:
                attrs = self._attributes.setdefault(cls, {})
                attrs[key] = _AMBIGUOUS if (key in attrs or value is None) else value

    # -- facts the checks share -----------------------------------------------------------
    def memo(self, compute: Callable[["ModuleContext"], Fact]) -> Fact:
        """``compute(self)``, computed once for this module: module-wide facts a check derives and reuses."""
        try:
            return self._memo[compute]  # type: ignore[return-value]
        except KeyError:
            fact = self._memo[compute] = compute(self)
            return fact

    def names_bound_in_functions(self) -> Set[str]:
        """Every name a function or lambda binds (parameters, assignments, loops, nested definitions)."""
        return {name for scope, names in self._bindings.items() if scope is not self.tree for name in names}

    # -- structure ------------------------------------------------------------------------
    def ancestors(self, node: ast.AST):
        node = self.parents.get(node)
        while node is not None:
            yield node
            node = self.parents.get(node)

    def scope_of(self, node: ast.AST) -> Scope:
        for parent in self.ancestors(node):
            if isinstance(parent, _SCOPES):
                return parent
        return self.tree

    def enclosing_function(self, node: ast.AST) -> Optional[Union[ast.FunctionDef, ast.AsyncFunctionDef]]:
        for parent in self.ancestors(node):
            if isinstance(parent, FunctionNode):
                return parent
        return None

    def enclosing_class(self, node: ast.AST) -> Optional[ast.ClassDef]:
        for parent in self.ancestors(node):
            if isinstance(parent, ast.ClassDef):
                return parent
        return None

    def method_of(self, node: ast.AST) -> Optional[Tuple[ast.ClassDef, ast.AST]]:
        """The (class, method) whose body holds ``node``, through nested functions."""
        method = None
        for parent in self.ancestors(node):
            if isinstance(parent, FunctionNode):
                method = parent
            elif isinstance(parent, ast.ClassDef):
                return (parent, method) if method is not None else None
        return None

    def _shadows_import(self, name: ast.Name) -> bool:
        """The module binds ``name`` itself in its scope or an enclosing one: not (only) the import."""
        scope = self.scope_of(name)
        while name.id not in self._bindings.get(scope, ()):
            if scope is self.tree:
                return False
            scope = self.scope_of(scope)
        return True

    # -- values ---------------------------------------------------------------------------
    def assigned_value(self, node: ast.AST) -> Optional[ast.AST]:
        """The one value a name (or ``self.attr``) was assigned, looked up from ``node``'s scope."""
        value = self._binding(node)
        return value if isinstance(value, ast.AST) else None

    def unpacked_from(self, node: ast.AST) -> Optional[Unpacked]:
        """The call whose result a name (or ``self.attr``) was unpacked from, when bound only so."""
        value = self._binding(node)
        return value if isinstance(value, Unpacked) else None

    def _binding(self, node: ast.AST) -> object:
        if isinstance(node, ast.Name):
            scope = self.scope_of(node)
            while True:
                value = self._bindings.get(scope, {}).get(node.id)
                if value is not None:
                    return None if value is _AMBIGUOUS else value
                if scope is self.tree:
                    return None
                scope = self.scope_of(scope)
        if isinstance(node, ast.Attribute):
            key = dotted_name(node)
            if key and key.startswith("self.") and key.count(".") == 1:
                cls = self.enclosing_class(node)
                value = self._attributes.get(cls, {}).get(key) if cls is not None else None
                return None if value is _AMBIGUOUS else value
        return None

    def follow(self, node: ast.AST, depth: int = _MAX_DEPTH) -> ast.AST:
        """Follow single assignments from a name to the expression it stands for."""
        while depth and isinstance(node, (ast.Name, ast.Attribute)):
            value = self.assigned_value(node)
            if value is None:
                break
            node, depth = value, depth - 1
        return node

    def constant(self, node: ast.AST) -> Tuple[bool, object]:
        """(True, value) when ``node`` is a literal or a name bound once to one."""
        node = self.follow(node)
        if isinstance(node, ast.Constant):
            return True, node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            value = node.operand.value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return True, -value
        return False, None

    def keywords(self, call: ast.Call) -> Optional[Dict[str, ast.AST]]:
        """Keyword arguments of a call, ``**opts`` expanded when ``opts`` is a dict built in sight.

        None when a ``**`` argument cannot be expanded: any keyword may hide in it.
        """
        result: Dict[str, ast.AST] = {}
        for keyword in call.keywords:
            if keyword.arg is not None:
                result[keyword.arg] = keyword.value
                continue
            expanded = self.dict_items(self.follow(keyword.value))
            if expanded is None:
                return None
            result.update(expanded)
        return result

    def dict_items(self, node: ast.AST) -> Optional[Dict[str, ast.AST]]:
        """The items of a dict built in sight (``{...}``, ``dict(a=...)``) by string key; None otherwise."""
        if isinstance(node, ast.Dict):
            items = {}
            for key, value in zip(node.keys, node.values):
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    return None
                items[key.value] = value
            return items
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "dict"
            and "dict" not in self.imports.names
            and not node.args
            and all(k.arg is not None for k in node.keywords)
        ):
            return {k.arg: k.value for k in node.keywords}
        return None

    def argument(self, call: ast.Call, name: str, position: Optional[int] = None) -> Optional[ast.AST]:
        """A call's argument by keyword or position (no ``**`` expansion needed)."""
        for keyword in call.keywords:
            if keyword.arg == name:
                return keyword.value
        if position is not None and len(call.args) > position:
            arg = call.args[position]
            if not any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
                return arg
        return None

    # -- Lightning ------------------------------------------------------------------------
    @cached_property
    def drives_trainer(self) -> bool:
        """The module builds a Lightning ``Trainer``: the whole script is Lightning code."""
        return self.imports.uses_lightning and any(
            self.imports.resolve(call.func) == TRAINER for call in self.calls
        )

    def lightning_kind(self, cls: ast.ClassDef, _seen: Optional[set] = None) -> Optional[str]:
        """``"LightningModule"``, ``"LightningDataModule"`` or ``"Callback"`` for Lightning subclasses."""
        if cls not in self._lightning_kinds:
            self._classify(cls, _seen or set())
        return self._lightning_kinds.get(cls)

    def _classify(self, cls: ast.ClassDef, seen: set) -> Optional[str]:
        if cls in seen or len(seen) > _MAX_BASES:  # a cycle, or a chain of bases deeper than Python's stack
            return None
        seen.add(cls)
        kind = None
        unresolved = False  # a base we could not follow: it may be Lightning's
        for base in cls.bases:
            resolved = self.imports.resolve(base)
            if resolved in LIGHTNING_KIND_OF:
                kind = LIGHTNING_KIND_OF[resolved]
            elif isinstance(base, ast.Name) and base.id in self.classes:
                kind = self._classify(self.classes[base.id], seen)
            elif resolved is not None and top_package(resolved) not in _LIBRARY_TOP_LEVELS:
                kind = self._imported_kind(resolved)
                unresolved = unresolved or kind is None
            elif resolved is None:
                unresolved = True
            if kind:
                break
        if kind is None and unresolved and _LIGHTNING_MODULE_METHODS <= {
            s.name for s in cls.body if isinstance(s, FunctionNode)
        }:
            kind = MODULE  # a class with Lightning's training_step and configure_optimizers is one
        self._lightning_kinds[cls] = kind
        return kind

    def _imported_kind(self, qualname: str) -> Optional[str]:
        """The Lightning kind of a class imported from the user's own modules (``models.BaseModel``)."""
        found = self.imported_class(qualname)
        return found[0].lightning_kind(found[1]) if found is not None else None

    def imported_class(self, qualname: str) -> Optional[Tuple["ModuleContext", ast.ClassDef]]:
        """The definition of a class imported from the user's own modules, and that module's context."""
        if self.import_depth >= _MAX_HOPS or "." not in qualname.lstrip("."):
            return None
        module, _, name = qualname.rpartition(".")
        try:
            other = self._imported_module(module)
            if other is None:
                return None
            cls = other.classes.get(name)
            if cls is None:
                # ``from pkg import Base`` where pkg/__init__.py re-exports it.
                target = other.imports.qualname(ast.Name(id=name))
                return other.imported_class(target) if target else None
            return other, cls
        except Exception:  # an unreadable or odd module: "don't know"
            return None

    def base_classes(self, cls: ast.ClassDef) -> List[Tuple["ModuleContext", ast.ClassDef]]:
        """The definitions of ``cls``'s bases that are the user's own: in this module or imported."""
        found = []
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in self.classes:
                found.append((self, self.classes[base.id]))
                continue
            resolved = self.imports.resolve(base)
            if resolved is not None and top_package(resolved) not in _LIBRARY_TOP_LEVELS:
                definition = self.imported_class(resolved)
                if definition is not None:
                    found.append(definition)
        return found

    def inherited_binding(self, node: ast.AST) -> Optional[Tuple["ModuleContext", object]]:
        """Where ``self.attr`` is bound once in a base class of the enclosing one: (that module, the value).

        The value is an expression or an :class:`Unpacked`; None when unbound, bound twice, or unknown.
        """
        key = dotted_name(node) if isinstance(node, ast.Attribute) else None
        cls = self.enclosing_class(node) if key and key.startswith("self.") and key.count(".") == 1 else None
        if cls is None:
            return None
        pending, visited = [(self, cls)], 0
        while pending and visited < _MAX_BASES:
            ctx, current = pending.pop(0)
            visited += 1
            for other, base in ctx.base_classes(current):
                value = other._attributes.get(base, {}).get(key)
                if value is _AMBIGUOUS:
                    return None
                if value is not None:
                    return other, value
                pending.append((other, base))
        return None

    def _imported_module(self, module: str) -> Optional["ModuleContext"]:
        path = inference.find_module(module, self.filename)
        if path is None:
            return None
        key = (path, os.path.getmtime(path))
        if key not in self._imported:
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
            self._imported[key] = ModuleContext(
                ast.parse(source, path), path, source.splitlines(True), self.import_depth + 1, self._imported
            )
        return self._imported[key]

    def in_lightning_code(self, node: ast.AST) -> bool:
        """Inside a Lightning class's methods, or anywhere in a script that drives a Trainer."""
        if self.drives_trainer:
            return True
        for parent in self.ancestors(node):
            if isinstance(parent, ast.ClassDef) and self.lightning_kind(parent):
                return True
        return False


_VISITORS = {
    ast.Call: ModuleContext._visit_call,
    ast.Attribute: ModuleContext._visit_attribute,
    ast.For: ModuleContext._visit_loop,
    ast.AsyncFor: ModuleContext._visit_loop,
    ast.Assign: ModuleContext._visit_assign,
    ast.AnnAssign: ModuleContext._visit_annotated,
    ast.AugAssign: ModuleContext._visit_augmented,
    ast.NamedExpr: ModuleContext._visit_walrus,
    ast.With: ModuleContext._visit_with,
    ast.AsyncWith: ModuleContext._visit_with,
    ast.Global: ModuleContext._visit_global,
    ast.Nonlocal: ModuleContext._visit_global,
    ast.ClassDef: ModuleContext._visit_class,
    ast.FunctionDef: ModuleContext._visit_function,
    ast.AsyncFunctionDef: ModuleContext._visit_function,
    ast.Lambda: ModuleContext._visit_lambda,
    ast.comprehension: ModuleContext._visit_comprehension,
    ast.ExceptHandler: ModuleContext._visit_handler,
    ast.Import: ModuleContext._visit_import,
    ast.ImportFrom: ModuleContext._visit_import,
}
_LIBRARY_TOP_LEVELS = LIBRARY_PACKAGES | {"builtins"}  # bases from these are never the user's own classes
_LIGHTNING_MODULE_METHODS = frozenset({"training_step", "configure_optimizers"})
_NEW_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
# Fields that never hold a node worth visiting: names, numbers, and the operator / context singletons.
_LEAF_FIELDS = frozenset(("ctx", "op", "ops", "id", "attr", "name", "arg", "kind", "type_comment", "level",
                          "module", "is_async", "conversion", "simple", "tag"))
_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}


def _child_fields(kind: type) -> Tuple[str, ...]:
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(f for f in reversed(kind._fields) if f not in _LEAF_FIELDS)
    return fields


class _Restore:
    """On the walk's stack below a scope's or class's children: the scope and class in force after them."""

    __slots__ = ("scope", "cls")

    def __init__(self, scope: ast.AST, cls: Optional[ast.ClassDef]) -> None:
        self.scope, self.cls = scope, cls


# The commonest nodes with nothing below them (a ``Constant``'s value is never a node): recorded as children,
# never pushed.
_LEAVES = frozenset({ast.Name, ast.Constant, ast.Pass, ast.Break, ast.Continue})
