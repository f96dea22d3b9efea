"""The Job screen: one job in six tabs (keys 1-6).

1 Summary      the job's facts, its groups and its allocations (Enter opens one)
2 Deployment   the latest deployment with canary progress; `p` promotes, `f` fails
3 Versions     every kept version; the highlighted one is compared with the one before
               it, or with the version marked by Space; `R` reverts to it
4 Spec         the job as JSON, highlighted (secrets masked, controls removed)
5 Services     URLs and checks from the spec, and each instance's Consul health
6 Evaluations  the scheduler's decisions, with placement failures spelled out

Data: the store's `JobView` and `ServicesView`; the raw versions and spec are read once
per job modification (the models keep only what nomtui shows, a diff needs all of it),
and evaluations come from a blocking-query watch of the client while the screen lives.
Mutating keys are hidden when they do not apply and in read-only mode.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from nomtui.client.blocking import Snapshot
from nomtui.client.jobs import job_path
from nomtui.errors import NomtuiError
from nomtui.models.evals import Evaluation
from nomtui.sanitize import clean
from nomtui.store import JobDetail, JobView, ServicesData, ServicesView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.nav import Open
from nomtui.tui.screens import job_render as render
from nomtui.tui.screens import job_versions as versions
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.deployments import can_fail, can_promote, fail, promote
from nomtui.tui.screens.filtered import FilteredScreen, filter_box, table_bindings
from nomtui.tui.widgets.confirm import confirm_screen
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import LiveTable
from nomtui.tui.widgets.tree_table import TreeTable

TABS = ("summary", "deployment", "versions", "spec", "services", "evaluations")


def _tab_bindings() -> list[Binding]:
    return [
        Binding(
            str(n),
            f"tab('{tab}')",
            tab.title(),
            id=f"job.tab_{tab}",
            show=False,
            tooltip=f"Show the {tab} tab",
        )
        for n, tab in enumerate(TABS, start=1)
    ]


class JobScreen(FilteredScreen):
    AUTO_FOCUS = "#job-allocs"
    BINDINGS = [
        # Priority: DataTable's own Enter would otherwise hide this one from footer and help.
        Binding("enter", "open_alloc", "Open alloc", id="job.open_alloc", priority=True,
                tooltip="Open the selected allocation"),
        *table_bindings("job"),
        Binding("a", "allocs", "Allocs", id="job.allocs",
                tooltip="Open the allocations screen for this job"),
        Binding("p", "promote", "Promote", id="job.promote",
                tooltip="Promote the canaries of the latest deployment"),
        Binding("f", "fail_deployment", "Fail deploy", id="job.fail",
                tooltip="Mark the latest deployment failed"),
        Binding("space", "mark_base", "Compare with", id="job.diff_base",
                tooltip="Compare the other versions with the highlighted one"),
        Binding("R", "revert", "Revert", id="job.revert",
                tooltip="Revert the job to the highlighted version"),
        *_tab_bindings(),
    ]  # fmt: skip

    def __init__(
        self, store: Store, *, clock: Clock = time.time_ns, namespace: str, job_id: str
    ) -> None:
        super().__init__(store, clock=clock)
        self.namespace = namespace
        self.job_id = job_id
        self.detail: JobDetail | None = None
        self.services: ServicesData | None = None
        self.versions: list[Any] = []
        self.diffs: list[Any] | None = None
        self.spec: Any = None
        self.evaluations: list[Evaluation] = []
        self.diff_base: int | None = None
        self._loaded_modify_index = -1

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield filter_box()
        with TabbedContent(initial="summary", id="job-tabs"):
            with TabPane("1 Summary", id="summary"):
                yield Static(id="job-summary")
                yield TreeTable(render.ALLOC_COLUMNS, id="job-allocs", default_sort=("created",))
            with TabPane("2 Deployment", id="deployment"):
                yield VerticalScroll(Static(id="deployment-body"), classes="job-pane")
            with TabPane("3 Versions", id="versions"):
                yield TreeTable(
                    versions.VERSION_COLUMNS, id="versions-table", default_sort=("version",)
                )
                yield VerticalScroll(Static(id="diff-body"), id="version-diff")
            with TabPane("4 Spec", id="spec"):
                yield VerticalScroll(Static(id="spec-body"), classes="job-pane")
            with TabPane("5 Services", id="services"):
                yield VerticalScroll(Static(id="services-body"), classes="job-pane")
            with TabPane("6 Evaluations", id="evaluations"):
                yield VerticalScroll(Static(id="evaluations-body"), classes="job-pane")
        yield NomtuiFooter()

    @property
    def allocs_table(self) -> TreeTable:
        return self.query_one("#job-allocs", TreeTable)

    @property
    def versions_table(self) -> TreeTable:
        return self.query_one("#versions-table", TreeTable)

    @property
    def main_table(self) -> LiveTable:
        return self.versions_table if self.active_tab == "versions" else self.allocs_table

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def on_mount(self) -> None:
        self.allocs_table.sort_key = self._alloc_sort_key
        # Newest version first; a new version (a revert, a deploy) lands on top.
        self.versions_table.sort_key = lambda key, column: (
            -int(key) if column == "version" and key.isdigit() else None
        )
        # Text, never a str: Static would parse a job named `[red]x` as markup.
        self.query_one("#job-summary", Static).update(Text(f"Loading job {clean(self.job_id)}…"))
        self.query_one("#spec-body", Static).update(render.spec_renderable(None))
        self.follow(JobView(self.namespace, self.job_id))
        self.follow(ServicesView())
        self._watch_evaluations()

    # -- data -----------------------------------------------------------------------------

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        state = message.state
        match message.view:
            case JobView():
                if state.data is None:
                    if state.error is not None:
                        self.query_one("#job-summary", Static).update(
                            Text(f"{clean(self.job_id)}: {clean(state.error.message)}")
                        )
                    return
                self.detail = state.data
                self._show_detail()
                if state.data.job.JobModifyIndex != self._loaded_modify_index:
                    self._loaded_modify_index = state.data.job.JobModifyIndex
                    self._load_versions()
            case ServicesView():
                self.services = state.data
                self._show_allocs()
                self._show_services()

    def _show_detail(self) -> None:
        detail = self.detail
        if detail is None:
            return
        now = self.clock()
        self.query_one("#job-summary", Static).update(render.summary_renderable(detail, now))
        self.query_one("#deployment-body", Static).update(
            render.deployment_renderable(detail.deployment, now, read_only=self.store.read_only)
        )
        self._show_allocs()
        self._show_services()
        self._show_versions()
        self.refresh_bindings()

    def _show_allocs(self) -> None:
        if self.detail is None:
            return
        now = self.clock()
        health = self.services.by_alloc if self.services is not None else {}
        self.allocs_table.set_rows(
            {
                key: render.alloc_cells(alloc, health.get(key), now)
                for key, alloc in self.detail.allocs.items()
            }
        )

    def _alloc_sort_key(self, key: str, column: str) -> Any:
        alloc = self.detail.allocs.get(key) if self.detail is not None else None
        if alloc is None:
            return None
        if column == "created":
            return -alloc.CreateTime  # youngest first, like the ages shown
        if column == "version":
            return alloc.JobVersion
        return None  # the cell's text

    def _show_services(self) -> None:
        if self.detail is not None:
            body = render.services_renderable(self.detail.job, self.detail.allocs, self.services)
            self.query_one("#services-body", Static).update(body)

    @work(exclusive=True, group="job-versions", exit_on_error=False)
    async def _load_versions(self) -> None:
        http = self.store.nomad.http
        params = {"namespace": self.namespace}
        try:
            (history, _), (spec, _) = await asyncio.gather(
                http.get_json(job_path(self.job_id, "/versions"), {**params, "diffs": "true"}),
                http.get_json(job_path(self.job_id), params),
            )
        except NomtuiError as exc:
            self.query_one("#diff-body", Static).update(Text(clean(exc.message)))
            return
        found = history.get("Versions") if isinstance(history, dict) else None
        self.versions = [v for v in found or () if isinstance(v, dict)]
        diffs = history.get("Diffs") if isinstance(history, dict) else None
        self.diffs = list(diffs) if isinstance(diffs, list) else None
        self.spec = spec
        self.query_one("#spec-body", Static).update(render.spec_renderable(spec))
        self._show_versions()

    def _show_versions(self) -> None:
        if not self.versions or self.detail is None:
            return
        now = self.clock()
        current = self.detail.job.Version
        rows = {}
        for i, version in enumerate(self.versions):
            changes = None
            if self.diffs is not None and i < len(self.diffs) and i + 1 < len(self.versions):
                changes = len(versions.nomad_diff(self.diffs[i]))
            cells = versions.version_cells(
                version, changes, now, current=current, base=self.diff_base
            )
            rows[str(version.get("Version", i))] = cells
        self.versions_table.set_rows(rows)
        self._show_diff()

    def selected_version(self) -> int | None:
        key = self.versions_table.selected_key
        return int(key) if key is not None and key.isdigit() else None

    def _show_diff(self) -> None:
        body = self.query_one("#diff-body", Static)
        target = self.selected_version()
        if target is None:
            return
        numbers = [v.get("Version") for v in self.versions]
        base = self.diff_base
        if base is None or base == target:
            at = numbers.index(target) if target in numbers else -1
            base = numbers[at + 1] if 0 <= at < len(numbers) - 1 else None
        if base is None:
            body.update(Text(f"Version {target} is the oldest kept: nothing to compare it with."))
            return
        changes, source = versions.compare(self.versions, self.diffs, base, target)
        body.update(versions.diff_text(changes, base, target, source))

    @work(exclusive=True, group="job-evaluations", exit_on_error=False)
    async def _watch_evaluations(self) -> None:
        watch = self.store.nomad.watch_job_evaluations(self.job_id, self.namespace)
        async for item in watch:
            # A watch asks again only when pulled: covered, this screen asks nothing more.
            await self.shown.wait()
            if isinstance(item, Snapshot):
                self.evaluations = list(item.value)
                self.query_one("#evaluations-body", Static).update(
                    render.evaluations_renderable(self.evaluations, self.clock())
                )

    # -- navigation -----------------------------------------------------------------------

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        table = {"summary": self.allocs_table, "versions": self.versions_table}.get(self.active_tab)
        if table is not None:
            table.focus()
        else:
            pane = event.pane.query(VerticalScroll)
            if pane:
                pane.first().focus()
        self.refresh_bindings()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(DataTable.RowHighlighted, "#versions-table")
    def _version_highlighted(self) -> None:
        self._show_diff()
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#job-allocs")
    def _alloc_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_alloc()

    def action_open_alloc(self) -> None:
        key = self.allocs_table.selected_key
        if key is not None:
            self.post_message(Open("alloc", alloc_id=key))

    def action_allocs(self) -> None:
        self.post_message(Open("allocs", namespace=self.namespace, job_id=self.job_id))

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return False  # asked while the screen is being built: nothing to offer yet
        dep = self.detail.deployment if self.detail is not None else None
        tab = self.active_tab
        match action:
            case "open_alloc":
                table = self.allocs_table
                return self.focused is table and table.selected_key is not None
            case "filter" | "sort_next" | "sort_reverse":
                return tab in ("summary", "versions")
            case "promote":
                return can_promote(self.store, dep)
            case "fail_deployment":
                return can_fail(self.store, dep)
            case "mark_base":
                return tab == "versions" and self.selected_version() is not None
            case "revert":
                target = self.selected_version()
                current = self.detail.job.Version if self.detail is not None else None
                return (
                    tab == "versions"
                    and not self.store.read_only
                    and target is not None
                    and target != current
                )
        return super().check_action(action, parameters)

    @work(exclusive=True, group="job-action")
    async def action_promote(self) -> None:
        dep = self.detail.deployment if self.detail is not None else None
        if dep is not None and can_promote(self.store, dep):
            await promote(self, self.store, dep)

    @work(exclusive=True, group="job-action")
    async def action_fail_deployment(self) -> None:
        dep = self.detail.deployment if self.detail is not None else None
        if dep is not None and can_fail(self.store, dep):
            await fail(self, self.store, dep)

    def action_mark_base(self) -> None:
        target = self.selected_version()
        self.diff_base = None if target == self.diff_base else target
        self._show_versions()

    @work(exclusive=True, group="job-action")
    async def action_revert(self) -> None:
        target = self.selected_version()
        if target is None or self.detail is None or self.store.read_only:
            return
        job = self.detail.job
        question = confirm_screen(
            self.app,
            f"Revert {job.ID} to version {target}?",
            f"Nomad registers the spec of version {target} as a new version of the job "
            f"(now at version {job.Version}) and rolls the allocations to it.",
            name=job.ID,
            action_label="Revert",
        )
        if not await self.app.push_screen_wait(question):
            return
        try:
            await self.store.revert(job.ID, job.Namespace, target)
        except NomtuiError as exc:
            self.notify(exc.message, title=exc.title, severity="error")
            return
        self.notify(f"Reverting {clean(job.ID)} to version {target}")


__all__ = ["TABS", "JobScreen"]
