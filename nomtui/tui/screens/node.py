"""One node: its state, drivers, capacity used, allocations and latest node events.

Live through the store's node and allocation watches. The full node (drivers, drain
strategy, events) is read again only when the node's `ModifyIndex` in the node watch
moves, which is exactly when any of those change. `d`/`e` drain and toggle eligibility
(confirmed; hidden in read-only mode); Enter opens the allocation under the cursor.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from nomtui.errors import NomtuiError
from nomtui.models.allocs import AllocStub
from nomtui.models.nodes import Node, NodeStub
from nomtui.sanitize import clean
from nomtui.store import AllocsView, NodesView, Store
from nomtui.tui.header import ClusterHeader, format_age
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.filtered import filter_box, table_bindings
from nomtui.tui.screens.node_actions import NodeActionsScreen, node_action_bindings
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import Cells, Column, LiveTable
from nomtui.tui.widgets.topology import (
    NODE_STATUS_STYLE,
    PLACED,
    NodeLoad,
    alloc_usage,
    cpu_text,
    draw_bar,
    mem_text,
    node_loads,
    usage_text,
)

ALLOC_COLUMNS = (
    Column("ID", "id"),
    Column("Status", "status"),
    Column("Desired", "desired"),
    Column("CPU", "cpu", numeric=True),
    Column("Memory", "memory", numeric=True),
    Column("Created", "created"),
    # Last: job names can be long, and the columns after them would go off screen.
    Column("Name", "name"),
)
BAR_WIDTH = 40
EVENTS_SHOWN = 5
_ALLOC_STYLE = {
    "running": "green",
    "pending": "yellow",
    "failed": "red",
    "lost": "red",
    "complete": "dim",
    "unknown": "magenta",
}


def utc_minute(ns: int) -> str:
    """A timestamp that sorts as text and does not depend on the machine's time zone."""
    if ns <= 0:
        return "—"
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M")


def alloc_cells(alloc: AllocStub) -> Cells:
    cpu, mem = alloc_usage(alloc)
    placed = alloc.ClientStatus in PLACED
    return (
        Text(alloc.short_id, style="bold"),
        Text(clean(alloc.ClientStatus), style=_ALLOC_STYLE.get(alloc.ClientStatus, "")),
        Text(clean(alloc.DesiredStatus), style="" if alloc.DesiredStatus == "run" else "dim"),
        # Fixed widths: a column sized on a first "—" would cut a later size.
        Text(f"{cpu_text(cpu) if placed and cpu else '—':>8}"),
        Text(f"{mem_text(mem) if placed and mem else '—':>8}"),
        Text(utc_minute(alloc.CreateTime), style="dim"),
        Text(clean(alloc.Name)),
    )


def node_summary(load: NodeLoad, detail: Node | None) -> Text:
    """The block above the allocations: identity, state, drivers, capacity used."""
    node = load.node
    text = Text()
    text.append(clean(node.Name or node.short_id), style="bold")
    text.append(f"  {clean(node.ID)}", style="dim")
    text.append(f"  ● {clean(node.Status)}", style=NODE_STATUS_STYLE.get(node.Status, ""))
    text.append(
        "  eligible" if node.eligible else "  ineligible", style="" if node.eligible else "yellow"
    )
    if node.Drain:
        text.append("  draining", style="bold yellow")
    facts = [
        ("Datacenter", node.Datacenter),
        ("Class", node.NodeClass or "—"),
        ("Pool", node.NodePool or "default"),
        ("Address", node.Address or (detail.HTTPAddr if detail else "")),
        ("Nomad", node.nomad_version or (detail.nomad_version if detail else "")),
    ]
    text.append("\n")
    for label, value in facts:
        text.append(f"{label} ", style="dim")
        text.append(f"{clean(value) or '—'}   ")
    if detail is not None and detail.DrainStrategy is not None:
        strategy = detail.DrainStrategy
        deadline_ns = strategy.DrainSpec.Deadline if strategy.DrainSpec else strategy.Deadline
        text.append("\nDrain      ", style="dim")
        if deadline_ns < 0:
            text.append("forced")
        elif deadline_ns == 0:
            text.append("no deadline")
        else:
            text.append(f"deadline {format_age(deadline_ns / 1e9)}")
        if strategy.IgnoreSystemJobs:
            text.append(", system jobs stay")
    if detail is not None and detail.Drivers:
        text.append("\nDrivers    ", style="dim")
        for name, driver in sorted(detail.Drivers.items()):
            if not driver.Detected:
                continue
            text.append(clean(name))
            text.append(
                " ✓  " if driver.Healthy else " ✗  ", style="green" if driver.Healthy else "red"
            )
    for label, used, total, unit, index in (
        ("CPU", load.cpu_used, load.cpu_total, cpu_text, 0),
        ("Memory", load.mem_used, load.mem_total, mem_text, 1),
    ):
        text.append(f"\n{label:<11}", style="dim")
        if total <= 0:
            text.append("capacity unknown", style="dim italic")
            continue
        segments = [(alloc_usage(a)[index], a.ClientStatus) for a in load.placed]
        text.append_text(draw_bar(segments, total, BAR_WIDTH))
        text.append(" ")
        text.append_text(usage_text(used, total, unit))
    return text


