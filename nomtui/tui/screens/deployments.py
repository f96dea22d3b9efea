"""The Deployments screen: every deployment of the namespace, newest first, with actions.

`p` promotes the canaries of the selected deployment and `f` fails it; each is confirmed
(typing the job's name on production clusters), shown only when it applies (promote:
canaries wait for promotion; fail: the deployment is still active) and never in
read-only mode, where the store would refuse anyway. The effect arrives through the
deployments watch like any other change. The job screen reuses `promote`/`fail`.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable

from nomtui.errors import NomtuiError
from nomtui.models.deployments import Deployment
from nomtui.sanitize import clean
from nomtui.store import DeploymentsView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.filtered import FilteredScreen, filter_box, table_bindings
from nomtui.tui.widgets.confirm import confirm_screen
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import Cells, Column, LiveTable

COLUMNS = (
    Column("ID", "id"),
    Column("Job", "job"),
    Column("Namespace", "namespace"),
    Column("Ver", "version", numeric=True),
    Column("Status", "status"),
    Column("Progress", "progress"),
    Column("Description", "description"),
)
STATUS_STYLE = {
    "running": "bold yellow",
    "paused": "yellow",
    "pending": "yellow",
    "blocked": "yellow",
    "successful": "green",
    "failed": "bold red",
    "cancelled": "dim",
}


def progress_text(dep: Deployment) -> Text:
    """Per group: healthy/desired, and canaries with a promotion mark while they wait."""
    text = Text()
    for i, (name, group) in enumerate(sorted(dep.groups.items())):
        if i:
            text.append("; ", style="dim")
        if len(dep.groups) > 1:
            text.append(f"{clean(name)} ", style="dim")
        style = "green" if group.HealthyAllocs >= group.DesiredTotal else ""
        text.append(f"healthy {group.HealthyAllocs}/{group.DesiredTotal}", style=style)
        if group.UnhealthyAllocs:
            text.append(f" unhealthy {group.UnhealthyAllocs}", style="red")
        if group.DesiredCanaries:
            placed = len(group.PlacedCanaries or ())
            text.append(f" canaries {placed}/{group.DesiredCanaries}")
            if dep.is_active and group.needs_promotion:
                text.append(" ⚠ awaiting promotion", style="bold yellow")
            elif group.Promoted:
                text.append(" promoted", style="green")
    return text


def deployment_cells(dep: Deployment) -> Cells:
    return (
        Text(dep.short_id, style="bold"),
        Text(clean(dep.JobID)),
        Text(clean(dep.Namespace)),
        Text(str(dep.JobVersion), justify="right"),
        Text(clean(dep.Status), style=STATUS_STYLE.get(dep.Status, "")),
        progress_text(dep),
        Text(clean(dep.StatusDescription), style="dim"),
    )


def can_promote(store: Store, dep: Deployment | None) -> bool:
    return dep is not None and not store.read_only and dep.needs_promotion


def can_fail(store: Store, dep: Deployment | None) -> bool:
    return dep is not None and not store.read_only and dep.is_active


async def promote(screen: Screen[Any], store: Store, dep: Deployment) -> bool:
    """Confirm, then promote every canary group of `dep`; True when the API accepted."""
    question = confirm_screen(
        screen.app,
        f"Promote deployment {dep.short_id} of {dep.JobID}?",
        f"The canaries of version {dep.JobVersion} become the job's allocations and the "
        "remaining old allocations are replaced.",
        name=dep.JobID,
        action_label="Promote",
    )
    if not await screen.app.push_screen_wait(question):
        return False
    return await _run(screen, f"Promoted deployment {dep.short_id}", store.promote(dep.ID))


async def fail(screen: Screen[Any], store: Store, dep: Deployment) -> bool:
    """Confirm, then mark `dep` failed (Nomad rolls back when auto_revert is set)."""
    question = confirm_screen(
        screen.app,
        f"Fail deployment {dep.short_id} of {dep.JobID}?",
        "The deployment stops here. With auto_revert the job goes back to its last "
        "stable version; otherwise the allocations placed so far stay.",
        name=dep.JobID,
        action_label="Fail deployment",
    )
    if not await screen.app.push_screen_wait(question):
        return False
    return await _run(screen, f"Failed deployment {dep.short_id}", store.fail_deployment(dep.ID))


async def _run(screen: Screen[Any], done: str, call: Any) -> bool:
    try:
        await call
    except NomtuiError as exc:
        screen.notify(exc.message, title=exc.title, severity="error")
        return False
    screen.notify(clean(done))
    return True


class DeploymentsScreen(FilteredScreen):
    """All deployments of a namespace; Enter opens the job, `p` promotes, `f` fails."""

    AUTO_FOCUS = "#deployments"
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open job",
            id="deployments.open",
            priority=True,  # else DataTable's Enter hides it from footer and help
            tooltip="Open the job",
        ),
        *table_bindings("deployments", "deployments"),
        Binding(
            "p",
            "promote",
            "Promote",
            id="deployments.promote",
            tooltip="Promote the canaries of the selected deployment",
        ),
        Binding(
            "f",
            "fail",
            "Fail",
            id="deployments.fail",
            tooltip="Mark the selected deployment failed (rolls back with auto_revert)",
        ),
    ]

    def __init__(self, store: Store, *, clock: Clock = time.time_ns, namespace: str = "*") -> None:
        super().__init__(store, clock=clock)
        self.namespace = namespace
        self.deployments: dict[str, Deployment] = {}

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield filter_box()
        yield LiveTable(COLUMNS, id="deployments")
        yield NomtuiFooter()

    @property
    def main_table(self) -> LiveTable:
        return self.query_one("#deployments", LiveTable)

    def on_mount(self) -> None:
        self.follow(DeploymentsView(self.namespace))

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        if message.state.data is None:
            return
        self.deployments = dict(message.state.data)
        # The store lists deployments newest first; the table keeps that order.
        self.main_table.set_rows({key: deployment_cells(d) for key, d in self.deployments.items()})
        self.refresh_bindings()

    @property
    def selected(self) -> Deployment | None:
        key = self.main_table.selected_key
        return self.deployments.get(key) if key else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()  # promote/fail depend on the selection

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return False  # asked while the screen is being built: nothing to offer yet
        if action == "promote":
            return can_promote(self.store, self.selected)
        if action == "fail":
            return can_fail(self.store, self.selected)
        if action == "open":
            return self.focused is self.main_table and self.selected is not None
        return super().check_action(action, parameters)

    def action_open(self) -> None:
        dep = self.selected
        if dep is not None:
            self.post_message(Open("job", namespace=dep.Namespace, job_id=dep.JobID))

    @work(exclusive=True, group="deployment-action")
    async def action_promote(self) -> None:
        dep = self.selected
        if can_promote(self.store, dep) and dep is not None:
            await promote(self, self.store, dep)

    @work(exclusive=True, group="deployment-action")
    async def action_fail(self) -> None:
        dep = self.selected
        if can_fail(self.store, dep) and dep is not None:
            await fail(self, self.store, dep)


__all__ = [
    "COLUMNS",
    "DeploymentsScreen",
    "can_fail",
    "can_promote",
    "deployment_cells",
    "fail",
    "progress_text",
    "promote",
]
