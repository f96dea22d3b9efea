"""Nomad Variables (`/v1/vars`, `/v1/var/:path`).

`Items` holds secrets by design (passwords, keys), so `Variable`'s repr shows only the
item names, never the values.
"""

from __future__ import annotations

from typing import Any

from nomtui.models.base import Model, redacted_items, redacted_repr

_ITEMS = frozenset({"Items"})


class VariableMetadata(Model, frozen=True):
    """A row of `GET /v1/vars`; also the 409 body of a conflicting delete."""

    Namespace: str = "default"
    Path: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0
    CreateTime: int = 0
    """Unix nanoseconds."""
    ModifyTime: int = 0


class Variable(VariableMetadata, frozen=True):
    """`GET /v1/var/:path`, the answer of a write, and the 409 body of a CAS conflict."""

    Items: dict[str, str] | None = None

    def __repr__(self) -> str:
        return redacted_repr(self, _ITEMS)

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return redacted_items(self, _ITEMS)


class IndexResponse(Model, frozen=True):
    """A write answer that carries only the Raft index (e.g. deleting a variable)."""

    Index: int = 0


__all__ = ["IndexResponse", "Variable", "VariableMetadata"]
