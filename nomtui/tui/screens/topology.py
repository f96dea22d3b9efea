"""The Topology screen: nodes grouped by datacenter, drawn as bars of allocated resources.

Same data as the Nodes screen (the store's node and allocation watches, whose stubs carry
capacity and sizes); the drawing itself is `nomtui.tui.widgets.topology`. Arrow keys move
the node selection, Enter opens the node, `/` keeps only the nodes whose name, status,
datacenter or class match.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from nomtui.models.allocs import AllocStub
from nomtui.models.nodes import NodeStub
from nomtui.sanitize import clean
from nomtui.store import AllocsView, NodesView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.filtered import FilteredScreen, filter_box, table_bindings
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import RowFilter
from nomtui.tui.widgets.topology import TopologyView


def node_haystack(node: NodeStub) -> tuple[Text, ...]:
    """What the filter matches a node against (as a table row would show it)."""
    words = (node.Name, node.Status, node.Datacenter, node.NodeClass, node.NodePool)
    extra: tuple[str, ...] = ("ineligible",) if not node.eligible else ()
    extra += ("draining",) if node.Drain else ()
    return tuple(Text(clean(w)) for w in (*words, *extra))


class TopologyScreen(FilteredScreen):
    """Every node as a CPU bar and a memory bar, allocations as coloured segments."""

    AUTO_FOCUS = "#topology"
    DEFAULT_CSS = """
    TopologyScreen #topology-scroll {
        height: 1fr;
    }
    TopologyScreen #topology-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """
    # Enter and the arrows belong to the drawing widget (`topology.*` ids).
    BINDINGS = [*table_bindings("topology", "nodes")[:2]]

    def __init__(self, store: Store, *, clock: Clock = time.time_ns) -> None:
        super().__init__(store, clock=clock)
        self.nodes: dict[str, NodeStub] = {}
        self.allocs: list[AllocStub] = []
        self.node_filter = RowFilter()

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield Static(Text("loading…"), id="topology-status")
        with VerticalScroll(id="topology-scroll"):
            yield TopologyView(id="topology")
        yield filter_box()
        yield NomtuiFooter()

    @property
    def drawing(self) -> TopologyView:
        return self.query_one("#topology", TopologyView)

    def on_mount(self) -> None:
        self.follow(NodesView())
        self.follow(AllocsView(task_states=False))

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        data = message.state.data
        if data is None:
            return
        if isinstance(message.view, NodesView):
            self.nodes = dict(data)
        elif isinstance(message.view, AllocsView):
            self.allocs = list(data.values())
        self.redraw()

    def redraw(self) -> None:
        nodes = [n for n in self.nodes.values() if self.node_filter.matches(n.ID, node_haystack(n))]
        self.drawing.show(nodes, self.allocs)
        status = Text(f"{len(nodes)} of {len(self.nodes)} nodes")
        if self.node_filter.pattern:
            status.append(f"  filter {clean(self.node_filter.pattern)!r}", style="cyan")
        self.query_one("#topology-status", Static).update(status)

    def on_topology_view_node_chosen(self, message: TopologyView.NodeChosen) -> None:
        self.post_message(Open("node", node_id=message.node_id))

    # -- the filter is on nodes of the drawing, not on a table --------------------------------

    def has_filter(self) -> bool:
        return bool(self.node_filter.pattern)

    def begin_filter(self) -> str:
        return self.node_filter.pattern

    def apply_filter(self, pattern: str) -> bool:
        self.node_filter = RowFilter(pattern)
        if self.is_mounted:
            self.redraw()
        return self.node_filter.valid

    def end_filter(self) -> None:
        self.set_focus(self.drawing)


__all__ = ["TopologyScreen", "node_haystack"]
