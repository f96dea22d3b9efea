"""The cluster header every screen shows, and the state it displays.

The state lives on the app (`NomtuiApp.cluster`, a reactive `ClusterStatus`); each
screen's header watches it, so a screen never has to know where the state came from.
Kept out of app.py so screens can import it without importing the app.

Two lines, like k9s's: who and where (connection state first, so it never scrolls out of
sight, then a warning when TLS certificates are not verified), then the cluster's health
in numbers. A cluster marked `production` gets a coloured banner. The token's name is
shown, never its secret; its expiry counts down from the clock, with no request.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from rich.text import Text
from textual.color import Color, ColorParseError
from textual.message import Message
from textual.widgets import Static

from nomtui.models.base import parse_time
from nomtui.sanitize import clean
from nomtui.store import AllocTotals, ClusterData, ConsulStatus, NodeTotals, ViewState

DEFAULT_PRODUCTION_COLOR = "darkred"


class ConnectionState(enum.Enum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    STALE = "stale"
    """Failing for longer than the store's `stale_after_s`: what is shown may be old."""
    FAILED = "failed"
    """Retrying cannot help (a configuration error); the watch has stopped."""


@dataclass(frozen=True)
class ClusterStatus:
    address: str = ""
    label: str = ""
    namespace: str = "*"
    region: str = ""
    version: str = ""
    leader: str = ""
    token_name: str | None = None
    """None: ACLs are off or the token may not read itself."""
    token_expires: datetime | None = None
    jobs: tuple[tuple[str, int], ...] = ()
    """Job counts by status, in display order."""
    allocs: AllocTotals | None = None
    nodes: NodeTotals | None = None
    consul: ConsulStatus | None = None
    state: ConnectionState = ConnectionState.CONNECTING
    detail: str = ""
    """Why we are reconnecting: the error's one-line message."""
    stale_since: datetime | None = None
    read_only: bool = False
    production: bool = False
    color: str | None = None
    """Banner colour from the cluster's settings (a colour name or #hex)."""
    tls_unverified: tuple[str, ...] = ()
    """Services reached over TLS without checking certificates (`Store.tls_unverified`)."""


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
    ConnectionState.STALE: ("○ stale", "bold red"),
    ConnectionState.FAILED: ("✗ stopped", "bold red"),
}
_JOB_STATUS_ORDER = ("running", "pending", "dead")
TLS_WARNING_STYLE = "bold black on yellow"
TICK_S = 1.0
"""How often the header re-renders from the clock (token expiry, time since stale)."""


_STATES = {
    "live": ConnectionState.LIVE,
    "reconnecting": ConnectionState.RECONNECTING,
    "stale": ConnectionState.STALE,
}


def with_cluster_view(status: ClusterStatus, state: ViewState[ClusterData]) -> ClusterStatus:
    """`status` updated from a state of the store's `ClusterView` (which watches jobs,
    allocations, nodes, agent and token together, so its connection speaks for the
    cluster, and says since when it is stale)."""
    connection = _STATES.get(state.connection, ConnectionState.LIVE)
    if state.data is not None or connection is not ConnectionState.LIVE:
        detail = state.error.message if state.error is not None else ""
        status = replace(status, state=connection, detail=detail, stale_since=state.stale_since)
    data = state.data
    if data is None:
        return status
    token = data.token
    return replace(
        status,
        leader=data.leader,
        region=data.region,
        version=data.version,
        token_name=token.Name if token is not None else None,
        token_expires=parse_time(token.ExpirationTime) if token is not None else None,
        jobs=tuple(data.jobs_by_status.items()),
        allocs=data.allocs,
        nodes=data.nodes,
        consul=data.consul,
    )


def format_age(seconds: float) -> str:
    """Compact age like k9s: `42s`, `5m3s`, `3h12m`, `4d2h`, `2y30d`.

    Lives here because the header (token expiry) and every table share it."""
    s = max(0, int(seconds))
    for unit, size, sub_unit, sub_size in (
        ("y", 365 * 86400, "d", 86400),
        ("d", 86400, "h", 3600),
        ("h", 3600, "m", 60),
        ("m", 60, "s", 1),
    ):
        if s >= size:
            major, rest = divmod(s, size)
            minor = rest // sub_size
            return f"{major}{unit}{minor}{sub_unit}" if minor else f"{major}{unit}"
    return f"{s}s"


def _sep(text: Text) -> None:
    text.append(" │ ", style="dim")


def _state(text: Text, status: ClusterStatus, now: datetime) -> None:
    label, style = _STATE_STYLE[status.state]
    text.append(label, style=style)
    if status.tls_unverified:
        services = ", ".join(status.tls_unverified)
        text.append(" ")
        text.append(f" ⚠ TLS verification OFF ({services}) ", style=TLS_WARNING_STYLE)
    if status.state is ConnectionState.STALE and status.stale_since is not None:
        since = status.stale_since.astimezone().strftime("%H:%M:%S")
        ago = format_age((now - status.stale_since).total_seconds())
        text.append(f" since {since} ({ago} ago)", style="bold red")
    failing = (ConnectionState.RECONNECTING, ConnectionState.STALE, ConnectionState.FAILED)
    if status.state in failing and status.detail:
        text.append(f" {clean(status.detail)}", style="red")


