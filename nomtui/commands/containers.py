"""`nomtui containers` (the IA alias `d`) and `nomtui overview` (the IA alias `nom`)."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import click

from nomtui.commands.status import STATUS_STYLE, settings_of

if TYPE_CHECKING:
    from nomtui.actions.containers import ContainerRow
    from nomtui.actions.overview import JobRow, MemberRow, Overview
    from nomtui.config.model import Settings
    from nomtui.output import Cell

_JSON = click.option("--json", "as_json", is_flag=True, help="Print the data as JSON.")
STATE_STYLE = {
    "running": "good",
    "restarting": "warn",
    "paused": "warn",
    "created": "dim",
    "exited": "dim",
    "dead": "bad",
}
RULE = "_" * 100
"""What the IA aliases printed between sections (their `line`)."""


# -- containers -----------------------------------------------------------------------


@click.command("containers", short_help="Docker containers here, mapped to Nomad allocations.")
@click.option("-a", "--all", "show_all", is_flag=True, help="Stopped containers too.")
@_JSON
@click.pass_context
def containers_cmd(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """List the Docker containers of this machine (running ones; --all for every one),
    grouped by state, each with the Nomad job, group, task and allocation it belongs to.

    The engine is the one DOCKER_HOST names: the local socket by default, tcp://HOST:PORT,
    or ssh://[USER@]NODE (forwarded with the system ssh). When Nomad answers, each
    allocation's status and job version are added; when it does not, a note says so.

    \b
    Exit codes:
      0  listed (possibly nothing)
      1  no Docker engine could be reached or read
    """
    import asyncio

    from nomtui.output import echo_json, note

    rows, nomad_note = asyncio.run(_containers(ctx, show_all))
    if nomad_note:
        note(nomad_note)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No containers." if show_all else "No running containers (--all shows all).")
        return
    print_containers(rows)


async def _containers(ctx: click.Context, show_all: bool) -> tuple[list[ContainerRow], str | None]:
    from nomtui.actions.containers import list_containers
    from nomtui.actions.docker_host import docker_engine

    async with docker_engine(os.environ) as docker:
        rows = await list_containers(docker, all=show_all)
    return rows, await _enrich(ctx, rows)


async def _enrich(ctx: click.Context, rows: list[ContainerRow]) -> str | None:
    """Add Nomad's view; a note (not an error) when Nomad cannot be asked."""
    from nomtui.actions.containers import enrich
    from nomtui.actions.lookup import nomad_client
    from nomtui.errors import NomtuiError

    if not any(r.alloc_id for r in rows):
        return None
    try:
        async with nomad_client(settings_of(ctx)) as nomad:
            await enrich(nomad, rows)
    except NomtuiError as exc:
        return f"note: without Nomad's allocation status: {exc}"
    return None


def print_containers(rows: list[ContainerRow]) -> None:
    from nomtui.output import Cell, echo_table

    table: list[list[str | Cell]] = []
    for r in rows:
        nomad = "-"
        if r.alloc_status is not None:
            nomad = f"{r.alloc_status} v{r.job_version}"
        table.append(
            [
                r.name,
                r.image,
                Cell(r.status, STATE_STYLE.get(r.state)),
                r.job or "-",
                r.group or "-",
                r.task or "-",
                r.alloc_id[:8] if r.alloc_id else "-",
                Cell(nomad, STATUS_STYLE.get(r.alloc_status or "")),
                ports_text(r.ports),
            ]
        )
    headers = ["CONTAINER", "IMAGE", "STATUS", "JOB", "GROUP", "TASK", "ALLOC", "NOMAD", "PORTS"]
    echo_table(headers, table)


def ports_text(ports: list[str]) -> str:
    """`docker ps` ports, a TCP+UDP pair of one mapping (Nomad binds both) on one entry."""
    by_mapping: dict[str, list[str]] = {}
    for port in ports:
        mapping, _, proto = port.rpartition("/")
        by_mapping.setdefault(mapping, []).append(proto)
    return ", ".join(f"{m}/{'+'.join(protos)}" for m, protos in by_mapping.items()) or "-"


# -- overview -------------------------------------------------------------------------


