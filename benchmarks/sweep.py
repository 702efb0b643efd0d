"""Run the flake8 plugin over every ``.py`` file of the standard library and the big ML packages.

A reliability sweep, not a timing benchmark: each file is read and parsed the way flake8 reads
and parses it (flake8's own ``FileProcessor``), then ``AdvisorPlugin(tree, filename, lines).run()``
runs in-process. Counted as failures, and the exit status is 1 when there is any:

* **exceptions**: anything ``run()`` raised (flake8 would stop with ``PluginExecutionFailed``);
* **internal errors**: errors ``run()`` contained and logged to ``flake8.lightning_advisor``. flake8
  carries on after them, but each one is a check that skipped a node because of a bug.

Files this interpreter cannot parse (Python 2 code, deliberate syntax errors in the standard
library's tests) are skipped and counted: flake8 reports E999 for them and never calls a plugin.

    python benchmarks/sweep.py                          # stdlib, torch, lightning, pytorch_lightning, ...
    python benchmarks/sweep.py torch --sample 500 --json sweep.json
    python benchmarks/sweep.py --every-file             # analyse files that never import torch too

``--every-file`` appends ``import torch`` to each file (line numbers stay put), so that every check
runs on all code, not only on modules that import torch or Lightning.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import logging
import os
import platform
import random
import sys
import sysconfig
import time
import tokenize
import warnings
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

SOURCES = ("stdlib", "torch", "lightning", "pytorch_lightning", "torchvision", "numpy")
_LOGGER = "flake8.lightning_advisor"
_DETAILS = 50  # failures listed in full; the counts cover all of them


def source_files(source: str) -> List[Path]:
    """Every ``.py`` file of ``"stdlib"`` or of an installed package, sorted; [] when not installed.

    Packages are located without importing them (the sweep never imports torch).
    """
    if source == "stdlib":
        root = Path(sysconfig.get_paths()["stdlib"])
        return sorted(p for p in root.rglob("*.py") if not {"site-packages", "dist-packages"} & set(p.parts))
    spec = importlib.util.find_spec(source)
    if spec is None:
        return []
    roots = list(spec.submodule_search_locations or [])
    if not roots and spec.origin:
        return [Path(spec.origin)]
    return sorted({p for root in roots for p in Path(root).rglob("*.py")})


def collect(sources: Sequence[str], sample: Optional[int], seed: int) -> List[Tuple[str, Path]]:
    """``(source, path)`` for each file, each real file once; a seeded random subset with ``sample``."""
    seen = set()
    files = []
    for source in sources:
        for path in source_files(source):
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                files.append((source, path))
    if sample is not None and sample < len(files):
        files = sorted(random.Random(seed).sample(files, sample), key=lambda item: str(item[1]))
    return files


class _Contained(logging.Handler):
    """Collects what the plugin logs when it contains an error of its own."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: List[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _flake8_options() -> argparse.Namespace:
    # the attributes flake8's FileProcessor reads at construction, at flake8's defaults
    return argparse.Namespace(
        hang_closing=False, indent_size=4, max_line_length=79, max_doc_length=None, verbose=0,
        stdin_display_name="stdin", disable_noqa=False,
    )


def read_and_parse(path: Path) -> Tuple[List[str], ast.AST]:
    """The file's lines and tree, as flake8 reads and parses them."""
    try:
        from flake8.processor import FileProcessor
    except ImportError:  # an interpreter without flake8 (a newer Python's stdlib): flake8's steps, by hand
        try:
            with tokenize.open(path) as handle:
                lines = handle.readlines()
        except (SyntaxError, UnicodeError):
            with open(path, encoding="latin-1") as handle:
                lines = handle.readlines()
        if lines and lines[0][:1] == "\ufeff":
            lines[0] = lines[0][1:]
        return lines, ast.parse("".join(lines))
    processor = FileProcessor(str(path), _flake8_options())
    return processor.lines, processor.build_ast()


def sweep_file(path: Path, every_file: bool = False) -> Dict[str, object]:
    """Read, parse and check one file as flake8 would; never raises."""
    from lightning_advisor.static.plugin import AdvisorPlugin

    result: Dict[str, object] = {"path": str(path), "lines": 0, "findings": [], "failures": []}
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():  # invalid escape sequences in library code: not ours to say
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            lines, tree = read_and_parse(path)
            result["lines"] = len(lines)
            if every_file:
                tree = ast.parse("".join(lines) + "\nimport torch\n")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OSError) as error:
        result["skipped"] = f"{type(error).__name__}: {error}"
        try:
            result["lines"] = path.read_bytes().count(b"\n")
        except OSError:
            pass
        return result
    handler = _Contained()
    logger = logging.getLogger(_LOGGER)
    logger.addHandler(handler)
    try:
        # ``lines=None`` skips the plugin's "mentions torch" shortcut
        plugin = AdvisorPlugin(tree, str(path), None if every_file else lines)
        for line, col, message, _ in plugin.run():
            result["findings"].append([line, col, message])
    except Exception as error:  # what flake8 would turn into PluginExecutionFailed
        result["failures"].append({"kind": "exception", "error": f"{type(error).__name__}: {error}"})
    finally:
        logger.removeHandler(handler)
    for record in handler.records:
        error = f"{record.exc_info[0].__name__}: {record.exc_info[1]}" if record.exc_info else ""
        result["failures"].append({"kind": "internal error", "error": error, "message": record.getMessage()})
    result["seconds"] = time.perf_counter() - started
    return result


