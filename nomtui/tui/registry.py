"""Every screen the app can open, by kind: what `Open(kind, ...)` and `:` command mode name.

Screens are imported only when first opened: the app starts with the jobs screen alone,
and a screen module that fails to import (or does not exist yet) costs one warning when
someone asks for it, not the whole app.
"""

from __future__ import annotations

import importlib
from typing import Any

from textual.screen import Screen

SCREENS: dict[str, tuple[str, str]] = {
    "jobs": ("nomtui.tui.screens.jobs", "JobsScreen"),
    "job": ("nomtui.tui.screens.job", "JobScreen"),
    "allocs": ("nomtui.tui.screens.allocs", "AllocsScreen"),
    "alloc": ("nomtui.tui.screens.alloc", "AllocScreen"),
    "logs": ("nomtui.tui.screens.logs", "LogsScreen"),
    "nodes": ("nomtui.tui.screens.nodes", "NodesScreen"),
    "node": ("nomtui.tui.screens.node", "NodeScreen"),
    "topology": ("nomtui.tui.screens.topology", "TopologyScreen"),
    "services": ("nomtui.tui.screens.services", "ServicesScreen"),
    "events": ("nomtui.tui.screens.events", "EventsScreen"),
    "check": ("nomtui.tui.screens.check", "CheckScreen"),
    "deployments": ("nomtui.tui.screens.deployments", "DeploymentsScreen"),
}
"""kind -> (module, class). Each class is built as `Class(store, clock=..., **params)`."""

COMMAND_KINDS: tuple[str, ...] = (
    "jobs",
    "allocs",
    "nodes",
    "topology",
    "services",
    "deployments",
    "events",
    "check",
)
"""Kinds that need no parameters: the words of `:` command mode."""

NAMESPACED: frozenset[str] = frozenset({"jobs", "allocs", "deployments"})
"""Kinds that list one namespace (or `*`): the app passes its current namespace, and
`:ns NAME` reinstalls them with the new one."""


class ScreenUnavailable(Exception):
    """The kind is unknown, or its module cannot be imported (yet)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"no {kind!r} screen: {reason}")
        self.kind = kind
        self.reason = reason


def screen_class(kind: str) -> type[Screen[Any]]:
    """The screen class of `kind`, imported on first use."""
    try:
        module_name, class_name = SCREENS[kind]
    except KeyError:
        raise ScreenUnavailable(kind, "unknown screen") from None
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only "this very module is missing" means the screen is not there; a missing
        # dependency inside an existing module is a bug and must surface as one.
        if exc.name != module_name:
            raise
        raise ScreenUnavailable(kind, "not available in this build") from None
    found = getattr(module, class_name, None)
    if not isinstance(found, type) or not issubclass(found, Screen):
        raise ScreenUnavailable(kind, f"{module_name} has no screen {class_name}")
    return found


def available(kind: str) -> bool:
    try:
        screen_class(kind)
    except ScreenUnavailable:
        return False
    return True


__all__ = [
    "COMMAND_KINDS",
    "NAMESPACED",
    "SCREENS",
    "ScreenUnavailable",
    "available",
    "screen_class",
]
