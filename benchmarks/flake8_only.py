"""Run flake8 with only some of its installed checker plugins: ``flake8_only.py F,E,W,C90 [flake8 args]``.

The first argument lists the ``flake8.extension`` entry-point names to keep (``F`` pyflakes,
``E``/``W`` pycodestyle, ``C90`` mccabe, ``LA`` lightning-advisor, ``TOR`` TorchFix), or is ``all``
(flake8 as installed) or ``none`` (no checker at all: what flake8 costs by itself, since it still
reads, tokenizes and parses every file). The rest goes to flake8 unchanged. Report formatters are
always kept.

This is how the benchmarks get a "without the plugin" baseline from the same environment:
``--select``/``--extend-ignore`` only filter findings, flake8 still imports and runs every installed
plugin on every file; a plugin left out here is never imported or run.
"""
from __future__ import annotations

import sys

from flake8.main import cli
from flake8.plugins import finder

EXTENSION_GROUP = "flake8.extension"


def keep_only(names: frozenset):
    """A ``finder.find_plugins`` that drops the checker plugins not named in ``names``."""
    find_plugins = finder.find_plugins

    def find_some(cfg, opts):
        return [
            plugin
            for plugin in find_plugins(cfg, opts)
            if plugin.entry_point.group != EXTENSION_GROUP or plugin.entry_point.name in names
        ]

    return find_some


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0].startswith("-"):
        sys.exit(f"usage: {sys.argv[0]} all|none|CODE[,CODE...] [flake8 arguments]")
    wanted, flake8_args = argv[0], argv[1:]
    if wanted != "all":
        names = () if wanted == "none" else filter(None, wanted.split(","))
        finder.find_plugins = keep_only(frozenset(names))
    return cli.main(flake8_args)


if __name__ == "__main__":
    raise SystemExit(main())
