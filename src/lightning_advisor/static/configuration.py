"""The plugin's flake8 options: parsed, validated, and a bad value reported with where it came from.

flake8 reads ``la-min-workers = N`` from ``setup.cfg`` / ``tox.ini`` / ``.flake8`` (or ``--config`` and
``--append-config`` files) and hands it to argparse as a default, which would report a bad value as
if it came from the command line. So the command line is validated by an argparse action (argparse
names the option), and a value still unparsed after that came from a file: :func:`options_from`
validates it and names the file and the section.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, NoReturn, Optional

from lightning_advisor.static.base import Options

MIN_WORKERS = "la-min-workers"
SECTION = "flake8"


def whole_number_of_workers(text: object) -> int:
    """``"4"`` -> 4; ``ValueError`` saying what is accepted for anything but a whole number >= 0."""
    try:
        value = int(str(text).strip()) if not isinstance(text, int) else text
    except ValueError:
        value = -1
    if isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a whole number of DataLoader workers, 0 or more (0 turns LA102 off), got {text!r}")
    return value


class WorkersAction(argparse.Action):
    """``--la-min-workers N`` on the command line: argparse's error names the option."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        try:
            setattr(namespace, self.dest, whole_number_of_workers(values))
        except ValueError as error:
            raise argparse.ArgumentError(self, str(error)) from None


def options_from(namespace: argparse.Namespace, prog: str = "flake8", files: Optional[List[str]] = None) -> Options:
    """The plugin's options from flake8's parsed options; exits like argparse on a bad config value.

    ``prog`` starts the error message; ``files`` are the configuration files read, in order (by default
    the ones flake8 read, found again from its command line).
    """
    value = getattr(namespace, MIN_WORKERS.replace("-", "_"))
    if isinstance(value, str):  # not parsed by WorkersAction: it came from a configuration file
        try:
            value = whole_number_of_workers(value)
        except ValueError as error:
            _config_error(prog, _config_files() if files is None else files, MIN_WORKERS, str(error))
    return Options(min_workers=value)


def _config_error(prog: str, files: List[str], option: str, message: str) -> NoReturn:
    where = _config_file_setting(files, option)
    print(f"{prog}: error: {option} in {where}: {message}", file=sys.stderr)
    raise SystemExit(2)


def _config_file_setting(files: List[str], option: str) -> str:
    """``"setup.cfg, section [flake8]"``: the last of ``files`` that sets ``option``."""
    import configparser  # only on this error path: flake8 imports the plugin on every run

    for path in reversed(files):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError):
            continue
        if parser.has_option(SECTION, option) or parser.has_option(SECTION, option.replace("-", "_")):
            return f"{os.path.relpath(path)}, section [{SECTION}]"
    return f"the [{SECTION}] section of a configuration file"


def _config_files() -> List[str]:
    """The files flake8 read its configuration from, in the order it read them.

    flake8 takes ``--config`` / ``--append-config`` in a first pass of its own and leaves them out of
    the options plugins see: read them again from the command line it was given.
    """
    try:
        from flake8.main.options import stage1_arg_parser

        first_pass, _ = stage1_arg_parser().parse_known_args(sys.argv[1:])
        config, extra = first_pass.config, list(first_pass.append_config or ())
    except (Exception, SystemExit):
        config, extra = None, []
    if config is None:
        config = _discovered_config()
    return [path for path in (config, *extra) if path]


def _discovered_config() -> Optional[str]:
    try:  # flake8's own search: the same file, by the same rules
        from flake8.options.config import _find_config_file

        return _find_config_file(os.path.abspath("."))
    except Exception:
        return None
