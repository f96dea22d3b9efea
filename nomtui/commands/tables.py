"""Plain listings: `nomtui jobs`, `allocs`, `nodes`, `services`, and `job-to-alloc`.

Each prints an aligned table, or with --json the API objects themselves (Nomad's field
names), so scripts get everything and humans get the columns that matter.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from nomtui.commands.status import HEALTH_STYLE, STATUS_STYLE, job_argument, settings_of

if TYPE_CHECKING:
    from nomtui.config.model import Settings
    from nomtui.models.allocs import AllocStub
    from nomtui.models.jobs import JobStub

_JSON = click.option("--json", "as_json", is_flag=True, help="Print the objects as JSON.")
_EXIT_CODES = """

\b
Exit codes:
  0  listed (possibly nothing)
  1  the cluster could not be read"""


def _with_exit_codes(text: str) -> str:
    return text + _EXIT_CODES


# -- jobs ---------------------------------------------------------------------------------


@click.command("jobs", help=_with_exit_codes("List jobs: type, status and allocation counts."))
@click.option("-n", "--namespace", help="Only this namespace (`*` for all; default: all).")
@_JSON
@click.pass_context
def jobs_cmd(ctx: click.Context, namespace: str | None, as_json: bool) -> None:
    import asyncio

    from nomtui.actions.lookup import ALL_NAMESPACES, nomad_client
    from nomtui.output import Cell, age_ns, echo_json, echo_table

    settings = settings_of(ctx)
    wanted = namespace or settings.nomad.namespace or ALL_NAMESPACES

    async def fetch() -> list[JobStub]:
        async with nomad_client(settings) as nomad:
            return await nomad.list_jobs(wanted)

    jobs = asyncio.run(fetch())
    if as_json:
        echo_json(jobs)
        return
    if not jobs:
        click.echo("No jobs.")
        return
    now = time.time()
    rows: list[list[str | Cell]] = []
    for job in jobs:
        counts = job.allocs
        status = "stopped" if job.Stop else job.Status
        rows.append(
            [
                job.ID,
                job.Namespace,
                job.kind,
                Cell(status, "dim" if job.Stop else STATUS_STYLE.get(status)),
                f"{counts.running}/{counts.pending}/{counts.failed}",
                age_ns(job.SubmitTime, now),
            ]
        )
    echo_table(["ID", "NAMESPACE", "TYPE", "STATUS", "RUN/PEND/FAIL", "SUBMITTED"], rows)


# -- allocations --------------------------------------------------------------------------


@click.command(
    "allocs",
    short_help="List allocations of the job (or of the cluster).",
    help=_with_exit_codes(
        "List the allocations of JOB (default: the job of this git checkout; outside a "
        "checkout, every allocation). Stopped and completed ones only with --all."
    ),
)
@click.argument("job", required=False)
@click.option("--all", "show_all", is_flag=True, help="Include stopped and completed ones.")
@_JSON
@click.pass_context
def allocs_cmd(ctx: click.Context, job: str | None, show_all: bool, as_json: bool) -> None:
    import asyncio

    from nomtui.errors import ConfigError
    from nomtui.output import echo_json

    settings = settings_of(ctx)
    try:
        job_id: str | None = job_argument(job)
    except ConfigError:
        if job is not None:
            raise
        job_id = None  # not in a checkout: the whole cluster, as `nomad alloc status`.
    allocs = asyncio.run(_allocs(settings, job_id))
    if not show_all:
        allocs = [a for a in allocs if _current(a)]
    if as_json:
        echo_json(allocs)
        return
    if not allocs:
        click.echo("No allocations." if show_all else "No current allocations (--all shows all).")
        return
    _print_allocs(allocs, with_job=job_id is None)


def _current(alloc: AllocStub) -> bool:
    """Live, or meant to run but broken: what `--all` adds to is history."""
    if alloc.DesiredStatus != "run":
        return False
    return not alloc.is_terminal or alloc.ClientStatus in ("failed", "lost")


async def _allocs(settings: Settings, job_id: str | None) -> list[AllocStub]:
    from nomtui.actions.lookup import ALL_NAMESPACES, find_job, nomad_client

    async with nomad_client(settings) as nomad:
        if job_id is None:
            return await nomad.list_allocations(settings.nomad.namespace or ALL_NAMESPACES)
        stub = await find_job(nomad, job_id, settings.nomad.namespace)
        return await nomad.job_allocations(stub.ID, stub.Namespace)


def _print_allocs(allocs: list[AllocStub], *, with_job: bool) -> None:
    from nomtui.output import Cell, age_ns, echo_table

    now = time.time()
    rows: list[list[str | Cell]] = []
    for a in allocs:
        health = {True: "healthy", False: "unhealthy", None: "-"}[a.healthy]
        row: list[str | Cell] = [a.ID[:8]]
        if with_job:
            row.append(f"{a.Namespace}/{a.JobID}")
        row += [
            a.TaskGroup,
            a.NodeName or a.NodeID[:8],
            str(a.JobVersion) + ("*" if a.is_canary else ""),
            a.DesiredStatus,
            Cell(a.ClientStatus, STATUS_STYLE.get(a.ClientStatus)),
            Cell(health, HEALTH_STYLE.get(health)),
            str(a.restarts),
            age_ns(a.CreateTime, now),
        ]
        rows.append(row)
    headers = ["ID"] + (["JOB"] if with_job else [])
    headers += ["GROUP", "NODE", "VERSION", "DESIRED", "STATUS", "HEALTH", "RESTARTS", "AGE"]
    echo_table(headers, rows)


# -- nodes --------------------------------------------------------------------------------


@click.command("nodes", help=_with_exit_codes("List the client nodes: status, eligibility, drain."))
@_JSON
@click.pass_context
def nodes_cmd(ctx: click.Context, as_json: bool) -> None:
    import asyncio

    from nomtui.actions.lookup import nomad_client
    from nomtui.models.nodes import NodeStub
    from nomtui.output import Cell, echo_json, echo_table

    settings = settings_of(ctx)

    async def fetch() -> list[NodeStub]:
        async with nomad_client(settings) as nomad:
            return await nomad.list_nodes()

    nodes = asyncio.run(fetch())
    if as_json:
        echo_json(nodes)
        return
    if not nodes:
        click.echo("No nodes.")
        return
    rows: list[list[str | Cell]] = []
    for n in nodes:
        eligible = n.SchedulingEligibility or "-"
        rows.append(
            [
                n.Name,
                n.ID[:8],
                n.Datacenter,
                n.NodePool or "-",
                n.Address or "-",
                Cell(n.Status, {"ready": "good", "down": "bad"}.get(n.Status, "warn")),
                Cell(eligible, None if eligible == "eligible" else "warn"),
                Cell("draining", "warn") if n.Drain else "-",
                n.Version or "-",
            ]
        )
    headers = ["NAME", "ID", "DC", "POOL", "ADDRESS", "STATUS", "ELIGIBILITY", "DRAIN", "VERSION"]
    echo_table(headers, rows)


# -- Consul services ----------------------------------------------------------------------


@click.command(
    "services",
    short_help="Consul's services, their tags and instances by health.",
    help=_with_exit_codes(
        "List Consul's services with their tags and instances by health "
        "(maintenance counts as critical). Needs Consul (CONSUL_HTTP_ADDR)."
    ),
)
@_JSON
@click.pass_context
def services_cmd(ctx: click.Context, as_json: bool) -> None:
    import asyncio

    from nomtui.actions.lookup import consul_client
    from nomtui.actions.urls import ServiceSummary, service_summaries
    from nomtui.output import Cell, echo_json, echo_table

    settings = settings_of(ctx)

    async def fetch() -> list[ServiceSummary]:
        async with consul_client(settings) as consul:
            return await service_summaries(consul)

    services = asyncio.run(fetch())
    if as_json:
        echo_json(services)
        return
    if not services:
        click.echo("No services.")
        return
    rows: list[list[str | Cell]] = [
        [
            s.name,
            str(s.instances),
            Cell(str(s.passing), "good" if s.passing else None),
            Cell(str(s.warning), "warn" if s.warning else None),
            Cell(str(s.critical), "bad" if s.critical else None),
            ",".join(s.tags) or "-",
        ]
        for s in services
    ]
    echo_table(["NAME", "INSTANCES", "PASSING", "WARNING", "CRITICAL", "TAGS"], rows)


# -- job-to-alloc -------------------------------------------------------------------------


@click.command("job-to-alloc", short_help="The ID of a running allocation of the job.")
@click.argument("job", required=False)
@click.option("--all", "show_all", is_flag=True, help="Every running allocation, one a line.")
@_JSON
@click.pass_context
def job_to_alloc_cmd(ctx: click.Context, job: str | None, show_all: bool, as_json: bool) -> None:
    """Print the ID of a running allocation of JOB (default: the job of this git
    checkout): the newest, or with --all every one, newest first.

    \b
    Exit codes:
      0  printed
      1  the job is unknown, has no running allocation, or the cluster could not be read
    """
    import asyncio

    from nomtui.actions.lookup import find_job, nomad_client, pick_alloc, running_allocs
    from nomtui.output import echo_json

    settings = settings_of(ctx)
    job_id = job_argument(job)

    async def fetch() -> list[AllocStub]:
        async with nomad_client(settings) as nomad:
            stub = await find_job(nomad, job_id, settings.nomad.namespace)
            return await running_allocs(nomad, stub.ID, stub.Namespace)

    running = asyncio.run(fetch())
    chosen = running if show_all else [pick_alloc(running, None, job_id)]
    if not chosen:
        pick_alloc(chosen, None, job_id)  # raises NoRunningAllocation
    if as_json:
        echo_json(chosen)
        return
    for alloc in chosen:
        click.echo(alloc.ID)


def register(group: click.Group) -> None:
    for command in (jobs_cmd, allocs_cmd, nodes_cmd, services_cmd, job_to_alloc_cmd):
        group.add_command(command)


__all__ = ["register"]
