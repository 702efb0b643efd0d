"""``lightning-advisor check`` against ``flake8 --select LA`` on the same files: same findings, how much faster.

    python benchmarks/check_speed.py                 # the benchmark corpus (124k lines), 5 rounds
    python benchmarks/check_speed.py --quick         # a smoke run

``flake8 --select LA`` still imports and runs every installed checker (pyflakes, pycodestyle, mccabe) on
every file and only then filters; ``check`` runs the LA checks alone, in one process. Both arms run as
installed, in rotating order; flake8 runs with its default ``--jobs`` (one process per CPU) and with
``-j 1``. The findings of every arm must be the same lines, or the script stops.
"""
from __future__ import annotations

import re
import sys
from typing import Dict, List, Optional

import harness
from harness import median

TARGET = 3.0  # check at least this many times as fast as flake8 --select LA
_MARKER = re.compile(r" \[\*\]$")


def main(argv: Optional[List[str]] = None) -> None:
    cli = harness.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--corpus", choices=sorted(harness.CORPUS_GROUPS), default="all")
    cli.add_argument("--max-files", type=int, default=100, help="at most this many files per source (0: all)")
    cli.add_argument("--rounds", type=int, default=5)
    args = cli.parse_args(argv)
    if args.quick:
        args.corpus, args.max_files, args.rounds = "repo", 5, 1
    corpus = harness.Corpus(args.corpus, args.max_files or None)
    info = harness.machine()
    harness.announce(args, info)
    print()
    print(corpus.describe())

    files = [str(path) for path in corpus.files]
    fmt = "--format=%(path)s:%(row)d:%(col)d: %(code)s %(text)s"
    commands = {
        "flake8 --select LA": [sys.executable, "-m", "flake8", "--isolated", "--select", "LA", fmt, *files],
        "flake8 --select LA -j 1": [sys.executable, "-m", "flake8", "--isolated", "--select", "LA", "-j", "1", fmt,
                                    *files],
        "lightning-advisor check": [sys.executable, "-m", "lightning_advisor", "check", "--isolated", *files],
    }
    findings: Dict[str, List[str]] = {}

    def arm(name: str):
        def run() -> float:
            seconds, result = harness.time_command(commands[name])
            lines = result.stdout.decode().splitlines()
            findings[name] = sorted(_MARKER.sub("", line) for line in lines if re.search(r":\d+:\d+: LA\d{3} ", line))
            return seconds

        return run

    timings = harness.alternate({name: arm(name) for name in commands}, args.rounds)
    reference = findings["flake8 --select LA"]
    for name, found in findings.items():
        if found != reference:
            raise SystemExit(f"{name}: {len(found)} findings, flake8 --select LA: {len(reference)}; not the same")

    rows = [{"arm": name, "median_s": median(timings.wall[name]), "min_s": min(timings.wall[name]),
             "median_cpu_s": median(timings.cpu[name]), "findings": len(findings[name]),
             "timings_s": timings.wall[name]} for name in commands]
    print()
    print(harness.table(["arm", "median s", "min s", "median CPU s", "findings"],
                        [[r["arm"], r["median_s"], r["min_s"], r["median_cpu_s"], r["findings"]] for r in rows]))
    check = "lightning-advisor check"
    comparisons = []
    for flake8 in ("flake8 --select LA", "flake8 --select LA -j 1"):
        ratio = {kind: median(a / b for a, b in zip(getattr(timings, kind)[flake8], getattr(timings, kind)[check]))
                 for kind in ("wall", "cpu")}
        comparisons.append({"comparison": f"{flake8} / check: check is this many times faster",
                            "wall": ratio["wall"], "cpu": ratio["cpu"], "target": f">= {TARGET:g}",
                            "verdict": harness.verdict(ratio["wall"], TARGET, at_most=False)})
    print()
    print(harness.table(["comparison", "wall", "CPU", "target", "verdict (wall)"],
                        [[c["comparison"], c["wall"], c["cpu"], c["target"], c["verdict"]] for c in comparisons]))
    harness.write_json(args.json, {"benchmark": "check_speed", "quick": args.quick, "rounds": args.rounds,
                                   "machine": info, "corpus": corpus.as_json(), "arms": rows,
                                   "comparisons": comparisons})


if __name__ == "__main__":
    main()
