"""Fixes as exact source edits: spans of the original text, located by ``ast`` positions.

A fix replaces a few spans and leaves every other character of the file as it was (formatting,
comments, line endings). ``ast`` counts columns in UTF-8 bytes; :class:`Source` turns them into string
offsets. Edits of one fix are applied together or not at all; a fix whose edits overlap an edit
already taken waits for the next round, when the file is checked again.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterable, List, Tuple

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # the line breaks ``ast`` counts


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    """What ``--fix`` (``safe``) or ``--unsafe-fixes`` changes for one finding."""

    title: str
    edits: Tuple[Edit, ...]
    safe: bool = False
    """Set from the rule's entry in :data:`lightning_advisor.fixes.registry.FIXERS`, not by the fixer."""

    @property
    def applicability(self) -> str:
        return "safe" if self.safe else "unsafe"


class Source:
    """A module's text with ``ast`` positions turned into string offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: List[str] = _LINE.findall(text)
        self._starts: List[int] = []
        offset = 0
        for line in self.lines:
            self._starts.append(offset)
            offset += len(line)
        self._starts.append(offset)

    def offset(self, line: int, column: int) -> int:
        """String offset of ``ast``'s (1-based line, UTF-8 byte column)."""
        if line > len(self.lines):
            return len(self.text)
        text = self.lines[line - 1]
        return self._starts[line - 1] + len(text.encode("utf-8")[:column].decode("utf-8", errors="replace"))

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, node: ast.AST) -> str:
        return self.text[self.start(node):self.end(node)]

    def line_start(self, line: int) -> int:
        return self._starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset after the line's break (the next line's start)."""
        return self._starts[line]

    def newline(self, line: int) -> str:
        """The line's line break; for a last line without one, the first line's (else ``\\n``)."""
        for text in (self.lines[line - 1] if line <= len(self.lines) else "", self.lines[0] if self.lines else ""):
            ending = text[len(text.rstrip("\r\n")):]
            if ending:
                return ending
        return "\n"

    def indent(self, line: int) -> str:
        text = self.lines[line - 1]
        return text[: len(text) - len(text.lstrip(" \t"))]

    def starts_line(self, node: ast.AST) -> bool:
        """Only whitespace before ``node`` on its first line."""
        return self.text[self.line_start(node.lineno):self.start(node)].strip() == ""

    def ends_line(self, node: ast.AST) -> bool:
        """Nothing but whitespace or a comment after ``node`` on its last line."""
        rest = self.text[self.end(node):self.line_end(node.end_lineno)].strip()
        return rest == "" or rest.startswith("#")


def replace(source: Source, node: ast.AST, text: str) -> Edit:
    return Edit(source.start(node), source.end(node), text)


def insert(offset: int, text: str) -> Edit:
    return Edit(offset, offset, text)


def apply(text: str, fixes: Iterable[Fix]) -> Tuple[str, List[Fix]]:
    """``text`` with every fix whose edits overlap no edit taken before it; the fixes taken."""
    taken: List[Fix] = []
    spans: List[Edit] = []
    for fix in sorted(fixes, key=lambda f: min((e.start, e.end) for e in f.edits)):
        if any(_overlap(edit, other) for edit in fix.edits for other in spans):
            continue
        if any(_overlap(a, b) for i, a in enumerate(fix.edits) for b in fix.edits[i + 1:]):
            continue
        taken.append(fix)
        spans.extend(fix.edits)
    for edit in sorted(spans, key=lambda e: (e.start, e.end), reverse=True):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text, taken


def _overlap(a: Edit, b: Edit) -> bool:
    if a.start == a.end == b.start == b.end:
        return True  # two insertions at one place: their order would be a guess
    return a.start < b.end and b.start < a.end
