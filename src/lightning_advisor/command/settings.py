"""What ``lightning-advisor check`` reads from the user's configuration, read by flake8's own code.

The command honours what the flake8 plugin honours, from the same files: ``la-min-workers``, and the
``[flake8]`` options that decide what is reported (``select``, ``ignore``, ``extend-select``,
``extend-ignore``, ``per-file-ignores``, ``exclude``, ``extend-exclude``, ``filename``,
``disable-noqa``). Rather than a second reading of those rules, it builds flake8's option manager with
flake8's default options and the plugin's, lets flake8 find and parse the file (``setup.cfg``,
``tox.ini`` or ``.flake8``, or ``--config``), and then applies its own command line on top.

flake8's ``select`` naming no LA code (``select = E,F,W``) means "flake8's own codes only" to flake8,
but a user who runs this command asks for the LA rules: such a ``select`` is not applied here.
"""
from __future__ import annotations

import argparse
import configparser
import os
from dataclasses import dataclass
from typing import List, Optional, Sequence

from lightning_advisor.static import configuration
from lightning_advisor.static.base import Options

PREFIX = "LA"


class SettingsError(Exception):
    """A configuration or command-line value the command cannot use; the message says which and where."""


@dataclass(frozen=True)
class Settings:
    flake8: argparse.Namespace
    """flake8's options: what its style guide, file discovery and noqa handling read."""
    options: Options
    """The plugin's own options."""
    config_files: List[str]


def load(
    prog: str,
    *,
    config: Optional[str],
    isolated: bool,
    select: Optional[Sequence[str]],
    ignore: Optional[Sequence[str]],
    min_workers: Optional[int],
    stdin_display_name: Optional[str],
) -> Settings:
    """flake8's options from the configuration it finds, with the command line's on top."""
    from flake8 import __version__ as flake8_version
    from flake8.main.options import register_default_options, stage1_arg_parser
    from flake8.options.aggregator import aggregate_options
    from flake8.options.config import load_config
    from flake8.options.manager import OptionManager

    from lightning_advisor.static.plugin import AdvisorPlugin

    from flake8.exceptions import ExecutionError

    try:
        cfg, cfg_dir = load_config(config, [], isolated=isolated)
    except ExecutionError as error:  # the file named by --config does not exist
        raise SettingsError(f"--config: {error}") from None
    except (configparser.Error, UnicodeError) as error:
        raise SettingsError(f"configuration file: {error}") from None
    manager = OptionManager(
        version=flake8_version, plugin_versions="", parents=[stage1_arg_parser()], formatter_names=["default"]
    )
    register_default_options(manager)
    AdvisorPlugin.add_options(manager)
    manager.extended_default_select.append(PREFIX)
    try:
        namespace = aggregate_options(manager, cfg, cfg_dir, [])
    except (ValueError, configparser.Error) as error:
        raise SettingsError(f"{_where(config, cfg_dir, isolated)}: {error}") from None
    except SystemExit:  # argparse rejected a value from the file and printed why
        raise SettingsError(f"{_where(config, cfg_dir, isolated)}: a [flake8] value is not valid") from None
    if namespace.select is not None and not any(code.startswith(PREFIX) for code in namespace.select):
        namespace.select = None  # flake8's own codes only: not what a user of this command asks for
    if select is not None:
        namespace.select, namespace.extend_select = list(select), []
    if ignore is not None:
        namespace.ignore = list(ignore)
    if stdin_display_name is not None:
        namespace.stdin_display_name = stdin_display_name
    files = [] if isolated else [path for path in (config or _found(cfg_dir),) if path]
    if min_workers is not None:
        namespace.la_min_workers = min_workers
    return Settings(namespace, configuration.options_from(namespace, prog=prog, files=files), files)


def _found(cfg_dir: str) -> Optional[str]:
    from flake8.options.config import _find_config_file

    found = _find_config_file(cfg_dir)
    return found if found and os.path.dirname(os.path.abspath(found)) == os.path.abspath(cfg_dir) else None


def _where(config: Optional[str], cfg_dir: str, isolated: bool) -> str:
    if isolated:
        return "the command line"
    path = config or _found(cfg_dir)
    return f"{os.path.relpath(path)}, section [flake8]" if path else "the [flake8] configuration"


def codes(text: str) -> List[str]:
    """``"LA101,LA2"`` -> ``["LA101", "LA2"]``, the way flake8 reads a list of codes."""
    return [code.strip().upper() for code in text.replace(" ", ",").split(",") if code.strip()]
