"""The one-line cluster header every screen shows, and the state it displays.

The state lives on the app (`NomtuiApp.cluster`, a reactive `ClusterStatus`); each
screen's header watches it, so a screen never has to know where the state came from.
Kept out of app.py so screens can import it without importing the app.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import Static

from nomtui.sanitize import clean


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    """Retrying cannot help (a configuration error); the watch has stopped."""


@dataclass(frozen=True)
class ClusterStatus:
    address: str = ""
    label: str = ""
    region: str = ""
    version: str = ""
    leader: str = ""
    state: ConnectionState = ConnectionState.CONNECTING
    detail: str = ""
    """Why we are reconnecting: the error's one-line message."""


class ConnectionChanged(Message):
    """A watch learned that the cluster answers again, or stopped answering."""

    def __init__(self, state: ConnectionState, detail: str = "") -> None:
        super().__init__()
        self.state = state
        self.detail = detail


_STATE_STYLE = {
    ConnectionState.CONNECTING: ("◌ connecting…", "yellow"),
    ConnectionState.LIVE: ("● live", "bold green"),
    ConnectionState.RECONNECTING: ("○ reconnecting…", "bold red"),
    ConnectionState.FAILED: ("✗ stopped", "bold red"),
}


def render_status(status: ClusterStatus) -> Text:
    """The header line; every part that came from the cluster is sanitised first."""
    text = Text(" nomtui ", style="bold reverse")
    parts: list[tuple[str, str]] = []
    if status.label:
        parts.append((clean(status.label), "bold"))
    parts.append((clean(status.address), ""))
    if status.region:
        parts.append((f"region {clean(status.region)}", ""))
    if status.version:
        parts.append((f"nomad {clean(status.version)}", "dim"))
    parts.append((f"leader {clean(status.leader) or '—'}", ""))
    for part, style in parts:
        text.append(" │ ", style="dim")
        text.append(part, style=style)
    label, style = _STATE_STYLE[status.state]
    text.append(" │ ", style="dim")
    text.append(label, style=style)
    if status.state in (ConnectionState.RECONNECTING, ConnectionState.FAILED) and status.detail:
        text.append(f" {clean(status.detail)}", style="red")
    return text


class ClusterHeader(Static):
    """Shows the app's `cluster` status; updates itself whenever it changes."""

    DEFAULT_CSS = """
    ClusterHeader {
        dock: top;
        height: 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        if hasattr(self.app, "cluster"):
            self.watch(self.app, "cluster", self._show, init=True)

    def _show(self, status: ClusterStatus) -> None:
        self.update(render_status(status))


__all__ = [
    "ClusterHeader",
    "ClusterStatus",
    "ConnectionChanged",
    "ConnectionState",
    "render_status",
]
