"""What every benchmark script shares: the command line, timing, medians, the corpus, the table and the JSON.

Scripts import it as ``harness`` (Python puts ``benchmarks/`` first on ``sys.path`` when one of them runs).
Timings are wall-clock (``time.perf_counter``); each figure is a median over repetitions, and compared
commands run alternately, in a rotating order, so that a slow spell of a shared machine hits every arm.
"""
from __future__ import annotations

import argparse
import compileall
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
FLAKE8_ONLY = Path(__file__).with_name("flake8_only.py")

# flake8's own checkers (pyflakes, pycodestyle, mccabe), by entry-point name: the default run without us.
FLAKE8_DEFAULT = ("F", "E", "W", "C90")
PLUGIN = "LA"
TORCHFIX = "TOR"

# Corpus sources: installed packages, found without importing them, and folders of this repository.
PACKAGE_SOURCES = {"torch": "torch", "lightning": "lightning", "pytorch_lightning": "pytorch_lightning",
                   "torchvision": "torchvision"}
REPO_SOURCES = {"examples": ROOT / "examples", "checks": ROOT / "checks"}
CORPUS_GROUPS = {
    "all": ("torch", "lightning", "pytorch_lightning", "torchvision", "examples", "checks"),
    "torch": ("torch",),
    "lightning": ("lightning", "pytorch_lightning"),
    "torchvision": ("torchvision",),
    "repo": ("examples", "checks"),
}
VERSIONED = ("flake8", "pycodestyle", "pyflakes", "mccabe", "astroid", "lightning-advisor", "torch",
             "torchvision", "lightning", "pytorch-lightning", "TorchFix", "libcst")


def announce(args: argparse.Namespace, info: dict) -> None:
    """Prepare the plugin's bytecode; print the machine and, under ``--quick``, that nothing is measured."""
    if args.quick:
        print("--quick: checks that the script runs; its figures are not measurements\n")
    info["bytecode"] = compile_plugin()
    print(describe_machine(info))
    print(info["bytecode"])


def compile_plugin() -> str:
    """Write lightning_advisor's bytecode cache, as a normal install has it, and say what was done.

    Without it (a source checkout under ``PYTHONDONTWRITEBYTECODE=1``) every flake8 process compiles the
    plugin from source, which an installed package never does; that would be measured as the plugin's cost.
    """
    spec = importlib.util.find_spec("lightning_advisor")
    if spec is None or not spec.submodule_search_locations:
        return "lightning_advisor not found"
    folder = list(spec.submodule_search_locations)[0]
    compileall.compile_dir(folder, quiet=1)
    note = " (PYTHONDONTWRITEBYTECODE is set: Python would not have written it)" if sys.dont_write_bytecode else ""
    return f"bytecode of {folder} compiled before measuring{note}"


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark has: ``--quick`` and ``--json PATH``."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument("--quick", action="store_true",
                        help="few repetitions, small input: checks that the script runs, measures nothing")
    result.add_argument("--json", metavar="PATH", type=Path, help="also write the figures as JSON to PATH")
    return result


# -- timing ---------------------------------------------------------------------------------------
def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def run_command(command: Sequence[str], stdin: Optional[bytes] = None, cwd: Path = ROOT,
                env: Optional[Dict[str, str]] = None) -> "subprocess.CompletedProcess[bytes]":
    """Run ``command``; exit status 0 or 1 (flake8 with findings) is success, anything else is an error."""
    result = subprocess.run(list(command), input=stdin, capture_output=True, cwd=cwd, env=env)
    if result.returncode not in (0, 1):
        tail = result.stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(map(str, command))[:300]} exited with {result.returncode}:\n{tail}")
    return result


def time_command(command: Sequence[str], stdin: Optional[bytes] = None, cwd: Path = ROOT,
                 env: Optional[Dict[str, str]] = None) -> Tuple[float, "subprocess.CompletedProcess[bytes]"]:
    """Wall-clock seconds of one run of ``command``, process start-up included, and what it returned."""
    start = time.perf_counter()
    result = run_command(command, stdin=stdin, cwd=cwd, env=env)
    return time.perf_counter() - start, result


_INSTRUCTIONS = re.compile(rb"I\s+refs:\s+([\d,]+)")


def instructions(command: Sequence[str], stdin: Optional[bytes] = None, cwd: Path = ROOT) -> Optional[int]:
    """Machine instructions one run of ``command`` executes (valgrind's cachegrind); None without valgrind.

    A count, not a time: the same on a quiet machine and a busy or throttled one, so two arms' counts compare
    even when wall times drift between runs. About 50 times slower than the command itself.
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    result = run_command([valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                          *command], stdin=stdin, cwd=cwd)
    found = _INSTRUCTIONS.search(result.stderr)
    return int(found.group(1).replace(b",", b"")) if found else None


class Timings:
    """Per arm, in round order: wall-clock seconds and CPU seconds (this process and the commands it ran).

    CPU time barely moves when other programs compete for the machine; wall time is what a user waits.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self.wall: Dict[str, List[float]] = {name: [] for name in names}
        self.cpu: Dict[str, List[float]] = {name: [] for name in names}


