"""`nomtui ssh [JOB] [TASK] [-- CMD...]` and `nomtui sshn N [JOB] [TASK] [-- CMD...]`.

Everything after `--` is the remote command, passed as argv (no shell re-parses it).
For the old `nom-ssh JOB TASK CMD ARGS...` habit, words after JOB and TASK are the
command too, and options nomtui does not know stay part of it (`ls -la`); an unknown
option in the place of JOB or TASK is still an error, so typos are caught.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from nomtui.commands.status import settings_of

COMMAND_KEY = "nomtui.remote_command"


class _RemoteCommand(click.Command):
    """Takes everything after the first `--` as the remote command, before click sees it
    (click would otherwise hand `--`'s words to JOB and TASK first)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta[COMMAND_KEY] = args[cut + 1 :]
            args = args[:cut]
        return super().parse_args(ctx, args)


_SETTINGS: dict[str, Any] = {"ignore_unknown_options": True}


def _options(func: Any) -> Any:
    func = click.argument(
        "words", nargs=-1, type=click.UNPROCESSED, metavar="[JOB] [TASK] [-- CMD...]"
    )(func)
    func = click.option(
        "--tty/--no-tty",
        default=None,
        help="Ask for a remote terminal (default: when stdin and stdout are terminals).",
    )(func)
    return func


@click.command(
    "ssh",
    cls=_RemoteCommand,
    context_settings=_SETTINGS,
    short_help="A shell (or CMD) in a job's running task.",
)
@click.option(
    "--alloc",
    "alloc_index",
    type=click.IntRange(min=1),
    metavar="N",
    help="The Nth running allocation (1-based, newest first); default: the first.",
)
@_options
@click.pass_context
def ssh_cmd(
    ctx: click.Context, alloc_index: int | None, tty: bool | None, words: tuple[str, ...]
) -> None:
    """A shell in TASK (default http) of JOB's running allocation, or CMD when given.

    JOB defaults to the job of this git checkout. The shell is zsh, else bash, else sh,
    whichever exists in the task. With stdin and stdout on a terminal the session is
    interactive (raw mode, window size followed); with pipes it runs the command
    non-interactively. Exits with the remote command's exit code.

    CMD goes after -- and reaches the task as argv, untouched by any shell here.
    """
    _run(ctx, alloc_index, tty, words)


@click.command(
    "sshn",
    cls=_RemoteCommand,
    context_settings=_SETTINGS,
    short_help="A shell (or CMD) in the job's Nth allocation.",
)
@click.argument("n", type=click.IntRange(min=1))
@_options
@click.pass_context
def sshn_cmd(ctx: click.Context, n: int, tty: bool | None, words: tuple[str, ...]) -> None:
    """A shell (or CMD) in the Nth running allocation of JOB, newest first: the same as
    `nomtui ssh --alloc N`.

    Unlike the old alias, JOB is the one given here or derived from the checkout,
    never a leftover from an earlier command.
    """
    _run(ctx, n, tty, words)


def _run(
    ctx: click.Context, alloc_index: int | None, tty: bool | None, words: tuple[str, ...]
) -> None:
    import asyncio

    from nomtui.actions.lookup import cluster_label, resolve_job
    from nomtui.actions.ssh import SshRequest, exit_status, ssh
    from nomtui.errors import ReadOnlyRefused

    for word in words[:2]:
        if word.startswith("-"):
            raise click.UsageError(f"No such option: {word}", ctx)
    job_arg = words[0] if words else None
    task = words[1] if len(words) > 1 else "http"
    command = list(words[2:])
    if COMMAND_KEY in ctx.meta:
        if command:
            raise click.UsageError(f"Got extra arguments before --: {' '.join(command)}", ctx)
        command = list(ctx.meta[COMMAND_KEY])
    settings = settings_of(ctx)
    job_id = resolve_job(job_arg, Path.cwd(), os.environ)
    if settings.read_only:
        # A shell can change anything in the allocation.
        raise ReadOnlyRefused(f"open a shell in job {job_id}", cluster_label(settings))
    request = SshRequest(job_id, task, command, alloc_index, tty)
    try:
        code = asyncio.run(ssh(settings, request, announce=_announce))
    except KeyboardInterrupt:
        # Only without a TTY can Ctrl-C reach us (a TTY sends it to the remote side).
        raise click.exceptions.Exit(130) from None
    raise click.exceptions.Exit(exit_status(code))


def _announce(line: str) -> None:
    from nomtui.output import note

    note(line)


def register(group: click.Group) -> None:
    group.add_command(ssh_cmd)
    group.add_command(sshn_cmd)


__all__ = ["register"]
