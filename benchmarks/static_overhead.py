"""Static throughput and overhead: whole flake8 runs, one process, with and without lightning-advisor.

    python benchmarks/static_overhead.py                      # default corpus, 5 rounds
    python benchmarks/static_overhead.py --corpus all --max-files 0 --rounds 3   # everything (long)
    python benchmarks/static_overhead.py --torchfix-site DIR  # TorchFix installed with pip --target DIR

Every arm is the same flake8, interpreter and file list; only the set of checker plugins differs
(``flake8_only.py`` leaves the others out of flake8's plugin finder, so they are never imported or run).
Arms run alternately, in a rotating order, ``--rounds`` times; each figure is a median.
"""
from __future__ import annotations

import os
from typing import Dict, List, Optional

import harness
from harness import FLAKE8_DEFAULT, PLUGIN, TORCHFIX, median

TARGET_OVERHEAD = 1.05  # flake8 + LA over flake8 alone, whole runs (issue 15; it was 1.10)
TARGET_VS_TORCHFIX = 20.0  # LA alone at least this many times faster than TorchFix alone


def main(argv: Optional[List[str]] = None) -> None:
    cli = harness.parser(__doc__.split("\n\n")[0])
    cli.add_argument("--corpus", choices=sorted(harness.CORPUS_GROUPS), default="all")
    cli.add_argument("--max-files", type=int, default=100,
                     help="at most this many files per source, evenly spaced (0: every file; default 100)")
    cli.add_argument("--rounds", type=int, default=5, help="rounds of alternated runs (default 5)")
    cli.add_argument("--torchfix-site", metavar="DIR",
                     help="a folder TorchFix was installed into with `pip install --target DIR torchfix`; "
                          "without it, TorchFix is used if it is installed in this environment")
    args = cli.parse_args(argv)
    if args.quick:
        args.corpus, args.max_files, args.rounds = "repo", 5, 1

    env = dict(os.environ)
    if args.torchfix_site:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.torchfix_site, env.get("PYTHONPATH")]))
    corpus = harness.Corpus(args.corpus, args.max_files or None)
    info = harness.machine()
    harness.announce(args, info)
    print()
    print(corpus.describe())

    arms = {
        "flake8, no checker (read, tokenize, parse)": (),
        "flake8 default checks (F, E, W, C90)": FLAKE8_DEFAULT,
        "flake8 default checks + LA": FLAKE8_DEFAULT + (PLUGIN,),
        "LA alone": (PLUGIN,),
    }
    torchfix = _torchfix_version(env)
    if torchfix:
        arms[f"TorchFix {torchfix} alone"] = (TORCHFIX,)
    findings: Dict[str, int] = {}

    def arm(name: str, plugins):
        command = harness.flake8_command(plugins, "--isolated", "-j", "1", *map(str, corpus.files))

        def run() -> float:
            seconds, result = harness.time_command(command, env=env)
            findings[name] = len(result.stdout.splitlines())
            return seconds

        return run

    timings = harness.alternate({name: arm(name, plugins) for name, plugins in arms.items()}, args.rounds)

    rows = []
    for name, plugins in arms.items():
        wall = timings.wall[name]
        rows.append({"arm": name, "plugins": ",".join(plugins) or "none", "median_s": median(wall),
                     "min_s": min(wall), "median_cpu_s": median(timings.cpu[name]),
                     "lines_per_s": corpus.lines / median(wall), "findings": findings[name],
                     "timings_s": wall, "cpu_s": timings.cpu[name]})
    print()
    print(harness.table(["arm", "median s", "min s", "median CPU s", "lines/s", "findings"],
                        [[r["arm"], r["median_s"], r["min_s"], r["median_cpu_s"], round(r["lines_per_s"]),
                          r["findings"]] for r in rows]))

    bare, default, with_la, la_alone, *rest = list(arms)
    comparisons = [
        _comparison("flake8 + LA / flake8 alone (median of per-round ratios)",
                    _ratios(timings, with_la, default), TARGET_OVERHEAD, at_most=True),
        _comparison("LA alone, lines/s", {kind: corpus.lines / median(getattr(timings, kind)[la_alone])
                                          for kind in ("wall", "cpu")}),
        _comparison("LA alone minus flake8's own cost, lines/s",
                    {kind: corpus.lines / max(seconds, 1e-9)
                     for kind, seconds in _net(timings, la_alone, bare).items()}),
    ]
    if rest:
        tor = rest[0]
        comparisons.append(_comparison("TorchFix alone / LA alone: LA is this many times faster",
                                       _ratios(timings, tor, la_alone), TARGET_VS_TORCHFIX, at_most=False))
        la_net, tor_net = _net(timings, la_alone, bare), _net(timings, tor, bare)
        comparisons.append(_comparison("the same, each minus flake8's own cost",
                                       {kind: tor_net[kind] / max(la_net[kind], 1e-9) for kind in la_net}))
    else:
        comparisons.append({"comparison": "TorchFix: not installed (`pip install torchfix`, or "
                            "`pip install --target DIR torchfix` and --torchfix-site DIR)",
                            "wall": None, "cpu": None, "target": "", "verdict": ""})
    print()
    print(harness.table(["comparison", "wall", "CPU", "target", "verdict (wall)"],
                        [[c["comparison"], _blank(c["wall"]), _blank(c["cpu"]), c["target"], c["verdict"]]
                         for c in comparisons]))

    harness.write_json(args.json, {
        "benchmark": "static_overhead", "quick": args.quick, "rounds": args.rounds, "machine": info,
        "corpus": corpus.as_json(), "arms": rows, "comparisons": comparisons, "torchfix": torchfix,
    })


def _ratios(timings: harness.Timings, numerator: str, denominator: str) -> Dict[str, float]:
    """Median over rounds of numerator / denominator, for wall and for CPU time."""
    return {kind: median(a / b for a, b in zip(getattr(timings, kind)[numerator],
                                               getattr(timings, kind)[denominator]))
            for kind in ("wall", "cpu")}


def _net(timings: harness.Timings, arm: str, baseline: str) -> Dict[str, float]:
    """Median over rounds of arm - baseline seconds, for wall and for CPU time."""
    return {kind: median(a - b for a, b in zip(getattr(timings, kind)[arm], getattr(timings, kind)[baseline]))
            for kind in ("wall", "cpu")}


def _comparison(label: str, values: Dict[str, float], target: Optional[float] = None,
                at_most: bool = True) -> dict:
    row = {"comparison": label, **values, "target": "", "verdict": ""}
    if target is not None:
        row["target"] = f"{'<=' if at_most else '>='} {target:g}"
        row["verdict"] = harness.verdict(values["wall"], target, at_most)
    return row


def _blank(value):
    return "" if value is None else value


def _torchfix_version(env) -> Optional[str]:
    """TorchFix's version when flake8 (in this environment, with ``env``) finds its plugin."""
    result = harness.run_command(harness.flake8_command((TORCHFIX,), "--version"), env=env)
    text = result.stdout.decode()
    if "TorchFix" not in text:
        return None
    return text.split("TorchFix:", 1)[1].split(")")[0].split(",")[0].strip()


if __name__ == "__main__":
    main()
