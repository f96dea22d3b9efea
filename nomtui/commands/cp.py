"""`nomtui cp SRC [DEST]`: copy a local file or directory into a job's running task.

Also accepts the way VS Code's sync-rsync extension calls `nom-cp` when it is set as
that extension's rsync executable: rsync's own arguments, the saved file second to last
and the rsync remote last (see `sync_rsync_file`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from nomtui.commands.status import settings_of

if TYPE_CHECKING:
    from nomtui.actions.cp import CopyResult, Payload
    from nomtui.client.http import HttpClient
    from nomtui.config.model import Settings
    from nomtui.errors import NomtuiError
    from nomtui.models.allocs import AllocStub

RSYNC_KEY = "nomtui.sync_rsync"
PROGRESS_MIN_BYTES = 8 * 1024 * 1024
PARALLEL = 4
"""Allocations copied to at once with --all-allocs."""
_OWN_OPTIONS = ("--job", "--task", "--alloc", "--all-allocs", "-h", "--help")


def sync_rsync_file(args: Sequence[str]) -> str | None:
    """The file in a sync-rsync call, or None when `args` are not one.

    The extension runs `<executable> <rsync options...> <local file> <remote>`; its
    default excludes name `.vscode`. Like the old alias, a call is recognised by at
    least four arguments with `.vscode` among them, the file being second to last;
    unlike it, the first argument must also be an rsync option (not one of ours), so
    `nomtui cp .vscode/settings.json ...` is still an ordinary copy.
    """
    if len(args) < 4 or not any(".vscode" in arg for arg in args):
        return None
    first = args[0].split("=", 1)[0]
    if not first.startswith("-") or first in _OWN_OPTIONS:
        return None
    return args[-2]


class _CpCommand(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if sync_rsync_file(args) is not None:
            # rsync's options are not ours: keep them aside, parse nothing.
            ctx.meta[RSYNC_KEY] = list(args)
            args = []
        return super().parse_args(ctx, args)


@click.command("cp", cls=_CpCommand, short_help="Copy a local file or directory into a task.")
@click.argument("src", required=False, type=click.Path(path_type=Path))
@click.argument("dest", required=False)
@click.option("--job", help="The job (default: the job of this git checkout).")
@click.option("--task", default="http", show_default=True, help="The task to copy into.")
@click.option(
    "--alloc",
    "alloc_index",
    type=click.IntRange(min=1),
    metavar="N",
    help="The Nth running allocation (1-based, newest first); default: the first.",
)
@click.option("--all-allocs", is_flag=True, help="Copy into every running allocation.")
@click.pass_context
def cp_cmd(
    ctx: click.Context,
    src: Path | None,
    dest: str | None,
    job: str | None,
    task: str,
    alloc_index: int | None,
    all_allocs: bool,
) -> None:
    """Copy SRC into the running task, at DEST, then check its size and sha256 there.

    DEST defaults to SRC's path relative to the top of its git checkout (where the
    deploy puts it). A relative DEST is relative to the directory the task starts
    commands in; end it with / to copy into that directory. A directory is copied
    whole. Names with quotes, spaces or newlines are fine: paths are never put inside
    a shell command. Exits 1 when the copy fails or what arrived does not match.

    When exec is not permitted, or the task has no shell, the copy goes through the
    node's Docker engine instead (DOCKER_HOST: the local socket by default, or
    ssh://NODE), into the container <task>-<allocation ID>, and is checked the same way.
    """
    from nomtui.errors import ConfigError

    rsync_args = ctx.meta.get(RSYNC_KEY)
    if rsync_args is not None:
        _sync_rsync(ctx, rsync_args)
        return
    if src is None:
        raise click.UsageError("Missing argument 'SRC'.", ctx)
    if alloc_index is not None and all_allocs:
        raise ConfigError("--alloc and --all-allocs exclude each other; pick one.")
    _copy(ctx, src, dest, job, task, alloc_index, all_allocs)


def _copy(
    ctx: click.Context,
    src: Path,
    dest: str | None,
    job: str | None,
    task: str,
    alloc_index: int | None,
    all_allocs: bool,
    *,
    job_dir: Path | None = None,
) -> None:
    import asyncio

    from nomtui.actions.cp import remote_destination
    from nomtui.actions.lookup import cluster_label, resolve_job
    from nomtui.actions.repo import repo_relative
    from nomtui.errors import ConfigError, ReadOnlyRefused

    if not src.exists():
        raise ConfigError(f"{src} does not exist; nothing to copy.")
    target = remote_destination(src, repo_relative(src) if dest is None else dest)
    settings = settings_of(ctx)
    job_id = resolve_job(job, job_dir or Path.cwd(), os.environ)
    if settings.read_only:
        raise ReadOnlyRefused(f"copy {src} into job {job_id}", cluster_label(settings))
    results = asyncio.run(_copy_async(settings, src, target, job_id, task, alloc_index, all_allocs))
    _report(src, results)


async def _copy_async(
    settings: Settings,
    src: Path,
    dest: str,
    job_id: str,
    task: str,
    alloc_index: int | None,
    all_allocs: bool,
) -> list[CopyResult | NomtuiError]:
    import asyncio

    from nomtui.actions.cp import ExecUnusable, copy_in, prepare
    from nomtui.actions.cp_docker import DockerFallback
    from nomtui.actions.lookup import (
        NoRunningAllocation,
        find_job,
        nomad_client,
        pick_alloc,
        running_allocs,
    )
    from nomtui.actions.ssh import require_task
    from nomtui.errors import NomtuiError, Unauthorized

    async with nomad_client(settings) as nomad:
        stub = await find_job(nomad, job_id, settings.nomad.namespace)
        allocs = await running_allocs(nomad, stub.ID, stub.Namespace)
        if all_allocs and not allocs:
            raise NoRunningAllocation(stub.ID)
        targets = allocs if all_allocs else [pick_alloc(allocs, alloc_index, stub.ID)]
        for alloc in targets:
            require_task(alloc, task)
        with prepare(src) as payload:
            _skipped(payload)
            bar = _Progress(payload.size * len(targets))
            limit = asyncio.Semaphore(PARALLEL)
            fallback = DockerFallback(os.environ)

            async def one(alloc: AllocStub) -> CopyResult | NomtuiError:
                alloc_id = alloc.ID
                sent = 0

                def count(n: int) -> None:
                    nonlocal sent
                    sent += n
                    bar.add(n)

                async with limit:
                    try:
                        try:
                            return await copy_in(
                                nomad.http, alloc_id, task, payload, dest, progress=count
                            )
                        except (Unauthorized, ExecUnusable) as refused:
                            bar.add(-sent)  # the bytes go again, the other way
                            return await _audited_docker_copy(
                                nomad.http,
                                partial(
                                    fallback.copy,
                                    refused,
                                    alloc_id,
                                    task,
                                    payload,
                                    dest,
                                    node=alloc.NodeName,
                                    progress=bar.add,
                                ),
                                {"alloc": alloc_id, "task": task, "path": dest},
                                str(payload.source),
                            )
                    except NomtuiError as exc:
                        if not all_allocs:
                            raise
                        return exc  # the others go on; all failures are reported

            try:
                return list(await asyncio.gather(*(one(a) for a in targets)))
            finally:
                bar.done()
                await fallback.aclose()


async def _audited_docker_copy(
    http: HttpClient,
    copy: Callable[[], Awaitable[CopyResult]],
    target: dict[str, str],
    source: str,
) -> CopyResult:
    """The Docker road of a copy, in the audit log like the exec road (`copy_in`)."""
    from nomtui import audit

    auditor = audit.auditor_for(http)
    if auditor is None:
        return await copy()
    return await audit.run_recorded(
        auditor,
        "copy in through the Docker engine",
        {**target, "source": source},
        copy,
        summary=lambda done: f"{done.files} file(s), {done.bytes} bytes, verified",
    )


def _skipped(payload: Payload) -> None:
    from nomtui.output import note

    for rel in payload.skipped:
        note(f"warning: skipped {payload.source / rel}: not a file, directory or symlink")


def _report(src: Path, results: list[CopyResult | NomtuiError]) -> None:
    from nomtui.actions.cp import CopyFailed, CopyResult
    from nomtui.output import note, size
    from nomtui.sanitize import clean

    ways = {r.fallback: None for r in results if isinstance(r, CopyResult) and r.fallback}
    for way in ways:
        note(way)  # once, even when every allocation of --all-allocs went that way
    failed: list[NomtuiError] = []
    for result in results:
        if not isinstance(result, CopyResult):
            failed.append(result)
            continue
        files = f", {result.files} files" if result.files != 1 else ""
        click.echo(
            f"Copied {clean(str(src))} to {clean(result.dest)} in allocation "
            f"{result.alloc_id[:8]} ({size(result.bytes)}{files}; "
            f"size and sha256 checked by {result.verified_by})"
        )
    if not failed:
        return
    if len(results) == 1:
        raise failed[0]
    for failure in failed:
        note(f"failed: {failure}")
    raise CopyFailed(f"The copy failed in {len(failed)} of {len(results)} allocations.")


class _Progress:
    """A one-line progress display on stderr, for big copies to a terminal only."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self._start = time.monotonic()
        self._shown = 0.0
        self.on = total >= PROGRESS_MIN_BYTES and sys.stderr.isatty()

    def add(self, count: int) -> None:
        self.sent += count
        now = time.monotonic()
        if self.on and (now - self._shown >= 0.1 or self.sent >= self.total):
            self._shown = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        from nomtui.output import size

        width = 30
        part = self.sent / self.total if self.total else 1.0
        filled = int(width * part)
        rate = self.sent / max(now - self._start, 1e-6)
        bar = "#" * filled + "-" * (width - filled)
        line = f"\r[{bar}] {part:4.0%} {size(self.sent)} of {size(self.total)}, {size(int(rate))}/s"
        if self.sent >= self.total:
            line += "; checking size and sha256 there"
        sys.stderr.write(line + "\x1b[K")
        sys.stderr.flush()

    def done(self) -> None:
        if self.on and self._shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