def _identity_line(status: ClusterStatus, now: datetime) -> Text:
    text = Text()
    if status.production:
        text.append(" ⚠ PRODUCTION ", style="bold reverse")
    text.append(" nomtui ", style="bold reverse")
    text.append(" ")
    _state(text, status, now)
    parts: list[tuple[str, str]] = []
    if status.label:
        parts.append((clean(status.label), "bold"))
    if status.read_only:
        parts.append(("read-only", "bold yellow"))
    parts.append((clean(status.address), ""))
    if status.region:
        parts.append((f"region {clean(status.region)}", ""))
    parts.append((f"ns {clean(status.namespace)}", "bold cyan"))
    if status.version:
        parts.append((f"nomad {clean(status.version)}", ""))
    parts.append((f"leader {clean(status.leader) or '—'}", "" if status.leader else "red"))
    for part, style in parts:
        _sep(text)
        text.append(part, style=style)
    return text


def _counts(text: Text, title: str, counts: list[tuple[int, str, str]]) -> None:
    """`title N word ...`; alarming counts (pending, failed, down) only when not zero.

    Single spaces, numbers bold, no zeros that say nothing: the line must fit 120 columns
    with the token at its end."""
    text.append(f"{title}", style="bold")
    for n, word, alarm in counts:
        if alarm and not n:
            continue
        text.append(f" {n}", style=f"bold {alarm}" if n and alarm else "bold")
        text.append(f" {word}", style="dim")


def _health_line(status: ClusterStatus, now: datetime) -> Text:
    text = Text(" ")
    jobs = dict(status.jobs)
    ordered = [s for s in _JOB_STATUS_ORDER if s in jobs] + sorted(
        s for s in jobs if s not in _JOB_STATUS_ORDER
    )
    _counts(text, "jobs", [(jobs[s], clean(s), "") for s in ordered] or [(0, "total", "")])
    if status.allocs is not None:
        a = status.allocs
        _sep(text)
        _counts(
            text,
            "allocs",
            [
                (a.running, "running", ""),
                (a.pending, "pending", "yellow"),
                (a.failed, "failed", "red"),
            ],
        )
    if status.nodes is not None:
        _sep(text)
        _counts(
            text, "nodes", [(status.nodes.ready, "ready", ""), (status.nodes.down, "down", "red")]
        )
    _sep(text)
    consul = status.consul
    if consul is None or not consul.enabled:
        text.append("consul off", style="dim")
    elif consul.reachable:
        text.append("consul ✓", style="green")
    elif consul.pending:
        text.append("consul …", style="dim")
    else:
        text.append("consul ✗ unreachable", style="bold red")
    _sep(text)
    _token(text, status, now)
    return text


def _token(text: Text, status: ClusterStatus, now: datetime) -> None:
    if status.token_name is None:
        text.append("token —", style="dim")
        return
    text.append("token ", style="dim")
    text.append(clean(status.token_name) or "(unnamed)")
    expires = status.token_expires
    if expires is None:
        text.append(" (no expiry)", style="dim")
    elif expires <= now:
        ago = format_age((now - expires).total_seconds())
        text.append(f" EXPIRED {ago} ago", style="bold red")
    else:
        left = (expires - now).total_seconds()
        # Within a day of expiry is worth noticing before the next deploy fails.
        style = "bold yellow" if left < 86400 else "dim"
        text.append(f" (expires in {format_age(left)})", style=style)


def render_status(status: ClusterStatus, now: datetime | None = None) -> Text:
    """The two header lines; every part that came from the cluster is sanitised first."""
    now = now or datetime.now(UTC)
    return Text("\n").join([_identity_line(status, now), _health_line(status, now)])


def banner_color(status: ClusterStatus) -> Color | None:
    """The header background: the cluster's colour, red-ish by default for production."""
    wanted = status.color or (DEFAULT_PRODUCTION_COLOR if status.production else None)
    if wanted is None:
        return None
    try:
        return Color.parse(wanted)
    except ColorParseError:
        return Color.parse(DEFAULT_PRODUCTION_COLOR) if status.production else None


class ClusterHeader(Static):
    """Shows the app's `cluster` status; updates itself whenever it changes."""

    DEFAULT_CSS = """
    ClusterHeader {
        dock: top;
        height: 2;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """
    _status: ClusterStatus | None = None
    _shown: Text | None = None

    def on_mount(self) -> None:
        if hasattr(self.app, "cluster"):
            self.watch(self.app, "cluster", self._show, init=True)
        self.set_interval(TICK_S, self._tick)

    def _now(self) -> datetime:
        # The app's injected clock (ns), so expiry and staleness ages are stable in tests.
        clock: Callable[[], int] | None = getattr(self.app, "clock", None)
        if clock is None:
            return datetime.now(UTC)
        return datetime.fromtimestamp(clock() / 1e9, UTC)

    def _show(self, status: ClusterStatus) -> None:
        self._status = status
        color = banner_color(status)
        if color is not None:
            self.styles.background = color
        else:
            self.styles.clear_rule("background")
        self._render_now()

    def _render_now(self) -> None:
        if self._status is not None:
            text = render_status(self._status, self._now())
            if text != self._shown:
                self._shown = text
                self.update(text)

    def _tick(self) -> None:
        # Ages move with the clock; only the header in sight is worth re-rendering.
        if self.screen is self.app.screen:
            self._render_now()


__all__ = [
    "TICK_S",
    "TLS_WARNING_STYLE",
    "ClusterHeader",
    "ClusterStatus",
    "ConnectionChanged",
    "ConnectionState",
    "banner_color",
    "format_age",
    "render_status",
    "with_cluster_view",
]
