"""A Docker Engine API for the sim's nodes, served on a unix socket like `docker.sock`.

    engine = DockerEngine(sim, Path("/tmp/x/docker.sock"), node="nomad-dc1-01")
    await engine.start()          # Sim.start() does this when SimConfig.docker_socket is set
    ...
    await engine.stop()

It answers what nomtui (and curl, docker-py or the docker CLI) needs to see a node's
containers and copy files into them: `/_ping`, `/version`, `GET /containers/json`
(`all`, `limit`, `size`, `filters` with id/name/label/status/exited),
`GET /containers/{id}/json` and `/containers/{id}/archive` (`PUT` extracts a tar,
`HEAD` stats a path, `GET` returns a tar), each also under a `/v1.NN` prefix. Errors are
JSON `{"message": ...}` with the engine's status codes and texts. The containers are
derived from the sim's state on every request (see `docker_shapes`); the filesystem
rules live in `docker_fs`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import posixpath
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from aiohttp import web

from nomtui.errors import ConfigError
from nomtui.sim import docker_filters, docker_fs, docker_shapes
from nomtui.sim.docker_shapes import (
    API_VERSION,
    ENGINE_VERSION,
    EXTRA_LABELS,
    MIN_API_VERSION,
    TASK_MOUNTS,
    Container,
)

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SPOOL_BYTES = 8 * 1024 * 1024
"""Archives up to this size stay in memory; bigger ones go through a temporary file."""
STREAM_CHUNK = 256 * 1024
STAT_HEADER = "X-Docker-Container-Path-Stat"
_COMMON_HEADERS = {
    "Api-Version": API_VERSION,
    "Docker-Experimental": "false",
    "Ostype": "linux",
    "Server": f"Docker/{ENGINE_VERSION} (linux)",
}


class EngineError(Exception):
    """Raised in a handler: answer `status` with `{"message": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status, headers=_COMMON_HEADERS)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, headers=_COMMON_HEADERS)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


class DockerEngine:
    """The engine of one node (`node`: a node name or ID; None: every node's containers)."""

    def __init__(self, sim: Sim, socket_path: Path, node: str | None = None) -> None:
        self.sim = sim
        self.socket_path = socket_path
        self.node = node
        self.extra_labels: tuple[str, ...] = EXTRA_LABELS
        """Which `extra_labels` the node's docker plugin sets (all, unless a test says)."""
        self.foreign: list[Container] = []
        """Containers that Nomad did not start (a test adds them)."""
        self._runner: web.AppRunner | None = None

    @property
    def address(self) -> str:
        return f"unix://{self.socket_path}"

    def containers(self) -> list[Container]:
        return docker_shapes.containers(self.sim, self.node, self.extra_labels) + self.foreign

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        for method, path, handler in (
            ("GET", "/_ping", self._ping),
            ("HEAD", "/_ping", self._ping),
            ("GET", "/version", self._version),
            ("GET", "/containers/json", self._list),
            ("GET", "/containers/{id}/json", self._inspect),
            ("PUT", "/containers/{id}/archive", self._put_archive),
            ("HEAD", "/containers/{id}/archive", self._stat_archive),
            ("GET", "/containers/{id}/archive", self._get_archive),
        ):
            app.router.add_route(method, path, handler)
            app.router.add_route(method, "/v{api_version:[0-9][0-9.]*}" + path, handler)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            # A socket left by a sim that was killed; anything else is refused by bind.
            if self.socket_path.is_socket():
                self.socket_path.unlink()
        site = web.UnixSite(runner, str(self.socket_path))
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"cannot serve the Docker API on {self.socket_path} "
                f"({exc.strerror or exc}); pick another socket path"
            ) from None
        # The socket grants writes into every task directory: its owner only.
        os.chmod(self.socket_path, 0o600)
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    # -- plumbing -------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        wanted = request.match_info.get("api_version")
        if wanted is not None:
            if _version_tuple(wanted) > _version_tuple(API_VERSION):
                return _error(
                    400,
                    f"client version {wanted} is too new. "
                    f"Maximum supported API version is {API_VERSION}",
                )
            if _version_tuple(wanted) < _version_tuple(MIN_API_VERSION):
                return _error(
                    400,
                    f"client version {wanted} is too old. Minimum supported API version is "
                    f"{MIN_API_VERSION}, please upgrade your client to a newer version",
                )
        try:
            return await handler(request)
        except EngineError as exc:
            return _error(exc.status, exc.message)
        except docker_fs.PathError as exc:
            return _error(exc.status, exc.message)
        except web.HTTPMethodNotAllowed:
            return _error(405, "method not allowed")
        except web.HTTPNotFound:
            return _error(404, "page not found")

    def _find(self, ref: str) -> Container:
        """By full ID, name (with or without `/`), then unique ID prefix, as the engine."""
        every = self.containers()
        for c in every:
            if c.id == ref or c.name == ref.removeprefix("/"):
                return c
        prefixed = [c for c in every if ref and c.id.startswith(ref)]
        if len(prefixed) > 1:
            raise EngineError(400, f"Multiple IDs found with provided prefix: {ref}")
        if not prefixed:
            raise EngineError(404, f"No such container: {ref}")
        return prefixed[0]

    def _root(self, c: Container) -> Path:
        """The container's root, made as Nomad makes a task directory before starting it."""
        for sub in (*TASK_MOUNTS, "tmp"):
            (c.root / sub).mkdir(parents=True, exist_ok=True)
        return c.root

    # -- system ---------------------------------------------------------------------------

    async def _ping(self, request: web.Request) -> web.Response:
        headers = {
            **_COMMON_HEADERS,
            "Builder-Version": "2",
            "Cache-Control": "no-cache, no-store, must-revalidate",
            "Pragma": "no-cache",
        }
        body = None if request.method == "HEAD" else "OK"
        return web.Response(text=body, headers=headers, content_type="text/plain")

    async def _version(self, request: web.Request) -> web.Response:
        return _json(docker_shapes.version(self.sim.clock.now_ns()))

    # -- containers -----------------------------------------------------------------------

    async def _list(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            filters = docker_filters.parse_filters(query.get("filters", ""))
        except docker_filters.FilterError as exc:
            raise EngineError(400, str(exc)) from None
        limit = _int_param(query.get("limit", "-1"), "limit")
        show_all = _bool_param(query.get("all", "")) or limit > 0 or "status" in filters
        every = self.containers()
        if not show_all:
            every = [c for c in every if c.running]
        chosen = [c for c in every if docker_filters.matches(c, filters)]
        if limit > 0:
            chosen = chosen[:limit]
        now = self.sim.clock.now_ns()
        with_size = _bool_param(query.get("size", ""))
        return _json([docker_shapes.list_entry(c, now, with_size) for c in chosen])

    async def _inspect(self, request: web.Request) -> web.Response:
        return _json(docker_shapes.inspect(self._find(request.match_info["id"])))

    # -- archive --------------------------------------------------------------------------

    def _path_param(self, request: web.Request) -> str:
        path = request.query.get("path", "")
        if not path:
            raise EngineError(400, "path is required")
        return path

    def _stat(self, c: Container, path: str) -> tuple[Path, dict[str, Any]]:
        """The host path of container `path` (last link not followed, unless the path ends
        in `/` or `/.`) and its stat JSON; 404 when it does not exist."""
        root = self._root(c)
        follow = path.endswith(("/", "/."))
        host = docker_fs.resolve(root, docker_fs.container_path(path), follow_last=follow)
        try:
            info = host.lstat()
        except OSError:
            raise EngineError(
                404, f"Could not find the file {path} in container {c.name}"
            ) from None
        target = ""
        if host.is_symlink():
            target = docker_fs.inside(root, docker_fs.resolve(root, docker_fs.inside(root, host)))
        name = posixpath.basename(docker_fs.container_path(path).rstrip("/")) or "/"
        return host, docker_fs.path_stat(name, info, target)

    @staticmethod
    def _stat_headers(found: dict[str, Any]) -> dict[str, str]:
        encoded = base64.b64encode(json.dumps(found, separators=(",", ":")).encode())
        return {**_COMMON_HEADERS, STAT_HEADER: encoded.decode("ascii")}

    async def _stat_archive(self, request: web.Request) -> web.Response:
        c = self._find(request.match_info["id"])
        _, found = self._stat(c, self._path_param(request))
        return web.Response(headers=self._stat_headers(found))

    async def _get_archive(self, request: web.Request) -> web.StreamResponse:
        c = self._find(request.match_info["id"])
        host, found = self._stat(c, self._path_param(request))
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
            await asyncio.to_thread(docker_fs.archive, host, found["name"], spool)
            headers = {**self._stat_headers(found), "Content-Type": "application/x-tar"}
            response = web.StreamResponse(headers=headers)
            response.content_length = spool.tell()
            await response.prepare(request)
            spool.seek(0)
            while chunk := spool.read(STREAM_CHUNK):
                await response.write(chunk)
            await response.write_eof()
        return response

    async def _put_archive(self, request: web.Request) -> web.Response:
        c = self._find(request.match_info["id"])
        path = self._path_param(request)
        root = self._root(c)
        inner = docker_fs.container_path(path)
        dest = docker_fs.resolve(root, inner)
        if not dest.exists():
            raise EngineError(404, f"Could not find the file {path} in container {c.name}")
        if not dest.is_dir():
            raise EngineError(400, "extraction point is not a directory")
        if c.read_only and not docker_fs.in_mount(docker_fs.inside(root, dest), TASK_MOUNTS):
            raise EngineError(403, "container rootfs is marked read-only")
        no_overwrite = _bool_param(request.query.get("noOverwriteDirNonDir", ""))
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
            async for chunk in request.content.iter_chunked(STREAM_CHUNK):
                spool.write(chunk)
            spool.seek(0)
            await asyncio.to_thread(_extract, root, dest, spool, no_overwrite)
        return web.Response(headers=_COMMON_HEADERS)


def _extract(root: Path, dest: Path, spool: IO[bytes], no_overwrite: bool) -> None:
    try:
        docker_fs.extract(root, dest, spool, no_overwrite=no_overwrite)
    except OSError as exc:
        raise docker_fs.PathError(500, f"failed to extract: {exc.strerror or exc}") from None


def _bool_param(raw: str) -> bool:
    """The engine's `httputils.BoolValue`: anything but "", 0, no, false, none is true."""
    return raw.strip().lower() not in ("", "0", "no", "false", "none")


def _int_param(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise EngineError(400, f"invalid value for {name}: {raw!r}") from None


__all__ = ["STAT_HEADER", "DockerEngine", "EngineError"]
