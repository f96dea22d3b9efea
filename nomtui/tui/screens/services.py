"""The Services screen: Consul's services, their instances and each instance's checks.

Fed by the store's `ServicesView` (Consul blocking queries on the catalog and on every
check, joined to the Nomad allocation watch). Three panes, top to bottom: services with
their tags and instance counts by health; the instances of the highlighted service; the
checks of the highlighted instance with their output. Enter on a service moves to its
instances, Enter on an instance opens its Nomad allocation. The allocation screen links
back with `Open("services", alloc_id=...)`, which selects that allocation's instance.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from nomtui.models.consul import ConsulCheck
from nomtui.sanitize import clean
from nomtui.store import ServiceInstance, ServiceRow, ServicesData, ServicesView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.filtered import FilteredScreen, filter_box, table_bindings
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import Cells, Column, LiveTable

SERVICE_COLUMNS = (
    Column("Service", "name"),
    Column("Health", "status"),
    Column("Instances", "instances", numeric=True),
    Column("Passing", "passing", numeric=True),
    Column("Warning", "warning", numeric=True),
    Column("Critical", "critical", numeric=True),
    Column("Tags", "tags"),
)
INSTANCE_COLUMNS = (
    Column("Node", "node"),
    Column("Health", "status"),
    Column("Allocation", "alloc"),
    Column("Alloc name", "alloc_name"),
    Column("Alloc status", "alloc_status"),
    Column("Checks", "checks"),
    Column("Service ID", "service_id"),
)
HEALTH_STYLE = {
    "passing": "green",
    "warning": "yellow",
    "critical": "bold red",
    "maintenance": "magenta",
}
TAGS_WIDTH = 48
OUTPUT_LINES = 4
"""Lines of a check's output shown (HTTP checks can return whole pages)."""


def health(status: str) -> Text:
    return Text(clean(status) or "unknown", style=HEALTH_STYLE.get(status, "dim"))


def service_cells(row: ServiceRow) -> Cells:
    counts = {"passing": 0, "warning": 0, "critical": 0}
    for instance in row.instances:
        if instance.status in counts:
            counts[instance.status] += 1
    tags = ", ".join(clean(t) for t in row.tags)
    if len(tags) > TAGS_WIDTH:
        tags = tags[: TAGS_WIDTH - 1] + "…"

    def count(status: str) -> Text:
        n = counts[status]
        return Text(str(n), justify="right", style=HEALTH_STYLE[status] if n else "dim")

    return (
        Text(clean(row.name), style="bold"),
        health(row.status) if row.instances else Text("no instances", style="dim"),
        Text(str(len(row.instances)), justify="right"),
        count("passing"),
        count("warning"),
        count("critical"),
        Text(tags, style="cyan"),
    )


def instance_cells(instance: ServiceInstance) -> Cells:
    alloc = instance.alloc
    own = [c for c in instance.checks if c.ServiceID]
    passing = sum(1 for c in own if c.Status == "passing")
    return (
        Text(clean(instance.node)),
        health(instance.status),
        Text(instance.alloc_id[:8] if instance.alloc_id else "—", style="bold"),
        Text(clean(alloc.Name) if alloc else "—"),
        Text(clean(alloc.ClientStatus) if alloc else "—"),
        Text(f"{passing}/{len(own)} passing"),
        Text(clean(instance.service_id), style="dim"),
    )


def checks_text(instance: ServiceInstance | None) -> Text:
    """The checks of one instance, its own first, each with the start of its output."""
    if instance is None:
        return Text("No instance selected.", style="dim")
    text = Text()
    text.append(f"Checks of {clean(instance.service_id)}", style="bold")
    text.append(f" on {clean(instance.node)}", style="dim")
    for check in instance.checks:
        text.append("\n")
        text.append_text(_check_line(check))
    return text


def _check_line(check: ConsulCheck) -> Text:
    line = Text("  ")
    line.append("● ", style=HEALTH_STYLE.get(check.Status, "dim"))
    line.append(clean(check.Name or check.CheckID), style="bold")
    line.append("  ")
    line.append_text(health(check.Status))
    if check.Type:
        line.append(f"  {clean(check.Type)}", style="dim")
    if not check.ServiceID:
        line.append("  (node check)", style="dim")
    output = clean(check.Output, newlines=True).strip().splitlines()
    for out in output[:OUTPUT_LINES]:
        line.append(f"\n      {out}", style="" if check.Status == "passing" else "red")
    if len(output) > OUTPUT_LINES:
        line.append(f"\n      … {len(output) - OUTPUT_LINES} more lines", style="dim")
    return line


