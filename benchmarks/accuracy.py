"""Score the plugin on real code against findings judged by hand: precision per rule, in and out of tests.

The corpus is public repositories checked out at fixed commits (ACCURACY.md lists them and how to get
them); every finding the plugin made on them was read in its context and judged right or wrong, one
JSON line per finding (``benchmarks/data/accuracy_verdicts.jsonl``). This script lints the checkouts
again, matches each finding to its verdict by (repository, path, line, code), and prints per rule:
right / reported outside and inside test folders, the findings the judged set lost (true ones count
against recall), and the findings with no verdict yet (to be judged and added).

    python benchmarks/accuracy.py --corpus /path/to/checkouts [--json out.json]
    python benchmarks/accuracy.py --corpus /path/to/others --set training-bugs   # the second corpus

``--corpus`` holds one folder per repository, named as in the verdicts' ``repo`` field with ``/``
replaced by ``+`` (``pytorch+examples``). ``--set`` picks the corpus and its verdicts:
``tuning`` (``accuracy_corpus.json`` / ``accuracy_verdicts.jsonl``, the default) or ``training-bugs``
(``accuracy_training_bugs_corpus.json`` / ``accuracy_training_bugs_verdicts.jsonl``: tutorial, course
and GAN repositories chosen for the LA104 / LA303 / LA501 / LA502 / LA503 mistakes, whose notebooks
``benchmarks/notebooks.py`` writes out as ``.py`` first).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from lightning_advisor.static.dataloaders import is_test_file as in_tests  # the plugin's own notion of a test file

HERE = Path(__file__).resolve().parent
SETS = {
    "tuning": (HERE / "data" / "accuracy_corpus.json", HERE / "data" / "accuracy_verdicts.jsonl"),
    "training-bugs": (HERE / "data" / "accuracy_training_bugs_corpus.json",
                      HERE / "data" / "accuracy_training_bugs_verdicts.jsonl"),
}
_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>LA\d{3}) (?P<text>.*)$")


def lint(root: Path, paths):
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "LA", "--exit-zero",
         "--format=%(path)s:%(row)d:%(col)d: %(code)s %(text)s", *paths],
        cwd=root, capture_output=True, text=True,
    )
    for line in result.stdout.splitlines():
        match = _LINE.match(line)
        if match:
            path = match["path"][2:] if match["path"].startswith("./") else match["path"]
            yield path, int(match["line"]), match["code"], f"{match['code']} {match['text']}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder with one checkout per repository")
    parser.add_argument("--set", choices=sorted(SETS), default="tuning", help="which corpus (default: tuning)")
    parser.add_argument("--verdicts", type=Path, help="the verdicts (default: the set's)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    corpus_file, default_verdicts = SETS[args.set]
    args.verdicts = args.verdicts or default_verdicts

    repos = json.loads(corpus_file.read_text())
    verdicts = {}
    for line in args.verdicts.read_text().splitlines():
        v = json.loads(line)
        assert v["commit"] == repos[v["repo"]]["commit"], v
        verdicts[(v["repo"], v["path"], v["line"], v["code"])] = v

    counts = defaultdict(Counter)  # (code, "outside"/"inside") -> right / reported
    unjudged, reported_keys = [], set()
    for repo in sorted(repos):
        root = args.corpus / repo.replace("/", "+")
        if not root.is_dir():
            print(f"missing checkout: {root}", file=sys.stderr)
            return 2
        for path, line, code, message in lint(root, repos[repo]["paths"]):
            key = (repo, path, line, code)
            reported_keys.add(key)
            where = "inside" if in_tests(path) else "outside"
            counts[(code, where)]["reported"] += 1
            verdict = verdicts.get(key)
            if verdict is None:
                unjudged.append({"repo": repo, "path": path, "line": line, "code": code, "message": message})
            elif verdict["verdict"] == "right":
                counts[(code, where)]["right"] += 1
    lost = [v for k, v in verdicts.items() if k not in reported_keys]
    lost_true = Counter(v["code"] for v in lost if v["verdict"] == "right")
    judged_true = Counter(v["code"] for v in verdicts.values() if v["verdict"] == "right")

    print("| rule | right / reported outside tests | precision | right / reported inside tests | precision "
          "| true findings lost |")
    print("|---|---|---|---|---|---|")
    codes = sorted({code for code, _ in counts} | set(judged_true))
    table = {}
    for code in codes:
        row = {}
        cells = []
        for where in ("outside", "inside"):
            c = counts[(code, where)]
            precision = c["right"] / c["reported"] if c["reported"] else None
            row[where] = {"right": c["right"], "reported": c["reported"], "precision": precision}
            cells += [f"{c['right']} / {c['reported']}", f"{precision:.2f}" if precision is not None else "–"]
        row["true_lost"], row["true_judged"] = lost_true[code], judged_true[code]
        table[code] = row
        print(f"| {code} | " + " | ".join(cells) + f" | {lost_true[code]} of {judged_true[code]} |")
    print(f"\nunjudged findings: {len(unjudged)}")
    for item in unjudged:
        print(f"  {item['repo']} {item['path']}:{item['line']}: {item['message']}")
    if args.json:
        args.json.write_text(json.dumps({"rules": table, "unjudged": unjudged, "repos": repos}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
