"""AdvisorCallback's arguments: a wrong one is a ValueError at construction naming it and what it accepts."""
from __future__ import annotations

import re

import numpy as np
import pytest

from lightning_advisor import RULES, AdvisorCallback

KNOWN = ", ".join(RULES)


@pytest.mark.parametrize("options, message", [
    ({"ignore": ["LA999"]}, f"`ignore` got unknown rule code(s) 'LA999'; known codes: {KNOWN}"),
    ({"ignore": "LA101,LA102"}, "`ignore` got unknown rule code(s) 'LA101,LA102'"),
    ({"ignore": [["LA101"]]}, "`ignore` got unknown rule code(s) ['LA101']"),
    ({"ignore": 102}, "`ignore` must be rule codes such as ['LA102'], got 102"),
    ({"min_workers": "four"}, "`min_workers` must be a whole number >= 0, got 'four'"),
    ({"min_workers": -1}, "`min_workers` must be a whole number >= 0, got -1"),
    ({"min_workers": 2.0}, "`min_workers` must be a whole number >= 0, got 2.0"),
    ({"min_workers": True}, "`min_workers` must be a whole number >= 0, got True"),
    ({"strict": "false"}, "`strict` must be True or False, got 'false'"),
    ({"strict": None}, "`strict` must be True or False, got None"),
    ({"data_wait_share": 20}, "`data_wait_share` must be a share between 0 and 1 (e.g. 0.2 for 20%), got 20"),
    ({"data_wait_share": float("nan")}, "`data_wait_share` must be a share between 0 and 1"),
    ({"data_wait_floor_ms": "5ms"}, "`data_wait_floor_ms` must be a number >= 0, got '5ms'"),
    ({"warmup_batches": -1}, "`warmup_batches` must be a whole number >= 0, got -1"),
    ({"window_batches": 0}, "`window_batches` must be a whole number >= 1, got 0"),
])
def test_a_wrong_argument_is_named_with_what_it_accepts(options, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        AdvisorCallback(**options)


def test_unknown_argument_names_are_pythons_type_error():
    with pytest.raises(TypeError, match="min_worker"):
        AdvisorCallback(min_worker=4)


@pytest.mark.parametrize("options, attribute, value", [
    ({"ignore": None}, "ignore", frozenset()),
    ({"ignore": "LA102"}, "ignore", frozenset({"LA102"})),
    ({"ignore": ("LA101", "LA102")}, "ignore", frozenset({"LA101", "LA102"})),
    ({"ignore": {"LA103"}}, "ignore", frozenset({"LA103"})),
    ({"ignore": ["la102", " La101 "]}, "ignore", frozenset({"LA101", "LA102"})),  # codes are codes, in any case
    ({"min_workers": np.int64(4)}, "min_workers", 4),  # from a config that went through numpy
    ({"strict": 1}, "strict", True),
    ({"data_wait_share": np.float32(0.5)}, "data_wait_share", 0.5),
])
def test_values_of_other_reasonable_types_are_accepted(options, attribute, value):
    advisor = AdvisorCallback(**options)
    assert getattr(advisor, attribute) == value and type(getattr(advisor, attribute)) is type(value)