# -- VS Code's sync-rsync ----------------------------------------------------------------


def _sync_rsync(ctx: click.Context, args: list[str]) -> None:
    """What `nom-cp` did for sync-rsync: rsync as asked on main/master (or on any branch
    with RSYNC_BRANCHES set), then copy the saved file into the branch's deploy."""
    import subprocess

    from nomtui.actions.repo import find_checkout, head, job_from_cwd
    from nomtui.output import note

    file = Path(sync_rsync_file(args) or "")
    folder = file.parent
    checkout = find_checkout(folder)
    branch = head(checkout)[0] if checkout is not None else None
    on_main = branch in ("main", "master")
    job_id = job_from_cwd(folder, os.environ)
    rsync_code = 0
    if on_main or os.environ.get("RSYNC_BRANCHES"):
        note(f"nomtui cp: rsync {' '.join(args)}")
        try:
            rsync_code = subprocess.run(["rsync", *args], check=False).returncode
        except OSError as exc:
            note(f"nomtui cp: cannot run rsync: {exc.strerror or exc}")
            rsync_code = 127
    # The old alias's one exception: ia-petabox's main branch is deployed by rsync alone.
    if on_main and job_id == "ia-petabox" and not os.environ.get("NOM_CP_PETABOX_MAIN"):
        raise click.exceptions.Exit(rsync_code)
    _copy(ctx, file, None, job_id, "http", None, False, job_dir=folder)
    if rsync_code:
        note(f"nomtui cp: rsync exited with {rsync_code}")
        raise click.exceptions.Exit(rsync_code)


def register(group: click.Group) -> None:
    group.add_command(cp_cmd)


__all__ = ["register", "sync_rsync_file"]
