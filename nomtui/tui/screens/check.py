"""The Check screen: what is wrong with the cluster's deploys, live (nom-deploys-check).

The rules are `nomtui.actions.check.evaluate`, the same pure function as the `nomtui
check` one-shot: allocations not running as desired, failing Consul checks, failed or
stuck deployments, canaries waiting for promotion, placements that cannot be made.
Read-only by design: the screen sends GETs only and has no action that writes (the IA
alias also ran a GC, which destroys the history an operator needs here).

Fed by the store's job, allocation, deployment and services watches. Blocked
evaluations have no watch of their own; they are read again whenever the job watch
changes (queued placements move job summaries). A local timer re-judges every
`REJUDGE_S` for the rules that depend on time (pending too long, past a deadline).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from nomtui.actions.check import PROBLEM, CheckReport, Finding, evaluate
from nomtui.actions.check import ClusterView as CheckInput
from nomtui.errors import NomtuiError
from nomtui.models.allocs import AllocStub
from nomtui.models.consul import ConsulCheck
from nomtui.models.deployments import Deployment
from nomtui.models.evals import Evaluation
from nomtui.models.jobs import JobStub
from nomtui.sanitize import clean
from nomtui.store import AllocsView, DeploymentsView, JobsView, ServicesData, ServicesView, Store
from nomtui.tui.header import ClusterHeader
from nomtui.tui.nav import Open
from nomtui.tui.screens.base import Clock, ViewUpdated
from nomtui.tui.screens.filtered import FilteredScreen, filter_box, table_bindings
from nomtui.tui.widgets.footer import NomtuiFooter
from nomtui.tui.widgets.live_table import Cells, Column, LiveTable

COLUMNS = (
    Column("Severity", "severity"),
    Column("Kind", "kind"),
    Column("Namespace", "namespace"),
    Column("Job", "job"),
    Column("Detail", "detail"),
)
REJUDGE_S = 30.0
DETAIL_WIDTH = 50
"""The table shows the start of a finding; the pane under it shows all of it."""
_SEVERITY_STYLE = {PROBLEM: "bold red", "warning": "yellow"}


def critical_checks(data: ServicesData | None) -> list[ConsulCheck] | None:
    """Critical service checks from the services view; None when Consul is not known."""
    if data is None or not data.enabled:
        return None
    seen: dict[tuple[str, str], ConsulCheck] = {}
    for row in data.services.values():
        for instance in row.instances:
            for check in instance.checks:
                if check.ServiceID and check.Status == "critical":
                    seen[(check.Node, check.CheckID)] = check
    return list(seen.values())


def finding_keys(findings: list[Finding]) -> list[str]:
    """Stable row keys: what and where, plus a counter for repeats (not the detail text,
    which changes as time passes: "pending for 5m", "6m"...)."""
    seen: Counter[str] = Counter()
    keys = []
    for f in findings:
        base = "|".join((f.kind, f.namespace, f.job, f.alloc_id, f.deployment_id))
        keys.append(f"{base}|{seen[base]}")
        seen[base] += 1
    return keys


def finding_cells(finding: Finding) -> Cells:
    return (
        Text(finding.severity, style=_SEVERITY_STYLE.get(finding.severity, "")),
        Text(clean(finding.kind), style="bold"),
        Text(clean(finding.namespace), style="dim"),
        Text(clean(finding.job)),
        Text(clip(clean(finding.detail), DETAIL_WIDTH)),
    )


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(report: CheckReport | None, waiting: list[str]) -> Text:
    if report is None:
        return Text(f"Reading {', '.join(waiting)}…", style="dim")
    if report.problems:
        plural = "s" if report.problems != 1 else ""
        text = Text.assemble((f"✗ {report.problems} problem{plural}", "bold red"))
    else:
        text = Text.assemble(("✓ no problems", "bold green"))
    if report.warnings:
        text.append(
            f", {report.warnings} warning{'s' if report.warnings != 1 else ''}", style="yellow"
        )
    text.append(f" in {report.jobs_checked} jobs", style="")
    if not report.consul_checked:
        text.append("  · Consul checks not included", style="yellow")
    text.append("  · read-only: nothing is changed, no GC", style="dim")
    return text


class CheckScreen(FilteredScreen):
    """Problems across the cluster, most severe first; Enter opens what a row is about."""

    AUTO_FOCUS = "#findings"
    DEFAULT_CSS = """
    CheckScreen #check-summary {
        height: 1;
        padding: 0 1;
    }
    CheckScreen #finding-detail {
        height: auto;
        max-height: 6;
        padding: 0 1;
        border-top: solid $primary-darken-2;
    }
    """
    BINDINGS = [
        Binding(
            "enter",
            "open",
            "Open",
            id="check.open",
            priority=True,
            tooltip="Open the allocation the finding is about, or else its job",
        ),
        *table_bindings("check", "findings"),
    ]

    def __init__(self, store: Store, *, clock: Clock = time.time_ns) -> None:
        super().__init__(store, clock=clock)
        self.jobs: list[JobStub] | None = None
        self.allocs: list[AllocStub] | None = None
        self.deployments: list[Deployment] | None = None
        self.services: ServicesData | None = None
        self.blocked: list[Evaluation] = []
        self.report: CheckReport | None = None
        self.findings: dict[str, Finding] = {}

    def compose(self) -> ComposeResult:
        yield ClusterHeader()
        yield Static(id="check-summary")
        # The report's own order: problems before warnings ("p" < "w"), then by job.
        yield LiveTable(
            COLUMNS, id="findings", default_sort=("severity", "namespace", "job", "kind")
        )
        yield Static(id="finding-detail")
        yield filter_box()
        yield NomtuiFooter()

    @property
    def main_table(self) -> LiveTable:
        return self.query_one("#findings", LiveTable)

    def on_mount(self) -> None:
        for view in (JobsView("*"), AllocsView(), DeploymentsView("*")):
            self.follow(view)
        if self.store.consul is not None:
            self.follow(ServicesView())
        self.every(REJUDGE_S, self.judge)
        self.judge()

    def on_view_updated(self, message: ViewUpdated[Any]) -> None:
        data = message.state.data
        if data is None:
            return
        match message.view:
            case JobsView():
                self.jobs = list(data.values())
                self.run_worker(self._read_blocked(), group="blocked-evals", exclusive=True)
            case AllocsView():
                self.allocs = list(data.values())
            case DeploymentsView():
                self.deployments = list(data.values())
            case ServicesView():
                self.services = data
        self.judge()

    async def _read_blocked(self) -> None:
        try:
            blocked = await self.store.nomad.list_evaluations("*", status="blocked")
        except NomtuiError as exc:
            # Queued placements still show through the job summaries.
            self.notify(exc.message, title=exc.title, severity="warning")
            return
        if blocked != self.blocked:
            self.blocked = blocked
            self.judge()

    def waiting_for(self) -> list[str]:
        missing = [
            name
            for name, value in (
                ("jobs", self.jobs),
                ("allocations", self.allocs),
                ("deployments", self.deployments),
            )
            if value is None
        ]
        if self.store.consul is not None and self.services is None:
            missing.append("Consul checks")
        return missing

    def judge(self) -> None:
        """Run the rules on what the watches delivered; nothing is fetched here."""
        if self.waiting_for() or self.jobs is None or self.allocs is None:
            self.query_one("#check-summary", Static).update(summary(None, self.waiting_for()))
            return
        view = CheckInput(
            jobs=self.jobs,
            allocs=self.allocs,
            deployments=self.deployments or [],
            blocked=self.blocked,
            critical=critical_checks(self.services),
        )
        self.report = evaluate(view, datetime.fromtimestamp(self.clock() / 1e9, UTC))
        keys = finding_keys(self.report.findings)
        self.findings = dict(zip(keys, self.report.findings, strict=True))
        self.main_table.set_rows({k: finding_cells(f) for k, f in self.findings.items()})
        self.query_one("#check-summary", Static).update(summary(self.report, []))
        self.show_detail()

    def selected(self) -> Finding | None:
        key = self.main_table.selected_key
        return self.findings.get(key) if key is not None else None

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        """The whole finding: the table cuts long details (check output) at its edge."""
        finding = self.selected()
        text = Text()
        if finding is not None:
            text.append(f"{clean(finding.namespace)}/{clean(finding.job)}", style="bold")
            if finding.alloc_id:
                text.append(f"  allocation {finding.alloc_id[:8]}", style="dim")
            if finding.deployment_id:
                text.append(f"  deployment {finding.deployment_id[:8]}", style="dim")
            text.append(f"\n{clean(finding.detail)}")
        self.query_one("#finding-detail", Static).update(text)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return isinstance(self.focused, LiveTable) and self.selected() is not None
        return super().check_action(action, parameters)

    def action_open(self) -> None:
        finding = self.selected()
        if finding is None:
            return
        if finding.alloc_id:
            self.post_message(Open("alloc", alloc_id=finding.alloc_id))
        else:
            self.post_message(Open("job", namespace=finding.namespace, job_id=finding.job))


__all__ = ["CheckScreen", "critical_checks", "finding_cells", "finding_keys", "summary"]
