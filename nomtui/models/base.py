"""Shared configuration and decoding helpers for every model (PROTOCOLS.md §1.6).

Rules every model follows, because Nomad and Consul agents of many versions answer:
- field names are the API's own (PascalCase), so bodies decode without renaming;
- every field has a default, so a field an older agent does not send simply stays at it;
- unknown fields are ignored (newer agents add fields all the time);
- scalars are typed strictly (`int` is not `str`), so a body of the wrong shape fails
  loudly with the JSON path of the offending value instead of surfacing later as a
  confusing attribute error in a screen;
- Go encodes nil maps and slices as `null`, so containers are `X | None`.

Decoding goes through `decode`, which caches one `msgspec.json.Decoder` per target type
and turns msgspec's errors into `ModelError` (the client maps that to `BadResponse`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, overload

import msgspec

T = TypeVar("T")

# Go's zero `time.Time`, which agents send for "never" (e.g. `FinishedAt` of a running task).
GO_ZERO_TIME_PREFIX = "0001-01-01T00:00:00"


class Model(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=False, gc=False):
    """Base of every API model.

    `frozen`: models are snapshots shared between the store and screens; nobody may edit
    one in place. `gc=False`: decoded API bodies never form reference cycles, and keeping
    thousands of allocation rows out of the cyclic garbage collector makes decoding
    cheaper (measured ~9% on 10,000 stubs) and full collections while they are alive
    ~3x cheaper. Do not build cycles through a model (e.g. a model inside its own map).
    """


class Empty(Model, frozen=True):
    """An answer whose body carries nothing nomtui reads (`{}` from client alloc restart
    and signal); decoding into it still checks that the body is a JSON object."""


class ModelError(ValueError):
    """An API body does not have the shape nomtui expects.

    `path` is the JSON path of the offending value (`$[3].JobVersion`; map keys show as
    `[...]`, e.g. `$[3].TaskStates[...].Restarts`) or `$` when the body is not JSON at
    all; `target` names the type being decoded (`list[AllocStub]`).
    """

    def __init__(self, target: str, detail: str, path: str) -> None:
        self.target = target
        self.detail = detail
        self.path = path
        super().__init__(f"The response does not fit {target} at {path}: {detail}.")


_AT_PATH = re.compile(r"^(?P<detail>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)


def _model_error(type_: object, exc: msgspec.MsgspecError) -> ModelError:
    """`exc` restated as one sentence naming the target type and the JSON path."""
    match = _AT_PATH.match(str(exc))
    detail = match.group("detail") if match else str(exc)
    path = (match.group("path") if match else None) or "$"
    return ModelError(type_name(type_), detail.rstrip("."), path)


def type_name(type_: object) -> str:
    """A readable name for a decode target: `AllocStub`, `list[AllocStub]`, `str | None`."""
    args = get_args(type_)
    origin = get_origin(type_)
    if origin in (Union, UnionType):
        return " | ".join(type_name(arg) for arg in args)
    if origin is not None and args:
        return f"{type_name(origin)}[{', '.join(type_name(arg) for arg in args)}]"
    if type_ is type(None):
        return "None"
    return getattr(type_, "__name__", None) or repr(type_)


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}
_NOT_UTF8 = "a string in it is not valid UTF-8"


@overload
def decoder(type_: type[T]) -> msgspec.json.Decoder[T]: ...
@overload
def decoder(type_: Any) -> msgspec.json.Decoder[Any]: ...


def decoder(type_: Any) -> msgspec.json.Decoder[Any]:
    """The cached decoder for `type_`; building one costs far more than using it."""
    found = _DECODERS.get(type_)
    if found is None:
        found = _DECODERS.setdefault(type_, msgspec.json.Decoder(type_))
    return found


Buffer = bytes | bytearray | memoryview | str | msgspec.Raw


@overload
def decode(type_: type[T], data: Buffer) -> T: ...
@overload
def decode(type_: Any, data: Buffer) -> Any: ...


def decode(type_: Any, data: Buffer) -> Any:
    """Decode a JSON body into `type_`, raising `ModelError` (never a msgspec error)."""
    try:
        return decoder(type_).decode(data)
    except msgspec.MsgspecError as exc:  # DecodeError and its subclass ValidationError
        raise _model_error(type_, exc) from None
    except UnicodeError:
        # msgspec lets this through for a string that is not UTF-8 (found by the
        # bad-input corpus): it is a malformed body like any other.
        raise ModelError(type_name(type_), _NOT_UTF8, "$") from None


@overload
def convert(type_: type[T], obj: Any) -> T: ...
@overload
def convert(type_: Any, obj: Any) -> Any: ...


def convert(type_: Any, obj: Any) -> Any:
    """Turn already-parsed JSON (`dict`/`list`...) into `type_`, e.g. an event's payload.

    `from_attributes` stays off: the input is plain JSON data, and base64 strings become
    `bytes` the same way `decode` would make them.
    """
    try:
        return msgspec.convert(obj, type_, strict=True)
    except msgspec.MsgspecError as exc:
        raise _model_error(type_, exc) from None
    except UnicodeError:  # a lone surrogate in a str (see `decode`)
        raise ModelError(type_name(type_), _NOT_UTF8, "$") from None


REDACTED = "***"


def redacted_items(obj: msgspec.Struct, hidden: frozenset[str]) -> list[tuple[str, Any]]:
    """`obj`'s fields as (name, value) pairs with the values of `hidden` fields masked.

    Structs' generated `__repr__` and `__rich_repr__` (what Rich/Textual pretty-print)
    list every field; models holding credentials override both with this. A mapping
    keeps its keys (useful to see) and loses its values.
    """
    items: list[tuple[str, Any]] = []
    for name in obj.__struct_fields__:
        value = getattr(obj, name)
        if name in hidden and value:
            value = dict.fromkeys(value, REDACTED) if isinstance(value, dict) else REDACTED
        items.append((name, value))
    return items


def redacted_repr(obj: msgspec.Struct, hidden: frozenset[str]) -> str:
    inner = ", ".join(f"{name}={value!r}" for name, value in redacted_items(obj, hidden))
    return f"{type(obj).__name__}({inner})"


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp from an agent as an aware `datetime`, or None.

    None for `null`, the empty string, Go's zero time (`0001-01-01T00:00:00Z`) and text
    that is not a timestamp at all: callers show "never"/"-" for those rather than fail a
    whole screen over one odd field. Offsets (`+01:00`) are kept; nanosecond fractions
    are cut to microseconds (Python 3.11's `fromisoformat` does that itself).
    """
    if not value or value.startswith(GO_ZERO_TIME_PREFIX):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None  # documented above: an unreadable time shows as unknown
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def ns_to_datetime(value: int | None) -> datetime | None:
    """Unix nanoseconds (`CreateTime`, `SubmitTime`, event `Time`) as a UTC datetime.

    0 and None mean "not set" and give None.
    """
    if not value:
        return None
    return datetime.fromtimestamp(value / 1e9, tz=UTC)


__all__ = [
    "GO_ZERO_TIME_PREFIX",
    "REDACTED",
    "Empty",
    "Model",
    "ModelError",
    "convert",
    "decode",
    "decoder",
    "ns_to_datetime",
    "parse_time",
    "redacted_items",
    "redacted_repr",
    "type_name",
]
