"""The Jobs screen: every job of the namespace in one table, kept live by the store.

Three store views feed it, none polled: `JobsView` (the rows), `AllocsView` of every
namespace without task states (the version column: the job list carries no version, so
it is the newest version that has allocations; the watch is the one the header already
runs), and `ServicesView` (the public URL, the first `https://` tag, and the Consul
health of the job's instances).

Periodic and parameterized children are folded under their parent (`▸ name +3`):
Space toggles, → opens, ← closes. While a filter is set every child is shown, so a
dispatched job can be found by name. Rows are keyed by `namespace/ID` and updated in
place; sorting (`o` next column, `O` reverse, or a click on a header) keeps children
under their parent.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable

from nomtui.models.allocs import AllocStub
from nomtui.models.jobs import JobStub
from nomtui.sanitize import clean
from nomtui.store import AllocsView, JobsView, ServicesData, ServicesView, Store
from nomtui.tui.header import ClusterHeader, format_age
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.filtered import FilteredScreen, filter_box, table_bindings
from nomtui.tui.screens.job_extras import JobExtras, job_extras, public_url
from nomtui.tui.screens.row_cells import RowCells
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import Column
from nomtui.tui.widgets.tree_table import TreeTable

COLUMNS = (
    Column("Name", "name"),
    Column("Namespace", "namespace"),
    Column("Type", "type"),
    Column("Status", "status"),
    Column("Groups", "groups", numeric=True),
    Column("Allocs R/P/F", "allocs", numeric=True),
    Column("Health", "health"),
    Column("Ver", "version", numeric=True),
    Column("Submitted", "submitted"),
    Column("URL", "url"),
)
MAX_URL = 44
"""Longer URLs are cut with `…` in the table (the job's Services tab shows them whole)."""
AGE_REFRESH_S = 5.0
UPDATE_COALESCE_S = 0.02
"""How often the Submitted column is re-rendered locally (no request is made)."""

_STATUS_STYLE = {"running": "green", "pending": "yellow", "dead": "dim", "stopped": "dim"}


def health_cell(extras: JobExtras) -> Text:
    if not (extras.passing or extras.warning or extras.critical):
        return Text("—", style="dim")
    text = Text()
    for count, mark, style in (
        (extras.passing, "✓", "green"),
        (extras.warning, "!", "yellow"),
        (extras.critical, "✗", "bold red"),
    ):
        if count:
            text.append(f"{mark}{count} ", style=style)
    text.rstrip()
    return text


def submitted_age(job: JobStub, now_ns: int) -> str:
    return format_age((now_ns - job.SubmitTime) / 1e9) if job.SubmitTime else "—"


def job_cells(
    job: JobStub,
    now_ns: int,
    extras: JobExtras | None = None,
    *,
    fold: tuple[int, bool] | None = None,
    child: bool = False,
) -> tuple[Text, ...]:
    """One row of the table. Cells are `Text`, never `str`: DataTable would parse a str
    as markup, and job names are not ours to trust.

    `fold` is (number of children, expanded) for parents; `child` indents the row."""
    extras = extras or JobExtras()
    status = "stopped" if job.Stop and job.Status != "dead" else job.Status
    if job.Periodic or job.ParameterizedJob:
        kids = job.children
        groups = "—"
        allocs = f"children {kids.Running}/{kids.Pending}/{kids.Dead}"
    else:
        counts = job.allocs
        groups = f"{job.groups_running}/{len(job.groups)}" if job.groups else "—"
        allocs = f"{counts.running}/{counts.pending}/{counts.failed}"
    age = submitted_age(job, now_ns)
    alloc_style = "red" if not (job.Periodic or job.ParameterizedJob) and job.allocs.failed else ""
    name = Text()
    if child:
        name.append("  └ ", style="dim")
        name.append(clean(job.ID.removeprefix(f"{job.ParentID}/")))
    else:
        if fold is not None:
            name.append("▾ " if fold[1] else "▸ ", style="bold cyan")
        name.append(clean(job.Name or job.ID), style="bold")
        if fold is not None and not fold[1]:
            name.append(f" +{fold[0]}", style="cyan")
    version = str(extras.version) if extras.version is not None else "—"
    url = clean(extras.url)
    url = url if len(url) <= MAX_URL else url[: MAX_URL - 1] + "…"
    return (
        name,
        Text(clean(job.Namespace)),
        Text(clean(job.kind)),
        Text(clean(status), style=_STATUS_STYLE.get(status, "")),
        Text(groups),
        Text(allocs, style=alloc_style),
        health_cell(extras),
        Text(version, justify="right"),
        Text(age, justify="right"),
        Text(url, style="underline" if url else ""),
    )


def sort_value(job: JobStub, extras: JobExtras, column: str) -> Any:
    """What a column sorts by: real numbers and times, not the text shown."""
    values: dict[str, Callable[[], Any]] = {
        "name": lambda: (job.Name or job.ID).lower(),
        "namespace": lambda: job.Namespace,
        "type": lambda: job.kind,
        "status": lambda: job.Status,
        "groups": lambda: job.groups_running,
        "allocs": lambda: (job.allocs.running, job.allocs.pending, job.allocs.failed),
        "health": lambda: (-extras.critical, -extras.warning, -extras.passing),
        "version": lambda: extras.version if extras.version is not None else -1,
        # Youngest first reads like the column: ages ascending.
        "submitted": lambda: -job.SubmitTime,
        "url": lambda: extras.url,
    }
    return values[column]()


class JobsScreen(FilteredScreen):
    """All jobs; `/` filters, `o` sorts, Enter opens, the cursor follows its job."""

    # The table, not the (hidden) filter box: keys like `q` must reach the bindings.
    AUTO_FOCUS = "#jobs"
    BINDINGS = [
        # Priority: DataTable's own Enter would otherwise hide this one from footer and help.
        Binding("enter", "open", "Open", id="jobs.open", priority=True,
                tooltip="Open the selected job"),
        *table_bindings("jobs", "jobs"),
        Binding(
            "space",
            "toggle_fold",
            "Fold",
            id="jobs.fold",
            tooltip="Show or hide the children of a periodic or parameterized job",
        ),
        Binding(
            "right", "unfold", "Unfold", id="jobs.unfold", show=False, priority=True,
            tooltip="Show the children of the selected parent job",
        ),
        Binding(
            "left", "fold", "Fold", id="jobs.collapse", show=False, priority=True,
            tooltip="Hide the children of the selected (or parent) job",
        ),
    ]  # fmt: skip

    def __init__(self, store: Store, *, clock: Clock = time.time_ns, namespace: str = "*") -> None:
        super().__init__(store, clock=clock)
        self.namespace = namespace
        self.jobs: dict[str, JobStub] = {}
        self.extras: dict[str, JobExtras] = {}
        self.expanded: set[str] = set()
        self.index = 0
        """Raft index of the data on screen."""
        self._allocs: Mapping[str, AllocStub] | None = None
        self._services: ServicesData | None = None
        self._extras_stale = False
        self._pending_refresh: Timer | None = None
        self.row_cells = RowCells()

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield filter_box()
        yield TreeTable(COLUMNS, id="jobs", default_sort=("namespace", "name"))
        yield NomtuiFooter()

    @property
    def table(self) -> TreeTable:
        return self.query_one("#jobs", TreeTable)

    @property
    def main_table(self) -> TreeTable:
        return self.table

    def on_mount(self) -> None:
        self.table.focus()
        self.table.sort_key = self._sort_key
        self.follow(JobsView(self.namespace))
        self.follow(AllocsView("*", task_states=False))
        self.follow(ServicesView())
        self.every(AGE_REFRESH_S, self.refresh_rows)

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        data = message.state.data
        if data is None:
            return
        match message.view:
            case JobsView():
                self.jobs = dict(data)
                self.index = message.state.index
            case AllocsView():
                self._allocs = data
                self._extras_stale = True
            case ServicesView():
                self._services = data
                self._extras_stale = True
        # The three views usually move together (one allocation changes all of them):
        # their updates within a short while make one pass over the rows.
        if self._pending_refresh is None:
            self._pending_refresh = self.set_timer(UPDATE_COALESCE_S, self._apply_updates)

    def _apply_updates(self) -> None:
        self._pending_refresh = None
        if self._extras_stale:
            self._extras_stale = False
            self.extras = job_extras(self._allocs, self._services)
        self.refresh_rows()

    def _sort_key(self, key: str, column: str) -> Any:
        job = self.jobs.get(key)
        if job is None:
            return None
        return sort_value(job, self.extras.get(key, JobExtras()), column)

    # -- rows and folding -------------------------------------------------------------------

    def parent_of(self, key: str) -> str | None:
        job = self.jobs.get(key)
        if job is None or not job.ParentID:
            return None
        parent = f"{job.Namespace}/{job.ParentID}"
        return parent if parent in self.jobs else None

    def refresh_rows(self) -> None:
        now = self.clock()
        parents = {key: p for key in self.jobs if (p := self.parent_of(key)) is not None}
        children = Counter(parents.values())
        show_all = bool(self.filter_pattern)
        rows: dict[str, tuple[Text, ...]] = {}
        for key, job in self.jobs.items():
            extras = self.extras.get(key)
            parent = parents.get(key)
            if parent is None:
                fold = (children[key], key in self.expanded) if children[key] else None
            elif show_all or parent in self.expanded:
                fold = None
            else:
                continue
            child = parent is not None
            basis = (job, extras, fold, child, submitted_age(job, now))
            build = partial(job_cells, job, now, extras, fold=fold, child=child)
            rows[key] = self.row_cells.cells(key, basis, build)
        self.row_cells.done()
        self.table.parents = parents
        self.table.set_rows(rows)
        self.refresh_bindings()

    @property
    def filter_pattern(self) -> str:
        return self.table.row_filter.pattern

    def apply_filter(self, pattern: str) -> bool:
        was_filtering = bool(self.filter_pattern)
        valid = super().apply_filter(pattern)
        if was_filtering != bool(pattern):
            self.refresh_rows()  # children join (or leave) the table with the filter
        return valid

    def _fold_target(self) -> str | None:
        """The parent job the fold keys act on: the selected row or its parent."""
        key = self.table.selected_key
        if key is None:
            return None
        parent = self.parent_of(key)
        if parent is not None:
            return parent
        return key if key in set(self.table.parents.values()) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return False  # asked while the screen is being built: nothing to offer yet
        if action in ("toggle_fold", "unfold", "fold"):
            if self.focused is not self.table:
                return False
            target = self._fold_target()
            if target is None:
                return False
            if action == "unfold":
                return target not in self.expanded
            if action == "fold":
                return target in self.expanded
            return True
        if action == "open":
            return self.focused is self.table and self.table.selected_key is not None
        return super().check_action(action, parameters)

    def action_toggle_fold(self) -> None:
        target = self._fold_target()
        if target is not None:
            self._set_fold(target, target not in self.expanded)

    def action_unfold(self) -> None:
        target = self._fold_target()
        if target is not None:
            self._set_fold(target, True)

    def action_fold(self) -> None:
        target = self._fold_target()
        if target is not None:
            self._set_fold(target, False)

    def _set_fold(self, parent: str, expanded: bool) -> None:
        if expanded:
            self.expanded.add(parent)
        else:
            self.expanded.discard(parent)
            if self.table.selected_key != parent:
                # The cursor was on a child that is about to go: keep it on the parent.
                self.table.move_cursor(row=self.table.get_row_index(parent))
        self.refresh_rows()

    # -- actions --------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        key = self.table.selected_key
        job = self.jobs.get(key) if key else None
        if job is not None:
            self.post_message(Open("job", namespace=job.Namespace, job_id=job.ID))


__all__ = [
    "COLUMNS",
    "JobExtras",
    "JobsScreen",
    "format_age",
    "health_cell",
    "job_cells",
    "job_extras",
    "public_url",
    "sort_value",
    "submitted_age",
]
