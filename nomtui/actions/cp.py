"""Copy a local file or directory into an allocation's task, and prove it arrived.

    with prepare(Path("src/app.py")) as payload:
        result = await copy_in(http, alloc_id, "http", payload, "src/app.py")

Unlike the old `nom-cp` (`sh -c "timeout 2 cat >| '$REST'"`, then SUCCESS regardless):

- Paths travel as argv, never inside a shell string: the remote runs `/bin/sh -c SCRIPT
  sh ARGS...` where SCRIPT is a constant here and paths are positional parameters
  (`"$1"`), never re-parsed, so quotes, spaces, newlines, `$` and dashes are just bytes.
- No timeout hack: the remote reads exactly the bytes sent (`head -c N`) and stdin is
  closed explicitly too, so the command ends even where Nomad 1.9.0 loses the close
  (hashicorp/nomad#24171); the deadline on the exit is a generous last resort.
- Verified: the same exec prints the size and sha256 of what landed (sha256sum, shasum
  or openssl, whichever the image has; without one the file is read back and hashed
  here). A difference is a failure (`VerifyFailed`), not a success.
- Directories go as one tar stream (built here by `tarfile`, unpacked by the image's
  `tar`); each regular file is then verified the same way, in batches of paths.

A relative destination is relative to the directory exec starts commands in (the task
directory for exec/raw_exec, the image's WORKDIR for Docker), and may not climb out of
it with `..`; anything else needs an absolute path.

When exec is refused, or the task cannot run the commands above (exit 126/127: no
shell, no `tar`...), `ExecUnusable`/`Unauthorized` tell the caller, which may copy
through the node's Docker engine instead (`nomtui.actions.cp_docker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import posixpath
import re
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from nomtui import audit
from nomtui.client.exec import MAX_STDIN_CHUNK, ExecSession, ExecTimeout
from nomtui.client.http import HttpClient
from nomtui.errors import ConfigError, NomtuiError

READ_CHUNK = 1024 * 1024
"""Bytes read from the local file per step (the exec session frames them in 64 KiB)."""
MIN_RATE_BPS = 4 * 1024 * 1024
"""Slowest transfer + hashing rate assumed when deciding that the remote side is stuck."""
BASE_TIMEOUT_S = 60.0
ARGV_BUDGET = 24_000
"""Characters of JSON-encoded paths per verification exec: the command travels in the URL."""
_HEX64 = re.compile(r"\b[0-9a-f]{64}\b")

# Prints `nomtui-verify <size> <tool> <digest output>` per path argument, in order (tool
# `none`: no hashing tool). The digest reads the file on stdin, so no name is ever printed.
_CHECK = r"""
digest() {
  if command -v sha256sum >/dev/null 2>&1; then printf 'sha256sum '; sha256sum
  elif command -v shasum >/dev/null 2>&1; then printf 'shasum '; shasum -a 256
  elif command -v openssl >/dev/null 2>&1; then printf 'openssl '; openssl dgst -sha256
  else echo none; fi
}
for f do
  if [ -f "$f" ]; then printf 'nomtui-verify %s %s\n' "$(wc -c < "$f")" "$(digest < "$f")"
  else echo 'nomtui-verify missing'; fi
