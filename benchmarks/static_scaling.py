"""Scaling: LA alone on growing corpora (about 1k, 10k, 100k lines, everything) with -j 1 and -j 2.

    python benchmarks/static_scaling.py                   # the whole corpus, 3 repetitions (several minutes)
    python benchmarks/static_scaling.py --corpus lightning --profile 25

Wall time should grow linearly: lines per second roughly constant once flake8's start-up (timed on an
empty file and subtracted in the "net" columns) is small beside the work. Then, in this process, each
file of the corpus is parsed and given to ``AdvisorPlugin(tree, filename, lines).run()`` alone, which
isolates our cost from flake8's; the slowest files are timed again and listed.
"""
from __future__ import annotations

import ast
import cProfile
import io
import pstats
import random
import tempfile
import time
import tokenize
from pathlib import Path
from typing import List, Optional, Tuple

import harness
from harness import PLUGIN, median

SIZES = (1_000, 10_000, 100_000)
RETIMED = 15  # this many of the slowest files after one pass are timed again, five times each


def main(argv: Optional[List[str]] = None) -> None:
    cli = harness.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--corpus", choices=sorted(harness.CORPUS_GROUPS), default="all")
    cli.add_argument("--max-files", type=int, default=0,
                     help="at most this many files per source, evenly spaced (default 0: every file)")
    cli.add_argument("--repeats", type=int, default=3, help="runs per size and -j, median (default 3)")
    cli.add_argument("--slowest", type=int, default=5, help="how many slowest files to list (default 5)")
    cli.add_argument("--profile", type=int, metavar="N", default=0,
                     help="also profile the in-process plugin pass (cProfile) and print its top N functions")
    args = cli.parse_args(argv)
    if args.quick:
        args.corpus, args.max_files, args.repeats = "repo", 10, 1

    corpus = harness.Corpus(args.corpus, args.max_files or None)
    info = harness.machine()
    harness.announce(args, info)
    print()
    print(corpus.describe())

    counted = [(path, harness.line_count(path)) for path in corpus.files]
    random.Random(0).shuffle(counted)  # sizes are prefixes of one fixed order: each contains the smaller
    sizes = [_prefix(counted, target) for target in SIZES if target < corpus.lines] + [(counted, "whole")]

    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.py"
        empty.write_text("")
        startup = median(harness.time_command(harness.flake8_command((PLUGIN,), "--isolated", str(empty)))[0]
                         for _ in range(max(3, args.repeats)))
    print(f"\nflake8 start-up with LA alone, on an empty file: {startup * 1000:.0f} ms (median)")

    rows = []
    for files, label in sizes:
        lines = sum(count for _, count in files)
        paths = [str(path) for path, _ in files]
        arms = {jobs: _timer(harness.flake8_command((PLUGIN,), "--isolated", "-j", str(jobs), *paths))
                for jobs in (1, 2)}
        timings = harness.alternate(arms, args.repeats)
        row = {"size": label, "files": len(files), "lines": lines}
        for jobs in (1, 2):
            seconds = median(timings.wall[jobs])
            row[f"j{jobs}_s"] = seconds
            row[f"j{jobs}_lines_per_s"] = lines / seconds
            row[f"j{jobs}_net_lines_per_s"] = lines / (seconds - startup) if seconds > startup else None
        rows.append(row)
    per_file, skipped, totals = _plugin_pass(corpus.files)
    by_file = {item["file"]: item for item in per_file}
    for row, (files, _) in zip(rows, sizes):  # the same files, in process: our cost apart from flake8's
        measured = [by_file[str(path)] for path, _ in files if str(path) in by_file]
        row["parse_s"] = sum(item["parse_ms"] for item in measured) / 1000
        row["plugin_s"] = sum(item["plugin_ms"] for item in measured) / 1000
        row["plugin_lines_per_s"] = row["lines"] / row["plugin_s"] if row["plugin_s"] else None
    print()
    print(harness.table(
        ["size", "files", "lines", "-j 1 s", "-j 1 lines/s", "-j 1 net lines/s", "-j 2 s", "-j 2 lines/s",
         "-j 2 net lines/s", "parse s", "plugin s", "plugin lines/s"],
        [[r["size"] if isinstance(r["size"], str) else f"~{r['size']:,}", r["files"], r["lines"],
          r["j1_s"], round(r["j1_lines_per_s"]), _rounded(r["j1_net_lines_per_s"]),
          r["j2_s"], round(r["j2_lines_per_s"]), _rounded(r["j2_net_lines_per_s"]),
          r["parse_s"], r["plugin_s"], _rounded(r["plugin_lines_per_s"])] for r in rows]))
    print("(parse s, plugin s: the same files in this process, ast.parse and AdvisorPlugin.run apart)")
    slowest = _retime_slowest(per_file, max(args.slowest, RETIMED if not args.quick else args.slowest))
    print(f"\nIn process, plugin alone over {len(per_file):,} files ({totals['lines']:,} lines"
          + (f"; {skipped} files that do not parse skipped" if skipped else "") + "): "
          f"parse {totals['parse_s']:.2f} s (flake8's cost), AdvisorPlugin.run {totals['plugin_s']:.2f} s, "
          f"{totals['lines'] / totals['plugin_s']:,.0f} lines/s")
    print(f"\nThe {args.slowest} slowest files for the plugin alone (median of 5 timings):")
    print(harness.table(["file", "lines", "plugin ms", "us/line", "parse ms"],
                        [[_short(s["file"]), s["lines"], s["plugin_ms"],
                          s["plugin_ms"] * 1000 / max(s["lines"], 1), s["parse_ms"]]
                         for s in slowest[:args.slowest]]))

    profile = _profile(per_file, args.profile) if args.profile else None
    if profile:
        print(f"\ncProfile of the in-process plugin pass, top {args.profile} functions,", end=" ")
        print(profile)

    harness.write_json(args.json, {
        "benchmark": "static_scaling", "quick": args.quick, "repeats": args.repeats, "machine": info,
        "corpus": corpus.as_json(), "startup_s": startup, "sizes": rows,
        "in_process": {**totals, "files": len(per_file), "skipped": skipped},
        "slowest": slowest[:args.slowest], "profile": profile,
    })


