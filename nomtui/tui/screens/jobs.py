"""The Jobs screen: every job of the cluster in one table, kept live by the store.

The store's `JobsView` is fed by a blocking watch; nothing here polls. The table is keyed
by `namespace/ID` and updated in place, so the cursor stays on the same job and the view
does not jump when jobs come, go or change.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input

from nomtui.models.jobs import JobStub
from nomtui.sanitize import clean
from nomtui.store import JobsView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.screens.base import Clock, StoreScreen, ViewUpdated
from nomtui.tui.widgets.live_table import Column, LiveTable

COLUMNS = (
    Column("Name", "name"),
    Column("Namespace", "namespace"),
    Column("Type", "type"),
    Column("Status", "status"),
    Column("Groups", "groups"),
    Column("Allocs R/P/F", "allocs", numeric=True),
    Column("Submitted", "submitted"),
)
AGE_REFRESH_S = 5.0
"""How often the Submitted column is re-rendered locally (no request is made)."""

_STATUS_STYLE = {"running": "green", "pending": "yellow", "dead": "dim", "stopped": "dim"}


def format_age(seconds: float) -> str:
    """Compact age like k9s: `42s`, `5m3s`, `3h12m`, `4d2h`, `2y30d`."""
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


def job_cells(job: JobStub, now_ns: int) -> tuple[Text, ...]:
    """One row of the table. Cells are `Text`, never `str`: DataTable would parse a str
    as markup, and job names are not ours to trust."""
    status = "stopped" if job.Stop and job.Status != "dead" else job.Status
    if job.Periodic or job.ParameterizedJob:
        kids = job.children
        groups = "—"
        allocs = f"children {kids.Running}/{kids.Pending}/{kids.Dead}"
    else:
        counts = job.allocs
        groups = f"{job.groups_running}/{len(job.groups)}" if job.groups else "—"
        allocs = f"{counts.running}/{counts.pending}/{counts.failed}"
    age = format_age((now_ns - job.SubmitTime) / 1e9) if job.SubmitTime else "—"
    alloc_style = "red" if not (job.Periodic or job.ParameterizedJob) and job.allocs.failed else ""
    return (
        Text(clean(job.Name or job.ID), style="bold"),
        Text(clean(job.Namespace)),
        Text(clean(job.kind)),
        Text(clean(status), style=_STATUS_STYLE.get(status, "")),
        Text(groups),
        Text(allocs, style=alloc_style),
        Text(age, justify="right"),
    )


class JobsScreen(StoreScreen):
    """All jobs; `/` filters, the cursor follows its job across updates."""

    # The table, not the (hidden) filter box: keys like `q` must reach the bindings.
    AUTO_FOCUS = "#jobs"
    BINDINGS = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="jobs.filter",
            tooltip="Show only the jobs whose row matches a regular expression (! inverts)",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            id="jobs.clear_filter",
            show=False,
            tooltip="Remove the filter and show every job",
        ),
    ]

    def __init__(self, store: Store, *, clock: Clock = time.time_ns, namespace: str = "*") -> None:
        super().__init__(store, clock=clock)
        self.namespace = namespace
        self.jobs: dict[str, JobStub] = {}
        self.index = 0
        """Raft index of the data on screen."""

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield Input(
            placeholder="filter: regular expression (! inverts), Enter to keep, Esc to clear",
            id="filter",
        )
        yield LiveTable(COLUMNS, id="jobs", default_sort=("namespace", "name"))
        yield Footer()

    @property
    def table(self) -> LiveTable:
        return self.query_one("#jobs", LiveTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.follow(JobsView(self.namespace))
        self.set_interval(AGE_REFRESH_S, self.refresh_rows)

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        data = message.state.data
        if data is None:
            return
        self.jobs = dict(data)
        self.index = message.state.index
        self.refresh_rows()

    def refresh_rows(self) -> None:
        now = self.clock()
        self.table.set_rows({key: job_cells(job, now) for key, job in self.jobs.items()})

    # -- filter ---------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        # Synchronously: keys typed right after `/` must land in the box, not the table.
        self.set_focus(box)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.set_focus(self.table)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        valid = self.table.set_filter(event.value)
        event.input.set_class(not valid, "-invalid")

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
        self.set_focus(self.table)
