"""`nomtui status [JOB]`: the job, its deployment and allocations, healthy or not."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from nomtui.actions.status import DeploymentInfo, StatusReport
    from nomtui.config.model import Settings
    from nomtui.output import Cell

EXIT_PROBLEMS = 2

STATUS_STYLE = {
    "running": "good",
    "successful": "good",
    "pending": "warn",
    "paused": "warn",
    "blocked": "warn",
    "failed": "bad",
    "lost": "bad",
    "dead": "bad",
    "unknown": "warn",
    "complete": "dim",
    "cancelled": "dim",
}
HEALTH_STYLE = {"healthy": "good", "unhealthy": "bad", "warning": "warn", "pending": "warn"}


def settings_of(ctx: click.Context) -> Settings:
    """The resolved settings for this invocation (flags from the `nomtui` group).

    A token file others can read is worth a line on stderr every time (other warnings
    wait for `nomtui config`)."""
    from nomtui.config import Flags, resolve
    from nomtui.output import note

    settings = resolve(ctx.find_object(Flags) or Flags())
    for warning in settings.exposed_secrets:
        note(f"warning: {warning}")
    return settings


def job_argument(arg: str | None) -> str:
    from nomtui.actions.lookup import resolve_job

    return resolve_job(arg, Path.cwd(), os.environ)


def styled(text: str, table: dict[str, str]) -> Cell:
    from nomtui.output import Cell

    return Cell(text, table.get(text))


@click.command("status", short_help="The job, its deployment and allocations, with health.")
@click.argument("job", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def status_cmd(ctx: click.Context, job: str | None, as_json: bool) -> None:
    """Show JOB (default: the job of this git checkout): its latest deployment and its
    allocations with health (deployment verdict and Consul checks) and CPU/memory use.

    \b
    Exit codes:
      0  the job is healthy
      1  the status could not be read (unknown job, no access, cluster unreachable)
      2  the job has problems: stopped or dead, a failed or stuck deployment, or a
         current allocation that failed, was lost or is unhealthy
    """
    import asyncio

    from nomtui.output import echo_json, note

    settings = settings_of(ctx)
    job_id = job_argument(job)
    report = asyncio.run(_status(settings, job_id))
    for line in report.notes:
        note(f"note: {line}")
    if as_json:
        echo_json(report)
    else:
        _print_report(report)
    if report.problems:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


async def _status(settings: Settings, job_id: str) -> StatusReport:
    from nomtui.actions.lookup import consul_client, find_job, nomad_client
    from nomtui.actions.status import job_status
    from nomtui.errors import ConfigError

    async with nomad_client(settings) as nomad:
        stub = await find_job(nomad, job_id, settings.nomad.namespace)
        try:
            consul = consul_client(settings)
        except ConfigError as exc:
            report = await job_status(nomad, None, stub)
            report.notes.append(f"health from Nomad only: {exc.message}")
            return report
        async with consul:
            return await job_status(nomad, consul, stub)


def _print_report(report: StatusReport) -> None:
    import time

    from nomtui.output import age_ns, color_enabled, echo_table, paint, size, timestamp_ns
    from nomtui.sanitize import clean

    color = color_enabled()
    now = time.time()
    job = report.job
    # A dead batch job has simply finished; only a dead service is bad news.
    finished = job.status == "dead" and job.type in ("batch", "sysbatch")
    status = paint(clean(job.status), "dim" if finished else STATUS_STYLE.get(job.status), color)
    pairs = [
        ("Job", f"{clean(job.id)} (namespace {clean(job.namespace)})"),
        ("Type", clean(job.type)),
        ("Status", status + (" (stopped)" if job.stop else "")),
        ("Version", str(job.version)),
        ("Submitted", f"{timestamp_ns(job.submit_time)} ({age_ns(job.submit_time, now)} ago)"),
    ]
    for name, value in pairs:
        click.echo(f"{name:<11}{value}", color=color)
    click.echo()
    if report.deployment is not None:
        _print_deployment(report.deployment, color)
        click.echo()
    if report.allocations:
        rows: list[list[str | Cell]] = [
            [
                a.id[:8],
                a.group,
                a.node,
                str(a.job_version) + ("*" if a.canary else ""),
                a.desired_status,
                styled(a.client_status, STATUS_STYLE),
                styled(a.health, HEALTH_STYLE),
                str(a.restarts),
                age_ns(a.create_time, now),
                "-" if a.cpu_percent is None else f"{a.cpu_percent:.1f}%",
                size(a.memory_bytes),
            ]
            for a in report.allocations
        ]
        headers = ["ALLOC", "GROUP", "NODE", "VERSION", "DESIRED", "STATUS", "HEALTH"]
        headers += ["RESTARTS", "AGE", "CPU", "MEMORY"]
        echo_table(headers, rows, color=color)
        if any(a.canary for a in report.allocations):
            click.echo("(* canary)")
    else:
        click.echo("No allocations.")
    if report.problems:
        click.echo()
        click.echo(paint("Problems:", "bad", color), color=color)
        for problem in report.problems:
            click.echo(f"  - {clean(problem)}")


def _print_deployment(dep: DeploymentInfo, color: bool) -> None:
    from nomtui.output import Cell, echo_table, paint
    from nomtui.sanitize import clean

    status = paint(clean(dep.status), STATUS_STYLE.get(dep.status), color)
    click.echo(f"Deployment {dep.id[:8]}, version {dep.job_version}: {status}", color=color)
    if dep.description:
        click.echo(f"           {clean(dep.description)}")
    rows: list[list[str | Cell]] = []
    for g in dep.groups:
        canaries = f"{g.placed_canaries}/{g.desired_canaries}"
        if g.desired_canaries:
            canaries += " promoted" if g.promoted else " waiting" if dep.needs_promotion else ""
        unhealthy = Cell(str(g.unhealthy), "bad" if g.unhealthy else None)
        rows.append(
            [
                g.name,
                canaries,
                f"{g.placed}/{g.desired_total}",
                str(g.healthy),
                unhealthy,
                g.require_progress_by or "-",
            ]
        )
    headers = ["GROUP", "CANARIES", "PLACED", "HEALTHY", "UNHEALTHY", "PROGRESS BY"]
    echo_table(headers, rows, color=color)


def register(group: click.Group) -> None:
    group.add_command(status_cmd)


__all__ = ["EXIT_PROBLEMS", "job_argument", "register", "settings_of"]
