"""Navigation between screens without screens importing each other.

A screen posts `Open("alloc", alloc_id=...)`; the app looks the kind up in
`nomtui.tui.registry.SCREENS` and pushes the screen, constructed as
`ScreenClass(store, clock=..., **params)`. Every screen module can then link anywhere
without import cycles, and `:` command mode uses the same names.
"""

from __future__ import annotations

from textual.message import Message


class Open(Message):
    """Ask the app to open a screen of `kind` (a key of the registry) with `params`."""

    def __init__(self, kind: str, **params: str) -> None:
        super().__init__()
        self.kind = kind
        self.params = params


__all__ = ["Open"]
