"""Write each Jupyter notebook's code out as a ``.py`` file next to it, so that flake8 can lint it.

    python benchmarks/notebooks.py CHECKOUT [CHECKOUT ...]

How the accuracy corpora that hold notebooks were made (ACCURACY.md): for every ``X.ipynb`` (outside
``.ipynb_checkpoints``) whose ``X.py`` does not exist yet, ``X.py`` gets the notebook's code cells in
order, joined by one blank line, without IPython's magic and shell lines (``%matplotlib``, ``%%time``,
``!pip install``); other lines, ``%`` string formatting included, stay as written. Notebooks that do not
parse as JSON, and those whose ``.py`` name is taken by a file of the repository, are listed and left
alone. Only the standard library: the notebook format is JSON.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import List, Optional

_MAGIC = re.compile(r"^\s*(%%?[A-Za-z_]|!)")


def code_of(notebook: dict) -> str:
    """The notebook's code cells (nbformat 4, or 3's worksheets), magic and shell lines dropped."""
    cells = notebook.get("cells") or [c for sheet in notebook.get("worksheets", []) for c in sheet.get("cells", [])]
    chunks = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list):
            source = "".join(source)
        chunks.append("\n".join(line for line in source.split("\n") if not _MAGIC.match(line)).rstrip())
    return "\n\n".join(chunks) + "\n"


def convert(root: Path) -> dict:
    written: List[str] = []
    taken: List[str] = []
    unreadable: List[str] = []
    for notebook in sorted(root.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        target = notebook.with_suffix(".py")
        relative = str(notebook.relative_to(root))
        if target.exists():
            taken.append(relative)
            continue
        try:
            content = json.loads(notebook.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            unreadable.append(relative)
            continue
        target.write_text(code_of(content), encoding="utf-8")
        written.append(str(target.relative_to(root)))
    return {"written": written, "name_taken": taken, "unreadable": unreadable}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for root in args.checkouts:
        result = convert(root)
        print(f"{root}: {len(result['written'])} written; name taken: {result['name_taken'] or 'none'}; "
              f"unreadable: {result['unreadable'] or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
