"""Pure renderers of the job screen's panes: data in, Rich renderables out.

Kept apart from the screen so they are tested without a terminal, and so the screen
module stays about wiring. Every string that came from the cluster goes through `clean`
(job specs, check outputs and evaluation texts are written by whoever deploys).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from nomtui.models.allocs import AllocMetric, AllocStub
from nomtui.models.deployments import Deployment
from nomtui.models.evals import Evaluation
from nomtui.models.job_spec import Job, Service
from nomtui.sanitize import clean
from nomtui.store import AllocHealth, JobDetail, ServicesData
from nomtui.tui.header import format_age
from nomtui.tui.screens.deployments import STATUS_STYLE, progress_text
from nomtui.tui.widgets.live_table import Cells, Column

ALLOC_COLUMNS = (
    Column("ID", "id"),
    Column("Group", "group"),
    Column("Node", "node"),
    Column("Status", "status"),
    Column("Desired", "desired"),
    Column("Ver", "version", numeric=True),
    Column("Health", "health"),
    Column("Created", "created"),
)
CLIENT_STYLE = {
    "running": "green",
    "pending": "yellow",
    "failed": "bold red",
    "lost": "red",
    "complete": "dim",
}
CHECK_STYLE = {"passing": "green", "warning": "yellow", "critical": "bold red"}
SECRET_SUFFIXES = ("token", "secret", "secretid", "password")
"""Keys whose values are masked in the spec: a screen is no place for a credential."""
MAX_OUTPUT = 160


def _age(now_ns: int, then_ns: int | None) -> str:
    return format_age((now_ns - then_ns) / 1e9) if then_ns else "—"


def one_line(text: str, limit: int = MAX_OUTPUT) -> str:
    flat = " ".join(clean(text, newlines=True).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- summary ------------------------------------------------------------------------------


def summary_renderable(detail: JobDetail, now_ns: int) -> RenderableType:
    job = detail.job
    title = Text()
    title.append(clean(job.Name or job.ID), style="bold")
    status = "stopped" if job.Stop else job.Status
    facts = [
        clean(job.Type),
        f"ns {clean(job.Namespace)}",
        clean(status),
        f"version {job.Version}{' (stable)' if job.Stable else ''}",
        f"submitted {_age(now_ns, job.SubmitTime)} ago",
        f"dc {clean(','.join(job.Datacenters or ['*']))}",
        f"priority {job.Priority}",
    ]
    if job.is_periodic and job.Periodic is not None:
        facts.append(f"periodic {clean(job.Periodic.Spec)}")
    if job.is_parameterized:
        facts.append("parameterized")
    title.append("  " + " · ".join(facts), style="dim")
    groups = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("Group", "Desired", "Running", "Starting", "Failed", "Lost", "Complete"):
        groups.add_column(name, justify="left" if name == "Group" else "right")
    for group in job.TaskGroups or ():
        s = detail.summary.get(group.Name)
        counts = (s.Running, s.Starting, s.Failed, s.Lost, s.Complete) if s else (0,) * 5
        groups.add_row(
            Text(clean(group.Name)),
            str(group.Count),
            Text(str(counts[0]), style="green" if counts[0] else ""),
            str(counts[1]),
            Text(str(counts[2]), style="bold red" if counts[2] else ""),
            Text(str(counts[3]), style="red" if counts[3] else ""),
            str(counts[4]),
        )
    return Group(title, groups)


def alloc_cells(alloc: AllocStub, health: AllocHealth | None, now_ns: int) -> Cells:
    version = Text(str(alloc.JobVersion), justify="right")
    dep = alloc.DeploymentStatus
    if dep is not None and dep.Canary:
        version.append(" canary", style="yellow")
    if health is not None and health.status:
        check = Text(clean(health.status), style=CHECK_STYLE.get(health.status, ""))
    elif dep is not None and dep.Healthy is not None:
        check = Text("healthy" if dep.Healthy else "unhealthy", style="" if dep.Healthy else "red")
    else:
        check = Text("—", style="dim")
    return (
        Text(alloc.short_id, style="bold"),
        Text(clean(alloc.TaskGroup)),
        Text(clean(alloc.NodeName or alloc.NodeID[:8])),
        Text(clean(alloc.ClientStatus), style=CLIENT_STYLE.get(alloc.ClientStatus, "")),
        Text(clean(alloc.DesiredStatus), style="dim" if alloc.DesiredStatus == "run" else ""),
        version,
        check,
        Text(_age(now_ns, alloc.CreateTime), justify="right"),
    )


# -- deployment ---------------------------------------------------------------------------


def deployment_renderable(
    dep: Deployment | None, now_ns: int, *, read_only: bool
) -> RenderableType:
    if dep is None:
        return Text("This job has no deployment (batch and system jobs have none).", style="dim")
    head = Text()
    head.append(f"Deployment {dep.short_id}", style="bold")
    head.append(f"  version {dep.JobVersion}  ")
    head.append(clean(dep.Status), style=STATUS_STYLE.get(dep.Status, ""))
    if dep.StatusDescription:
        head.append(f"  {clean(dep.StatusDescription)}", style="dim")
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("Group", "Canaries", "", "Healthy", "", "Placed", "Unhealthy", "Progress by"):
        table.add_column(name, no_wrap=True)
    for name, group in sorted(dep.groups.items()):
        placed_canaries = len(group.PlacedCanaries or ())
        canaries: RenderableType = Text("—", style="dim")
        canary_count = Text("")
        if group.DesiredCanaries:
            canaries = ProgressBar(total=group.DesiredCanaries, completed=placed_canaries, width=16)
            canary_count = Text(f"{placed_canaries}/{group.DesiredCanaries}")
            if group.Promoted:
                canary_count.append(" promoted", style="green")
        deadline = group.require_progress_by
        progress_by = "—"
        if deadline is not None:
            left = deadline.timestamp() - now_ns / 1e9
            progress_by = f"in {format_age(left)}" if left > 0 else f"{format_age(-left)} ago"
        table.add_row(
            Text(clean(name)),
            canaries,
            canary_count,
            ProgressBar(total=max(1, group.DesiredTotal), completed=group.HealthyAllocs, width=16),
            Text(f"{group.HealthyAllocs}/{group.DesiredTotal}"),
            str(group.PlacedAllocs),
            Text(str(group.UnhealthyAllocs), style="red" if group.UnhealthyAllocs else ""),
            progress_by,
        )
    parts: list[RenderableType] = [head, Text(""), table, Text("")]
    if dep.needs_promotion:
        hint = Text("⚠ Canaries are waiting for promotion. ", style="bold yellow")
        if not read_only:
            hint.append("p promotes them, f fails the deployment.", style="yellow")
        parts.append(hint)
    parts.append(Text.assemble(("Summary: ", "dim"), progress_text(dep)))
    return Group(*parts)


# -- services -----------------------------------------------------------------------------


def _service_head(service: Service) -> Text:
    text = Text()
    text.append(clean(service.Name), style="bold")
    text.append(f"  port {clean(service.PortLabel) or '—'} · {clean(service.Provider) or 'consul'}")
    return text


def services_renderable(
    job: Job, allocs: Mapping[str, AllocStub], services: ServicesData | None
) -> RenderableType:
    """Each service of the spec: its URLs, its checks, and how every instance is doing."""
    parts: list[RenderableType] = []
    live = services.services if services is not None and services.enabled else {}
    for group in job.TaskGroups or ():
        for service in group.all_services:
            parts.append(_service_head(service))
            for tag in service.Tags or ():
                if tag.startswith(("https://", "http://")):
                    parts.append(Text.assemble("  URL ", (clean(tag), "underline")))
            for tag in service.CanaryTags or ():
                if tag.startswith(("https://", "http://")):
                    parts.append(Text.assemble("  canary URL ", (clean(tag), "underline yellow")))
            for defined in service.Checks or ():
                where = defined.Path or defined.Command or defined.PortLabel
                parts.append(
                    Text(
                        f"  check {clean(defined.Name)}: {clean(defined.Type)} {clean(where)}",
                        "dim",
                    )
                )
            row = live.get(service.Name)
            mine = [i for i in (row.instances if row else ()) if i.alloc_id in allocs]
            if services is None or not services.enabled:
                parts.append(Text("  (Consul is not configured: no health)", style="dim"))
            elif not mine:
                parts.append(Text("  no registered instances", style="dim"))
            for instance in mine:
                alloc = allocs[instance.alloc_id or ""]
                line = Text(f"  {alloc.short_id} on {clean(instance.node)}  ")
                line.append(clean(instance.status), style=CHECK_STYLE.get(instance.status, ""))
                parts.append(line)
                for check in instance.checks:
                    out = Text(f"    {clean(check.Name)} ")
                    out.append(clean(check.Status), style=CHECK_STYLE.get(check.Status, ""))
                    if check.Output.strip():
                        out.append(f"  {one_line(check.Output)}", style="dim")
                    parts.append(out)
            parts.append(Text(""))
    if not parts:
        return Text("This job defines no services.", style="dim")
    return Group(*parts)


# -- evaluations --------------------------------------------------------------------------


def placement_failure(group: str, metric: AllocMetric) -> list[Text]:
    """Why a group could not be placed, in the words of `nomad job status`."""
    count = metric.CoalescedFailures + 1
    lines = [
        Text(
            f'  Task group "{clean(group)}" (failed to place {count} allocation'
            f"{'s' if count > 1 else ''}):",
            style="bold red",
        )
    ]
    for name, n in sorted((metric.ClassFiltered or {}).items()):
        lines.append(Text(f'    * Class "{clean(name)}": {n} nodes excluded by filter'))
    for name, n in sorted((metric.ConstraintFiltered or {}).items()):
        lines.append(Text(f'    * Constraint "{clean(name)}": {n} nodes excluded by filter'))
    if metric.NodesExhausted:
        lines.append(Text(f"    * Resources exhausted on {metric.NodesExhausted} nodes"))
    for name, n in sorted((metric.ClassExhausted or {}).items()):
        lines.append(Text(f'    * Class "{clean(name)}" exhausted on {n} nodes'))
    for name, n in sorted((metric.DimensionExhausted or {}).items()):
        lines.append(Text(f'    * Dimension "{clean(name)}" exhausted on {n} nodes'))
    for quota in metric.QuotaExhausted or ():
        lines.append(Text(f"    * Quota limit hit {clean(quota)!r}"))
    available = ", ".join(f"{clean(dc)}: {n}" for dc, n in (metric.NodesAvailable or {}).items())
    lines.append(
        Text(
            f"    nodes evaluated {metric.NodesEvaluated}, filtered {metric.NodesFiltered}, "
            f"in pool {metric.NodesInPool}" + (f"; available {available}" if available else ""),
            style="dim",
        )
    )
    return lines


def evaluations_renderable(evals: Sequence[Evaluation], now_ns: int) -> RenderableType:
    if not evals:
        return Text("No evaluations.", style="dim")
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("ID", "Triggered by", "Status", "Placement", "Created", "Description"):
        table.add_column(name, no_wrap=name != "Description")
    failures: list[RenderableType] = []
    for ev in evals:
        failed = ev.failed_groups
        table.add_row(
            Text(ev.short_id, style="bold"),
            Text(clean(ev.TriggeredBy)),
            Text(
                clean(ev.Status),
                style={"failed": "bold red", "blocked": "yellow"}.get(ev.Status, ""),
            ),
            Text("failures", style="bold red") if failed else Text("ok", style="dim"),
            Text(f"{_age(now_ns, ev.CreateTime)} ago" if ev.CreateTime else "—"),
            Text(clean(ev.StatusDescription), style="dim"),
        )
        if failed:
            failures.append(Text(f"Placement failures of evaluation {ev.short_id}", style="bold"))
            for group, metric in sorted(failed.items()):
                failures.extend(placement_failure(group, metric))
    return Group(table, Text(""), *failures)


# -- spec ---------------------------------------------------------------------------------


def redact(value: Any) -> Any:
    """A copy of a JSON value with control characters removed and secrets masked."""
    if isinstance(value, dict):
        return {
            clean(str(k)): (
                "<redacted>"
                if isinstance(v, str) and v and str(k).lower().endswith(SECRET_SUFFIXES)
                else redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        # json.dumps would escape C0 controls anyway, but not C1 or bidi controls.
        return clean(value, newlines=True)
    return value


def spec_renderable(raw: Any) -> RenderableType:
    if raw is None:
        return Text("Loading the job specification…", style="dim")
    text = json.dumps(redact(raw), indent=2, sort_keys=False, ensure_ascii=False)
    return Syntax(text, "json", theme="monokai", line_numbers=True, word_wrap=False)


__all__ = [
    "ALLOC_COLUMNS",
    "alloc_cells",
    "deployment_renderable",
    "evaluations_renderable",
    "one_line",
    "placement_failure",
    "redact",
    "services_renderable",
    "spec_renderable",
    "summary_renderable",
]
