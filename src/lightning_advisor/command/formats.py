"""How ``lightning-advisor check`` reports findings: text, JSON, GitHub Actions annotations, SARIF 2.1.0.

``text`` is flake8's default format (``path:line:col: CODE message``) with ruff's ``[*]`` after a finding
this run can fix, and a summary; the other formats are for machines and carry no summary. Lines and
columns are flake8's everywhere (columns count UTF-8 bytes, from 1), except in SARIF, whose columns
count Unicode code points as its ``columnKind`` says.
"""
from __future__ import annotations

import json
from typing import Dict, List, TextIO

from lightning_advisor import __version__
from lightning_advisor.catalog import RULES
from lightning_advisor.fixes.edits import Source

FORMATS = ("text", "json", "github", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def report(results, mode, output_format: str, out: TextIO) -> None:
    reported = [r for result in results for r in result.reported]
    if output_format == "text":
        _text(results, reported, mode, out)
    elif output_format == "json":
        json.dump([_as_dict(r, mode) for r in reported], out, indent=2)
        out.write("\n")
    elif output_format == "github":
        for r in reported:
            out.write(
                f"::warning file={_property(r.path)},line={r.line},col={r.column},"
                f"title={_property(r.code + ' ' + RULES[r.code].name)}::{_data(r.message)}\n"
            )
    elif output_format == "sarif":
        json.dump(sarif(results), out, indent=2)
        out.write("\n")
    else:  # the parser only accepts FORMATS
        raise ValueError(f"unknown format {output_format!r}")


def _text(results, reported, mode, out: TextIO) -> None:
    for r in reported:
        marker = " [*]" if mode.applies(r.fix) else ""
        out.write(f"{r.path}:{r.line}:{r.column}: {r.message}{marker}\n")
    fixed = sum(len(result.fixed) for result in results)
    if not reported and not fixed:
        return
    found = f"Found {_count(len(reported) + fixed, 'finding')}"
    lines = [found + (f" ({fixed} fixed, {len(reported)} remaining)." if fixed else ".")]
    fixable = sum(1 for r in reported if mode.applies(r.fix))
    hidden = sum(1 for r in reported if r.fix is not None and not mode.applies(r.fix))
    if fixable and not mode.fix:
        lines.append(f"[*] {fixable} fixable with --fix" + (" --unsafe-fixes." if mode.unsafe else "."))
    if hidden:
        lines.append(f"{_count(hidden, 'more fix', 'more fixes')} available with --unsafe-fixes.")
    out.write("\n".join(lines) + "\n")


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _as_dict(r, mode) -> Dict[str, object]:
    fix = None
    if r.fix is not None:
        fix = {"applicability": r.fix.applicability, "title": r.fix.title, "applies": mode.applies(r.fix)}
    return {
        "filename": r.path, "line": r.line, "column": r.column, "code": r.code, "name": RULES[r.code].name,
        "message": r.message, "fix": fix,
    }


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def sarif(results) -> Dict[str, object]:
    """One SARIF 2.1.0 run: every rule of the catalog, one result per finding."""
    rules = list(RULES.values())
    index = {rule.code: i for i, rule in enumerate(rules)}
    out: List[Dict[str, object]] = []
    for result in results:
        lines = Source(result.text).lines
        for r in result.reported:
            line = lines[r.line - 1] if r.line <= len(lines) else ""
            column = len(line.encode("utf-8")[: r.column - 1].decode("utf-8", errors="replace")) + 1
            out.append({
                "ruleId": r.code,
                "ruleIndex": index[r.code],
                "level": "warning",
                "message": {"text": r.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(r.path), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": r.line, "startColumn": column},
                    }
                }],
            })
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "lightning-advisor",
                "version": __version__,
                "rules": [
                    {
                        "id": rule.code,
                        "name": rule.name,
                        "shortDescription": {"text": rule.summary},
                        "fullDescription": {"text": f"{rule.code} {rule.message}"},
                        "defaultConfiguration": {"level": "warning"},
                    }
                    for rule in rules
                ],
            }},
            "columnKind": "unicodeCodePoints",
            "results": out,
        }],
    }


def _uri(path: str) -> str:
    path = path.replace("\\", "/")
    return path[2:] if path.startswith("./") else path
