"""One allocation: summary, live CPU/memory, task event timeline, files, Consul checks.

The allocation itself comes from the store's `AllocView` (a blocking watch), its Consul
checks from `ServicesView`. CPU and memory come from the client stats endpoint, polled
every `STATS_S` while the allocation runs (there is no blocking query for stats). The
file browser reads through `/v1/client/fs` only when its tab is opened; a file shows
its first `MAX_VIEW_BYTES`, sanitised (a file is as untrusted as a log).
"""

from __future__ import annotations

import asyncio
import posixpath
import time
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from nomtui.client.fs import Fs
from nomtui.errors import NomtuiError
from nomtui.models.allocs import Allocation, AllocStub
from nomtui.models.base import ModelError
from nomtui.models.frames import AllocFileInfo
from nomtui.models.stats import AllocStats
from nomtui.sanitize import clean
from nomtui.store import AllocHealth, AllocView, ServicesData, ServicesView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.screens.alloc_actions import AllocActionsScreen, alloc_bindings, is_running
from nomtui.tui.screens.allocs import health_cell, task_cell
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.jobs import format_age
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import Column, LiveTable
from nomtui.tui.widgets.sparkline import Spark

STATS_S = 2.0
MAX_VIEW_BYTES = 256 * 1024
MAX_CHECK_OUTPUT_LINES = 12
_STATUS_STYLE = {"passing": "green", "warning": "yellow", "critical": "bold red"}

EVENT_COLUMNS = (
    Column("When", "when"),
    Column("Task", "task"),
    Column("Event", "type"),
    Column("Message", "message"),
)
FILE_COLUMNS = (
    Column("Name", "name"),
    Column("Size", "size", numeric=True),
    Column("Mode", "mode"),
)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "K", "M", "G"):
        if value < 1024 or unit == "G":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}G"


def event_rows(alloc: AllocStub, now_ns: int) -> dict[str, tuple[Text, ...]]:
    """Every task's events, oldest first, keyed `task/time/n` (stable across updates).

    Oldest first because the table appends rows it has not seen at the bottom: new
    events then land where a timeline puts them.
    """
    rows: list[tuple[tuple[int, int], str, tuple[Text, ...]]] = []
    for task, state in alloc.tasks.items():
        try:
            events = state.events
        except ModelError as exc:  # a malformed event list spoils this task's rows only
            events = []
            problem = Text(f"unreadable events: {clean(str(exc))}", style="red")
            rows.append(((0, 0), f"{task}/bad", (Text("—"), Text(clean(task)), Text("?"), problem)))
        for n, event in enumerate(events):
            when = format_age((now_ns - event.Time) / 1e9) + " ago" if event.Time else "—"
            style = "red" if event.FailsTask or event.Type in ("Driver Failure", "Killed") else ""
            cells = (
                Text(when, justify="right"),
                Text(clean(task)),
                Text(clean(event.Type), style=style or "bold"),
                Text(clean(event.message), style=style),
            )
            rows.append(((event.Time, n), f"{task}/{event.Time}/{n}", cells))
    rows.sort(key=lambda row: row[0])
    return {key: cells for _, key, cells in rows}


def file_rows(path: str, entries: list[AllocFileInfo]) -> dict[str, tuple[Text, ...]]:
    rows: dict[str, tuple[Text, ...]] = {}
    if path != "/":
        rows[".."] = (Text("../", style="bold"), Text(""), Text(""))
    for entry in sorted(entries, key=lambda e: (not e.IsDir, e.Name)):
        name = clean(entry.Name)
        if entry.IsDir:
            rows[entry.Name] = (Text(f"{name}/", style="bold blue"), Text(""), Text(entry.FileMode))
        else:
            size = Text(human_size(entry.Size), justify="right")
            rows[entry.Name] = (Text(name), size, Text(clean(entry.FileMode)))
    return rows


def checks_text(health: AllocHealth | None, consul_enabled: bool) -> Text:
    if not consul_enabled:
        return Text("Consul is not configured for this cluster.", style="dim")
    if health is None or not health.checks:
        return Text("No Consul checks for this allocation.", style="dim")
    text = Text()
    for check in health.checks:
        style = _STATUS_STYLE.get(check.Status, "")
        text.append("● ", style=style)
        text.append(clean(check.Name or check.CheckID), style="bold")
        text.append(f"  {clean(check.Status)}", style=style)
        if check.ServiceName:
            text.append(f"  service {clean(check.ServiceName)}", style="dim")
        text.append("\n")
        output = clean(check.Output, newlines=True).strip().splitlines()
        for line in output[:MAX_CHECK_OUTPUT_LINES]:
            text.append(f"    {line}\n", style="dim")
        if len(output) > MAX_CHECK_OUTPUT_LINES:
            text.append(f"    … {len(output) - MAX_CHECK_OUTPUT_LINES} more lines\n", style="dim")
    return text