def node_events(detail: Node | None, now_ns: int) -> Text:
    text = Text.assemble(("Node events", "bold"))
    events = list(detail.Events or ()) if detail is not None else []
    if not events:
        text.append("\n  none", style="dim")
    # By time, not text: agents send RFC 3339 with local offsets.
    newest_first = sorted(
        events, key=lambda e: (e.time.timestamp() if e.time else 0.0, e.CreateIndex), reverse=True
    )
    for event in newest_first[:EVENTS_SHOWN]:
        when = event.time
        age = format_age(now_ns / 1e9 - when.timestamp()) if when else "?"
        text.append(f"\n  {age:>7} ago  ", style="dim")
        text.append(f"{clean(event.Subsystem):<10} ", style="cyan")
        text.append(clean(event.Message))
    return text


class NodeScreen(NodeActionsScreen):
    """A node and its allocations; the allocation table filters with `/`."""

    AUTO_FOCUS = "#node-allocs"
    DEFAULT_CSS = """
    NodeScreen #node-summary {
        height: auto;
        padding: 0 1 1 1;
    }
    NodeScreen #node-events {
        height: auto;
        max-height: 8;
        padding: 1 1 0 1;
    }
    """
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open allocation",
            id="node.open",
            priority=True,
            tooltip="Show the allocation under the cursor",
        ),
        *node_action_bindings("node"),
        *table_bindings("node", "allocations"),
    ]

    def __init__(self, store: Store, *, clock: Clock = time.time_ns, node_id: str) -> None:
        super().__init__(store, clock=clock)
        self.node_id = node_id
        self.node: NodeStub | None = None
        self.detail: Node | None = None
        self.allocs: list[AllocStub] = []
        self.gone = False

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield Static(Text("loading…", style="dim"), id="node-summary")
        yield LiveTable(ALLOC_COLUMNS, id="node-allocs", default_sort=("created",))
        yield Static(id="node-events")
        yield filter_box()
        yield NomtuiFooter()

    @property
    def main_table(self) -> LiveTable:
        return self.query_one("#node-allocs", LiveTable)

    def on_mount(self) -> None:
        self.main_table.sort_reverse = True  # newest first
        self.follow(NodesView())
        self.follow(AllocsView(task_states=False))

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        data = message.state.data
        if data is None:
            return
        if isinstance(message.view, NodesView):
            node = data.get(self.node_id)
            changed = node is not None and (
                self.node is None or node.ModifyIndex != self.node.ModifyIndex
            )
            self.node, self.gone = node, node is None
            if changed:
                self.run_worker(self._read_node(), group="node-detail", exclusive=True)
        elif isinstance(message.view, AllocsView):
            self.allocs = [a for a in data.values() if a.NodeID == self.node_id]
        self.refresh_view()

    async def _read_node(self) -> None:
        try:
            self.detail = await self.store.nomad.get_node(self.node_id)
        except NomtuiError as exc:
            # The stub still shows; the details come back with the node's next change.
            self.notify(exc.message, title=exc.title, severity="warning")
            return
        self.refresh_view()

    def refresh_view(self) -> None:
        now = self.clock()
        summary = self.query_one("#node-summary", Static)
        if self.gone:
            summary.update(Text(f"Node {clean(self.node_id)} is not in the cluster.", style="red"))
        elif self.node is not None:
            load = node_loads([self.node], self.allocs)[self.node_id]
            summary.update(node_summary(load, self.detail))
            self.main_table.set_rows({a.ID: alloc_cells(a) for a in self.allocs})
        self.query_one("#node-events", Static).update(node_events(self.detail, now))
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def action_node(self) -> NodeStub | None:
        return self.node

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return isinstance(self.focused, LiveTable) and self.main_table.selected_key is not None
        return super().check_action(action, parameters)

    def action_open(self) -> None:
        key = self.main_table.selected_key
        if key is not None:
            self.post_message(Open("alloc", alloc_id=key))


__all__ = ["ALLOC_COLUMNS", "NodeScreen", "alloc_cells", "node_events", "node_summary"]