@click.command("overview", short_help="Containers, servers and jobs: a node at a glance.")
@_JSON
@click.pass_context
def overview_cmd(ctx: click.Context, as_json: bool) -> None:
    """What the IA alias `nom` showed when ssh-ed into a node: the containers of this
    machine (every state), then the Nomad servers (as `nomad server members`), then
    the jobs (as `nomad status`). No Docker engine here is a line, not an error.

    \b
    Exit codes:
      0  shown
      1  Nomad could not be read (unreachable, no access)
    """
    import asyncio

    from nomtui.output import echo_json

    data = asyncio.run(_overview(settings_of(ctx)))
    if as_json:
        echo_json(data)
        return
    _print_overview(data)


async def _overview(settings: Settings) -> Overview:
    from nomtui.actions.containers import enrich, list_containers
    from nomtui.actions.docker_host import docker_engine
    from nomtui.actions.lookup import ALL_NAMESPACES, nomad_client
    from nomtui.actions.overview import Overview, cluster_sections
    from nomtui.client.docker import parse_host
    from nomtui.errors import ConfigError, NomtuiError

    try:
        address = parse_host(os.environ.get("DOCKER_HOST")).url
    except ConfigError:
        address = os.environ.get("DOCKER_HOST", "")
    rows: list[ContainerRow] = []
    docker_error: str | None = None
    try:
        async with docker_engine(os.environ) as docker:
            rows = await list_containers(docker, all=True)
    except NomtuiError as exc:
        docker_error = str(exc)
    async with nomad_client(settings) as nomad:
        members, jobs = await cluster_sections(nomad, settings.nomad.namespace or ALL_NAMESPACES)
        if any(r.alloc_id for r in rows):
            await enrich(nomad, rows)
    return Overview(
        docker=address,
        docker_error=docker_error,
        containers=rows,
        members=members,
        jobs=jobs,
    )


def _print_overview(data: Overview) -> None:
    from nomtui.sanitize import clean

    click.echo(f"Containers (Docker at {clean(data.docker)})")
    if data.docker_error is not None:
        click.echo(clean(data.docker_error))
    elif data.containers:
        print_containers(data.containers)
    else:
        click.echo("No containers.")
    click.echo(RULE + "\n")
    click.echo("Servers")
    _print_members(data.members)
    click.echo(RULE + "\n")
    click.echo("Jobs")
    _print_jobs(data.jobs)


def _print_members(members: list[MemberRow]) -> None:
    from nomtui.output import Cell, echo_table

    if not members:
        click.echo("No servers.")
        return
    rows: list[list[str | Cell]] = [
        [
            m.name,
            m.address,
            str(m.port),
            Cell(m.status, {"alive": "good", "failed": "bad"}.get(m.status, "warn")),
            Cell("true", "good") if m.leader else "false",
            m.raft_version or "-",
            m.build or "-",
            m.datacenter or "-",
            m.region or "-",
        ]
        for m in members
    ]
    headers = ["NAME", "ADDRESS", "PORT", "STATUS", "LEADER", "RAFT VERSION", "BUILD", "DC"]
    echo_table([*headers, "REGION"], rows)


def _print_jobs(jobs: list[JobRow]) -> None:
    from nomtui.output import Cell, echo_table

    if not jobs:
        click.echo("No running jobs")  # nomad status's own words
        return
    several = len({j.namespace for j in jobs}) > 1
    rows: list[list[str | Cell]] = []
    for j in jobs:
        row: list[str | Cell] = [j.id]
        if several:
            row.append(j.namespace)
        row += [j.type, str(j.priority), Cell(j.status, STATUS_STYLE.get(j.status)), _date(j)]
        rows.append(row)
    headers = ["ID", *(["NAMESPACE"] if several else []), "TYPE", "PRIORITY", "STATUS"]
    echo_table([*headers, "SUBMIT DATE"], rows)


def _date(job: JobRow) -> str:
    if not job.submit_time:
        return "-"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(job.submit_time / 1e9))


def register(group: click.Group) -> None:
    group.add_command(containers_cmd)
    group.add_command(overview_cmd)


__all__ = ["ports_text", "print_containers", "register"]
