"""`filters=` of `GET /containers/json`, as the engine parses and applies it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from nomtui.sim.docker_shapes import Container

STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")

_SUPPORTED_FILTERS = ("id", "name", "label", "status", "exited")
_KNOWN_FILTERS = (
    *_SUPPORTED_FILTERS,
    "ancestor",
    "before",
    "expose",
    "health",
    "isolation",
    "is-task",
    "network",
    "publish",
    "since",
    "volume",
)


class FilterError(ValueError):
    """A `filters` value the engine answers 400 to; the text is the engine's message."""


def parse_filters(raw: str) -> dict[str, list[str]]:
    """`filters=` JSON: `{"key": ["v", ...]}` or the legacy `{"key": {"v": true}}`."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise FilterError(f"invalid filter: {exc}") from None
    if not isinstance(value, dict):
        raise FilterError("invalid filter: expected a JSON object")
    parsed: dict[str, list[str]] = {}
    for key, values in value.items():
        if isinstance(values, dict):
            values = [v for v, on in values.items() if on]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise FilterError(f"invalid filter: values of '{key}' must be strings")
        if key not in _KNOWN_FILTERS:
            raise FilterError(f"Invalid filter '{key}'")
        if key not in _SUPPORTED_FILTERS:
            raise FilterError(f"Invalid filter '{key}' (the nomtui sim does not implement it)")
        for v in values:
            if key == "status" and v not in STATUSES:
                raise FilterError(f"Invalid filter 'status={v}'")
            if key == "exited" and not v.lstrip("-").isdigit():
                raise FilterError(f"Invalid filter 'exited={v}'")
        parsed[key] = values
    return parsed


def _label_matches(labels: Mapping[str, str], wanted: str) -> bool:
    key, eq, value = wanted.partition("=")
    if key not in labels:
        return False
    return not eq or labels[key] == value


def matches(c: Container, filters: Mapping[str, list[str]]) -> bool:
    """Docker's semantics: values of one key are alternatives, except `label` (all must
    hold); different keys must all hold."""
    for key, values in filters.items():
        if not values:
            continue
        if key == "label" and not all(_label_matches(c.labels, v) for v in values):
            return False
        if key == "status" and c.state not in values:
            return False
        if key == "id" and not any(c.id.startswith(v) for v in values):
            return False
        if key == "name" and not any(_name_matches(c, v) for v in values):
            return False
        if key == "exited" and (c.running or str(c.exit_code) not in values):
            return False
    return True


def _name_matches(c: Container, pattern: str) -> bool:
    try:
        return any(re.search(pattern, name) for name in c.names)
    except re.error:
        return any(pattern in name for name in c.names)


__all__ = ["STATUSES", "FilterError", "matches", "parse_filters"]