done
"""
# The byte count bounds the read, so the command ends even if stdin's close is lost.
_TAKE = 'if command -v head >/dev/null 2>&1; then head -c "$N"; else cat; fi'

# $1 destination file, $2 its directory ("" for none), $3 byte count, $4 "x": executable.
PUT_FILE = (
    'set -e\nN=$3\nif [ -n "$2" ]; then mkdir -p -- "$2"; fi\n'
    f'{_TAKE} > "$1"\n'
    'if [ "$4" = x ]; then chmod +x -- "$1"; fi\n'
    'set -- "$1"\n' + _CHECK
)
# $1 destination directory, $2 byte count of the tar stream.
PUT_TREE = f'set -e\nN=$2\nmkdir -p -- "$1"\n{_TAKE} | tar -x -f - -C "$1"\n'
# $1 directory, then paths relative to it.
CHECK_TREE = 'cd -- "$1"\nshift\n' + _CHECK

_Found = tuple[int, str, str | None]
"""What a check found: size, how it was hashed, sha256 (None: no tool in the task)."""
Progress = Callable[[int], None]
"""Called with the number of bytes just sent."""


class CopyFailed(NomtuiError):
    title = "Copy failed"


class VerifyFailed(CopyFailed):
    title = "Copy does not match"


class ExecUnusable(CopyFailed):
    """The task could not run the copy's commands (exit code 126 or 127): an image
    without a shell, or without a tool the copy needs."""

    title = "No shell in the task"


@dataclass(frozen=True)
class LocalFile:
    """A regular file of the payload: where it goes below the destination, and its hash."""

    rel: str
    size: int
    sha256: str


@dataclass
class Payload:
    """What to send: one file's bytes, or a tar of a directory; `fd` is read by offset,
    so any number of concurrent copies can share it."""

    source: Path
    is_dir: bool
    fd: int
    size: int
    files: list[LocalFile]
    executable: bool = False
    skipped: list[str] = field(default_factory=list)
    """Entries of a directory that cannot be sent (sockets, devices, FIFOs)."""


@dataclass(frozen=True)
class CopyResult:
    alloc_id: str
    dest: str
    files: int
    bytes: int
    verified_by: str
    """`sha256sum`, `shasum`, `openssl` (in the task) or `read back` (hashed here)."""
    fallback: str | None = None
    """Why the copy went another way than exec, and which (None: through exec)."""


# -- destination ------------------------------------------------------------------------


def remote_destination(source: Path, dest: str) -> str:
    """Where `source` goes for a DEST argument: DEST itself, or inside it when it ends in
    `/` (or is `.`). Raises ConfigError for an empty DEST or a relative one with `..`
    climbing out of the working directory."""
    if not dest or "\0" in dest:
        raise ConfigError("The destination is empty or contains a NUL byte; give a path.")
    into = dest.endswith("/") or posixpath.normpath(dest) == "."
    path = posixpath.normpath(dest)
    if into:
        path = posixpath.join(path, source.name) if path != "." else source.name
    if not path.startswith("/") and (path == ".." or path.startswith("../")):
        raise ConfigError(
            f"The destination {dest} climbs out of the task's working directory with ..; "
            "give an absolute path to write outside it."
        )
    return path.removeprefix("//")  # POSIX keeps a leading `//`; it means `/` here


# -- payload ----------------------------------------------------------------------------


@contextlib.contextmanager
def prepare(source: Path) -> Iterator[Payload]:
    """Hash `source` (a file, or a directory packed into a temporary tar) for sending."""
    try:
        info = source.stat()
    except OSError as exc:
        raise ConfigError(f"Cannot read {source}: {exc.strerror or exc}.") from None
    if stat.S_ISDIR(info.st_mode):
        with tempfile.TemporaryFile(prefix="nomtui-cp-") as tmp:
            files, skipped = _pack(source, tmp)
            tmp.flush()
            yield Payload(source, True, tmp.fileno(), tmp.tell(), files, skipped=skipped)
        return
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{source} is not a regular file or a directory; nothing to copy.")
    try:
        handle = source.open("rb")
    except OSError as exc:
        raise ConfigError(f"Cannot read {source}: {exc.strerror or exc}.") from None
    with handle:
        digest = hashlib.sha256()
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
        size = handle.tell()
        executable = bool(info.st_mode & stat.S_IXUSR)
        local = LocalFile("", size, digest.hexdigest())
        yield Payload(source, False, handle.fileno(), size, [local], executable)


class _Hashing:
    """A read-only file wrapper that hashes what `tarfile` reads through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def _pack(root: Path, out: BinaryIO) -> tuple[list[LocalFile], list[str]]:
    """Write a tar of `root`'s contents (names relative to it) into `out`."""
    files: list[LocalFile] = []
    skipped: list[str] = []
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for top, dirs, names in os.walk(root):
            dirs.sort()
            for name in [*dirs, *sorted(names)]:
                full = os.path.join(top, name)
                rel = Path(os.path.relpath(full, root)).as_posix()
                member = tar.gettarinfo(full, arcname=rel)
                if member is None or not (member.isreg() or member.isdir() or member.issym()):
                    skipped.append(rel)
                    continue
                # Unpacked as root these would become the local uid's files; root's is
                # what writing the file through exec would give.
                member.uid = member.gid = 0
                member.uname = member.gname = "root"
                if member.isreg():
                    with open(full, "rb") as handle:
                        hashing = _Hashing(handle)
                        tar.addfile(member, hashing)
                    files.append(LocalFile(rel, member.size, hashing.digest.hexdigest()))
                else:
                    tar.addfile(member)
    return files, skipped


