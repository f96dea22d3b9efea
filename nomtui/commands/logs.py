"""`nomtui logs [JOB]`: a task's stdout/stderr (nom-logs, nom-logs-err), followed with -f."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from nomtui.commands.status import job_argument, settings_of

if TYPE_CHECKING:
    from nomtui.actions.logs import LogSource, StreamName
    from nomtui.config.model import Settings


@click.command("logs", short_help="A task's logs (stdout, stderr or both), followed with -f.")
@click.argument("job", required=False)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines as they come.")
@click.option("--stderr", "which", flag_value="stderr", help="Show stderr instead of stdout.")
@click.option("--both", "which", flag_value="both", help="stdout to stdout, stderr to stderr.")
@click.option("--task", default="http", show_default=True, help="The task whose logs to show.")
@click.option(
    "--alloc",
    "alloc_index",
    type=click.IntRange(min=1),
    metavar="N",
    help="The Nth running allocation (1-based, newest first).",
)
@click.option(
    "--all",
    "all_allocs",
    is_flag=True,
    help="Every running allocation, each line prefixed with its ID.",
)
@click.option(
    "--tail",
    "tail_lines",
    type=click.IntRange(min=0),
    metavar="N",
    help="Start with the last N lines instead of the whole log.",
)
@click.option("--raw", is_flag=True, help="Do not remove terminal control sequences.")
@click.pass_context
def logs_cmd(
    ctx: click.Context,
    job: str | None,
    follow: bool,
    which: str | None,
    task: str,
    alloc_index: int | None,
    all_allocs: bool,
    tail_lines: int | None,
    raw: bool,
) -> None:
    """Print the logs of TASK in JOB's running allocation (JOB defaults to the job of
    this git checkout). Ctrl-C stops following and exits 0.

    A dropped connection is resumed exactly where it stopped: no line is lost or printed
    twice (unless the agent rotated it away meanwhile). Lines are printed whole, as soon
    as they are complete, with control sequences removed unless --raw. With --both,
    stderr lines go to stderr.
    """
    import asyncio

    from nomtui.errors import ConfigError

    if alloc_index is not None and all_allocs:
        raise ConfigError("--alloc and --all exclude each other; pick one.")
    choice: dict[str | None, list[StreamName]] = {
        "both": ["stdout", "stderr"],
        "stderr": ["stderr"],
    }
    streams = choice.get(which) or ["stdout"]
    settings = settings_of(ctx)
    job_id = job_argument(job)
    out = _Output(split=which == "both")
    try:
        asyncio.run(
            _logs(
                settings,
                job_id,
                task,
                streams,
                alloc_index,
                all_allocs,
                follow,
                tail_lines,
                raw,
                out,
            )
        )
    except KeyboardInterrupt:
        # Ctrl-C is how following ends: a normal exit, not a failure.
        raise click.exceptions.Exit(0) from None
    except BrokenPipeError:
        out.broken()  # `nomtui logs -f | head`: the reader has seen enough


async def _logs(
    settings: Settings,
    job_id: str,
    task: str,
    streams: list[StreamName],
    alloc_index: int | None,
    all_allocs: bool,
    follow: bool,
    tail_lines: int | None,
    raw: bool,
    out: _Output,
) -> None:
    from nomtui.actions.logs import print_logs
    from nomtui.actions.lookup import (
        NoRunningAllocation,
        find_job,
        nomad_client,
        pick_alloc,
        running_allocs,
    )
    from nomtui.actions.ssh import require_task

    async with nomad_client(settings) as nomad:
        stub = await find_job(nomad, job_id, settings.nomad.namespace)
        allocs = await running_allocs(nomad, stub.ID, stub.Namespace)
        if all_allocs:
            if not allocs:
                raise NoRunningAllocation(stub.ID)
            chosen = allocs
        else:
            chosen = [pick_alloc(allocs, alloc_index, stub.ID)]
        for alloc in chosen:
            require_task(alloc, task)
        sources = _sources([a.ID for a in chosen], task, streams, prefixed=all_allocs)
        await print_logs(
            nomad.http,
            sources,
            out.write,
            follow=follow,
            tail_lines=tail_lines,
            raw=raw,
            notify=_note,
        )


def _sources(
    alloc_ids: list[str], task: str, streams: list[StreamName], *, prefixed: bool
) -> list[LogSource]:
    from nomtui.actions.logs import LogSource

    return [
        LogSource(alloc_id, task, stream, f"[{alloc_id[:8]}] ".encode() if prefixed else b"")
        for alloc_id in alloc_ids
        for stream in streams
    ]


def _note(message: str) -> None:
    from nomtui.output import note

    note(f"nomtui: {message}")


class _Output:
    """stdout (and stderr, for --both) as byte streams, flushed after every write: whole
    lines reach the reader at once (line-buffered) without a system call per line."""

    def __init__(self, *, split: bool) -> None:
        self.split = split

    def write(self, stream: StreamName, data: bytes) -> None:
        target = sys.stderr if self.split and stream == "stderr" else sys.stdout
        target.buffer.write(data)
        target.buffer.flush()

    def broken(self) -> None:
        # Python flushes stdout once more at exit and would complain about the closed
        # pipe; pointing it at /dev/null lets the process end quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            return  # no real descriptor behind stdout (an in-process test runner)


def register(group: click.Group) -> None:
    group.add_command(logs_cmd)


__all__ = ["register"]
