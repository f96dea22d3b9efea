"""`nomtui resubmit [JOB]` (nom-resubmit): register the job's current spec again."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from nomtui.commands.status import job_argument, settings_of

if TYPE_CHECKING:
    from nomtui.actions.resubmit import ResubmitResult
    from nomtui.config.model import Settings
    from nomtui.models.jobs import JobStub


@click.command("resubmit", short_help="Register the job's current spec again (nom-resubmit).")
@click.argument("job", required=False)
@click.option(
    "--stop-first",
    is_flag=True,
    help="Stop the job and wait for its allocations to go before registering it again "
    "(the old alias's behaviour: downtime, but allocations may move to other nodes).",
)
@click.option("-y", "--yes", is_flag=True, help="Do not ask before --stop-first stops the job.")
@click.option(
    "--stop-wait",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="With --stop-first, how long to wait for the allocations to stop.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def resubmit_cmd(
    ctx: click.Context,
    job: str | None,
    stop_first: bool,
    yes: bool,
    stop_wait: float,
    as_json: bool,
) -> None:
    """Fetch JOB's spec from the cluster (default: the job of this git checkout) and
    register it again as it is, so Nomad evaluates it afresh: failed allocations are
    placed again and a dead or stopped job runs again. Running allocations stay up.

    Nothing is written to the current directory. With --stop-first the job is stopped
    first; that asks for confirmation on a terminal (typing the job name on a
    production cluster) and needs --yes elsewhere.

    \b
    Exit codes:
      0  registered; the evaluation ID is printed
      1  refused (read-only cluster, no confirmation) or failed (unknown job, ...)
    """
    import asyncio

    from nomtui.actions.lookup import cluster_label
    from nomtui.errors import ReadOnlyRefused

    settings = settings_of(ctx)
    job_id = job_argument(job)
    if settings.read_only:
        # Before any request: a read-only cluster never sees even the lookup for a write.
        raise ReadOnlyRefused(f"resubmit job {job_id}", cluster_label(settings))
    if stop_first and not yes and not _interactive():
        from nomtui.errors import ConfigError

        raise ConfigError(
            f"--stop-first stops job {job_id} and there is no terminal to confirm it on; "
            "add --yes to go ahead."
        )
    stub = asyncio.run(_find(settings, job_id))
    if stop_first and not yes:
        _confirm(settings, stub)
    result = asyncio.run(_resubmit(settings, stub, stop_first, stop_wait))
    _report(result, as_json)


async def _find(settings: Settings, job_id: str) -> JobStub:
    from nomtui.actions.lookup import find_job, nomad_client

    async with nomad_client(settings) as nomad:
        return await find_job(nomad, job_id, settings.nomad.namespace)


async def _resubmit(
    settings: Settings, stub: JobStub, stop_first: bool, stop_wait: float
) -> ResubmitResult:
    from nomtui.actions.lookup import nomad_client
    from nomtui.actions.resubmit import resubmit

    async with nomad_client(settings) as nomad:
        return await resubmit(
            nomad, stub.ID, stub.Namespace, stop_first=stop_first, stop_wait_s=stop_wait
        )


def _interactive() -> bool:
    """Whether a person can answer a question (stdin is a terminal)."""
    return sys.stdin.isatty()


def _confirm(settings: Settings, stub: JobStub) -> None:
    from nomtui.actions.lookup import cluster_label
    from nomtui.sanitize import clean

    name = clean(stub.ID)
    where = f"namespace {stub.Namespace} on {cluster_label(settings)}"
    question = f"Stop job {name} ({where}) before registering it again? It is down meanwhile"
    if settings.production:
        typed = click.prompt(f"{question}. Type the job name to go ahead", default="")
        if typed.strip() != stub.ID:
            raise click.Abort()
    else:
        click.confirm(question, abort=True)


def _report(result: ResubmitResult, as_json: bool) -> None:
    from nomtui.output import echo_json, note

    if result.warnings:
        note(f"Nomad warned: {result.warnings}")
    if result.stopped_first and not result.stop_settled:
        note("Some allocations were still stopping when the job was registered again.")
    if as_json:
        echo_json(result)
        return
    from nomtui.sanitize import clean

    job = f"{clean(result.job)} (namespace {result.namespace})"
    if result.stopped_first:
        click.echo(f"Stopped job {job}: evaluation {result.stop_eval_id}")
    again = " (it had been stopped; it runs again)" if result.was_stopped else ""
    click.echo(f"Resubmitted job {job}{again}: evaluation {result.eval_id}")


def register(group: click.Group) -> None:
    group.add_command(resubmit_cmd)


__all__ = ["register"]
