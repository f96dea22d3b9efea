"""`nomtui status`: one job, its latest deployment and its allocations, judged.

The report is plain data (msgspec Structs, so `--json` prints it as is); rendering is the
command's business. Health of an allocation joins two sources, as an operator reads them:
the deployment's verdict (`DeploymentStatus.Healthy`) and the Consul checks of the job's
services right now. A check that is critical now outweighs an old "healthy" verdict.

Problems are what makes `status` exit 2: a stopped or dead service job, a failed or stuck
latest deployment, and allocations that are the current occupant of their slot
(`job.group[index]`) but failed, were lost, are unhealthy or are down again after
restarts. An old failed allocation that has since been replaced is history, not a
problem. Canaries waiting for a manual promotion are a note, not a problem.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from nomtui.errors import NomtuiError

if TYPE_CHECKING:
    from nomtui.client.consul import ConsulClient
    from nomtui.client.nomad import NomadClient
    from nomtui.models.allocs import AllocStub
    from nomtui.models.deployments import Deployment, DeploymentGroup
    from nomtui.models.job_spec import Job
    from nomtui.models.jobs import JobStub

STATS_CONCURRENCY = 8
STATS_TIMEOUT_S = 2.0
"""Stats come from each client node; a slow or dead node must not hold up the report."""


class JobInfo(msgspec.Struct, kw_only=True):
    id: str
    namespace: str
    type: str
    status: str
    status_description: str = ""
    version: int
    stop: bool
    submit_time: int | None
    """Unix nanoseconds."""


class GroupProgress(msgspec.Struct, kw_only=True):
    name: str
    desired_total: int
    desired_canaries: int
    placed_canaries: int
    placed: int
    healthy: int
    unhealthy: int
    promoted: bool
    auto_promote: bool
    require_progress_by: str | None


class DeploymentInfo(msgspec.Struct, kw_only=True):
    id: str
    status: str
    description: str
    job_version: int
    needs_promotion: bool
    groups: list[GroupProgress]


class AllocRow(msgspec.Struct, kw_only=True):
    id: str
    name: str
    group: str
    node: str
    client_status: str
    desired_status: str
    job_version: int
    canary: bool
    deployment_healthy: bool | None
    checks: str
    """Consul's aggregate status of the allocation's checks; "" when unknown."""
    health: str
    """`healthy`, `unhealthy`, `warning`, `pending` or `-` (nothing to judge)."""
    restarts: int
    create_time: int
    cpu_percent: float | None = None
    memory_bytes: int | None = None


class StatusReport(msgspec.Struct, kw_only=True):
    job: JobInfo
    deployment: DeploymentInfo | None
    allocations: list[AllocRow]
    problems: list[str]
    notes: list[str]
    healthy: bool


# -- pure rules ---------------------------------------------------------------------------


def alloc_health(alloc: AllocStub, checks: str) -> str:
    """One word for the allocation's health from its deployment verdict and `checks`."""
    if alloc.is_terminal or alloc.DesiredStatus != "run":
        return "unhealthy" if alloc.ClientStatus in ("failed", "lost") else "-"
    verdict = alloc.healthy
    if checks == "critical" or verdict is False:
        return "unhealthy"
    if checks in ("warning", "maintenance"):
        return "warning"
    if checks == "passing" or verdict is True:
        return "healthy" if alloc.ClientStatus == "running" else "pending"
    return "pending" if alloc.ClientStatus == "pending" else "-"


def latest_per_slot(allocs: Iterable[AllocStub]) -> list[AllocStub]:
    """The newest allocation of each slot (`job.group[index]`), newest first.

    A slot's older allocations were replaced (rescheduled, updated); only the newest
    tells whether the slot is served now.
    """
    newest: dict[tuple[str, str, str], AllocStub] = {}
    for alloc in allocs:
        key = (alloc.Namespace, alloc.JobID, alloc.Name or alloc.ID)
        seen = newest.get(key)
        if seen is None or alloc.CreateIndex > seen.CreateIndex:
            newest[key] = alloc
    return sorted(newest.values(), key=lambda a: a.CreateIndex, reverse=True)


