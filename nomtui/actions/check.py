"""`nomtui check` (nom-deploys-check): what is wrong with the cluster's deploys, read-only.

Only GET requests are sent, ever: the IA alias also ran `nomad system gc`, which throws
away the history (failed allocations, old deployments) an operator needs to see why
something broke, and needs a management token. A check must not change what it checks.

A finding is a `problem` (the command exits 2) or a `warning` (shown, exit 0):

problems
  deployment-failed   the job's latest deployment failed
  deployment-stuck    an active deployment is past its progress deadline
  alloc-failed/-lost  the newest allocation of a slot (`job.group[index]`) failed or was
                      lost and nothing replaced it
  alloc-pending       the newest allocation of a slot has not started for too long
  alloc-restarting    the newest allocation of a slot is down again after restarts
  check-critical      a Consul check of a live allocation is critical
  queued              allocations the scheduler could not place (queued)
  blocked-eval        a blocked evaluation (waiting for resources)
  job-dead            a service/system job that is dead without being stopped
warnings
  awaiting-promotion  canaries are placed and wait for a manual promotion

Stopped jobs and the templates of periodic/parameterized jobs are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from nomtui.actions.status import latest_per_slot, overdue_groups

if TYPE_CHECKING:
    from nomtui.client.consul import ConsulClient
    from nomtui.client.nomad import NomadClient
    from nomtui.models.allocs import AllocStub
    from nomtui.models.consul import ConsulCheck
    from nomtui.models.deployments import Deployment
    from nomtui.models.evals import Evaluation
    from nomtui.models.jobs import JobStub

PROBLEM = "problem"
WARNING = "warning"
DEFAULT_PENDING_S = 300.0
"""An allocation still pending after this long is stuck (image pull, constraints...)."""


class Finding(msgspec.Struct, kw_only=True):
    job: str
    namespace: str
    kind: str
    severity: str
    detail: str
    alloc_id: str = ""
    deployment_id: str = ""


class CheckReport(msgspec.Struct, kw_only=True):
    jobs_checked: int
    findings: list[Finding]
    consul_checked: bool
    problems: int
    warnings: int


@dataclass(frozen=True)
class ClusterView:
    """Everything the check reads, fetched once (so the rules stay pure and testable)."""

    jobs: list[JobStub]
    allocs: list[AllocStub]
    deployments: list[Deployment]
    blocked: list[Evaluation]
    critical: list[ConsulCheck] | None
    """Critical Consul checks; None when Consul could not be asked."""


def job_filter(pattern: str | None) -> re.Pattern[str] | None:
    """The compiled `--only` regex (searched anywhere in the job ID); None for all jobs.

    Raises ValueError (re.error) on a bad expression.
    """
    return re.compile(pattern) if pattern else None


def in_scope(jobs: Iterable[JobStub], only: re.Pattern[str] | None) -> list[JobStub]:
    """Jobs worth checking: not stopped, not a periodic/parameterized template, matching."""
    return [
        job
        for job in jobs
        if not job.Stop
        and not job.Periodic
        and not job.ParameterizedJob
        and (only is None or only.search(job.ID) is not None)
    ]


def latest_deployments(deployments: Iterable[Deployment]) -> dict[tuple[str, str], Deployment]:
    latest: dict[tuple[str, str], Deployment] = {}
    for dep in deployments:
        key = (dep.Namespace, dep.JobID)
        if key not in latest or dep.CreateIndex > latest[key].CreateIndex:
            latest[key] = dep
    return latest


def _deployment_findings(job: JobStub, dep: Deployment, now: datetime) -> list[Finding]:
    found = []

    def add(kind: str, severity: str, detail: str) -> None:
        found.append(
            Finding(
                job=job.ID,
                namespace=job.Namespace,
                kind=kind,
                severity=severity,
                detail=detail,
                deployment_id=dep.ID,
            )
        )

    if dep.Status == "failed":
        reason = dep.StatusDescription or "no reason given"
        add(
            "deployment-failed", PROBLEM, f"deployment of version {dep.JobVersion} failed: {reason}"
        )
    late = overdue_groups(dep, now)
    if late:
        add("deployment-stuck", PROBLEM, f"past its progress deadline ({', '.join(late)})")
    elif dep.needs_promotion:
        add("awaiting-promotion", WARNING, "canaries wait for promotion")
    return found


def _alloc_finding(alloc: AllocStub, now: datetime, pending_s: float) -> Finding | None:
    if alloc.DesiredStatus != "run":
        return None
    kind = detail = ""
    where = alloc.NodeName or alloc.NodeID[:8] or "no node"
    if alloc.ClientStatus in ("failed", "lost"):
        kind = f"alloc-{alloc.ClientStatus}"
        detail = f"{alloc.Name} {alloc.ClientStatus} on {where} and was not replaced"
    elif alloc.ClientStatus == "pending":
        if alloc.restarts:
            kind = "alloc-restarting"
            detail = f"{alloc.Name} is down again after {alloc.restarts} restarts"
        elif (created := alloc.created) is not None and (now - created).total_seconds() > pending_s:
            minutes = int((now - created).total_seconds() // 60)
            kind = "alloc-pending"
            detail = f"{alloc.Name} has been pending for {minutes}m on {where}"
    if not kind:
        return None
    return Finding(
        job=alloc.JobID,
        namespace=alloc.Namespace,
        kind=kind,
        severity=PROBLEM,
        detail=detail,
        alloc_id=alloc.ID,
    )


def _check_findings(
    critical: Sequence[ConsulCheck], live: Mapping[str, AllocStub]
) -> list[Finding]:
    from nomtui.models.consul import alloc_id_of_service_id

    found = []
    for check in critical:
        alloc_id = alloc_id_of_service_id(check.ServiceID)
        alloc = live.get(alloc_id) if alloc_id else None
        if alloc is None:
            continue  # not a Nomad service, or an allocation outside the checked jobs
        output = " ".join(check.Output.split())
        detail = f"check {check.Name or check.CheckID} of {check.ServiceName} is critical"
        found.append(
            Finding(
                job=alloc.JobID,
                namespace=alloc.Namespace,
                kind="check-critical",
                severity=PROBLEM,
                detail=f"{detail}: {output}" if output else detail,
                alloc_id=alloc.ID,
            )
        )
    return found


def _scheduler_findings(job: JobStub, blocked: Sequence[Evaluation]) -> list[Finding]:
    found = []
    for group, summary in sorted(job.groups.items()):
        if summary.Queued:
            found.append(
                Finding(
                    job=job.ID,
                    namespace=job.Namespace,
                    kind="queued",
                    severity=PROBLEM,
                    detail=f"{summary.Queued} allocation(s) of group {group} cannot be placed",
                )
            )
    for ev in blocked:
        groups = ", ".join(sorted(ev.failed_groups)) or "?"
        found.append(
            Finding(
                job=job.ID,
                namespace=job.Namespace,
                kind="blocked-eval",
                severity=PROBLEM,
                detail=f"evaluation {ev.short_id} is blocked placing group(s) {groups}",
            )
        )
    return found


def evaluate(
    view: ClusterView,
    now: datetime,
    only: re.Pattern[str] | None = None,
    pending_s: float = DEFAULT_PENDING_S,
) -> CheckReport:
    """Judge `view` at `now`; pure, so every rule is tested without a cluster."""
    jobs = in_scope(view.jobs, only)
    keys = {(job.Namespace, job.ID) for job in jobs}
    allocs = [a for a in view.allocs if (a.Namespace, a.JobID) in keys]
    latest = latest_deployments(view.deployments)
    blocked: dict[tuple[str, str], list[Evaluation]] = {}
    for ev in view.blocked:
        blocked.setdefault((ev.Namespace, ev.JobID), []).append(ev)

    findings: list[Finding] = []
    for job in jobs:
        key = (job.Namespace, job.ID)
        if job.Type in ("service", "system") and job.Status == "dead":
            findings.append(
                Finding(
                    job=job.ID,
                    namespace=job.Namespace,
                    kind="job-dead",
                    severity=PROBLEM,
                    detail="the job is dead but was not stopped",
                )
            )
        if key in latest:
            findings += _deployment_findings(job, latest[key], now)
        findings += _scheduler_findings(job, blocked.get(key, []))
    for alloc in latest_per_slot(allocs):
        finding = _alloc_finding(alloc, now, pending_s)
        if finding is not None:
            findings.append(finding)
    if view.critical is not None:
        live = {a.ID: a for a in allocs if a.DesiredStatus == "run" and not a.is_terminal}
        findings += _check_findings(view.critical, live)

    findings.sort(key=lambda f: (f.severity != PROBLEM, f.namespace, f.job, f.kind, f.alloc_id))
    problems = sum(1 for f in findings if f.severity == PROBLEM)
    return CheckReport(
        jobs_checked=len(jobs),
        findings=findings,
        consul_checked=view.critical is not None,
        problems=problems,
        warnings=len(findings) - problems,
    )


async def fetch_view(
    nomad: NomadClient, consul: ConsulClient | None, namespace: str
) -> tuple[ClusterView, str | None]:
    """Read the cluster (GETs only) and, when `consul` is given, its critical checks.

    Returns the view and a note when Consul could not be asked (checks then skipped).
    """
    import asyncio

    from nomtui.errors import NomtuiError

    note: str | None = None

    async def critical() -> list[ConsulCheck] | None:
        nonlocal note
        if consul is None:
            return None
        try:
            return await consul.health_state("critical")
        except NomtuiError as exc:
            note = f"Consul checks skipped: {exc.message}"
            return None

    jobs, allocs, deployments, blocked, checks = await asyncio.gather(
        nomad.list_jobs(namespace),
        nomad.list_allocations(namespace, task_states=True),
        nomad.list_deployments(namespace),
        nomad.list_evaluations(namespace, status="blocked"),
        critical(),
    )
    view = ClusterView(
        jobs=jobs, allocs=allocs, deployments=deployments, blocked=blocked, critical=checks
    )
    return view, note


__all__ = [
    "DEFAULT_PENDING_S",
    "PROBLEM",
    "WARNING",
    "CheckReport",
    "ClusterView",
    "Finding",
    "evaluate",
    "fetch_view",
    "in_scope",
    "job_filter",
    "latest_deployments",
]
