"""Helpers for the model tests: where the shared samples live, and a check that decoding
did not silently drop data a model claims to read."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec
import pytest

from nomtui.models.allocs import TaskState
from nomtui.models.base import decode

SHARED = Path(__file__).resolve().parents[3] / "shared"
API = SHARED / "api"
REAL = SHARED / "real-responses"


def require(folder: Path) -> Path:
    if not folder.is_dir():
        pytest.skip(f"{folder} not found: clone the shared/ folder beside the repo")
    return folder


def decode_file(type_: Any, path: Path) -> Any:
    return decode(type_, path.read_bytes())


class FieldsSeen:
    """Which fields of which Struct types were filled from a key present in a raw body.

    A model field whose name is misspelt decodes silently to its default; walking the
    decoded value beside the raw JSON shows, across all samples, which fields were never
    fed by any body, so a typo shows up as "never seen".
    """

    def __init__(self) -> None:
        self.seen: dict[type, set[str]] = defaultdict(set)
        self.types: set[type] = set()

    def walk(self, value: Any, raw: Any) -> None:
        if isinstance(value, msgspec.Struct):
            assert isinstance(raw, dict), f"{type(value).__name__} decoded from {raw!r}"
            self.types.add(type(value))
            for name in value.__struct_fields__:
                if name in raw:
                    self.seen[type(value)].add(name)
                    self.walk(getattr(value, name), raw[name])
            if isinstance(value, TaskState) and raw.get("Events") is not None:
                # Task events stay raw JSON until asked for; decoding them here also
                # proves every sample's events decode.
                self.walk(value.events, raw["Events"])
        elif isinstance(value, list | tuple) and isinstance(raw, list):
            for item, raw_item in zip(value, raw, strict=True):
                self.walk(item, raw_item)
        elif isinstance(value, dict) and isinstance(raw, dict):
            for key, item in value.items():
                self.walk(item, raw[key])

    def never_seen(self) -> dict[str, set[str]]:
        missing: dict[str, set[str]] = {}
        for type_ in self.types:
            fields: tuple[str, ...] = getattr(type_, "__struct_fields__", ())
            absent = set(fields) - self.seen[type_]
            if absent:
                missing[type_.__name__] = absent
        return missing