# -- copying ----------------------------------------------------------------------------


class _Shrank(Exception):
    """The local file ended early (not a NomtuiError: sending errors are expected)."""


@dataclass
class _Ran:
    code: int
    stdout: bytes
    stderr: bytes


@audit.audited(
    lambda http, alloc_id, task, payload, dest, **_: (
        http,
        "copy in",
        {"alloc": alloc_id, "task": task, "path": dest, "source": str(payload.source)},
    ),
    summary=lambda done: f"{done.files} file(s), {done.bytes} bytes, verified",
)
async def copy_in(
    http: HttpClient,
    alloc_id: str,
    task: str,
    payload: Payload,
    dest: str,
    *,
    progress: Progress | None = None,
) -> CopyResult:
    """Send `payload` to `dest` (see `remote_destination`) in `task`, then verify it.

    Raises CopyFailed when the remote side fails, VerifyFailed when what arrived differs.
    """
    where = f"{dest} in allocation {alloc_id[:8]}"
    if payload.is_dir:
        argv = ["/bin/sh", "-c", PUT_TREE, "sh", dest, str(payload.size)]
    else:
        parent = posixpath.dirname(dest)
        mode = "x" if payload.executable else ""
        argv = ["/bin/sh", "-c", PUT_FILE, "sh", dest, parent, str(payload.size), mode]
    try:
        ran = await _run(http, alloc_id, task, argv, payload, progress)
    except _Shrank as exc:
        raise CopyFailed(str(exc)) from None
    if ran.code != 0:
        failed = ExecUnusable if ran.code in (126, 127) else CopyFailed
        raise failed(f"Copying {payload.source} to {where} failed{_because(ran)}.")
    if payload.is_dir:
        lines = await _check_tree(http, alloc_id, task, dest, payload.files)
        targets = [posixpath.join(dest, f.rel) for f in payload.files]
    else:
        lines, targets = _verify_lines(ran.stdout), [dest]
    tools: set[str] = set()
    for local, target, line in zip(payload.files, targets, lines, strict=True):
        got = _parse(line)
        if got is not None and got[2] is None:
            got = await _read_back(http, alloc_id, task, target)
        tools.add(compare(payload.source, local, target, alloc_id, got))
    verified = ", ".join(sorted(tools)) or "nothing to verify"
    return CopyResult(alloc_id, dest, len(payload.files), payload.size, verified)


async def _run(
    http: HttpClient,
    alloc_id: str,
    task: str,
    argv: Sequence[str],
    payload: Payload | None = None,
    progress: Progress | None = None,
) -> _Ran:
    """Run `argv` in the task, feeding it `payload`; its exit code and output."""
    timeout = BASE_TIMEOUT_S + (payload.size if payload is not None else 0) / MIN_RATE_BPS
    async with ExecSession.open_with(http, alloc_id, task, argv) as session:
        session.stdin_chunk = MAX_STDIN_CHUNK
        # Output is read all along: a full output queue would stall the exit frame.
        collect = asyncio.create_task(_collect(session))
        try:
            # A refused frame means the command ended early (a failed mkdir, or tar done
            # before the padding): its exit code and stderr tell what happened, below.
            # A local failure (`_Shrank`) leaves the block, which ends the command.
            with contextlib.suppress(NomtuiError):
                if payload is not None:
                    await _send(session, payload, progress)
                await session.close_stdin()
            async with asyncio.timeout(timeout):
                out, err = await collect
        except TimeoutError:
            raise ExecTimeout(session.address, alloc_id, timeout, stdin_closed=True) from None
        finally:
            collect.cancel()
        code = await session.wait()
    return _Ran(code, out, err)


