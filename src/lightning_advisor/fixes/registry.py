"""Which codes have fixes, and the fixer of each: the only module that imports the fix modules.

Imported by ``lightning-advisor check`` alone, never by the flake8 plugin.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Callable, Dict, NamedTuple, Optional

from lightning_advisor.fixes import dataloaders, migration, trainer_arguments
from lightning_advisor.fixes.edits import Fix, Source
from lightning_advisor.static.base import Diagnostic
from lightning_advisor.static.context import ModuleContext

LOG = logging.getLogger("lightning_advisor.fixes")
Fixer = Callable[[ModuleContext, Source, Diagnostic], Optional[Fix]]


class Fixing(NamedTuple):
    fixer: Fixer
    safe: bool
    """Safe fixes cannot change what a correct program does (``--fix``); the others restructure code
    (``--fix --unsafe-fixes``). The rule page's ``## Fix`` section says which, and tests hold it to this."""


FIXERS: Dict[str, Fixing] = {
    "LA101": Fixing(dataloaders.shuffle_off_fix, safe=True),
    "LA401": Fixing(trainer_arguments.trainer_argument_fix, safe=True),
    "LA402": Fixing(migration.removed_hook_fix, safe=False),
    "LA403": Fixing(migration.moved_import_fix, safe=True),
    "LA404": Fixing(migration.logging_return_fix, safe=False),
    "LA405": Fixing(migration.argparse_fix, safe=False),
}


def fix_for(ctx: ModuleContext, source: Source, diagnostic: Diagnostic) -> Optional[Fix]:
    """The finding's fix, or None: none known for this shape, or an internal error (logged, never raised)."""
    fixing = FIXERS.get(diagnostic.code)
    if fixing is None:
        return None
    try:
        fix = fixing.fixer(ctx, source, diagnostic)
    except Exception:
        LOG.warning(
            "lightning-advisor: internal error in the %s fix at %s:%s; no fix offered",
            diagnostic.code, ctx.filename, getattr(diagnostic.node, "lineno", "?"), exc_info=True,
        )
        return None
    return None if fix is None else dataclasses.replace(fix, safe=fixing.safe)
