"""`nomtui check` (nom-deploys-check, nom-deploys-check-only): deploy problems, read-only."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import click

from nomtui.commands.status import settings_of

if TYPE_CHECKING:
    from nomtui.actions.check import CheckReport
    from nomtui.config.model import Settings

EXIT_PROBLEMS = 2
DETAIL_WIDTH = 100


@click.command("check", short_help="Read-only check of every job's deploys (nom-deploys-check).")
@click.option(
    "--only",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[REGEX]",
    help="Only jobs whose ID matches REGEX (searched anywhere in the ID). Bare --only "
    "checks every job, for nom-deploys-check-only.",
)
@click.option(
    "--pending-after",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="MINUTES",
    help="An allocation pending longer than this counts as stuck.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def check_cmd(ctx: click.Context, only: str | None, pending_after: float, as_json: bool) -> None:
    """Check every job's deploys and say what is wrong; never changes anything.

    Problems: a failed latest deployment or one past its progress deadline; a slot
    whose newest allocation failed, was lost, is restarting or has been pending too
    long; a critical Consul check on a live allocation (skipped, with a note, when
    Consul cannot be asked); allocations queued or evaluations blocked for lack of
    room; a service job that is dead but was not stopped. Canaries waiting for a
    manual promotion are a warning. Stopped jobs are skipped.

    Unlike the old alias, no garbage collection is run: it would erase the failed
    allocations and deployments that explain a problem. Only GET requests are sent.

    \b
    Exit codes:
      0  no problems (warnings may be listed)
      1  the check could not run (cluster unreachable, no access, bad --only)
      2  problems were found
    """
    import asyncio

    from nomtui.actions.check import job_filter
    from nomtui.errors import ConfigError
    from nomtui.output import note

    try:
        pattern = job_filter(only)
    except re.error as exc:
        raise ConfigError(f"--only {only} is not a valid regular expression ({exc}).") from None
    settings = settings_of(ctx)
    report, consul_note = asyncio.run(_check(settings, pattern, pending_after * 60))
    if consul_note:
        note(consul_note)
    if pattern is not None and report.jobs_checked == 0:
        from nomtui.errors import NomtuiError

        raise NomtuiError(
            f"no job to check matches --only {only}; `nomtui jobs` lists them "
            "(stopped jobs are skipped)."
        )
    if as_json:
        from nomtui.output import echo_json

        echo_json(report)
    else:
        _print_report(report)
    if report.problems:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


async def _check(
    settings: Settings, pattern: re.Pattern[str] | None, pending_s: float
) -> tuple[CheckReport, str | None]:
    from datetime import UTC, datetime

    from nomtui.actions.check import evaluate, fetch_view
    from nomtui.actions.lookup import ALL_NAMESPACES, consul_client, nomad_client
    from nomtui.errors import ConfigError

    namespace = settings.nomad.namespace or ALL_NAMESPACES
    async with nomad_client(settings) as nomad:
        try:
            consul = consul_client(settings)
        except ConfigError as exc:
            view, _ = await fetch_view(nomad, None, namespace)
            return evaluate(view, datetime.now(UTC), pattern, pending_s), (
                f"Consul checks skipped: {exc.message}"
            )
        async with consul:
            view, consul_note = await fetch_view(nomad, consul, namespace)
    return evaluate(view, datetime.now(UTC), pattern, pending_s), consul_note


def _print_report(report: CheckReport) -> None:
    from nomtui.actions.check import PROBLEM
    from nomtui.output import Cell, color_enabled, echo_table, paint, shorten

    color = color_enabled()
    jobs = f"{report.jobs_checked} job{'s' if report.jobs_checked != 1 else ''}"
    if not report.findings:
        click.echo(paint(f"No problems in {jobs}.", "good", color), color=color)
        return
    rows: list[list[str | Cell]] = [
        [
            Cell(f.severity, "bad" if f.severity == PROBLEM else "warn"),
            f.job,
            f.namespace,
            f.kind,
            f.alloc_id[:8] or f.deployment_id[:8] or "-",
            shorten(f.detail, DETAIL_WIDTH),
        ]
        for f in report.findings
    ]
    echo_table(["SEVERITY", "JOB", "NAMESPACE", "KIND", "ID", "DETAIL"], rows, color=color)
    click.echo()
    summary = f"{report.problems} problem{'s' if report.problems != 1 else ''}"
    summary += f", {report.warnings} warning{'s' if report.warnings != 1 else ''} in {jobs}."
    click.echo(paint(summary, "bad" if report.problems else "warn", color), color=color)


def register(group: click.Group) -> None:
    group.add_command(check_cmd)


__all__ = ["register"]
