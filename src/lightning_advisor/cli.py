"""The ``lightning-advisor`` command (also ``python -m lightning_advisor``): check files, list the rules, explain one.

``lightning-advisor check PATH...`` runs the static checks (and ``--fix`` applies their fixes: see
:mod:`lightning_advisor.command.check`); ``lightning-advisor rules`` prints one line per rule;
``lightning-advisor explain LA101`` prints the rule's page, the ``checks/<CODE>-<name>/README.md`` of the
source tree.

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
    _check_parser(commands)
    return parser


def _check_parser(commands) -> None:
    from lightning_advisor.command.formats import FORMATS
    from lightning_advisor.static.configuration import MIN_WORKERS, WorkersAction

    check = commands.add_parser(
        "check",
        help="run the LA checks on files and folders (- reads stdin); --fix applies the safe fixes",
        description="Run the LA checks (the flake8 plugin's, with flake8's noqa, select/ignore and configuration "
        "files) and optionally fix what they find. Exit status: 0 no findings, 1 findings left, 2 error.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to check (default: .); - is stdin")
    check.add_argument("--select", metavar="CODES", help="comma-separated codes or prefixes to report (LA101,LA4)")
    check.add_argument("--ignore", metavar="CODES", help="comma-separated codes or prefixes not to report")
    check.add_argument("--fix", action="store_true", help="apply the safe fixes (with --unsafe-fixes, those too)")
    check.add_argument("--unsafe-fixes", action="store_true", help="also offer and apply fixes that restructure code")
    check.add_argument("--diff", action="store_true", help="print the fixes as a diff instead of writing them")
    check.add_argument("--format", choices=FORMATS, default="text", help="report format (default: %(default)s)")
    check.add_argument("--config", metavar="FILE", help="read [flake8] options from FILE instead of the one found")
    check.add_argument("--isolated", action="store_true", help="read no configuration file")
    check.add_argument("-j", "--jobs", type=_jobs, metavar="N", help="processes to check in (default: one per CPU)")
    check.add_argument("--stdin-display-name", metavar="NAME", help="the name to report for -, as in flake8")
    check.add_argument(
        f"--{MIN_WORKERS}", action=WorkersAction, metavar="N", default=None,
        help="LA102: fewest DataLoader workers accepted (default: the configuration's, else 2)",
    )


def main(argv: Optional[Sequence[str]] = None, out: Optional[TextIO] = None) -> int:
    """Run the command; returns the exit status: 0, or 2 for a usage error such as an unknown code."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    if args.command == "check":
        return _check(args, out)
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


def _jobs(text: str) -> int:
    if text == "auto":
        return 0
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes, 1 or more, or auto; got {text!r}")
    return int(text)


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from lightning_advisor.command import check, settings

    select, ignore = (settings.codes(v) if v is not None else None for v in (args.select, args.ignore))
    unknown = [c for c in (select or []) + (ignore or []) if not any(code.startswith(c) for code in RULES)]
    if unknown:
        option = "--select" if set(unknown) & set(select or []) else "--ignore"
        print(f"{PROG} check: error: {option}: no rule code starts with {', '.join(map(repr, unknown))}; "
              f"known codes: {', '.join(RULES)}", file=sys.stderr)
        return 2
    try:
        loaded = settings.load(
            f"{PROG} check", config=args.config, isolated=args.isolated, select=select, ignore=ignore,
            min_workers=args.la_min_workers, stdin_display_name=args.stdin_display_name,
        )
    except settings.SettingsError as error:
        print(f"{PROG} check: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit:  # a bad la-min-workers in a configuration file, already explained
        return int(exit.code or 2)
    mode = check.Mode(fix=args.fix, unsafe=args.unsafe_fixes, diff=args.diff)
    try:
        return check.run(args.paths, loaded, mode, args.format, out, sys.stderr, jobs=args.jobs)
    except BrokenPipeError:
        sys.stderr.close()
        return 1


def _write(out: TextIO, text: str) -> int:
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:  # `lightning-advisor rules | head`
        sys.stderr.close()
    return 0
