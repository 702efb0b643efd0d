"""The ``lightning-advisor`` command (also ``python -m lightning_advisor``): list the rules, explain one.

``lightning-advisor rules`` prints one line per rule; ``lightning-advisor explain LA101`` prints the
rule's page, the ``checks/<CODE>-<name>/README.md`` of the source tree.

The pages ship inside the package as ``lightning_advisor/rulebook/<CODE>-<name>.md``, byte-for-byte
copies of those READMEs (``tests/test_cli.py`` fails, naming the ``cp`` to run, when they differ).
Copies rather than a build step or a package-dir mapping onto ``checks/``: they are plain package
data, read the same way from a checkout, an editable install, a wheel or an sdist.
"""
from __future__ import annotations

import argparse
import sys
from importlib import resources
from typing import List, Optional, Sequence, TextIO

from lightning_advisor import __version__
from lightning_advisor.catalog import RULES, Rule

PROG = "lightning-advisor"


def rule_page(rule: Rule) -> str:
    """The rule's full documentation, as shipped in the package."""
    page = resources.files("lightning_advisor").joinpath("rulebook").joinpath(f"{rule.folder}.md")
    return page.read_text(encoding="utf-8")


def rules_table() -> str:
    """One line per rule: code, name, where it is checked, what it catches."""
    rows = [("Code", "Name", "Checked", "What it catches")]
    for rule in RULES.values():
        rows.append((rule.code, rule.name, rule.checked_by.replace(" and ", ", "), rule.summary))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3] for row in rows]
    return "\n".join(lines) + "\n"


def rules_markdown() -> str:
    """The rules as the README's Markdown table, each code linking to its page under ``checks/``."""
    lines = ["| Code | Name | Static | Runtime | What it catches |", "|---|---|:-:|:-:|---|"]
    for rule in RULES.values():
        static, runtime = ("✓" if on else "" for on in (rule.static, rule.runtime))
        code = f"[{rule.code}](checks/{rule.folder}/README.md)"
        lines.append(f"| {code} | {rule.name} | {static} | {runtime} | {rule.summary} |")
    return "\n".join(lines) + "\n"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Rules of lightning-advisor: the flake8 plugin (LA codes) and the AdvisorCallback.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    rules = commands.add_parser("rules", help="list every rule: code, name, static and/or runtime, what it catches")
    rules.add_argument("--markdown", action="store_true", help="as the Markdown table of the README")
    explain = commands.add_parser("explain", help="show a rule's documentation, e.g. `explain LA101`")
    explain.add_argument("codes", nargs="+", metavar="CODE", help="rule code, e.g. LA101")
    return parser


def main(argv: Optional[Sequence[str]] = None, out: Optional[TextIO] = None) -> int:
    """Run the command; returns the exit status: 0, or 2 for a usage error such as an unknown code."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    if args.command == "rules":
        return _write(out, rules_markdown() if args.markdown else rules_table())
    codes: List[str] = [code.upper() for code in args.codes]
    unknown = [code for code in codes if code not in RULES]
    if unknown:
        print(
            f"{PROG}: error: unknown rule code {', '.join(map(repr, unknown))}; known codes: {', '.join(RULES)}"
            f" (`{PROG} rules` lists them)",
            file=sys.stderr,
        )
        return 2
    return _write(out, "\n".join(rule_page(RULES[code]) for code in codes))


def _write(out: TextIO, text: str) -> int:
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:  # `lightning-advisor rules | head`
        sys.stderr.close()
    return 0
