"""`nomtui ssh`: a shell (or one command) in a job's allocation, from a terminal or a pipe.

The one-shot wrapper around `nomtui.actions.shell`, which owns the terminal bridge (raw
mode, window size as `tty_size`, heartbeats, the remote exit code). This part decides
which allocation and task, and whether there is a terminal at all:

- a TTY is used only when both stdin and stdout are terminals, as ssh does: with
  `nomtui ssh JOB -- cat f > copy` the remote side must not turn `\\n` into `\\r\\n`;
- output goes to this process' own stdout and stderr, never to wherever the TUI draws,
  so redirections work.

Unlike the old `nom-sshn`, which read whatever `$JOB` an earlier alias had left in the
shell, the job is always the one given or derived from the checkout here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nomtui.actions.lookup import find_job, nomad_client, pick_alloc, running_allocs
from nomtui.config.model import Settings
from nomtui.errors import ConfigError
from nomtui.models.allocs import AllocStub


@dataclass(frozen=True)
class SshRequest:
    job_id: str
    task: str = "http"
    command: Sequence[str] = ()
    """Empty: the task's best shell (zsh, else bash, else sh)."""
    alloc_index: int | None = None
    """1-based, among running allocations newest first; None: the first."""
    tty: bool | None = None
    """None: a TTY when stdin and stdout are both terminals."""


class UnknownTask(ConfigError):
    title = "No such task"

    def __init__(self, alloc: AllocStub, task: str) -> None:
        tasks = ", ".join(sorted(alloc.TaskStates or {}))
        super().__init__(
            f"Allocation {alloc.short_id} of job {alloc.JobID} has no task {task}; "
            f"its tasks are {tasks}."
        )


def require_task(alloc: AllocStub, task: str) -> None:
    """Raise UnknownTask when the allocation's stub lists its tasks and `task` is not one
    (the agent's own answer, "task not found", does not say which tasks there are)."""
    if alloc.TaskStates and task not in alloc.TaskStates:
        raise UnknownTask(alloc, task)


def wants_tty(requested: bool | None, stdin_fd: int = 0, stdout_fd: int = 1) -> bool:
    """Whether to ask for a remote TTY. Raises ConfigError for `--tty` without one here."""
    if requested is None:
        return os.isatty(stdin_fd) and os.isatty(stdout_fd)
    if requested and not os.isatty(stdin_fd):
        raise ConfigError("--tty needs a terminal on stdin; leave it out when piping input.")
    return requested


async def ssh(
    settings: Settings,
    request: SshRequest,
    *,
    announce: Callable[[str], None] | None = None,
    stdin_fd: int = 0,
    stdout_fd: int = 1,
) -> int:
    """Run the session; the remote command's exit code.

    `announce` receives the equivalent `nomad alloc exec` command line before an
    interactive session starts (the old alias printed it too).
    """
    # The terminal bridge (and websockets) only now: `require_task` callers skip them.
    from nomtui.actions.shell import TtyBridge, detect_shell, exec_command_line, run_shell

    tty = wants_tty(request.tty, stdin_fd, stdout_fd)
    async with nomad_client(settings) as nomad:
        stub = await find_job(nomad, request.job_id, settings.nomad.namespace)
        allocs = await running_allocs(nomad, stub.ID, stub.Namespace)
        alloc = pick_alloc(allocs, request.alloc_index, stub.ID)
        require_task(alloc, request.task)
        argv = list(request.command)
        if not argv:
            argv = [await detect_shell(nomad.http, alloc.ID, request.task)]
        if announce is not None and tty:
            announce(exec_command_line(alloc.ID, request.task, argv))
        bridge = TtyBridge(stdin_fd, stdout_fd, tty=tty)
        return await run_shell(
            nomad.http,
            alloc.ID,
            request.task,
            argv,
            stdin_fd=stdin_fd,
            stdout_fd=stdout_fd,
            bridge=bridge,
        )


def exit_status(code: int) -> int:
    """A remote exit code as this process' status (0-255; anything else is a failure)."""
    return code if 0 <= code <= 255 else 1


__all__ = ["SshRequest", "UnknownTask", "exit_status", "require_task", "ssh", "wants_tty"]
