"""The Nodes screen: every client node with its state and what is allocated on it.

Fed by the store's node and allocation watches (blocking queries), whose stubs carry
node capacity and allocation sizes (`resources=true`), so nothing else is fetched.
Rows are keyed by node ID and updated in place. `d` drains or cancels a drain, `e`
toggles scheduling eligibility (each confirmed, hidden in read-only mode), Enter opens
the node, `t` the topology drawing.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from nomtui.models.allocs import AllocStub
from nomtui.models.nodes import NodeStub
from nomtui.sanitize import clean
from nomtui.store import AllocsView, NodesView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.filtered import filter_box, table_bindings
from nomtui.tui.screens.node_actions import NodeActionsScreen, node_action_bindings
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import Cells, Column, LiveTable
from nomtui.tui.widgets.topology import (
    NODE_STATUS_STYLE,
    NodeLoad,
    cpu_text,
    mem_text,
    node_loads,
    usage_text,
)

COLUMNS = (
    Column("Name", "name"),
    Column("Status", "status"),
    Column("Eligibility", "eligibility"),
    Column("Drain", "drain"),
    Column("DC", "datacenter"),
    Column("Class", "class"),
    Column("Allocs", "allocs", numeric=True),
    Column("CPU", "cpu", numeric=True),
    Column("Memory", "memory", numeric=True),
    Column("Version", "version"),
)


def node_cells(load: NodeLoad) -> Cells:
    """One row; every cluster string through `clean`, every cell a `Text`."""
    node = load.node
    eligibility = "eligible" if node.eligible else "ineligible"
    drain = "draining" if node.Drain else "—"
    return (
        Text(clean(node.Name or node.short_id), style="bold"),
        Text(clean(node.Status), style=NODE_STATUS_STYLE.get(node.Status, "")),
        Text(eligibility, style="" if node.eligible else "yellow"),
        Text(drain, style="bold yellow" if node.Drain else "dim"),
        Text(clean(node.Datacenter)),
        Text(clean(node.NodeClass) or "—"),
        Text(str(len(load.placed)), justify="right"),
        usage_text(load.cpu_used, load.cpu_total, cpu_text),
        usage_text(load.mem_used, load.mem_total, mem_text),
        Text(clean(node.nomad_version), style="dim"),
    )


class NodesScreen(NodeActionsScreen):
    """All client nodes; `/` filters, `o` sorts, the cursor follows its node."""

    AUTO_FOCUS = "#nodes"
    BINDINGS = [
        # priority: the table's own Enter would take it first; check_action lets it through
        # to the filter box when that has the focus.
        Binding(
            "enter",
            "open",
            "Open",
            id="nodes.open",
            priority=True,
            tooltip="Show the selected node",
        ),
        Binding(
            "t",
            "topology",
            "Topology",
            id="nodes.topology",
            tooltip="Draw the nodes as bars of allocated CPU and memory",
        ),
        *node_action_bindings("nodes"),
        *table_bindings("nodes", "nodes"),
    ]

    def __init__(self, store: Store, *, clock: Clock = time.time_ns) -> None:
        super().__init__(store, clock=clock)
        self.nodes: dict[str, NodeStub] = {}
        self.allocs: list[AllocStub] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield filter_box()
        yield LiveTable(COLUMNS, id="nodes", default_sort=("name",))
        yield NomtuiFooter()

    @property
    def main_table(self) -> LiveTable:
        return self.query_one("#nodes", LiveTable)

    def on_mount(self) -> None:
        self.main_table.focus()
        self.follow(NodesView())
        self.follow(AllocsView(task_states=False))

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        data = message.state.data
        if data is None:
            return
        if isinstance(message.view, NodesView):
            self.nodes = dict(data)
            self.loaded = True
        elif isinstance(message.view, AllocsView):
            self.allocs = list(data.values())
        self.refresh_rows()

    def loads(self) -> dict[str, NodeLoad]:
        return node_loads(self.nodes.values(), self.allocs)

    def refresh_rows(self) -> None:
        self.main_table.set_rows({key: node_cells(load) for key, load in self.loads().items()})
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        # The drain/eligibility keys depend on the node under the cursor.
        self.refresh_bindings()

    def action_node(self) -> NodeStub | None:
        key = self.main_table.selected_key
        return self.nodes.get(key) if key is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return isinstance(self.focused, LiveTable) and self.action_node() is not None
        return super().check_action(action, parameters)

    def action_open(self) -> None:
        node = self.action_node()
        if node is not None:
            self.post_message(Open("node", node_id=node.ID))

    def action_topology(self) -> None:
        self.post_message(Open("topology"))


__all__ = ["COLUMNS", "NodesScreen", "node_cells"]