def deployment_info(dep: Deployment) -> DeploymentInfo:
    groups = [
        GroupProgress(
            name=name,
            desired_total=g.DesiredTotal,
            desired_canaries=g.DesiredCanaries,
            placed_canaries=len(g.PlacedCanaries or ()),
            placed=g.PlacedAllocs,
            healthy=g.HealthyAllocs,
            unhealthy=g.UnhealthyAllocs,
            promoted=g.Promoted,
            auto_promote=g.AutoPromote,
            require_progress_by=g.RequireProgressBy,
        )
        for name, g in sorted(dep.groups.items())
    ]
    return DeploymentInfo(
        id=dep.ID,
        status=dep.Status,
        description=dep.StatusDescription,
        job_version=dep.JobVersion,
        needs_promotion=dep.needs_promotion,
        groups=groups,
    )


def waits_for_promotion(group: DeploymentGroup) -> bool:
    """Every canary is placed and healthy; only a person's promotion is missing."""
    placed = len(group.PlacedCanaries or ())
    return group.needs_promotion and group.HealthyAllocs >= placed >= group.DesiredCanaries


def overdue_groups(dep: Deployment, now: datetime) -> list[str]:
    """Groups of an active deployment whose progress deadline has passed.

    Groups whose healthy canaries wait for a manual promotion are not overdue: the
    deployment waits for a person, not for the cluster (a warning, not a problem).
    """
    if not dep.is_active:
        return []
    return [
        name
        for name, group in sorted(dep.groups.items())
        if (by := group.require_progress_by) is not None
        and by < now
        and not waits_for_promotion(group)
    ]


def deployment_problems(dep: Deployment | None, now: datetime) -> list[str]:
    if dep is None:
        return []
    found = []
    if dep.Status == "failed":
        found.append(
            f"deployment {dep.short_id} (version {dep.JobVersion}) failed: "
            f"{dep.StatusDescription or 'no reason given'}"
        )
    late = overdue_groups(dep, now)
    if late:
        found.append(
            f"deployment {dep.short_id} is past its progress deadline "
            f"(group{'s' if len(late) > 1 else ''} {', '.join(late)})"
        )
    return found


def alloc_problems(rows: Sequence[AllocRow], current: set[str]) -> list[str]:
    """Problems of the allocations that currently hold their slot (IDs in `current`)."""
    found = []
    for row in rows:
        if row.id not in current or row.desired_status != "run":
            continue
        short = row.id[:8]
        if row.client_status in ("failed", "lost"):
            found.append(f"allocation {short} ({row.group}) {row.client_status} on {row.node}")
        elif row.client_status == "pending" and row.restarts:
            found.append(
                f"allocation {short} ({row.group}) is down again after {row.restarts} restarts"
            )
        elif row.health == "unhealthy":
            why = "checks critical" if row.checks == "critical" else "deployment marked it"
            found.append(f"allocation {short} ({row.group}) is unhealthy ({why})")
    return found


def job_problems(job: Job) -> list[str]:
    if job.Stop:
        return [f"job {job.ID} is stopped"]
    if job.Status == "dead" and job.Type in ("service", "system"):
        return [f"job {job.ID} is dead"]
    return []


def job_info(job: Job) -> JobInfo:
    return JobInfo(
        id=job.ID,
        namespace=job.Namespace,
        type=job.Type,
        status=job.Status,
        status_description=job.StatusDescription,
        version=job.Version,
        stop=job.Stop,
        submit_time=job.SubmitTime,
    )


def alloc_row(alloc: AllocStub, checks: Mapping[str, str]) -> AllocRow:
    status = checks.get(alloc.ID, "")
    return AllocRow(
        id=alloc.ID,
        name=alloc.Name,
        group=alloc.TaskGroup,
        node=alloc.NodeName or alloc.NodeID[:8],
        client_status=alloc.ClientStatus,
        desired_status=alloc.DesiredStatus,
        job_version=alloc.JobVersion,
        canary=alloc.is_canary,
        deployment_healthy=alloc.healthy,
        checks=status,
        health=alloc_health(alloc, status),
        restarts=alloc.restarts,
        create_time=alloc.CreateTime,
    )


