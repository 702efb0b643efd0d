"""``python -m lightning_advisor``: the ``lightning-advisor`` command."""
from lightning_advisor.cli import main

raise SystemExit(main())
