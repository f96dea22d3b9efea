"""Every model, and a list of it, decoded from bodies that fit its shape, that almost
fit it and that are broken bytes: the result is the model or a `ModelError`, nothing
else, and every property of a decoded model can be read without an exception.

Bodies are built from each model's own type description (`msgspec.inspect`), so a new
model or field is fuzzed without touching this file.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import inspect
import json
import pkgutil
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nomtui.models
from nomtui.models.base import Model, ModelError, convert, decode

EXAMPLES = 20


def _models() -> list[type[Model]]:
    found: dict[str, type[Model]] = {}
    for info in pkgutil.iter_modules(nomtui.models.__path__):
        module = importlib.import_module(f"nomtui.models.{info.name}")
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Model)
                and obj.__module__ == module.__name__
            ):
                found[f"{info.name}.{name}"] = obj
    return [found[key] for key in sorted(found)]


MODELS = _models()

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
"""Any JSON value: what a field holds when the agent sends the wrong type."""


def fitting(t: mi.Type, depth: int = 0) -> st.SearchStrategy[Any]:
    """JSON-ready data of the shape `t` describes (constraints aside)."""
    if isinstance(t, mi.StructType):
        if depth > 3:
            return st.just({})  # every field has a default
        fields = {f.encode_name: fitting(f.type, depth + 1) for f in t.fields}
        return st.fixed_dictionaries({}, optional=fields)
    if isinstance(t, mi.UnionType):
        return st.one_of([fitting(u, depth) for u in t.types])
    if isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        return st.lists(fitting(t.item_type, depth + 1), max_size=3 if depth < 3 else 0)
    if isinstance(t, mi.TupleType):
        return st.tuples(*(fitting(u, depth + 1) for u in t.item_types)).map(list)
    if isinstance(t, mi.DictType):
        keys = fitting(t.key_type, depth + 1).filter(lambda k: isinstance(k, str))
        return st.dictionaries(
            keys, fitting(t.value_type, depth + 1), max_size=3 if depth < 3 else 0
        )
    if isinstance(t, (mi.LiteralType, mi.EnumType)):
        values = t.values if isinstance(t, mi.LiteralType) else [m.value for m in t.cls]
        return st.sampled_from(list(values))
    scalars: dict[type[mi.Type], st.SearchStrategy[Any]] = {
        mi.IntType: st.integers(min_value=-(2**63), max_value=2**63 - 1),
        mi.FloatType: st.floats(allow_nan=False, allow_infinity=False),
        mi.StrType: st.text(max_size=16),
        mi.BoolType: st.booleans(),
        mi.NoneType: st.none(),
        mi.BytesType: st.binary(max_size=16).map(lambda b: base64.b64encode(b).decode()),
        mi.DateTimeType: st.datetimes().map(lambda d: d.isoformat() + "Z"),
    }
    return scalars.get(type(t), JSON)


@st.composite
def almost(draw: st.DrawFn, t: mi.Type) -> Any:
    """A fitting value with one field (somewhere) replaced by any JSON value."""
    value = draw(fitting(t))
    node = value
    while isinstance(node, dict) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node)))
        if not isinstance(node[key], dict) or not node[key] or draw(st.booleans()):
            node[key] = draw(JSON)
            break
        node = node[key]
    return value


def _read_every_property(obj: Any) -> None:
    """Screens read these: a property may refuse with `ModelError` (as `events` does for
    malformed raw events, which its caller handles), never with anything else."""
    for name, attr in inspect.getmembers(type(obj)):
        if isinstance(attr, property):
            with contextlib.suppress(ModelError):
                getattr(obj, name)


def _decodes(model: type[Model], body: bytes) -> None:
    for target in (model, list[model]):  # type: ignore[valid-type]
        try:
            value = decode(target, body)
        except ModelError:
            continue
        for item in value if isinstance(value, list) else [value]:
            _read_every_property(item)


def _ids(models: list[type[Model]]) -> list[str]:
    return [f"{m.__module__.rsplit('.', 1)[1]}.{m.__name__}" for m in models]


@pytest.mark.parametrize("model", MODELS, ids=_ids(MODELS))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_bodies_that_fit_or_almost_fit(model: type[Model], data: st.DataObject) -> None:
    shape = mi.type_info(model)
    value = data.draw(fitting(shape) | almost(shape), label="body")
    body = json.dumps(value).encode()
    _decodes(model, body)
    _decodes(model, b"[" + body + b"]")
    try:
        converted = convert(model, value)
    except ModelError:
        return
    _read_every_property(converted)


@st.composite
def broken(draw: st.DrawFn, t: mi.Type) -> bytes:
    """A fitting body with bytes cut, swapped or inserted."""
    body = bytearray(json.dumps(draw(fitting(t))).encode())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(body)))
        action = draw(st.sampled_from(["cut", "swap", "insert"]))
        if action == "cut":
            del body[at:]
        elif action == "swap" and at < len(body):
            body[at] = draw(st.integers(min_value=0, max_value=255))
        else:
            body[at:at] = draw(st.binary(min_size=1, max_size=3))
    return bytes(body)


@pytest.mark.parametrize("model", MODELS, ids=_ids(MODELS))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_broken_bytes(model: type[Model], data: st.DataObject) -> None:
    _decodes(model, data.draw(broken(mi.type_info(model)), label="body"))


@settings(max_examples=200)
@given(body=st.binary(max_size=64))
def test_arbitrary_bytes_for_every_model(body: bytes) -> None:
    for model in MODELS:
        _decodes(model, body)


def test_the_model_list_is_not_empty() -> None:
    assert len(MODELS) > 100  # a broken discovery must not make every test vacuous
    assert all(issubclass(m, msgspec.Struct) for m in MODELS)