def _prefix(counted: List[Tuple[Path, int]], target: int) -> Tuple[List[Tuple[Path, int]], int]:
    total = 0
    for index, (_, lines) in enumerate(counted):
        total += lines
        if total >= target:
            return counted[:index + 1], target
    return counted, target


def _timer(command):
    return lambda: harness.time_command(command)[0]


def _rounded(value):
    return "-" if value is None else round(value)


def _short(path: str) -> str:
    parts = Path(path).parts
    anchor = next((i for i, part in enumerate(parts) if part in ("site-packages", harness.ROOT.name)), None)
    return "/".join(parts[anchor + 1:]) if anchor is not None else path


def _read(path: Path) -> Tuple[str, List[str]]:
    with tokenize.open(path) as handle:  # honours coding cookies, as flake8 does
        text = handle.read()
    return text, text.splitlines(keepends=True)


def _reparse(file: str) -> Tuple[ast.Module, List[str]]:
    """A file measured earlier, parsed again (trees are not kept between passes)."""
    text, lines = _read(Path(file))
    return ast.parse(text, filename=file), lines


def _plugin_pass(files: List[Path]):
    from lightning_advisor.static.plugin import AdvisorPlugin

    per_file, skipped = [], 0
    totals = {"lines": 0, "parse_s": 0.0, "plugin_s": 0.0}
    warm_up = "import torch\nloader = torch.utils.data.DataLoader([])\n"  # the checks' modules load lazily
    list(AdvisorPlugin(ast.parse(warm_up), "warm_up.py", warm_up.splitlines(keepends=True)).run())
    for path in files:
        try:
            text, lines = _read(path)
            start = time.perf_counter()
            tree = ast.parse(text, filename=str(path))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            skipped += 1
            continue
        parsed = time.perf_counter()
        for _ in AdvisorPlugin(tree, str(path), lines).run():
            pass
        done = time.perf_counter()
        # Trees are not kept: thousands of them alive would make the collector's passes, and so every
        # later parse and run, slower than in flake8, which drops each file's tree when it is done.
        per_file.append({"file": str(path), "lines": len(lines), "parse_ms": (parsed - start) * 1000,
                         "plugin_ms": (done - parsed) * 1000})
        totals["lines"] += len(lines)
        totals["parse_s"] += parsed - start
        totals["plugin_s"] += done - parsed
    return per_file, skipped, totals


def _retime_slowest(per_file: List[dict], count: int) -> List[dict]:
    from lightning_advisor.static.plugin import AdvisorPlugin

    candidates = sorted(per_file, key=lambda item: -item["plugin_ms"])[:count]
    result = []
    for item in candidates:
        tree, lines = _reparse(item["file"])
        timings = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in AdvisorPlugin(tree, item["file"], lines).run():
                pass
            timings.append((time.perf_counter() - start) * 1000)
        result.append({"file": item["file"], "lines": item["lines"], "plugin_ms": median(timings),
                       "parse_ms": item["parse_ms"]})
    return sorted(result, key=lambda item: -item["plugin_ms"])


def _profile(per_file: List[dict], top: int) -> str:
    from lightning_advisor.static.plugin import AdvisorPlugin

    profiler = cProfile.Profile()
    for item in per_file:
        tree, lines = _reparse(item["file"])
        profiler.enable()
        for _ in AdvisorPlugin(tree, item["file"], lines).run():
            pass
        profiler.disable()
    sections = []
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        body = out.getvalue().split("\n", 4)[-1].strip("\n")  # drop the header lines about the profile file
        sections.append(f"sorted by {order}:\n{body}")
    return "\n\n".join(sections)


if __name__ == "__main__":
    main()
