"""Lightning's own CPU test suite, with and without an AdvisorCallback in every Trainer: does every test end alike?

Not part of CI (it runs for a long time). Needs a checkout of Lightning's tests for the installed
version (``tests/tests_pytorch``) and an interpreter with Lightning's test requirements and this
package installed; see RELIABILITY.md ("Lightning's test suite") for the setup used.

    python benchmarks/lightning_suite.py --tests /path/to/lightning/tests --python /path/to/venv/bin/python \\
        --dirs trainer loops callbacks models core --out results/

Each arm is one pytest run over the same folders (``-p lightning_suite_plugin``, see that module);
the outcomes are then compared test by test. Prints the counts, every test whose outcome differs
with the first line of its failure, and every internal error the Callback reported; ``--json``
writes them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
ARMS = ("without", "with")


def run_arm(arm: str, args: argparse.Namespace) -> subprocess.Popen:
    out = args.out / f"{arm}.jsonl"
    env = dict(
        os.environ,
        ADVISOR_SUITE_ARM=arm,
        ADVISOR_SUITE_OUT=str(out),
        PYTHONPATH=os.pathsep.join([str(HERE), str(args.tests)]),
        CUDA_VISIBLE_DEVICES="",
        PYTHONWARNINGS="ignore",
    )
    command = [
        str(args.python), "-m", "pytest", *[f"tests_pytorch/{d}" for d in args.dirs],
        "-p", "lightning_suite_plugin", "-p", "no:cacheprovider", "-q", "-o", "addopts=",
        f"--timeout={args.timeout}", "-W", "ignore", *args.pytest,
    ]
    log = open(args.out / f"{arm}.log", "w", encoding="utf-8")
    return subprocess.Popen(command, cwd=args.tests, env=env, stdout=log, stderr=subprocess.STDOUT)


def load(path: Path) -> Dict[str, dict]:
    return {o["test"]: o for o in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=Path, required=True, help="Lightning's tests/ folder (holds tests_pytorch)")
    parser.add_argument("--python", type=Path, default=Path(sys.executable), help="interpreter to run pytest with")
    parser.add_argument("--dirs", nargs="+", default=["trainer", "loops", "callbacks", "models", "core"])
    parser.add_argument("--out", type=Path, default=Path("lightning-suite"), help="folder for logs and outcomes")
    parser.add_argument("--timeout", type=int, default=300, help="pytest-timeout per test, seconds")
    parser.add_argument("--parallel", action="store_true", help="run both arms at once (one core each)")
    parser.add_argument("--compare-only", action="store_true", help="compare outcomes already in --out")
    parser.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS),
                        help="run only these arms (the other's outcomes must be in --out already)")
    parser.add_argument("--json", type=Path, help="write the comparison here")
    parser.add_argument("pytest", nargs="*", help="more pytest arguments, after --")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    if not args.compare_only:
        started = time.perf_counter()
        if args.parallel:
            for process in [run_arm(arm, args) for arm in args.arms]:
                process.wait()
        else:
            for arm in args.arms:
                run_arm(arm, args).wait()
        print(f"{' and '.join(args.arms)} ran in {time.perf_counter() - started:.0f} s")

    without, with_advisor = (load(args.out / f"{arm}.jsonl") for arm in ARMS)
    common = sorted(set(without) & set(with_advisor))
    differ = [t for t in common if without[t]["outcome"] != with_advisor[t]["outcome"]]
    errors = {t: with_advisor[t]["internal_errors"] for t in common if with_advisor[t].get("internal_errors")}
    counts = {arm: Counter(o["outcome"] for o in outcomes.values())
              for arm, outcomes in zip(ARMS, (without, with_advisor))}

    print(f"tests run: {len(common)} in both arms (only without: {len(set(without) - set(with_advisor))}, "
          f"only with: {len(set(with_advisor) - set(without))})")
    for arm in ARMS:
        print(f"  {arm:8} " + ", ".join(f"{outcome} {n}" for outcome, n in sorted(counts[arm].items())))
    print(f"same outcome: {len(common) - len(differ)}; different: {len(differ)}")
    for test in differ:
        print(f"  {test}\n    without: {without[test]['outcome']} {without[test]['failure']}\n"
              f"    with:    {with_advisor[test]['outcome']} {with_advisor[test]['failure']}")
    print(f"tests in which the Callback reported an internal error: {len(errors)}")
    for test, messages in errors.items():
        print(f"  {test}: {'; '.join(messages)}")
    if args.json:
        args.json.write_text(json.dumps({
            "dirs": args.dirs, "tests": len(common), "counts": {a: dict(c) for a, c in counts.items()},
            "different": [{"test": t, "without": without[t], "with": with_advisor[t]} for t in differ],
            "internal_errors": errors,
        }, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