class ServicesScreen(FilteredScreen):
    """Consul services → instances → checks; Enter goes down a level, then to Nomad."""

    AUTO_FOCUS = "#services"
    DEFAULT_CSS = """
    ServicesScreen #services {
        height: 2fr;
    }
    ServicesScreen #instances {
        height: 1fr;
        border-top: solid $primary-darken-2;
    }
    ServicesScreen #checks {
        height: auto;
        max-height: 12;
        padding: 0 1;
        border-top: solid $primary-darken-2;
    }
    """
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open",
            id="services.open",
            priority=True,
            tooltip="On a service: go to its instances; on an instance: open its allocation",
        ),
        *table_bindings("services", "services or instances"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = time.time_ns,
        service: str | None = None,
        alloc_id: str | None = None,
    ) -> None:
        super().__init__(store, clock=clock)
        self.data: ServicesData | None = None
        self.want_service = service
        self.want_alloc = alloc_id
        """Where to put the cursors once the data is there (a jump from an allocation)."""

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield LiveTable(SERVICE_COLUMNS, id="services", default_sort=("name",))
        yield LiveTable(INSTANCE_COLUMNS, id="instances", default_sort=("node", "service_id"))
        yield Static(Text("loading…", style="dim"), id="checks")
        yield filter_box()
        yield NomtuiFooter()

    @property
    def main_table(self) -> LiveTable:
        return self.query_one("#services", LiveTable)

    @property
    def instances_table(self) -> LiveTable:
        return self.query_one("#instances", LiveTable)

    def on_mount(self) -> None:
        self.follow(ServicesView())

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        data = message.state.data
        if not isinstance(data, ServicesData):
            return
        self.data = data
        if not data.enabled:
            self.query_one("#checks", Static).update(
                Text("Consul is not configured: set CONSUL_HTTP_ADDR.", style="yellow")
            )
            return
        self.main_table.set_rows({name: service_cells(row) for name, row in data.services.items()})
        self._jump()
        self.show_instances()

    def _jump(self) -> None:
        """Select the service (and instance) asked for by the screen's opener, once."""
        if self.data is None or not (self.want_service or self.want_alloc):
            return
        service, instance_id = self.want_service, None
        if self.want_alloc:
            found = self.find_alloc(self.want_alloc)
            if found is None:
                return  # the allocation's checks may not be registered yet
            service, instance_id = found
        if service in self.main_table.shown_keys:
            self.main_table.move_cursor(row=self.main_table.get_row_index(service))
        self.show_instances()
        if instance_id is not None and instance_id in self.instances_table.shown_keys:
            self.instances_table.move_cursor(row=self.instances_table.get_row_index(instance_id))
            self.instances_table.focus()
        self.want_service = self.want_alloc = None

    def find_alloc(self, alloc_id: str) -> tuple[str, str] | None:
        """(service name, service ID) of an allocation's first instance."""
        assert self.data is not None
        for name, row in self.data.services.items():
            for instance in row.instances:
                if instance.alloc_id == alloc_id:
                    return name, instance.service_id
        return None

    def selected_service(self) -> ServiceRow | None:
        key = self.main_table.selected_key
        if self.data is None or key is None:
            return None
        return self.data.services.get(key)

    def instances(self) -> Sequence[ServiceInstance]:
        row = self.selected_service()
        return row.instances if row is not None else ()

    def selected_instance(self) -> ServiceInstance | None:
        key = self.instances_table.selected_key
        return next((i for i in self.instances() if i.service_id == key), None)

    def show_instances(self) -> None:
        self.instances_table.set_rows({i.service_id: instance_cells(i) for i in self.instances()})
        self.show_checks()

    def show_checks(self) -> None:
        self.query_one("#checks", Static).update(checks_text(self.selected_instance()))
        self.refresh_bindings()

    @on(DataTable.RowHighlighted, "#services")
    def _service_highlighted(self) -> None:
        self.show_instances()

    @on(DataTable.RowHighlighted, "#instances")
    def _instance_highlighted(self) -> None:
        self.show_checks()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            if self.focused is self.main_table:
                return self.selected_service() is not None
            if self.focused is self.instances_table:
                instance = self.selected_instance()
                return instance is not None and instance.alloc_id is not None
            return False
        return super().check_action(action, parameters)

    def action_open(self) -> None:
        if self.focused is self.main_table:
            self.instances_table.focus()
            return
        instance = self.selected_instance()
        if instance is not None and instance.alloc_id:
            self.post_message(Open("alloc", alloc_id=instance.alloc_id))


__all__ = ["ServicesScreen", "checks_text", "instance_cells", "service_cells"]