def cpu_seconds() -> float:
    """CPU time so far of this process and of its finished child processes (user + system)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def alternate(arms: Dict[str, Callable[[], float]], rounds: int) -> Timings:
    """Run every arm once per round, in rotating order; an arm returns the wall seconds it measured."""
    names = list(arms)
    timings = Timings(names)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            start = cpu_seconds()
            timings.wall[name].append(arms[name]())
            timings.cpu[name].append(cpu_seconds() - start)
    return timings


def flake8_command(plugins: Sequence[str], *args: str) -> List[str]:
    """flake8 with only the checker plugins named (entry-point names, e.g. ``("F", "E", "W", "C90")``)."""
    return [sys.executable, str(FLAKE8_ONLY), ",".join(plugins) or "none", *args]


def installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


# -- corpus ---------------------------------------------------------------------------------------
def source_root(name: str) -> Optional[Path]:
    """The folder of a corpus source, or ``None`` when that package is not installed."""
    if name in REPO_SOURCES:
        return REPO_SOURCES[name] if REPO_SOURCES[name].is_dir() else None
    spec = importlib.util.find_spec(PACKAGE_SOURCES[name])  # a top-level package: not imported
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def python_files(root: Path) -> List[Path]:
    return sorted(path for path in root.rglob("*.py") if "__pycache__" not in path.parts)


def evenly_spaced(items: Sequence, count: Optional[int]) -> list:
    """``count`` items spread evenly over ``items`` (all of them when ``count`` is None or large enough)."""
    if count is None or count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(index * step)] for index in range(count)]


def line_count(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


class Corpus:
    """The files to lint, per source, with what the report says about them (version, files, lines)."""

    def __init__(self, group: str, max_files: Optional[int] = None) -> None:
        self.group = group
        self.max_files = max_files
        self.files: List[Path] = []
        self.sources: List[dict] = []
        for name in CORPUS_GROUPS[group]:
            root = source_root(name)
            if root is None:
                self.sources.append({"source": name, "missing": True})
                continue
            chosen = evenly_spaced(python_files(root), max_files)
            lines = sum(map(line_count, chosen))
            self.files += chosen
            self.sources.append({"source": name, "path": str(root), "version": _source_version(name),
                                 "files": len(chosen), "lines": lines})
        self.lines = sum(source.get("lines", 0) for source in self.sources)

    def describe(self) -> str:
        rows = [[s["source"], s.get("version", "-"), s.get("files", "not installed"), s.get("lines", "-")]
                for s in self.sources]
        rows.append(["total", "", len(self.files), self.lines])
        cap = f", at most {self.max_files} files per source, evenly spaced" if self.max_files else ""
        return f"Corpus `{self.group}`{cap}:\n\n" + table(["source", "version", "files", "lines"], rows)

    def as_json(self) -> dict:
        return {"group": self.group, "max_files_per_source": self.max_files, "files": len(self.files),
                "lines": self.lines, "sources": self.sources}


def _source_version(name: str) -> str:
    if name in REPO_SOURCES:
        return "this checkout"
    try:
        return importlib.metadata.version(PACKAGE_SOURCES[name].replace("_", "-"))
    except importlib.metadata.PackageNotFoundError:
        return "?"


# -- report ---------------------------------------------------------------------------------------
def machine() -> dict:
    """The machine and the versions the figures belong to."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def describe_machine(info: dict) -> str:
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    load = info["load_average"]
    return (f"Machine: {info['cpu']}, {info['usable_cores']} of {info['cores']} cores usable, "
            f"load average {load[0] if load else '?'} at start; Python {info['python']}; {versions}")


def table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A Markdown table (it reads as plain text too)."""
    text_rows = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in text_rows)) if text_rows else len(str(h))
              for i, h in enumerate(headers)]

    def line(cells):
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths)) + " |"

    return "\n".join([line(list(map(str, headers))), "|" + "|".join("-" * (w + 2) for w in widths) + "|",
                      *map(line, text_rows)])


def _cell(value) -> str:
    if isinstance(value, float):  # ratios near 1 need their third decimal
        return f"{value:,.4g}" if abs(value) < 10 else f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def verdict(value: float, target: float, at_most: bool = True) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "MISSED"


def write_json(path: Optional[Path], payload: dict) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\nwrote {path}")
