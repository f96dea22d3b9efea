"""`nomtui cp` through the node's Docker engine, for tasks exec cannot serve.

    fallback = DockerFallback(os.environ)
    try:
        result = await copy_in(http, alloc_id, task, payload, dest)
    except (Unauthorized, ExecUnusable) as refused:
        result = await fallback.copy(refused, alloc_id, task, payload, dest)
    finally:
        await fallback.aclose()

Nomad's docker driver names a task's container `<task>-<allocID>`, so the engine that
DOCKER_HOST names (the local socket, or `ssh://node`) is asked for exactly that one. The
engine's `PUT /containers/{id}/archive` needs no shell in the image, which is the point:

- a relative destination starts at the container's WORKDIR (`/` without one), as exec
  does; missing parent directories are made first, by unpacking a tar holding only
  them into the deepest directory that exists (existing directories keep their modes);
- a file goes as a one-member tar streamed from the open file (mode bits and time
  kept, owner root), a directory as the tar `prepare` already built; with
  `noOverwriteDirNonDir`, so a file never replaces a directory or the reverse;
- then `GET /containers/{id}/archive` streams back what landed, and every regular
  file's size and sha256 are compared with the local ones: a difference is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import posixpath
import stat
import tarfile
import tempfile
from collections.abc import AsyncIterator, Mapping
from typing import IO

from nomtui.actions.cp import (
    READ_CHUNK,
    CopyFailed,
    CopyResult,
    Payload,
    Progress,
    compare,
)
from nomtui.client.docker import DockerClient, DockerError, DockerNotFound
from nomtui.errors import NomtuiError, Unauthorized

VERIFIED_BY = "reading it back from the Docker engine"
SPOOL_BYTES = 8 * 1024 * 1024
_BLOCK = tarfile.BLOCKSIZE


class NoContainer(DockerError):
    """The engine has no container `<task>-<allocID>`: it is not the allocation's node's."""

    title = "No such container"

    def __init__(self, address: str, ref: str) -> None:
        self.ref = ref
        super().__init__(
            f"There is no container {ref} on the Docker engine at {address}.", address=address
        )


class DockerFallback:
    """The Docker engine of DOCKER_HOST, opened on first use and shared by every copy
    of one command (all allocations of `--all-allocs`)."""

    def __init__(self, env: Mapping[str, str], *, ssh: str = "ssh") -> None:
        self._env = env
        self._ssh = ssh
        self._lock = asyncio.Lock()
        self._opened: contextlib.AsyncExitStack | None = None
        self._docker: DockerClient | None = None
        self._failure: NomtuiError | None = None

    async def _engine(self) -> DockerClient:
        from nomtui.actions.docker_host import docker_engine

        async with self._lock:
            if self._docker is not None:
                return self._docker
            if self._failure is not None:
                raise self._failure
            stack = contextlib.AsyncExitStack()
            try:
                self._docker = await stack.enter_async_context(
                    docker_engine(self._env, ssh=self._ssh)
                )
            except NomtuiError as exc:  # ConfigError for DOCKER_HOST, DockerError
                await stack.aclose()
                self._failure = exc
                raise
            self._opened = stack
            return self._docker

    async def aclose(self) -> None:
        if self._opened is not None:
            await self._opened.aclose()
            self._opened = None
            self._docker = None

    async def copy(
        self,
        refused: NomtuiError,
        alloc_id: str,
        task: str,
        payload: Payload,
        dest: str,
        *,
        node: str = "",
        progress: Progress | None = None,
    ) -> CopyResult:
        """Copy through the engine because exec failed with `refused` (`node`: where the
        allocation runs, for the hint). Raises CopyFailed naming both reasons when the
        engine cannot do it either."""
        why = exec_reason(refused)
        try:
            docker = await self._engine()
        except NomtuiError as exc:
            raise _both(payload, alloc_id, why, exc) from None
        try:
            result = await copy_via_docker(docker, alloc_id, task, payload, dest, progress=progress)
        except NoContainer as exc:
            hint = ""
            if node:
                hint = f"; the allocation runs on node {node}, DOCKER_HOST=ssh://{node} reaches it"
            raise _both(payload, alloc_id, why, exc, hint) from None
        except DockerError as exc:
            # CopyFailed (a verification failure, say) is its own answer and passes on.
            raise _both(payload, alloc_id, why, exc) from None
        return CopyResult(
            result.alloc_id,
            result.dest,
            result.files,
            result.bytes,
            result.verified_by,
            fallback=f"{why}; copied through the Docker engine at {docker.address}",
        )


def exec_reason(refused: NomtuiError) -> str:
    """Why exec could not do the copy, as the start of a sentence."""
    if isinstance(refused, Unauthorized):
        return "exec not permitted"
    return "exec cannot run the copy in this task (no shell or tools)"


def _both(
    payload: Payload, alloc_id: str, why: str, docker: NomtuiError, hint: str = ""
) -> CopyFailed:
    text = str(docker).rstrip(".")
    return CopyFailed(
        f"Cannot copy {payload.source} into allocation {alloc_id[:8]}: {why}, "
        f"and the Docker fallback failed too: {text[:1].lower()}{text[1:]}{hint}."
    )


# -- copying ---------------------------------------------------------------------------


async def copy_via_docker(
    docker: DockerClient,
    alloc_id: str,
    task: str,
    payload: Payload,
    dest: str,
    *,
    progress: Progress | None = None,
) -> CopyResult:
    """Put `payload` at `dest` in the container `<task>-<alloc_id>`, then verify it."""
    ref = f"{task}-{alloc_id}"
    try:
        info = await docker.inspect(ref)
    except DockerNotFound:
        raise NoContainer(docker.address, ref) from None
    target = posixpath.normpath(posixpath.join(info.working_dir, dest))
    into = target if payload.is_dir else posixpath.dirname(target)
    await ensure_directory(docker, ref, into)
    if payload.is_dir:
        body = _chunks(payload, payload.size, progress)
        await docker.put_archive(
            ref, target, body, size=payload.size, no_overwrite_dir_non_dir=True
        )
    else:
        header = _file_header(payload, posixpath.basename(target))
        padding = -payload.size % _BLOCK
        size = len(header) + payload.size + padding + 2 * _BLOCK
        body = _file_tar(payload, header, padding, progress)
        await docker.put_archive(ref, into, body, size=size, no_overwrite_dir_non_dir=True)
    found = await _read_back(docker, ref, target)
    prefix = posixpath.basename(target) or "/"
    for local in payload.files:
        name = posixpath.join(prefix, local.rel) if local.rel else prefix
        where = posixpath.join(target, local.rel) if local.rel else target
        got = found.get(name)
        arrived = None if got is None else (got[0], VERIFIED_BY, got[1])
        compare(payload.source, local, where, alloc_id, arrived)
    return CopyResult(alloc_id, target, len(payload.files), payload.size, VERIFIED_BY)


async def ensure_directory(docker: DockerClient, ref: str, path: str) -> None:
    """`mkdir -p path` in the container, through the archive API."""
    missing: list[str] = []
    current = path
    while True:
        try:
            found = await docker.stat_path(ref, current)
        except DockerNotFound:
            if current == "/":
                raise
            missing.append(posixpath.basename(current))
            current = posixpath.dirname(current)
            continue
        if not found.is_dir:
            raise CopyFailed(
                f"{current} in container {ref} is not a directory, so nothing can go below it."
            )
        break
    if not missing:
        return
    entries = []
    for depth in range(len(missing), 0, -1):
        member = tarfile.TarInfo("/".join(reversed(missing[depth - 1 :])))
        member.type = tarfile.DIRTYPE
        member.mode = 0o755
        member.uname = member.gname = "root"
        entries.append(member.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
    tar = b"".join(entries) + b"\0" * (2 * _BLOCK)

    async def body() -> AsyncIterator[bytes]:
        yield tar

    await docker.put_archive(ref, current, body(), size=len(tar), no_overwrite_dir_non_dir=True)


def _file_header(payload: Payload, name: str) -> bytes:
    info = os.fstat(payload.fd)
    member = tarfile.TarInfo(name)
    member.size = payload.size
    member.mode = stat.S_IMODE(info.st_mode)
    member.mtime = int(info.st_mtime)
    member.uname = member.gname = "root"  # what writing it through exec would give
    return member.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


async def _file_tar(
    payload: Payload, header: bytes, padding: int, progress: Progress | None
) -> AsyncIterator[bytes]:
    yield header
    async for chunk in _chunks(payload, payload.size, progress):
        yield chunk
    yield b"\0" * (padding + 2 * _BLOCK)


async def _chunks(payload: Payload, size: int, progress: Progress | None) -> AsyncIterator[bytes]:
    offset = 0
    while offset < size:
        data = os.pread(payload.fd, min(READ_CHUNK, size - offset), offset)
        if not data:
            raise CopyFailed(f"{payload.source} shrank while it was being copied; copy it again.")
        offset += len(data)
        if progress is not None:
            progress(len(data))
        yield data


async def _read_back(docker: DockerClient, ref: str, target: str) -> dict[str, tuple[int, str]]:
    """Size and sha256 of every regular file in the archive of `target`, by member name."""
    with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
        async with docker.get_archive(ref, target) as (_, chunks):
            async for chunk in chunks:
                spool.write(chunk)
        spool.seek(0)
        return await asyncio.to_thread(_hash_members, spool)


def _hash_members(archive: IO[bytes]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    with tarfile.open(fileobj=archive, mode="r:") as tar:
        for member in tar:
            if not member.isreg():
                continue
            source = tar.extractfile(member)
            assert source is not None  # a regular member always has data
            digest = hashlib.sha256()
            size = 0
            while chunk := source.read(READ_CHUNK):
                digest.update(chunk)
                size += len(chunk)
            found[member.name.rstrip("/")] = (size, digest.hexdigest())
    return found


__all__ = [
    "VERIFIED_BY",
    "DockerFallback",
    "NoContainer",
    "copy_via_docker",
    "ensure_directory",
    "exec_reason",
]
