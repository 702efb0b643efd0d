"""``lightning-advisor check``: the static checks over files or stdin, with fixes, in four report formats.

The findings are the flake8 plugin's (:func:`lightning_advisor.static.findings.findings`), filtered the way
flake8 filters them, by flake8's own code: its style guide (``select`` / ``ignore`` / ``per-file-ignores``),
its ``noqa`` lines (a comment anywhere on a multi-line string counts, as in flake8) and ``# flake8: noqa``
files, and its file discovery (``exclude``, ``filename``). What this command adds is speed (only the LA
checks run: no pycodestyle, no pyflakes) and fixes.

Fixing runs in rounds: check, apply every fix whose edits do not overlap, check the new text again, until
no fix applies (at most :data:`MAX_ROUNDS`). A round whose result does not parse is thrown away and the
file keeps the last text that did. A file with a syntax error is never fixed.
"""
from __future__ import annotations

import ast
import difflib
import io
import logging
import multiprocessing
import os
import tokenize
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, TextIO, Tuple

from lightning_advisor.command import formats
from lightning_advisor.command.settings import Settings
from lightning_advisor.fixes.edits import Fix, Source, apply
from lightning_advisor.fixes.registry import fix_for
from lightning_advisor.static.findings import findings, module_context

LOG = logging.getLogger("lightning_advisor.fixes")
MAX_ROUNDS = 10
STDIN = "-"


@dataclass(frozen=True)
class Reported:
    """One finding as the command shows it: 1-based line and column (as flake8 shows them)."""

    path: str
    line: int
    column: int
    code: str
    message: str
    fix: Optional[Fix]


@dataclass
class FileResult:
    path: str
    original: str = ""
    text: str = ""
    reported: List[Reported] = field(default_factory=list)
    fixed: List[Fix] = field(default_factory=list)
    error: Optional[str] = None
    from_stdin: bool = False
    encoding: str = "utf-8"


@dataclass(frozen=True)
class Mode:
    fix: bool = False
    unsafe: bool = False
    diff: bool = False

    def applies(self, fix: Optional[Fix]) -> bool:
        """The fix is one this run offers (``[*]``) and, with ``--fix`` or ``--diff``, applies."""
        return fix is not None and (fix.safe or self.unsafe)


class _Kept:
    """flake8's formatter interface, reduced to what the style guide calls: nothing to print."""

    def handle(self, error) -> None:
        pass