def build_report(
    job: Job,
    dep: Deployment | None,
    allocs: Sequence[AllocStub],
    checks: Mapping[str, str],
    stats: Mapping[str, tuple[float, int]],
    now: datetime,
) -> StatusReport:
    """The report from fetched data; `checks`: Consul status per allocation ID,
    `stats`: (CPU %, memory bytes) per allocation ID."""
    # Live allocations first, each group newest first: what a reader looks for.
    ordered = sorted(allocs, key=lambda a: (a.is_terminal, -a.CreateIndex))
    rows = []
    for alloc in ordered:
        row = alloc_row(alloc, checks)
        if alloc.ID in stats:
            row.cpu_percent, row.memory_bytes = stats[alloc.ID]
        rows.append(row)
    current = {a.ID for a in latest_per_slot(allocs)}
    problems = job_problems(job) + deployment_problems(dep, now) + alloc_problems(rows, current)
    notes = []
    if dep is not None and dep.needs_promotion:
        notes.append(
            f"deployment {dep.short_id} is waiting for its canaries to be promoted "
            "(nomad deployment promote)"
        )
    return StatusReport(
        job=job_info(job),
        deployment=deployment_info(dep) if dep is not None else None,
        allocations=rows,
        problems=problems,
        notes=notes,
        healthy=not problems,
    )


# -- fetching -----------------------------------------------------------------------------


async def fetch_stats(
    client: NomadClient,
    alloc_ids: Sequence[str],
    *,
    concurrency: int = STATS_CONCURRENCY,
    timeout_s: float = STATS_TIMEOUT_S,
) -> dict[str, tuple[float, int]]:
    """(CPU %, memory bytes) of each allocation that answered in time; others are left out."""
    gate = asyncio.Semaphore(concurrency)

    async def one(alloc_id: str) -> tuple[str, tuple[float, int] | None]:
        async with gate:
            try:
                async with asyncio.timeout(timeout_s):
                    stats = await client.alloc_stats(alloc_id)
            except (NomtuiError, TimeoutError):
                # A node that is down or slow: its row shows "-", the rest still prints.
                return alloc_id, None
        return alloc_id, (stats.cpu_percent, stats.memory_bytes)

    answers = await asyncio.gather(*(one(alloc_id) for alloc_id in alloc_ids))
    return {alloc_id: value for alloc_id, value in answers if value is not None}


def consul_service_names(job: Job) -> list[str]:
    """Names of the job's services that Consul knows (provider consul, the default)."""
    names: list[str] = []
    for group in job.TaskGroups or ():
        for service in group.all_services:
            if service.Provider in ("", "consul") and service.Name and service.Name not in names:
                names.append(service.Name)
    return names


async def fetch_checks(consul: ConsulClient, names: Sequence[str]) -> dict[str, str]:
    """Consul's aggregate check status per allocation ID, over the services `names`.

    Raises the Consul client's errors (the caller decides whether Consul is optional).
    """
    from nomtui.client.consul import health_by_alloc, status_by_alloc

    answers = await asyncio.gather(*(consul.service_health(name) for name in names))
    entries = [entry for answer in answers for entry in answer]
    return status_by_alloc(health_by_alloc(entries))


async def job_status(
    nomad: NomadClient,
    consul: ConsulClient | None,
    stub: JobStub,
    now: datetime | None = None,
) -> StatusReport:
    """Fetch and judge the job `stub` names. Consul failures become a note; Nomad
    failures raise."""
    now = now or datetime.now(UTC)
    job, allocs, dep = await asyncio.gather(
        nomad.get_job(stub.ID, stub.Namespace),
        nomad.job_allocations(stub.ID, stub.Namespace),
        nomad.job_latest_deployment(stub.ID, stub.Namespace),
    )
    running = [a.ID for a in allocs if a.ClientStatus == "running"]
    names = consul_service_names(job)
    consul_note: str | None = None

    async def checks() -> dict[str, str]:
        nonlocal consul_note
        if consul is None or not names:
            return {}
        try:
            return await fetch_checks(consul, names)
        except NomtuiError as exc:
            consul_note = f"health from Nomad only: {exc.message}"
            return {}

    stats, by_alloc = await asyncio.gather(fetch_stats(nomad, running), checks())
    report = build_report(job, dep, allocs, by_alloc, stats, now)
    if consul_note:
        report.notes.append(consul_note)
    return report


__all__ = [
    "AllocRow",
    "DeploymentInfo",
    "GroupProgress",
    "JobInfo",
    "StatusReport",
    "alloc_health",
    "alloc_problems",
    "build_report",
    "consul_service_names",
    "deployment_problems",
    "fetch_checks",
    "fetch_stats",
    "job_status",
    "latest_per_slot",
    "overdue_groups",
    "waits_for_promotion",
]