async def _collect(session: ExecSession) -> tuple[bytes, bytes]:
    out, err = bytearray(), bytearray()
    async for chunk in session.output():
        (out if chunk.stream == "stdout" else err).extend(chunk.data)
    return bytes(out), bytes(err)


async def _send(session: ExecSession, payload: Payload, progress: Progress | None) -> None:
    offset = 0
    while offset < payload.size:
        data = os.pread(payload.fd, min(READ_CHUNK, payload.size - offset), offset)
        if not data:
            raise _Shrank(f"{payload.source} shrank while it was being copied; copy it again.")
        await session.send_stdin(data)
        offset += len(data)
        if progress is not None:
            progress(len(data))


def _because(ran: _Ran) -> str:
    text = ran.stderr.decode("utf-8", errors="replace").strip().splitlines()
    detail = f": {text[-1]}" if text else ""
    return f" (exit code {ran.code}{detail})"


# -- verification -----------------------------------------------------------------------


def _verify_lines(stdout: bytes) -> list[str]:
    text = stdout.decode("utf-8", errors="replace")
    return [line for line in text.splitlines() if line.startswith("nomtui-verify ")]


def _parse(line: str) -> _Found | None:
    """(size, tool, sha256 or None without a tool), or None for a missing file."""
    words = line.split(maxsplit=3)
    if len(words) < 3 or not words[1].isdigit():
        return None
    found = _HEX64.search(words[3] if len(words) > 3 else "")
    return int(words[1]), words[2], found.group() if found else None


def compare(source: Path, local: LocalFile, target: str, alloc_id: str, got: _Found | None) -> str:
    """How `got` was hashed, when it matches `local`; else raises VerifyFailed."""
    want = f"{local.size} bytes with sha256 {local.sha256[:12]}…"
    name = source / local.rel if local.rel else source
    where = f"{target} in allocation {alloc_id[:8]}"
    if got is None:
        raise VerifyFailed(f"{where} is missing after copying {name} there; copy it again.")
    size, _, sha = got
    if size != local.size or sha != local.sha256:
        have = f"{size} bytes with sha256 {(sha or '?')[:12]}…"
        raise VerifyFailed(
            f"{where} has {have} instead of {want} after copying {name} there; "
            "it was cut short or changed meanwhile, copy it again."
        )
    return got[1]


async def _check_tree(
    http: HttpClient, alloc_id: str, task: str, dest: str, files: list[LocalFile]
) -> list[str]:
    """The verification lines of every file of a copied tree, in `files` order."""
    lines: list[str] = []
    for batch in _batches([f.rel for f in files]):
        ran = await _run(http, alloc_id, task, ["/bin/sh", "-c", CHECK_TREE, "sh", dest, *batch])
        got = _verify_lines(ran.stdout)
        if ran.code != 0 or len(got) != len(batch):
            where = f"{dest} in allocation {alloc_id[:8]}"
            raise CopyFailed(f"Verifying the files copied to {where} failed{_because(ran)}.")
        lines += got
    return lines


def _batches(paths: list[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    used = 0
    for path in paths:
        cost = len(json.dumps(path)) * 3  # worst case once URL-encoded
        if batch and used + cost > ARGV_BUDGET:
            yield batch
            batch, used = [], 0
        batch.append(path)
        used += cost
    if batch:
        yield batch


async def _read_back(http: HttpClient, alloc_id: str, task: str, target: str) -> _Found | None:
    """Size and sha256 of `target`, streamed back through exec (no hashing tool there)."""
    digest = hashlib.sha256()
    size = 0
    async with ExecSession.open_with(http, alloc_id, task, ["cat", "--", target]) as session:
        await session.close_stdin()
        async for chunk in session.output():
            if chunk.stream == "stdout":
                digest.update(chunk.data)
                size += len(chunk.data)
        code = await session.wait()
    return (size, "read back", digest.hexdigest()) if code == 0 else None


__all__ = [
    "CHECK_TREE",
    "PUT_FILE",
    "PUT_TREE",
    "CopyFailed",
    "CopyResult",
    "ExecUnusable",
    "LocalFile",
    "Payload",
    "Progress",
    "VerifyFailed",
    "compare",
    "copy_in",
    "prepare",
    "remote_destination",
]
