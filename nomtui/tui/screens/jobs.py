"""The Jobs screen: every job of the cluster in one table, kept live by a blocking watch.

A worker iterates `NomadClient.watch_jobs` and posts `JobsUpdated` (and
`ConnectionChanged` to the app); nothing here polls. The table is keyed by
`namespace/ID` and updated in place, so the cursor stays on the same job and the view
does not jump when jobs come, go or change.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input

from nomtui.client.blocking import Retrying
from nomtui.client.nomad import NomadClient
from nomtui.errors import NomtuiError
from nomtui.models.jobs import JobStub
from nomtui.sanitize import clean
from nomtui.tui.header import ClusterHeader, ConnectionChanged, ConnectionState

Clock = Callable[[], int]
"""Unix time in nanoseconds; injected so ages are stable in tests and snapshots."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("Name", "name"),
    ("Namespace", "namespace"),
    ("Type", "type"),
    ("Status", "status"),
    ("Groups", "groups"),
    ("Allocs R/P/F", "allocs"),
    ("Submitted", "submitted"),
)
AGE_REFRESH_S = 5.0
"""How often the Submitted column is re-rendered locally (no request is made)."""

_STATUS_STYLE = {"running": "green", "pending": "yellow", "dead": "dim", "stopped": "dim"}


class JobsUpdated(Message):
    """The watch delivered a new job list (sorted by namespace, then ID)."""

    def __init__(self, jobs: Sequence[JobStub], index: int) -> None:
        super().__init__()
        self.jobs = tuple(jobs)
        self.index = index


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


class RowFilter:
    """A case-insensitive regex over a row's text; an invalid regex matches literally."""

    def __init__(self, pattern: str = "") -> None:
        self.pattern = pattern
        try:
            self._regex = re.compile(pattern, re.IGNORECASE)
            self.valid = True
        except re.error:
            self._regex = re.compile(re.escape(pattern), re.IGNORECASE)
            self.valid = False

    def matches(self, job: JobStub, cells: Sequence[Text]) -> bool:
        if not self.pattern:
            return True
        haystack = " ".join([clean(job.ID), *(c.plain for c in cells)])
        return self._regex.search(haystack) is not None


class JobsScreen(Screen[None]):
    """All jobs; `/` filters, the cursor follows its job across updates."""

    # The table, not the (hidden) filter box: keys like `q` must reach the bindings.
    AUTO_FOCUS = "#jobs"
    BINDINGS = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="jobs.filter",
            tooltip="Show only the jobs whose row matches a regular expression",
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

    def __init__(
        self,
        client: NomadClient,
        *,
        clock: Clock = time.time_ns,
        namespace: str = "*",
        wait_s: float = 60.0,
    ) -> None:
        super().__init__()
        self.client = client
        self.clock = clock
        self.namespace = namespace
        self.wait_s = wait_s
        self.jobs: dict[str, JobStub] = {}
        self.index = 0
        """Raft index of the data on screen."""
        self.row_filter = RowFilter()
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._state = ConnectionState.CONNECTING
        self._detail = ""

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield Input(
            placeholder="filter: regular expression, Enter to keep, Esc to clear", id="filter"
        )
        yield DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#jobs", DataTable)

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            self.table.add_column(label, key=key)
        self.table.focus()
        self.watch_jobs()
        self.set_interval(AGE_REFRESH_S, self.refresh_rows)

    # -- data -----------------------------------------------------------------------------

    @work(exclusive=True, group="jobs-watch")
    async def watch_jobs(self) -> None:
        watch = self.client.watch_jobs(self.namespace, wait_s=self.wait_s)
        try:
            async for update in watch:
                if isinstance(update, Retrying):
                    self._set_state(ConnectionState.RECONNECTING, update.error.message)
                    continue
                self._set_state(ConnectionState.LIVE)
                self.post_message(JobsUpdated(update.value, update.index))
        except NomtuiError as exc:
            # Only errors a retry cannot fix get here (the watch retries the rest).
            self._set_state(ConnectionState.FAILED, exc.message)
            self.notify(exc.message, title=exc.title, severity="error", timeout=30)

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        # Only transitions (and new reasons) go to the app: one message per change, not
        # one per retry or per snapshot.
        if state is self._state and detail == self._detail:
            return
        self._state = state
        self._detail = detail
        self.app.post_message(ConnectionChanged(state, detail))

    def on_jobs_updated(self, message: JobsUpdated) -> None:
        self.jobs = {job.key: job for job in message.jobs}
        self.index = message.index
        self.refresh_rows()

    def refresh_rows(self) -> None:
        """Bring the table in line with `self.jobs` and the filter, in place."""
        now = self.clock()
        wanted: dict[str, tuple[Text, ...]] = {}
        for key, job in self.jobs.items():
            cells = job_cells(job, now)
            if self.row_filter.matches(job, cells):
                wanted[key] = cells
        table = self.table
        cursor_key, cursor_offset = self._cursor_anchor()
        for key in [k for k in self._cells if k not in wanted]:
            table.remove_row(key)
            del self._cells[key]
        added = False
        for key, cells in wanted.items():
            old = self._cells.get(key)
            if old is None:
                table.add_row(*cells, key=key)
                added = True
            else:
                for (_, column), new, previous in zip(COLUMNS, cells, old, strict=True):
                    if new != previous:
                        table.update_cell(key, column, new)
            self._cells[key] = cells
        if added:
            # Rows are appended; put them where they belong (namespace, then name).
            table.sort("namespace", "name", key=lambda row: tuple(c.plain for c in row))
        self._restore_cursor(cursor_key, cursor_offset)

    def _cursor_anchor(self) -> tuple[str | None, int]:
        """The job under the cursor and its distance from the top of the view."""
        table = self.table
        if not table.is_valid_coordinate(table.cursor_coordinate):
            return None, 0
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value, table.cursor_row - round(table.scroll_y)

    def _restore_cursor(self, key: str | None, offset: int) -> None:
        table = self.table
        if key is None or key not in self._cells:
            return
        row = table.get_row_index(key)
        if row != table.cursor_row:
            table.move_cursor(row=row, animate=False, scroll=False)
            table.scroll_to(y=max(0, row - offset), animate=False, immediate=True)

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
        self.row_filter = RowFilter(event.value)
        event.input.set_class(not self.row_filter.valid, "-invalid")
        self.refresh_rows()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
        self.set_focus(self.table)


__all__ = ["COLUMNS", "JobsScreen", "JobsUpdated", "RowFilter", "format_age", "job_cells"]
