"""go-bexpr `or` chains of `==` on one selector, compiled as one set lookup (nomtui.sim.bexpr).

The grouped predicate must answer exactly as the chain written out leaf by leaf
(`_compile_ungrouped`): the same bool, or the same FilterEvalError with the same message.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nomtui.sim import bexpr
from nomtui.sim.bexpr import FilterError, FilterEvalError, _compile_ungrouped, compile_filter

Outcome = bool | tuple[str, str]


def outcome(predicate: Callable[[dict[str, Any]], bool], obj: dict[str, Any]) -> Outcome:
    try:
        result = predicate(obj)
    except FilterEvalError as exc:
        return (type(exc).__name__, str(exc))
    assert type(result) is bool
    return result


def both(expr: str, obj: dict[str, Any]) -> tuple[Outcome, Outcome]:
    return outcome(compile_filter(expr), obj), outcome(_compile_ungrouped(expr), obj)


# --- an exhaustive table: chains whose leaves disagree on how to coerce, over every kind of value

FIELD_VALUES: list[Any] = [
    "a",
    "b",
    "c",
    "1",
    "true",
    "",
    1,
    0,
    -3,
    1.5,
    1.0,
    True,
    False,
    None,
    ["a", 1],
    [],
    {"a": 1},
    {},
]

CHAINS = [
    'A == "a" or A == "b"',
    'A == "a" or A == "b" or A == "c" or A == "a"',
    "A == a or A == b",  # bare values are their own text
    'A == "x" or A == 1',  # an int field fails on "x" before 1 is tried
    'A == 1 or A == "x"',  # ... and succeeds on 1 first
    'A == 1 or A == 1.5 or A == "0x1"',
    'A == true or A == "b"',
    'A == "b" or A == true',
    'A == "T" or A == 0',  # strconv.ParseBool spellings
    'A == "1" or A == "true"',
    'A == "" or A == "a"',
    '(A == "a" or A == "b") or (A == "c" or B == 1)',
    'A == "a" or (A == "b" or A == "c")',
    'A == "a" or B == "b" or A == "c"',  # not neighbours: B's error must not be skipped
    'A == "a" or A != "b" or A == "c"',
    'A == "a" or A matches "^c" or A == "b"',
    'A == "a" or "a" in A or A == "b"',
    'A == "a" or A is empty or A == "1"',
    'not (A == "a" or A == "b")',
    '(B == "web") and (A == "a" or A == "b")',
    'A == "a" and A == "b" or A == "c" or A == "1"',
    'A == "a" or A == "b" and B == 1 or A == "c"',
    'M.k == "a" or M["k"] == "b" or "/M/k" == "c"',  # one path, three spellings
    'M.k == "a" or M.k == 1 or M.j == "b"',
    "A.0 == 1 or A.0 == a",
]


def _objects() -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = [{}]
    for value in FIELD_VALUES:
        objs += [{"A": value}, {"A": value, "B": "web"}, {"A": value, "B": 2}]
        objs += [{"M": {"k": value}}, {"M": value}, {"A": [value]}]
    return objs


@pytest.mark.parametrize("expr", CHAINS)
def test_grouped_chain_answers_as_the_chain_written_out(expr: str) -> None:
    seen: set[Outcome] = set()
    for obj in _objects():
        grouped, plain = both(expr, obj)
        assert grouped == plain, (expr, obj)
        seen.add(plain)
    assert {True, False} <= seen  # the table exercises both answers of every chain


def test_the_order_of_a_chain_decides_which_error_is_raised() -> None:
    assert both('A == "x" or A == 1', {"A": 1})[0] == (
        "FilterEvalError",
        'error getting match value in expression: strconv.ParseInt: parsing "x": invalid syntax',
    )
    assert both('A == 1 or A == "x"', {"A": 1}) == (True, True)
    assert both('A == "a" or B == "b" or A == "c"', {"A": "c", "B": 5})[0] == (
        "FilterEvalError",
        'error getting match value in expression: strconv.ParseInt: parsing "b": invalid syntax',
    )
    assert both('A == "a" or A == "c" or B == "b"', {"A": "c", "B": 5}) == (True, True)
    assert both('A == "a" or A == "b"', {"A": ["a"]})[0] == (
        "FilterEvalError",
        "unable to find suitable primitive comparison function for matching",
    )


def test_the_refresh_filters_nomtui_sends() -> None:
    ids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(50)]
    chain = " or ".join(f'ID == "{i}"' for i in ids)
    allocs = [
        {"ID": ids[n % 50] if n % 3 else f"other-{n}", "JobID": f"job{n % 4}"} for n in range(150)
    ]
    keep = compile_filter(chain)
    assert [a["ID"] for a in allocs if keep(a)] == [a["ID"] for a in allocs if a["ID"] in ids]
    anded = compile_filter(f'(JobID == "job1") and ({chain})')
    assert [a["ID"] for a in allocs if anded(a)] == [
        a["ID"] for a in allocs if a["ID"] in ids and a["JobID"] == "job1"
    ]
    assert compile_filter(f"not ({chain})")({"ID": ids[7]}) is False
    assert compile_filter(f"not ({chain})")({}) is True


# --- the grouping is really one lookup -----------------------------------------------------------


def test_a_string_field_is_one_set_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    equals = bexpr._equals

    def counting(raw: str) -> Callable[[Any], bool]:
        test = equals(raw)

        def counted(v: Any) -> bool:
            calls.append(raw)
            return test(v)

        return counted

    monkeypatch.setattr(bexpr, "_equals", counting)
    chain = " or ".join(f'ID == "{n}"' for n in range(50))
    keep = compile_filter.__wrapped__(chain)  # bypass the cache: the spy must be built in
    assert keep({"ID": "49"}) is True
    assert keep({"ID": "nope"}) is False
    assert keep({}) is False
    assert calls == []  # no leaf test ran: the set answered
    assert keep({"ID": 49}) is True  # numbers are coerced leaf by leaf, in order
    assert calls == [str(n) for n in range(50)]
    calls.clear()
    assert _compile_ungrouped(chain)({"ID": "nope"}) is False
    assert len(calls) == 50  # the reference really is the chain written out


def test_a_long_or_chain_costs_no_stack_depth() -> None:
    # A left-nested closure per `or` overflowed Python's stack near 1,000 operands.
    same = " or ".join(f'ID == "{n}"' for n in range(5000))
    assert compile_filter(same)({"ID": "4999"}) is True
    mixed = " or ".join(f'{"ID" if n % 2 else "JobID"} == "{n}"' for n in range(5000))
    assert compile_filter(mixed)({"ID": "4999", "JobID": "x"}) is True
    assert compile_filter(mixed)({"ID": "x", "JobID": "x"}) is False


# --- generated chains over generated objects -----------------------------------------------------

SPELLINGS = ["A", "A", "A", "B", "M.k", 'M["k"]', '"/M/k"', "A.0"]
VALUE_TEXTS = [
    '"a"',
    '"b"',
    '"c"',
    "a",
    '"1"',
    "1",
    "-3",
    "1.5",
    '"0x1"',
    '"010"',
    "true",
    '"False"',
    '"T"',
    '""',
    '"x y"',
]
SCALARS = st.one_of(
    st.sampled_from(["a", "b", "c", "1", "-3", "true", "False", "T", "", "x y", "1.5"]),
    st.integers(-3, 3),
    st.sampled_from([1.5, 1.0, -3.0, 0.0]),
    st.booleans(),
    st.none(),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.sampled_from(["a", "k"]), SCALARS, max_size=2),
)
OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        "A": VALUES,
        "B": VALUES,
        "M": st.one_of(VALUES, st.fixed_dictionaries({}, optional={"k": VALUES})),
    },
)

equality = st.builds(
    lambda sel, op, value: f"{sel} {op} {value}",
    st.sampled_from(SPELLINGS),
    st.sampled_from(["==", "==", "==", "==", "!="]),
    st.sampled_from(VALUE_TEXTS),
)
other_leaf = st.sampled_from(
    [
        'A matches "^[ab]"',
        'A not matches "c"',
        'A contains "a"',
        '"a" in A',
        '"1" not in B',
        "A is empty",
        "B is not empty",
    ]
)
leaf = st.one_of(equality, equality, equality, other_leaf)
# A run on one selector, the shape clients send, so long groups turn up often.
same_selector_run = st.builds(
    lambda sel, values: " or ".join(f"{sel} == {v}" for v in values),
    st.sampled_from(SPELLINGS),
    st.lists(st.sampled_from(VALUE_TEXTS), min_size=2, max_size=10),
)
expressions = st.recursive(
    st.one_of(leaf, same_selector_run),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=6).map(" or ".join),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: " and ".join(f"({x})" for x in xs)),
        inner.map(lambda x: f"({x})"),
        inner.map(lambda x: f"not ({x})"),
    ),
    max_leaves=16,
)


@settings(max_examples=400, deadline=None)
@given(expr=expressions, objs=st.lists(OBJECTS, min_size=1, max_size=8))
def test_generated_chains_answer_as_the_chain_written_out(
    expr: str, objs: list[dict[str, Any]]
) -> None:
    try:
        grouped = compile_filter(expr)
    except FilterError as exc:  # the grouping must not change what parses either
        with pytest.raises(type(exc), match=f"^{re.escape(str(exc))}$"):
            _compile_ungrouped(expr)
        return
    plain = _compile_ungrouped(expr)
    for obj in objs:
        assert outcome(grouped, obj) == outcome(plain, obj), obj


def test_every_field_value_kind_meets_every_pair_of_literals() -> None:
    # The exhaustive core of the property: two-leaf chains over all literal pairs and values.
    objs = [{"A": v} for v in FIELD_VALUES] + [{}]
    for x, y in itertools.product(VALUE_TEXTS, repeat=2):
        expr = f"A == {x} or A == {y}"
        for obj in objs:
            grouped, plain = both(expr, obj)
            assert grouped == plain, (expr, obj)
