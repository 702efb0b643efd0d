"""lightning-advisor: lint and runtime advice for PyTorch / Lightning training code.

Importing this package stays cheap: the flake8 plugin imports it on every run,
so torch and Lightning are only imported when ``AdvisorCallback`` is asked for, and the
installed metadata is only read when ``__version__`` is (flake8 reads the plugin's version itself).
"""
from __future__ import annotations

from lightning_advisor.catalog import RULES, Rule, rule
from lightning_advisor.errors import AdvisorError, AdvisorWarning

__all__ = ["AdvisorCallback", "AdvisorError", "AdvisorWarning", "RULES", "Rule", "rule", "__version__"]


def __getattr__(name: str):
    if name == "__version__":  # read from the installed metadata (pyproject.toml), only when asked for
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("lightning-advisor")
        except PackageNotFoundError:  # running from a source tree that was not installed
            return "0+unknown"
    if name == "AdvisorCallback":
        from lightning_advisor.runtime.callback import AdvisorCallback

        return AdvisorCallback
    raise AttributeError(f"module 'lightning_advisor' has no attribute {name!r}")
