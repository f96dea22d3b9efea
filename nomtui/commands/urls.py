"""`nomtui urls [JOB]` (nom-urls) and `nomtui app [JOB]` (nom-app)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from nomtui.commands.status import job_argument, settings_of

if TYPE_CHECKING:
    from nomtui.actions.urls import UrlRow
    from nomtui.config.model import Settings

HEALTH_STYLE = {"passing": "good", "warning": "warn", "critical": "bad"}


@click.command("urls", short_help="Every service URL with its job and health (nom-urls).")
@click.argument("job", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the URLs as JSON.")
@click.pass_context
def urls_cmd(ctx: click.Context, job: str | None, as_json: bool) -> None:
    """List every service URL (https:// tags) with its service, job and health.

    Without JOB, the URLs of the whole cluster (all namespaces unless -n pins one).
    Consul is asked when reachable (CONSUL_HTTP_ADDR; `nomtui tunnel` opens one), which
    gives health and canary URLs; otherwise the URLs come from the job specs, with a
    note on stderr.

    \b
    Exit codes:
      0  listed (possibly none)
      1  the cluster could not be read, or JOB is unknown
    """
    import asyncio

    from nomtui.output import echo_json, note

    settings = settings_of(ctx)
    job_id = job_argument(job) if job is not None else None
    rows, fallback = asyncio.run(_urls(settings, job_id))
    if fallback:
        note(fallback)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No URLs found.")
        return
    _print_rows(rows)


async def _urls(settings: Settings, job_id: str | None) -> tuple[list[UrlRow], str | None]:
    """The rows, and the note to print when they come from the job specs."""
    from nomtui.actions.lookup import consul_client, find_job, nomad_client, pinned_namespace
    from nomtui.actions.urls import urls_from_consul, urls_from_specs
    from nomtui.errors import ClusterError, NomtuiError, Unreachable

    namespace = pinned_namespace(settings.nomad.namespace)
    async with nomad_client(settings) as nomad:
        scope = await find_job(nomad, job_id, namespace) if job_id else None
        try:
            async with consul_client(settings) as consul:
                return await urls_from_consul(nomad, consul, scope, namespace), None
        except NomtuiError as exc:
            if isinstance(exc, ClusterError) and exc.service != "Consul":
                raise  # Nomad failed: that is the command's error, not a fallback.
            if isinstance(exc, Unreachable):
                why = f"Consul unreachable at {exc.address}"
            else:
                why = f"Consul could not be asked ({exc.message.rstrip('.')})"
        return await urls_from_specs(nomad, scope, namespace), f"{why}; URLs from job specs."


def _print_rows(rows: list[UrlRow]) -> None:
    from nomtui.output import Cell, echo_table

    consul = any(row.source == "consul" for row in rows)
    table: list[list[str | Cell]] = []
    for row in rows:
        cells: list[str | Cell] = [row.url + (" (canary)" if row.canary else ""), row.service]
        cells.append(f"{row.namespace}/{row.job}" if row.job else "-")
        if consul:
            health = f"{row.status} {row.passing}/{row.instances}"
            cells.append(Cell(health, HEALTH_STYLE.get(row.status)))
        table.append(cells)
    headers = ["URL", "SERVICE", "JOB"] + (["HEALTH"] if consul else [])
    echo_table(headers, table)


@click.command("app", short_help="Open the job's web app in a browser (nom-app).")
@click.argument("job", required=False)
@click.option("--print", "print_only", is_flag=True, help="Print the URL instead of opening it.")
@click.pass_context
def app_cmd(ctx: click.Context, job: str | None, print_only: bool) -> None:
    """Open JOB's web app (default: the job of this git checkout) in a browser.

    The URL is the first https:// tag of the job's services that is not a canary one.
    It is printed instead when --print is given or no browser can be started (no
    DISPLAY, e.g. over ssh).

    \b
    Exit codes:
      0  opened or printed
      1  the job is unknown, has no URL, or the cluster could not be read
    """
    import asyncio

    from nomtui.output import note

    settings = settings_of(ctx)
    job_id = job_argument(job)
    url = asyncio.run(_app_url(settings, job_id))
    if print_only or not _can_open_browser() or not _open(url):
        click.echo(url)
        return
    note(f"Opened {url}")


async def _app_url(settings: Settings, job_id: str) -> str:
    from nomtui.actions.lookup import find_job, nomad_client
    from nomtui.actions.urls import first_url
    from nomtui.errors import NomtuiError
    from nomtui.sanitize import clean

    async with nomad_client(settings) as nomad:
        stub = await find_job(nomad, job_id, settings.nomad.namespace)
        spec = await nomad.get_job(stub.ID, stub.Namespace)
    url = first_url(spec)
    if url is None:
        raise NomtuiError(
            f"job {job_id} has no https:// URL tag on its services; "
            f"`nomtui status {job_id}` shows what runs."
        )
    return clean(url)


def _can_open_browser() -> bool:
    """False where `webbrowser` would fall back to a text browser in this terminal."""
    if os.environ.get("BROWSER"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open(url: str) -> bool:
    import webbrowser

    try:
        return webbrowser.open(url)
    except webbrowser.Error:
        return False


def register(group: click.Group) -> None:
    group.add_command(urls_cmd)
    group.add_command(app_cmd)


__all__ = ["register"]
