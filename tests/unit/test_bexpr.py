"""go-bexpr `filter=` expressions as the simulator evaluates them (nomtui.sim.bexpr)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from nomtui.sim.bexpr import FilterError, FilterEvalError, compile_filter

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "api" / "nomad"

JOB: dict[str, Any] = {
    "ID": "web-api",
    "Name": "web-api",
    "Namespace": "default",
    "Type": "service",
    "Priority": 50,
    "Status": "running",
    "StatusDescription": "",
    "Stop": False,
    "Periodic": False,
    "Datacenters": ["dc1", "dc2"],
    "Tags": [],
    "Ports": [8080, 9090],
    "Ratio": 0.5,
    "Meta": {"owner": "ops", "cost center": "42", "empty": ""},
    "NoMeta": None,
    "JobSummary": {"Summary": {"web": {"Running": 3, "Failed": 0}}, "Children": {}},
    "TaskGroups": [{"Name": "web", "Count": 3}],
}


def _load(name: str) -> list[dict[str, Any]]:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"shared sample {path} is not available in this checkout")
    data: list[dict[str, Any]] = json.loads(path.read_text())
    return data


def matches(expr: str, obj: dict[str, Any] = JOB) -> bool:
    return compile_filter(expr)(obj)


# --- the two worked examples of the Nomad API docs ("Filtering") --------------------------------


def test_docs_example_jobs_datacenters_contains() -> None:
    jobs = _load("GET_v1_jobs.full_stub.json")
    keep = compile_filter('Datacenters contains "dc2"')
    kept = [j["ID"] for j in jobs if keep(j)]
    assert kept == [j["ID"] for j in jobs if "dc2" in j["Datacenters"]]
    assert kept == ["countdash"]


def test_docs_example_deployments_status_not_successful() -> None:
    deployments = _load("GET_v1_deployments.full.json")
    keep = compile_filter('Status != "successful"')
    kept = [d for d in deployments if keep(d)]
    assert kept == [d for d in deployments if d["Status"] != "successful"]
    assert [d["Status"] for d in kept] == ["cancelled"]


def test_docs_selector_forms_on_deployment_task_groups() -> None:
    deployments = _load("GET_v1_deployments.full.json")
    dotted = compile_filter("TaskGroups.cache is not empty")
    indexed = compile_filter('TaskGroups["cache"] is not empty')
    assert [d["ID"] for d in deployments if dotted(d)] == [
        d["ID"] for d in deployments if indexed(d)
    ]
    assert sum(1 for d in deployments if dotted(d)) == 1


# --- matching operators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('Status == "running"', True),
        ('Status == "dead"', False),
        ('Status != "dead"', True),
        ('Status != "running"', False),
        ("Status == running", True),  # a bare selector-shaped value is its own text
        ('"dc1" in Datacenters', True),
        ('"dc3" in Datacenters', False),
        ('"dc3" not in Datacenters', True),
        ('Datacenters contains "dc2"', True),
        ('Datacenters not contains "dc2"', False),
        ('"api" in Name', True),  # substring
        ('Name contains "web-"', True),
        ('Name not contains "db"', True),
        ('"owner" in Meta', True),  # map keys
        ('Meta contains "nobody"', False),
        ("Name matches `^web-[a-z]+$`", True),
        ('Name matches "api"', True),  # unanchored, like Go's Regexp.Match
        ('Name matches "^api"', False),
        ('Name not matches "^db"', True),
        ("StatusDescription is empty", True),
        ("Status is empty", False),
        ("Status is not empty", True),
        ("Tags is empty", True),
        ("Datacenters is not empty", True),
        ("JobSummary.Children is empty", True),
        ("Meta is not empty", True),
    ],
)
def test_operators(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("Priority == 50", True),
        ('Priority == "50"', True),
        ("Priority != 50", False),
        ("Priority == 51", False),
        ('Priority == "0x32"', True),  # strconv.ParseInt with base 0
        ("Priority == -50", False),
        ("Ratio == 0.5", True),
        ("Stop == false", True),
        ("Stop == true", False),
        ('Stop == "False"', True),
        ("Stop == 0", True),  # strconv.ParseBool spellings
        ("Stop != true", True),
        ("8080 in Ports", True),
        ('"9090" in Ports', True),
        ("8081 in Ports", False),
        ('Name == "50"', False),
    ],
)
def test_literals_are_coerced_to_the_field_type(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('Meta["owner"] == "ops"', True),
        ('Meta.owner == "ops"', True),
        ('Meta["cost center"] == "42"', True),
        ("Meta[`cost center`] == 42", True),
        ('Meta[ "owner" ] == "ops"', True),
        ("Meta.empty is empty", True),
        ("JobSummary.Summary.web.Running == 3", True),
        ('JobSummary.Summary["web"].Failed == 0', True),
        ('Datacenters.0 == "dc1"', True),  # list index, as pointerstructure allows
        ('Datacenters["1"] == "dc2"', True),
        ('Datacenters.5 == "dc1"', False),
        ('TaskGroups.0.Name == "web"', True),
        ("TaskGroups.0.Count == 3", True),
        ('"/Meta/owner" == "ops"', True),  # JSON-pointer selector
        ('"/JobSummary/Summary/web/Running" == 3', True),
    ],
)
def test_selectors(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # go-bexpr's "not present" disposition for missing keys; JSON null behaves the same
        ('Meta.team == "x"', False),
        ('Meta.team != "x"', True),
        ('"x" in Meta.team', False),
        ('"x" not in Meta.team', True),
        ('Meta.team contains "x"', False),
        ('Meta.team not contains "x"', True),
        ('Meta.team matches "x"', False),
        ('Meta.team not matches "x"', True),
        ("Meta.team is empty", True),
        ("Meta.team is not empty", False),
        ('NoMeta.owner == "x"', False),
        ('NoMeta.owner != "x"', True),
        ("NoMeta is empty", True),
        ('NoMeta == "x"', False),
        ('Missing == "x"', False),
        ('Missing != "x"', True),
        ("JobSummary.Summary.db.Running == 1", False),
        ("JobSummary.Summary.db.Running != 1", True),
        ('TaskGroups.Name == "web"', False),  # go-bexpr does not project over lists
        ('status == "running"', False),  # field names are case-sensitive
    ],
)
def test_missing_selectors(expr: str, expected: bool) -> None:
    assert matches(expr) is expected


def test_non_dict_input_finds_nothing() -> None:
    assert compile_filter('Status != "x"')([]) is True  # type: ignore[arg-type]
    assert compile_filter('Status == "x"')([]) is False  # type: ignore[arg-type]


# --- boolean logic and precedence ---------------------------------------------------------------


def _flags(a: bool, b: bool, c: bool) -> dict[str, Any]:
    return {"A": a, "B": b, "C": c}


@pytest.mark.parametrize(("a", "b", "c"), list(itertools.product([False, True], repeat=3)))
def test_precedence(a: bool, b: bool, c: bool) -> None:
    obj = _flags(a, b, c)
    A, B, C = "A == true", "B == true", "C == true"
    # the equivalence the Nomad docs give: not > and > or
    assert matches(f"{A} and not {B} or {C}", obj) is ((a and not b) or c)
    assert matches(f"( {A} and (not {B} )) or {C}", obj) is ((a and not b) or c)
    assert matches(f"{A} or {B} and {C}", obj) is (a or (b and c))
    assert matches(f"({A} or {B}) and {C}", obj) is ((a or b) and c)
    assert matches(f"not {A} and {B}", obj) is ((not a) and b)
    assert matches(f"not ({A} and {B})", obj) is (not (a and b))
    assert matches(f"not not {A}", obj) is a
    assert matches(f"{A} or {B} or {C}", obj) is (a or b or c)
    assert matches(f"{A} and {B} and {C}", obj) is (a and b and c)


def test_short_circuit_skips_type_errors() -> None:
    # go-bexpr stops at the first decisive operand, so the bad right side is never evaluated
    assert matches('Status == "running" or Priority contains "x"') is True
    assert matches('Status == "dead" and Priority contains "x"') is False


def test_keywords_only_where_the_grammar_expects_them() -> None:
    obj = {"not": "x", "and": "y", "Status": "or"}
    assert matches('not == "x"', obj) is True
    assert matches("Status == or", obj) is True
    assert matches('and == "y" and not == "x"', obj) is True
    assert matches('not "in" in Tags', {"Tags": ["out"]}) is True
    assert matches('not "in" in Tags', {"Tags": ["in"]}) is False


def test_whitespace_is_free_outside_literals() -> None:
    assert matches('\n\t( Status=="running"\r\nand\tPriority==50 )  ') is True


# --- string literals ----------------------------------------------------------------------------


def test_raw_strings_do_not_expand_escapes() -> None:
    obj = {"Path": r"C:\new\table", "Line": "a\nb"}
    assert matches(r"Path == `C:\new\table`", obj) is True
    assert matches(r'Path == "C:\\new\\table"', obj) is True
    assert matches(r'Line == "a\nb"', obj) is True
    assert matches(r"Line == `a\nb`", obj) is False
    assert matches(r"Path matches `\\new\\`", obj) is True


def test_double_quoted_escapes() -> None:
    obj = {"S": 'tab\there é AA "q" \\'}
    assert matches(r'S == "tab\there \u00e9 \x41\101 \"q\" \\"', obj) is True
    assert matches(r'S == "tab\there \U000000e9 \x41\101 \"q\" \\"', obj) is True


def test_number_and_regex_values_keep_their_text() -> None:
    assert matches("Version == 1.50", {"Version": "1.50"}) is True
    assert matches("Version == v1.2", {"Version": "v1.2"}) is True
    assert matches("ID matches `^[a-f0-9]{8}$`", {"ID": "deadbeef"}) is True
    assert matches("ID matches `(?i)^DEAD`", {"ID": "deadbeef"}) is True


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("", "1:1 (0): no match found"),
        ("   ", "no match found"),
        ("NotValid", "1:9 (8): no match found"),
        ("Status", "no match found"),
        ("Status ==", "expected a selector or value"),
        ('Status = "x"', "unexpected '='"),
        ('Status === "x"', "no match found"),
        ('Status == "x" AND Priority == 50', 'expected "and", "or" or end of input'),
        ('Status == "x" and', "no match found"),
        ('(Status == "x"', "Unmatched parentheses"),
        ('Status == "x")', 'expected "and", "or" or end of input'),
        ('(Status == "x" Priority == 50)', 'expected ")"'),
        ('Status == "running', "Unterminated string literal"),
        ("Status == `running", "Unterminated string literal"),
        ('Status == "a\nb"', "Unterminated string literal"),
        (r'Status == "\q"', "bad escape sequence"),
        (r'Status == "\x4"', "bad escape sequence"),
        (r'Status == "\ud800"', "bad escape sequence"),
        ("Meta[owner] == 1", "Invalid index"),
        ('Meta["owner" == 1', "Unclosed index expression"),
        ("Meta. == 1", 'expected a name or index after "."'),
        ('"x" in 5', "Invalid selector"),
        ('"x" in "y"', "Invalid selector"),
        ('"x" == Status', "expected a selector"),
        ("5 == Priority", "expected a selector"),
        ("Priority == 50abc", "Invalid number literal"),
        ("Priority == 050", "Invalid number literal"),
        ("Priority == 1.", "Invalid number literal"),
        ('Name matches "("', 'Failed to compile regular expression "("'),
        ("Status is", 'expected "empty"'),
        ("Status is not", 'expected "empty"'),
        ('Status is "x"', 'expected "empty"'),
        ('Status not == "x"', "no match found"),
        ("Status == running\u00a0", "unexpected"),
        ('Status == "x" or\n  Priority ==', "2:14 (30)"),
    ],
)
def test_syntax_errors(expr: str, fragment: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(expr)
    assert not isinstance(info.value, FilterEvalError)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ('Priority == "high"', 'strconv.ParseInt: parsing "high": invalid syntax'),
        ('Ratio == "half"', "strconv.ParseFloat"),
        ('Stop == "maybe"', "strconv.ParseBool"),
        ('Datacenters == "dc1"', "unable to find suitable primitive comparison function"),
        ('Meta != "x"', "unable to find suitable primitive comparison function"),
        (
            'Priority contains "5"',
            'Cannot perform in/contains operations on type int for selector: "Priority"',
        ),
        ('"web" in TaskGroups', 'for "in" comparison'),
        ('Priority matches "5"', "Value of type int is not convertible to []byte"),
        ('Datacenters matches "dc"', "is not convertible to []byte"),
        ("Priority is empty", "reflect.Value.Len on int"),
    ],
)
def test_type_mismatches_fail_the_evaluation(expr: str, fragment: str) -> None:
    keep = compile_filter(expr)  # syntactically fine
    with pytest.raises(FilterEvalError) as info:
        keep(JOB)
    assert fragment in str(info.value)
    assert isinstance(info.value, FilterError)  # one `except FilterError` covers both phases


def test_filter_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        compile_filter("nope")


# --- compiled once, fast over many objects ------------------------------------------------------


def test_compiled_predicates_are_cached() -> None:
    expr = 'Datacenters contains "dc2" and Priority == 50'
    assert compile_filter(expr) is compile_filter(expr)


def test_ten_thousand_objects_filter_correctly() -> None:
    objs = [
        dict(JOB, ID=f"job-{i}", Priority=i % 100, Meta={"owner": f"team{i % 7}"})
        for i in range(10_000)
    ]
    keep = compile_filter(
        'Datacenters contains "dc2" and (Priority == 50 or Meta["owner"] == "team3")'
        " and ID matches `^job-[0-9]+$` and not (Status == dead)"
    )
    kept = [o for o in objs if keep(o)]
    expected = [o for o in objs if o["Priority"] == 50 or o["Meta"]["owner"] == "team3"]
    assert kept == expected
