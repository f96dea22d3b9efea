"""Settings for people (`nomtui config`) and for scripts (`nomtui config --json`).

Both forms mask every secret; neither has a way to show one. A user who needs the
value has it where it came from (the source column says where).
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from nomtui.config.model import ConsulSettings, NomadSettings, Settings
from nomtui.config.secret import Secret, mask_basic_auth

NOT_SET = "(not set)"


def _masked(name: str, value: Secret) -> str:
    return mask_basic_auth(value) if name.endswith("http_auth") else value.masked()


def _text(name: str, value: object) -> str:
    if value is None:
        return NOT_SET
    if isinstance(value, Secret):
        return _masked(name, value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json(name: str, value: object) -> Any:
    if isinstance(value, Secret):
        return _masked(name, value)
    if isinstance(value, Path):
        return str(value)
    return value


def _service(prefix: str, settings: NomadSettings | ConsulSettings) -> list[tuple[str, object]]:
    return [(f"{prefix}.{f.name}", getattr(settings, f.name)) for f in fields(settings)]


def _values(settings: Settings) -> list[tuple[str, object]]:
    return [
        ("cluster", settings.cluster),
        *_service("nomad", settings.nomad),
        *_service("consul", settings.consul),
        ("read_only", settings.read_only),
        ("production", settings.production),
        ("color", settings.color),
        ("registry", settings.registry),
        ("audit_log", settings.audit_log),
    ]


def render(settings: Settings) -> list[tuple[str, str, str]]:
    """(name, masked value, source) rows, for a table; one row per [keys] binding."""
    rows = [
        (name, _text(name, value), settings.sources.get(name, "default"))
        for name, value in _values(settings)
    ]
    found = "found" if settings.config_file.is_file() else "not found"
    rows.append(("config_file", str(settings.config_file), found))
    keys_source = settings.sources.get("keys", "default")
    rows += [(f"keys.{key}", value, keys_source) for key, value in sorted(settings.keys.items())]
    return rows


def as_json(settings: Settings) -> dict[str, Any]:
    """A JSON-ready dict of the settings with every secret masked, plus sources/warnings."""
    out: dict[str, Any] = {}
    for name, value in _values(settings):
        section, dot, field = name.partition(".")
        if dot:
            out.setdefault(section, {})[field] = _json(name, value)
        else:
            out[name] = _json(name, value)
    out["keys"] = dict(settings.keys)
    out["config_file"] = str(settings.config_file)
    out["sources"] = dict(settings.sources)
    out["warnings"] = list(settings.warnings)
    return out