class AllocScreen(AllocActionsScreen):
    """One allocation; the actions of the allocations list apply to it."""

    AUTO_FOCUS = "#events"
    DEFAULT_CSS = """
    AllocScreen #alloc-summary { height: auto; padding: 0 1; }
    AllocScreen #usage { height: 2; padding: 0 1; }
    AllocScreen #usage > Vertical { width: 1fr; height: 2; margin-right: 2; }
    AllocScreen #files-pane { height: 1fr; }
    AllocScreen #files { width: 50; height: 1fr; }
    AllocScreen #file-view { width: 1fr; height: 1fr; border-left: vkey $panel; }
    AllocScreen #checks-view { height: 1fr; padding: 0 1; }
    AllocScreen TabbedContent { height: 1fr; }
    AllocScreen TabPane { height: 1fr; padding: 0; }
    """
    BINDINGS = [
        *alloc_bindings("alloc"),
        # The tabs are on screen already; their keys are in the help (?), not the footer.
        Binding(
            "1", "tab('events')", "Events", id="alloc.events", tooltip="Task events", show=False
        ),
        Binding(
            "2",
            "tab('files')",
            "Files",
            id="alloc.files",
            tooltip="Browse the alloc dir",
            show=False,
        ),
        Binding(
            "3", "tab('checks')", "Checks", id="alloc.checks", tooltip="Consul checks", show=False
        ),
        Binding(
            "backspace",
            "files_up",
            "Up",
            id="alloc.files_up",
            show=False,
            tooltip="Go to the parent directory in the file browser",
        ),
    ]

    def __init__(self, store: Store, *, clock: Clock = time.time_ns, alloc_id: str) -> None:
        super().__init__(store, clock=clock)
        self.alloc_id = alloc_id
        self.alloc: Allocation | None = None
        self.services: ServicesData | None = None
        self.error: NomtuiError | None = None
        self.fs_path = "/"
        self.shown_file = ""
        self._fs = Fs(store.nomad.http)
        self._files_loaded = False
        self._entries: dict[str, AllocFileInfo] = {}

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield Static(id="alloc-summary")
        with Horizontal(id="usage"):
            with Vertical():
                yield Static("CPU", id="cpu-label")
                yield Spark(id="cpu-spark")
            with Vertical():
                yield Static("Memory", id="mem-label")
                yield Spark(id="mem-spark")
        with TabbedContent(id="tabs"):
            with TabPane("Events", id="events-tab"):
                yield LiveTable(EVENT_COLUMNS, id="events")
            with TabPane("Files", id="files-tab"), Horizontal(id="files-pane"):
                yield LiveTable(FILE_COLUMNS, id="files")
                with VerticalScroll(id="file-view"):
                    yield Static(id="file-content")
            with TabPane("Checks", id="checks-tab"), VerticalScroll(id="checks-view"):
                yield Static(id="checks-body")
        yield NomtuiFooter()

    def on_mount(self) -> None:
        self.follow(AllocView(self.alloc_id))
        self.follow(ServicesView())
        self.run_worker(self._poll_stats(), group="alloc-stats", exit_on_error=False)
        self._show()

    # -- data ---------------------------------------------------------------------------

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        state = message.state
        if isinstance(message.view, AllocView):
            self.error = state.error
            if state.data is not None:
                self.alloc = state.data
        elif state.data is not None:
            self.services = state.data
        self._show()

    def _show(self) -> None:
        self.query_one("#alloc-summary", Static).update(self._summary())
        now = self.clock()
        if self.alloc is not None:
            self.query_one("#events", LiveTable).set_rows(event_rows(self.alloc, now))
        enabled = self.services.enabled if self.services is not None else False
        self.query_one("#checks-body", Static).update(
            checks_text(self.health_of(self.alloc_id), enabled)
        )
        self.refresh_bindings()

    def _summary(self) -> Text:
        alloc = self.alloc
        text = Text()
        text.append(" Allocation ", style="bold reverse")
        text.append(f" {self.alloc_id}", style="bold")
        if alloc is None:
            problem = self.error.message if self.error else "loading…"
            text.append(f"\n {clean(problem)}", style="red" if self.error else "dim")
            return text
        text.append(f"  {clean(alloc.Name)}", style="dim")
        text.append("\n job ")
        text.append(clean(alloc.JobID), style="bold")
        text.append(f" v{alloc.job_version} · ns {clean(alloc.Namespace)}")
        text.append(f" · node {clean(alloc.NodeName or alloc.NodeID[:8])} · ")
        text.append(clean(alloc.ClientStatus), style="green" if is_running(alloc) else "yellow")
        text.append(f"/{clean(alloc.DesiredStatus)} · health ")
        text.append_text(health_cell(alloc))
        if alloc.CreateTime:
            text.append(f" · age {format_age((self.clock() - alloc.CreateTime) / 1e9)}")
        text.append("\n tasks ")
        text.append_text(task_cell(alloc.tasks))
        for name, state in sorted(alloc.tasks.items()):
            if state.Restarts:
                text.append(f" · {clean(name)} restarts {state.Restarts}", style="yellow")
        if self.error is not None:
            text.append(f"\n {clean(self.error.message)}", style="red")
        return text

    def selected_alloc(self) -> AllocStub | None:
        return self.alloc

    def health_of(self, alloc_id: str) -> AllocHealth | None:
        return self.services.by_alloc.get(alloc_id) if self.services else None

    # -- stats ------------------------------------------------------------------------------

    async def _poll_stats(self) -> None:
        while True:
            await self.shown.wait()  # the stats endpoint is polled only while in sight
            alloc = self.alloc
            if alloc is None and self.error is None:
                await asyncio.sleep(0.1)  # not loaded yet: the first sample comes quickly
                continue
            if alloc is not None and is_running(alloc):
                try:
                    stats = await self.store.nomad.alloc_stats(self.alloc_id)
                except NomtuiError as exc:
                    # The node answers for stats: when it cannot, say so where the
                    # numbers would be, and try again next round.
                    self.query_one("#cpu-label", Static).update(Text(f"CPU: {clean(exc.message)}"))
                else:
                    self._add_sample(alloc, stats)
            await asyncio.sleep(STATS_S)

    def _add_sample(self, alloc: Allocation, stats: AllocStats) -> None:
        res = alloc.AllocatedResources
        cpu_cap, mem_cap = (res.cpu_mhz, res.memory_mb) if res else (0, 0)
        usage = stats.ResourceUsage
        cpu = usage.CpuStats.TotalTicks if usage and usage.CpuStats else 0.0
        mem = stats.memory_bytes / 2**20
        self.query_one("#cpu-label", Static).update(
            Text.assemble("CPU ", (f"{cpu:.0f}", "bold"), f"/{cpu_cap} MHz")
        )
        self.query_one("#mem-label", Static).update(
            Text.assemble("Memory ", (f"{mem:.0f}", "bold"), f"/{mem_cap} MiB")
        )
        self.query_one("#cpu-spark", Spark).add(cpu, cpu_cap)
        self.query_one("#mem-spark", Spark).add(mem, mem_cap)

    # -- tabs and files -------------------------------------------------------------------------

    def action_tab(self, name: str) -> None:
        self.query_one("#tabs", TabbedContent).active = f"{name}-tab"
        focus = f"#{name}" if name in ("events", "files") else "#checks-view"
        self.query_one(focus).focus()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "files-tab" and not self._files_loaded:
            self._files_loaded = True
            self.run_worker(self._list(self.fs_path), group="alloc-fs", exclusive=True)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "files_up":
            return self._files_loaded and self.fs_path != "/"
        return super().check_action(action, parameters)

    def action_files_up(self) -> None:
        parent = posixpath.dirname(self.fs_path.rstrip("/")) or "/"
        self.run_worker(self._list(parent), group="alloc-fs", exclusive=True)

    @on(DataTable.RowSelected, "#files")
    def _file_chosen(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value or ""
        if name == "..":
            self.action_files_up()
            return
        path = posixpath.join(self.fs_path, name)
        self.run_worker(self._open(path), group="alloc-fs", exclusive=True)

    async def _list(self, path: str) -> None:
        try:
            entries = await self._fs.ls(self.alloc_id, path)
        except NomtuiError as exc:
            self.notify(exc.message, title=exc.title, severity="error", markup=False)
            return
        self.fs_path = path
        table = self.query_one("#files", LiveTable)
        # Another directory: start from an empty table, so no row keeps the place it had
        # in the previous listing.
        table.set_rows({})
        table.set_rows(file_rows(path, entries))
        table.move_cursor(row=0)
        self._entries = {e.Name: e for e in entries}
        self.refresh_bindings()

    async def _open(self, path: str) -> None:
        entry = self._entries.get(posixpath.basename(path))
        if entry is not None and entry.IsDir:
            await self._list(path)
            return
        try:
            data = await self._fs.readat(self.alloc_id, path, 0, MAX_VIEW_BYTES)
        except NomtuiError as exc:
            self.notify(exc.message, title=exc.title, severity="error", markup=False)
            return
        body = Text(f"{clean(path)}\n", style="bold")
        body.append(clean(data.decode("utf-8", errors="replace"), newlines=True).expandtabs())
        if entry is not None and entry.Size > MAX_VIEW_BYTES:
            body.append(f"\n… first {human_size(MAX_VIEW_BYTES)} of {human_size(entry.Size)}")
        self.shown_file = path
        self.query_one("#file-content", Static).update(body)


__all__ = ["AllocScreen", "checks_text", "event_rows", "file_rows", "human_size"]