def _worker(args: Tuple[str, bool]) -> Dict[str, object]:
    return sweep_file(Path(args[0]), args[1])


def run(files: Sequence[Tuple[str, Path]], jobs: int = 1, every_file: bool = False) -> List[Dict[str, object]]:
    work = [(str(path), every_file) for _, path in files]
    if jobs <= 1:
        return [_worker(item) for item in work]
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        return pool.map(_worker, work, chunksize=16)


def summarise(files: Sequence[Tuple[str, Path]], results: Sequence[Dict[str, object]], seconds: float) -> dict:
    per_source: Dict[str, Counter] = {}
    findings: Counter = Counter()
    failures = []
    skipped: Counter = Counter()
    for (source, _), result in zip(files, results):
        counts = per_source.setdefault(source, Counter())
        counts["files"] += 1
        counts["lines"] += result["lines"]
        if "skipped" in result:
            counts["skipped"] += 1
            skipped[result["skipped"].split(":")[0]] += 1
            continue
        counts["findings"] += len(result["findings"])
        for _, _, message in result["findings"]:
            findings[message.split(" ", 1)[0]] += 1
        for failure in result["failures"]:
            counts["exceptions" if failure["kind"] == "exception" else "internal errors"] += 1
            failures.append(dict(failure, path=result["path"]))
    totals = Counter()
    for counts in per_source.values():
        totals.update(counts)
    checked = [r for r in results if "skipped" not in r]
    slowest = sorted(checked, key=lambda r: -r["seconds"])[:10]
    return {
        "sources": {name: dict(counts) for name, counts in per_source.items()},
        "files": totals["files"],
        "lines": totals["lines"],
        "skipped": totals["skipped"],
        "skipped_by_error": dict(skipped),
        "skipped_files": [{"path": r["path"], "error": r["skipped"]} for r in results if "skipped" in r],
        "findings": totals["findings"],
        "findings_by_code": dict(sorted(findings.items())),
        "exceptions": totals["exceptions"],
        "internal_errors": totals["internal errors"],
        "failures": failures,
        "wall_s": round(seconds, 2),
        "slowest": [{"path": r["path"], "seconds": round(r["seconds"], 4), "lines": r["lines"]} for r in slowest],
    }


def print_table(summary: dict, header: str) -> None:
    columns = ("files", "lines", "skipped", "findings", "exceptions", "internal errors")
    print(header)
    print("| source | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    rows = list(summary["sources"].items())
    totals = {c: summary[c.replace(" ", "_")] for c in columns}
    for name, counts in rows + [("**total**", totals)]:
        print(f"| {name} | " + " | ".join(f"{counts.get(c, 0):,}" for c in columns) + " |")
    by_code = ", ".join(f"{code} {count:,}" for code, count in summary["findings_by_code"].items()) or "none"
    print(f"\nFindings per code: {by_code}")
    if summary["skipped_by_error"]:
        print("Skipped (this Python cannot parse them; flake8 says E999): " + ", ".join(
            f"{count} {error}" for error, count in sorted(summary["skipped_by_error"].items())))
    print(f"Exceptions: {summary['exceptions']}; internal errors: {summary['internal_errors']}")
    print(f"Wall time: {summary['wall_s']:.1f} s")
    for failure in summary["failures"][:_DETAILS]:
        print(f"  FAILED {failure['kind']}: {failure['path']}: {failure['error']} {failure.get('message', '')}")


def main(argv: Optional[Iterable[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", default=list(SOURCES), help=f"default: {' '.join(SOURCES)}")
    parser.add_argument("--sample", type=int, help="check this many files, a seeded random choice")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument("--every-file", action="store_true", help="run all checks on files without torch too")
    parser.add_argument("--json", type=Path, help="write the summary and every finding here")
    args = parser.parse_args(list(argv) if argv is not None else None)

    missing = [s for s in args.sources if s != "stdlib" and importlib.util.find_spec(s) is None]
    sources = [s for s in args.sources if s not in missing]
    files = collect(sources, args.sample, args.seed)
    if not files:
        parser.error(f"no files to check (not installed: {', '.join(missing) or 'none'})")
    started = time.perf_counter()
    results = run(files, args.jobs, args.every_file)
    summary = summarise(files, results, time.perf_counter() - started)
    summary.update(
        every_file=args.every_file, sample=args.sample, seed=args.seed, jobs=args.jobs, missing=missing,
        python=platform.python_version(),
    )
    mode = "every file analysed" if args.every_file else "as flake8 runs it"
    print_table(summary, f"lightning-advisor sweep ({mode}; Python {summary['python']})")
    if missing:
        print(f"Not installed, left out: {', '.join(missing)}")
    if args.json:
        findings = [[r["path"], *f] for r in results for f in r["findings"]]
        args.json.write_text(json.dumps(dict(summary, all_findings=findings), indent=1))
    return 1 if summary["exceptions"] or summary["internal_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