def check_files(paths: Sequence[str], settings: Settings, mode: Mode, jobs: Optional[int] = None) -> List[FileResult]:
    """Every file the paths name, checked (and fixed) in ``jobs`` processes (default: one per CPU)."""
    from flake8.discover_files import expand_paths

    options = settings.flake8
    files = sorted(expand_paths(  # flake8's order: by file name
        paths=list(paths) or ["."],
        stdin_display_name=options.stdin_display_name,
        filename_patterns=options.filename,
        exclude=[*options.exclude, *options.extend_exclude],
    ))
    jobs = min(jobs or os.cpu_count() or 1, len(files) // _FILES_PER_JOB)
    if jobs > 1 and STDIN not in files and "fork" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("fork")
        with context.Pool(jobs, initializer=_start_worker, initargs=(settings, mode)) as pool:
            return pool.map(_worker_check, files, chunksize=max(1, len(files) // (jobs * 4)))
    _start_worker(settings, mode)
    return [_worker_check(path) for path in files]


_FILES_PER_JOB = 8  # fewer files than this per process: starting processes costs more than it saves
_worker: dict = {}


def _start_worker(settings: Settings, mode: Mode) -> None:
    from flake8.style_guide import StyleGuideManager

    _worker.update(settings=settings, mode=mode, style=StyleGuideManager(settings.flake8, _Kept()))


def _worker_check(path: str) -> "FileResult":
    return check_file(path, _worker["settings"], _worker["style"], _worker["mode"])


def check_file(path: str, settings: Settings, style, mode: Mode) -> FileResult:
    from flake8.processor import FileProcessor

    options = settings.flake8
    try:
        if path == STDIN:
            processor = FileProcessor(path, options)  # flake8's reading of stdin, and its display name
        else:
            text, encoding = read(path)
            processor = FileProcessor(path, options, lines=Source(text).lines)
    except OSError as error:
        return FileResult(path, error=f"{path}: {error.strerror or error}")
    display = processor.filename
    result = FileResult(display, from_stdin=path == STDIN, encoding="utf-8" if path == STDIN else encoding)
    result.original = result.text = "".join(processor.lines)
    if processor.should_ignore_file():
        return result
    try:
        tree = ast.parse(result.text, display)
    except SyntaxError as error:
        result.error = f"{display}:{error.lineno or 1}:{error.offset or 1}: syntax error, not checked: {error.msg}"
        return result
    for _ in range(MAX_ROUNDS):
        result.reported = _reported(tree, result.text, processor, settings, style)
        if not (mode.fix or mode.diff):
            return result
        fixes = [r.fix for r in result.reported if mode.applies(r.fix)]
        if not fixes:
            return result
        text, taken = apply(result.text, fixes)
        try:
            tree = ast.parse(text, display)  # checked, and the next round's tree
        except SyntaxError:
            LOG.warning("lightning-advisor: internal error: fixes for %s gave code that does not parse; not applied",
                        display)
            return result
        result.text = text
        result.fixed.extend(taken)
        processor = FileProcessor(display, options, lines=Source(text).lines)
    return result


def _reported(tree: ast.AST, text: str, processor, settings: Settings, style) -> List[Reported]:
    path = processor.filename
    lines = processor.lines
    ctx = module_context(tree, path, lines)
    if ctx is None:
        return []
    source = Source(text)
    kept = []
    for finding in sorted(findings(ctx, settings.options), key=lambda f: (f.line, f.column)):
        code, words = finding.message.split(" ", 1)
        if style.handle_error(code, path, finding.line, finding.column, words, processor.noqa_line_for(finding.line)):
            fix = fix_for(ctx, source, finding.diagnostic)  # also without --fix: the report marks what it fixes
            kept.append(Reported(path, finding.line, finding.column + 1, code, finding.message, fix))
    return kept


# -- the command ---------------------------------------------------------------------------------


def run(
    paths: Sequence[str], settings: Settings, mode: Mode, output_format: str, out: TextIO, err: TextIO,
    jobs: Optional[int] = None,
) -> int:
    """Check, fix, report; the exit status: 0 clean, 1 findings left (or, with ``--diff``, fixes to apply), 2 errors."""
    results = check_files(paths, settings, mode, jobs)
    errors = [r.error for r in results if r.error]
    for message in errors:
        print(f"lightning-advisor check: error: {message}", file=err)
    if mode.diff:
        changed = False
        for result in results:
            if result.text != result.original:
                changed = True
                out.write(_diff(result))
        return 2 if errors else (1 if changed else 0)
    for result in results:
        if mode.fix and result.text != result.original:
            failed = _write(result, out)
            if failed:
                errors.append(failed)
                print(f"lightning-advisor check: error: {failed}", file=err)
    report_to = err if mode.fix and any(r.from_stdin for r in results) else out  # stdout holds the fixed code
    formats.report(results, mode, output_format, report_to)
    remaining = sum(len(r.reported) for r in results)
    return 2 if errors else (1 if remaining else 0)


def _diff(result: FileResult) -> str:
    notes = "".join(
        f"# {fix.applicability} fix: {fix.title}\n" for fix in result.fixed
    )
    lines = difflib.unified_diff(
        result.original.splitlines(keepends=True), result.text.splitlines(keepends=True),
        fromfile=f"a/{result.path}", tofile=f"b/{result.path}",
    )
    return notes + "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def read(path: str) -> Tuple[str, str]:
    """The file's text with its line breaks as they are, and its encoding (PEP 263, else latin-1 as flake8 does)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding), encoding
    except (SyntaxError, UnicodeError, LookupError):
        return data.decode("latin-1"), "latin-1"


def _write(result: FileResult, out: TextIO) -> Optional[str]:
    """Write the fixed text: to its file in the encoding it was read in, or (stdin) to ``out``."""
    if result.from_stdin:
        out.write(result.text)
        return None
    try:
        with open(result.path, "w", encoding=result.encoding, newline="") as handle:
            handle.write(result.text)
    except (OSError, UnicodeError) as error:
        return f"{result.path}: could not write the fixes: {error}"
    return None
