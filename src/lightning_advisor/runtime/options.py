"""The Callback's options, validated once: the runtime counterpart of the plugin's ``Options``.

Each argument is checked where the user passes it, with a message naming the argument and
what it accepts, so a bad value from a config file fails before training starts.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, fields
from typing import Collection, FrozenSet, Iterable, Optional

from lightning_advisor.catalog import RULES


@dataclass(frozen=True)
class CallbackOptions:
    """``AdvisorCallback``'s arguments; see its docstring for what each means."""

    ignore: FrozenSet[str] = frozenset()
    strict: bool = False
    min_workers: int = 2
    data_wait_share: float = 0.2
    data_wait_floor_ms: float = 5.0
    warmup_batches: int = 5
    window_batches: int = 20

    def __post_init__(self) -> None:
        validated = {
            "ignore": _rule_codes("ignore", self.ignore),
            "strict": _flag("strict", self.strict),
            "min_workers": _whole_number("min_workers", self.min_workers, minimum=0),
            "data_wait_share": _share("data_wait_share", self.data_wait_share),
            "data_wait_floor_ms": _non_negative("data_wait_floor_ms", self.data_wait_floor_ms),
            "warmup_batches": _whole_number("warmup_batches", self.warmup_batches, minimum=0),
            "window_batches": _whole_number("window_batches", self.window_batches, minimum=1),
        }
        assert validated.keys() == {f.name for f in fields(self)}  # every option is validated
        for name, value in validated.items():
            object.__setattr__(self, name, value)


def _rule_codes(argument: str, codes: Optional[Collection[str]]) -> FrozenSet[str]:
    if codes is None:
        codes = ()
    elif isinstance(codes, str):
        codes = [codes]
    elif not isinstance(codes, Iterable):
        raise ValueError(f"`{argument}` must be rule codes such as ['LA102'], got {codes!r}")
    codes = [code.strip().upper() if isinstance(code, str) else code for code in codes]  # la102 is LA102
    unknown = [code for code in codes if not isinstance(code, str) or code not in RULES]
    if unknown:
        raise ValueError(
            f"`{argument}` got unknown rule code(s) {', '.join(map(repr, unknown))};"
            f" known codes: {', '.join(RULES)}"
        )
    return frozenset(codes)


def _whole_number(argument: str, value: int, minimum: int) -> int:
    # numbers.Integral: numpy integers from a config are whole numbers too
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"`{argument}` must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def _flag(argument: str, value: bool) -> bool:
    # bool("false") is True: a string here is a configuration mistake, not a yes
    if not isinstance(value, (bool, int)) or value not in (0, 1):
        raise ValueError(f"`{argument}` must be True or False, got {value!r}")
    return bool(value)


def _non_negative(argument: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"`{argument}` must be a number >= 0, got {value!r}")
    return float(value)


def _share(argument: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{argument}` must be a share between 0 and 1 (e.g. 0.2 for 20%), got {value!r}")
    return float(value)
