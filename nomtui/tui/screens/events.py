"""The Events screen: Nomad's live event stream, newest first, with a topic filter and pause.

The stream is `nomtui.client.events.EventStream` (resumes after drops without gaps or
repeats), subscribed to the chosen topics only, so a token without `node:read` can still
watch jobs by leaving `Node` out. The last `BUFFER` events are kept (toolong's bounded
buffer); the table is refreshed at most every `FLUSH_S`, never once per event, and not
at all while another screen covers this one. Each event's cells are built once, when it
arrives. `p` pauses the table: events keep arriving and are counted ("+N new") and
shown on resume.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events as textual_events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import DataTable, Static

from nomtui.client.events import EventStream
from nomtui.client.link import LinkState, LinkStatus
from nomtui.errors import NomtuiError
from nomtui.models.events import Event
from nomtui.sanitize import clean
from nomtui.store import Store
from nomtui.tui.header import ClusterHeader, ConnectionChanged, ConnectionState
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import Clock
from nomtui.tui.screens.filtered import FilteredScreen, filter_box, table_bindings
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import Cells, Column, LiveTable
from nomtui.tui.widgets.topic_picker import TOPICS, TopicsScreen

_CONNECTION = {
    LinkState.CONNECTED: ConnectionState.LIVE,
    LinkState.RECONNECTING: ConnectionState.RECONNECTING,
}
"""The stream's link is the cluster's connection as far as this screen knows."""
BUFFER = 2000
KEY_WIDTH = 30
FLUSH_S = 0.1
COLUMNS = (
    Column("Index", "index", numeric=True),
    Column("Topic", "topic"),
    Column("Type", "type"),
    Column("Namespace", "namespace"),
    Column("Key", "key"),
    Column("Summary", "summary"),
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TOPIC_STYLE = {
    "Job": "cyan",
    "Allocation": "green",
    "Deployment": "magenta",
    "Evaluation": "blue",
    "Node": "yellow",
    "Service": "bright_cyan",
}


def _field(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    return clean(str(value)) if value not in (None, "") else ""


def summarize(event: Event) -> str:
    """One line about what changed, read from the raw payload.

    Raw dict access instead of `payload_allocation()` & co: decoding a whole allocation
    per event would cost more than the rest of the screen, and a one-line summary needs
    three fields.
    """
    body = (event.Payload or {}).get(event.Topic)
    if not isinstance(body, dict):
        return ""

    def f(name: str) -> str:
        return _field(body, name)

    match event.Topic:
        case "Allocation":
            text = f"{f('Name')} {f('ClientStatus')}"
            if f("DesiredStatus") and f("DesiredStatus") != "run":
                text += f" (desired {f('DesiredStatus')})"
            return f"{text} on {f('NodeName')}" if f("NodeName") else text
        case "Job":
            return f"{f('ID')} v{f('Version') or 0} {f('Status')}" + (
                " stopped" if body.get("Stop") else ""
            )
        case "Deployment":
            return f"{f('JobID')} v{f('JobVersion') or 0} {f('Status')}: {f('StatusDescription')}"
        case "Evaluation":
            return f"{f('JobID')} {f('Status')} ({f('TriggeredBy')})"
        case "Node":
            drain = " draining" if body.get("Drain") else ""
            return f"{f('Name')} {f('Status')} {f('SchedulingEligibility')}{drain}"
        case "Service":
            return f"{f('ServiceName')} alloc {f('AllocID')[:8]} on {f('NodeID')[:8]}"
    return ""


def short_key(key: str) -> str:
    """UUIDs to their first 8 characters (as Nomad's CLI shows them), names to 30."""
    if _UUID.fullmatch(key):
        return key[:8]
    return key if len(key) <= KEY_WIDTH else key[: KEY_WIDTH - 1] + "…"


def event_cells(event: Event) -> Cells:
    return (
        Text(str(event.Index), justify="right", style="dim"),
        Text(clean(event.Topic), style=_TOPIC_STYLE.get(event.Topic, "")),
        Text(clean(event.Type)),
        Text(clean(event.Namespace) or "—", style="dim"),
        Text(clean(short_key(event.Key))),
        Text(summarize(event)),
    )


@dataclass(frozen=True)
class Received:
    key: str
    """`<index>:<position in batch>`: unique, and sorts with the stream."""
    event: Event
    cells: Cells
    """Its row, built once: a flush must not rebuild the whole buffer's cells."""


class EventsScreen(FilteredScreen):
    """The event stream as a table; `/` filters rows, `t` picks topics, `p` pauses."""

    AUTO_FOCUS = "#events"
    DEFAULT_CSS = """
    EventsScreen #events-status {
        height: 1;
        padding: 0 1;
    }
    EventsScreen #event-detail {
        height: auto;
        max-height: 6;
        padding: 0 1;
        border-top: solid $primary-darken-2;
    }
    """
    BINDINGS = [
        Binding(
            "p", "pause", "Pause", id="events.pause", tooltip="Stop the table; count new events"
        ),
        Binding("p", "resume", "Resume", id="events.resume", tooltip="Show the events that came"),
        Binding("t", "topics", "Topics", id="events.topics", tooltip="Choose the topics to stream"),
        Binding(
            "enter",
            "open",
            "Open",
            id="events.open",
            priority=True,
            tooltip="Open the allocation, node or job the event is about",
        ),
        *table_bindings("events", "events"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = time.time_ns,
        topics: Iterable[str] = TOPICS,
    ) -> None:
        super().__init__(store, clock=clock)
        self.topics = frozenset(topics)
        self.buffer: deque[Received] = deque(maxlen=BUFFER)
        self.paused = False
        self.new_while_paused = 0
        self.last_index = 0
        self.link: LinkStatus = LinkStatus(LinkState.CONNECTING)
        self.failure: NomtuiError | None = None
        self._dirty = False

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield Static(id="events-status")
        yield LiveTable(COLUMNS, id="events", default_sort=("index",))
        yield Static(id="event-detail")
        yield filter_box()
        yield NomtuiFooter()

    @property
    def main_table(self) -> LiveTable:
        return self.query_one("#events", LiveTable)

    def on_mount(self) -> None:
        self.main_table.sort_reverse = True  # newest first
        self.start_stream()
        self.show_status()

    # -- the stream -----------------------------------------------------------------------

    def start_stream(self) -> None:
        """(Re)subscribe with the chosen topics, from the first index not yet received."""
        self.failure = None
        self.run_worker(self._stream(), group="events", exclusive=True, exit_on_error=False)

    async def _stream(self) -> None:
        stream = EventStream(
            self.store.nomad.http,
            topics=sorted(self.topics),
            namespace="*",
            index=self.last_index + 1 if self.last_index else 0,
            on_status=self._on_link,
        )
        try:
            async with stream:
                async for batch in stream.batches():
                    self.receive(batch.Index, batch.Events)
        except NomtuiError as exc:
            # Not transient (the stream retries those): a 403 on a topic, a bad answer.
            self.failure = exc
            self.show_status()

    def _on_link(self, status: LinkStatus) -> None:
        if status.state is LinkState.CLOSED:
            return  # we closed it: the screen is going away, its widgets may be gone
        self.link = status
        state = _CONNECTION.get(status.state)
        if state is not None:
            detail = status.error.message if status.error is not None else ""
            self.app.post_message(ConnectionChanged(state, detail))
        with suppress(NoMatches):  # a report racing the screen's teardown
            self.show_status()

    def receive(self, index: int, events: Iterable[Event]) -> None:
        """Add a batch to the buffer; the table follows within `FLUSH_S` unless paused."""
        for position, event in enumerate(events):
            key = f"{index:020d}:{position:04d}"
            self.buffer.append(Received(key, event, event_cells(event)))
            if self.paused:
                self.new_while_paused += 1
        self.last_index = max(self.last_index, index)
        if self.paused:
            self.show_status()
        elif not self._dirty:
            self._dirty = True
            if self.shown.is_set():
                self.set_timer(FLUSH_S, self.flush)

    def on_screen_resume(self, _: textual_events.ScreenResume) -> None:
        if self._dirty:
            self.flush()  # what came while another screen covered this one

    def flush(self) -> None:
        self._dirty = False
        if self.paused:
            return
        rows = {r.key: r.cells for r in self.buffer if r.event.Topic in self.topics}
        table = self.main_table
        # At the top the view follows the newest event; anywhere else it stays put.
        following = table.cursor_row <= 0
        table.set_rows(rows)
        if following and table.row_count:
            table.move_cursor(row=0, animate=False)
        self.show_status()
        self.show_detail()

    # -- status and detail ------------------------------------------------------------------

    def show_status(self) -> None:
        text = Text()
        if self.failure is not None:
            text.append(f"✗ stream stopped: {clean(self.failure.message)}", style="bold red")
        elif self.link.state is LinkState.RECONNECTING:
            text.append("○ reconnecting…", style="bold red")
        elif self.link.state is LinkState.CONNECTED:
            text.append("● streaming", style="bold green")
        else:
            text.append("◌ connecting…", style="yellow")
        if self.paused:
            text.append("   ⏸ paused", style="bold yellow")
            text.append(f" +{self.new_while_paused} new", style="bold")
            text.append(" (p resumes)", style="dim")
        text.append(f"   {' '.join(sorted(self.topics))}", style="dim")
        text.append(f"   {self.main_table.row_count}/{len(self.buffer)} shown", style="dim")
        self.query_one("#events-status", Static).update(text)

    def selected_event(self) -> Event | None:
        key = self.main_table.selected_key
        return next((r.event for r in self.buffer if r.key == key), None) if key else None

    def show_detail(self) -> None:
        event = self.selected_event()
        text = Text()
        if event is not None:
            text.append(f"{clean(event.Topic)} {clean(event.Type)}", style="bold")
            text.append(f"  index {event.Index}  key {clean(event.Key)}", style="dim")
            if event.FilterKeys:
                text.append(f"\nfilter keys: {', '.join(clean(k) for k in event.FilterKeys)}")
            text.append(f"\n{summarize(event)}")
        self.query_one("#event-detail", Static).update(text)
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self.show_detail()

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pause":
            return not self.paused
        if action == "resume":
            return self.paused
        if action == "open":
            return isinstance(self.focused, LiveTable) and self.target(self.selected_event())
        return super().check_action(action, parameters)

    def action_pause(self) -> None:
        self.paused = True
        self.new_while_paused = 0
        self.show_status()
        self.refresh_bindings()

    def action_resume(self) -> None:
        self.paused = False
        self.new_while_paused = 0
        self.flush()
        self.refresh_bindings()

    def action_topics(self) -> None:
        def chosen(topics: frozenset[str] | None) -> None:
            if topics and topics != self.topics:
                self.topics = topics
                self.start_stream()
                self.flush()

        self.app.push_screen(TopicsScreen(self.topics), chosen)

    @staticmethod
    def target(event: Event | None) -> bool:
        return event is not None and open_message(event) is not None

    def action_open(self) -> None:
        event = self.selected_event()
        message = open_message(event) if event is not None else None
        if message is not None:
            self.post_message(message)


def open_message(event: Event) -> Open | None:
    """Where Enter on an event goes: the allocation, node or job it is about."""
    body = (event.Payload or {}).get(event.Topic)
    body = body if isinstance(body, dict) else {}
    match event.Topic:
        case "Allocation":
            return Open("alloc", alloc_id=event.Key)
        case "Node":
            return Open("node", node_id=event.Key)
        case "Job":
            return Open("job", namespace=event.Namespace, job_id=event.Key)
        case "Deployment" | "Evaluation" if body.get("JobID"):
            return Open("job", namespace=event.Namespace, job_id=str(body["JobID"]))
    return None


__all__ = [
    "BUFFER",
    "TOPICS",
    "EventsScreen",
    "event_cells",
    "open_message",
    "short_key",
    "summarize",
]
