"""The Allocations screen: every allocation of the cluster, or of one job, kept live.

Rows come from the store's `AllocsView` (a blocking watch, newest first, each stub with
its allocated resources) and are keyed by allocation ID, so the cursor stays on its
allocation. Consul health comes from `ServicesView` (for `o`, the URL). What an
allocation uses now has no blocking query: the client stats endpoint is read for the
running allocations on screen (at most `MAX_USAGE_ROWS`, every `USAGE_REFRESH_S`), only
while this screen is the one shown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import DataTable, Input, Static

from nomtui.errors import NomtuiError
from nomtui.models.allocs import AllocStub, TaskState
from nomtui.sanitize import clean
from nomtui.store import AllocHealth, AllocsView, ServicesData, ServicesView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.nav import Open
from nomtui.tui.screens.alloc_actions import AllocActionsScreen, alloc_bindings, is_running
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.jobs import format_age
from nomtui.tui.screens.row_cells import RowCells
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import Column, LiveTable

USAGE_REFRESH_S = 5.0
MAX_USAGE_ROWS = 40
"""Running allocations whose usage is polled, in display order (the rest show —)."""
USAGE_CONCURRENCY = 8
AGE_REFRESH_S = 5.0
JOB_WIDTH, GROUP_WIDTH, NODE_WIDTH = 30, 16, 16

_CLIENT_STYLE = {
    "running": "green",
    "pending": "yellow",
    "failed": "bold red",
    "lost": "red",
    "unknown": "red",
    "complete": "dim",
}


@dataclass(frozen=True)
class Usage:
    """What an allocation uses now (stats endpoint) against what it was allocated (its
    stub's `AllocatedResources`)."""

    cpu_mhz: float
    memory_bytes: int
    cpu_alloc_mhz: int
    memory_alloc_mb: int


def columns(per_job: bool) -> tuple[Column, ...]:
    cols = [
        Column("ID", "id"),
        Column("Job", "job"),
        Column("Group", "group"),
        Column("Tasks", "tasks"),
        Column("Node", "node"),
        Column("Client", "client"),
        Column("Desired", "desired"),
        Column("Health", "health"),
        Column("Ver", "version", numeric=True),
        Column("Age", "age"),
        Column("Rst", "restarts", numeric=True),
        Column("CPU MHz", "cpu", numeric=True),
        Column("Mem MiB", "memory", numeric=True),
    ]
    # One job's allocations: the job is in the title, not in every row.
    return tuple(c for c in cols if not (per_job and c.key == "job"))


def cut(text: str, width: int) -> str:
    """`text` cut to `width` characters with an ellipsis: DataTable sizes columns to
    their widest cell, and one long periodic-child name must not push CPU off screen."""
    text = clean(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def task_cell(tasks: Mapping[str, TaskState]) -> Text:
    """`●http ✓kv`: running, pending (◌), finished (✓) or failed (✗), per task."""
    text = Text()
    for name in sorted(tasks):
        state = tasks[name]
        if state.State == "running":
            mark, style = "●", "green"
        elif state.State == "pending":
            mark, style = "◌", "yellow"
        elif state.Failed:
            mark, style = "✗", "red"
        else:
            mark, style = "✓", "dim"
        if text:
            text.append(" ")
        text.append(f"{mark}{clean(name)}", style=style)
    return text or Text("—", style="dim")


def health_cell(alloc: AllocStub) -> Text:
    healthy = alloc.healthy
    if healthy is None:
        text = Text("—", style="dim")
    else:
        text = Text("healthy", style="green") if healthy else Text("unhealthy", style="bold red")
    if alloc.is_canary:
        text.append(" canary", style="yellow")
    return text


def _ratio(used: float, allocated: float, unit_text: str) -> Text:
    style = "bold red" if allocated and used > 0.9 * allocated else ""
    return Text(unit_text, style=style, justify="right")


def usage_cells(usage: Usage | None) -> tuple[Text, Text]:
    if usage is None:
        dash = Text("—", style="dim", justify="right")
        return dash, dash
    mem_mib = usage.memory_bytes / 2**20
    return (
        _ratio(usage.cpu_mhz, usage.cpu_alloc_mhz, f"{usage.cpu_mhz:.0f}/{usage.cpu_alloc_mhz}"),
        _ratio(mem_mib, usage.memory_alloc_mb, f"{mem_mib:.0f}/{usage.memory_alloc_mb}"),
    )


def alloc_age(alloc: AllocStub, now_ns: int) -> str:
    return format_age((now_ns - alloc.CreateTime) / 1e9) if alloc.CreateTime else "—"


def alloc_cells(
    alloc: AllocStub, now_ns: int, usage: Usage | None, *, per_job: bool
) -> tuple[Text, ...]:
    """One row; `Text` cells (never markup: every name here comes from the cluster)."""
    age = alloc_age(alloc, now_ns)
    restarts = alloc.restarts
    cpu, memory = usage_cells(usage)
    client = Text(clean(alloc.ClientStatus), style=_CLIENT_STYLE.get(alloc.ClientStatus, ""))
    cells = [
        Text(alloc.short_id, style="bold"),
        Text(cut(alloc.JobID, JOB_WIDTH)),
        Text(cut(alloc.TaskGroup, GROUP_WIDTH)),
        task_cell(alloc.tasks),
        Text(cut(alloc.NodeName or alloc.NodeID[:8], NODE_WIDTH)),
        client,
        Text(clean(alloc.DesiredStatus), style="" if alloc.DesiredStatus == "run" else "dim"),
        health_cell(alloc),
        Text(str(alloc.job_version), justify="right"),
        Text(age, justify="right"),
        Text(str(restarts), style="yellow" if restarts else "dim", justify="right"),
        cpu,
        memory,
    ]
    if per_job:
        del cells[1]
    return tuple(cells)


def _sort_binding(key: str, column: str, label: str) -> Binding:
    return Binding(
        key,
        f"sort('{column}')",
        f"Sort {label}",
        id=f"allocs.sort_{column}",
        show=False,
        tooltip=f"Sort by {label}; again to reverse",
    )


class AllocsScreen(AllocActionsScreen):
    """Allocations of a namespace (`*`: all) or of one job; Enter opens one."""

    AUTO_FOCUS = "#allocs"
    BINDINGS = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="allocs.filter",
            tooltip="Show only the allocations whose row matches a regex (! inverts)",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            id="allocs.clear_filter",
            show=False,
            tooltip="Remove the filter and show every allocation",
        ),
        *alloc_bindings("allocs"),
        _sort_binding("J", "job", "job"),
        _sort_binding("N", "node", "node"),
        _sort_binding("S", "client", "status"),
        _sort_binding("R", "restarts", "restarts"),
        _sort_binding("C", "cpu", "CPU"),
        _sort_binding("M", "memory", "memory"),
    ]

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock = time.time_ns,
        namespace: str = "*",
        job_id: str = "",
    ) -> None:
        super().__init__(store, clock=clock)
        self.namespace = namespace
        self.job_id = job_id
        self.allocs: dict[str, AllocStub] = {}
        self.health: Mapping[str, AllocHealth] = {}
        self.usage: dict[str, Usage] = {}
        self.row_cells = RowCells()

    @property
    def per_job(self) -> bool:
        return bool(self.job_id)

    @property
    def view_key(self) -> AllocsView:
        return AllocsView(self.namespace, self.job_id or None)

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield Static(id="allocs-title")
        yield Input(
            placeholder="filter: regular expression (! inverts), Enter to keep, Esc to clear",
            id="filter",
        )
        yield LiveTable(columns(self.per_job), id="allocs")
        yield NomtuiFooter()

    @property
    def table(self) -> LiveTable:
        return self.query_one("#allocs", LiveTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.follow(self.view_key)
        self.follow(ServicesView())
        self.every(AGE_REFRESH_S, self.refresh_rows)
        self.run_worker(self._poll_usage(), group="allocs-usage", exit_on_error=False)
        self._show_title()

    # -- data ---------------------------------------------------------------------------

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        data = message.state.data
        if data is None:
            return
        if isinstance(data, ServicesData):
            self.health = data.by_alloc
            self.refresh_bindings()
            return
        self.allocs = dict(data)
        self.refresh_rows()
        self._show_title()

    def refresh_rows(self) -> None:
        now = self.clock()
        rows = {}
        for key, alloc in self.allocs.items():
            usage = self.usage.get(key)
            basis = (alloc, usage, alloc_age(alloc, now))
            build = partial(alloc_cells, alloc, now, usage, per_job=self.per_job)
            rows[key] = self.row_cells.cells(key, basis, build)
        self.row_cells.done()
        self.table.set_rows(rows)
        self.refresh_bindings()

    def _show_title(self) -> None:
        running = sum(1 for a in self.allocs.values() if a.ClientStatus == "running")
        title = Text(" Allocations ", style="bold reverse")
        if self.job_id:
            title.append(f" job {clean(self.job_id)}", style="bold")
            if self.namespace not in ("*", "default"):
                title.append(f" ({clean(self.namespace)})")
        else:
            ns = "all namespaces" if self.namespace == "*" else f"namespace {self.namespace}"
            title.append(f" {clean(ns)}")
        title.append(f"  {len(self.allocs)} allocations, {running} running", style="dim")
        self.query_one("#allocs-title", Static).update(title)

    def selected_alloc(self) -> AllocStub | None:
        key = self.table.selected_key if self.is_mounted else None
        return self.allocs.get(key) if key else None

    def health_of(self, alloc_id: str) -> AllocHealth | None:
        return self.health.get(alloc_id)

    # -- usage -----------------------------------------------------------------------------

    async def _poll_usage(self) -> None:
        gate = asyncio.Semaphore(USAGE_CONCURRENCY)
        while True:
            await self.shown.wait()  # no stats for a screen nobody sees
            shown = [k for k in self.table.shown_keys if k in self.allocs]
            wanted = [self.allocs[k] for k in shown if is_running(self.allocs[k])]
            wanted = wanted[:MAX_USAGE_ROWS]
            if wanted:
                found = await asyncio.gather(*(self._usage(a, gate) for a in wanted))
                self.usage = {a.ID: u for a, u in zip(wanted, found, strict=True) if u is not None}
                # The screen may have been popped while the stats were on their way.
                with suppress(NoMatches):
                    self.refresh_rows()
            await asyncio.sleep(USAGE_REFRESH_S if wanted else 0.5)

    async def _usage(self, alloc: AllocStub, gate: asyncio.Semaphore) -> Usage | None:
        """Usage against allocation, or None when the node cannot say (down, gone): the
        row then shows — until the next round, and the error is the node's, not ours."""
        async with gate:
            try:
                stats = await self.store.nomad.alloc_stats(alloc.ID)
            except NomtuiError:
                return None
        usage = stats.ResourceUsage
        ticks = usage.CpuStats.TotalTicks if usage and usage.CpuStats else 0.0
        res = alloc.AllocatedResources
        allocated = (res.cpu_mhz, res.memory_mb) if res is not None else (0, 0)
        return Usage(ticks, stats.memory_bytes, allocated[0], allocated[1])

    # -- navigation, sort, filter --------------------------------------------------------------

    @on(DataTable.RowSelected, "#allocs")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.post_message(Open("alloc", alloc_id=event.row_key.value))

    @on(DataTable.RowHighlighted, "#allocs")
    def _moved(self) -> None:
        self.refresh_bindings()

    def action_sort(self, column: str) -> None:
        if any(c.key == column for c in self.table.spec):
            self.table.sort_by(column)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return False
        if action == "clear_filter":
            # Nothing to clear: let Esc reach the app (back).
            box = self.query_one("#filter", Input)
            return bool(box.display or box.value)
        if action == "sort":
            return any(c.key == parameters[0] for c in self.table.spec)
        return super().check_action(action, parameters)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
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
        self.refresh_bindings()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
        self.set_focus(self.table)


__all__ = [
    "AllocsScreen",
    "Usage",
    "alloc_age",
    "alloc_cells",
    "columns",
    "health_cell",
    "task_cell",
]
