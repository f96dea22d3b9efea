"""A small Docker Engine API client: what nomtui needs of a node's engine.

    host = parse_host(os.environ.get("DOCKER_HOST"))      # unix:// (default), tcp://, ssh://
    async with DockerClient(address=host.url, socket=host.socket, base_url=host.base_url) as d:
        await d.ping()
        for c in await d.list_containers(all=True):
            ...
        await d.put_archive("http-<alloc id>", "/srv", tar_chunks, size=n)

httpx over the engine's unix socket (or plain TCP). The API version is negotiated as the
docker CLI does: `/_ping` tells the engine's version, requests then go to
`/v<min(engine, ours)>/...`. An `ssh://` host needs a forwarded socket first; that is an
action's job (`nomtui.actions.docker_host`), since it starts a process.

Failures are one sentence each (`DockerError` and subclasses), classified by exception
type and status code. The engine's own `{"message": ...}` is quoted, cleaned of terminal
controls and cut short, never trusted as it comes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import msgspec

from nomtui.client.docker_models import ContainerInspect, ContainerSummary, PathStat, Port
from nomtui.errors import ConfigError, NomtuiError
from nomtui.sanitize import clean

DEFAULT_HOST = "unix:///var/run/docker.sock"
REMOTE_SOCKET = "/var/run/docker.sock"
API_VERSION = "1.45"
"""The newest Engine API version nomtui speaks; older engines are spoken to in theirs."""
MIN_API_VERSION = "1.24"
STAT_HEADER = "X-Docker-Container-Path-Stat"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
ARCHIVE_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
"""Archive calls: the engine answers a put only once the whole tar is unpacked."""
_MAX_DETAIL = 200

T = TypeVar("T")


# -- errors ----------------------------------------------------------------------------


def _detail(text: str) -> str:
    one_line = " ".join(clean(text, newlines=True).split())
    return one_line if len(one_line) <= _MAX_DETAIL else one_line[: _MAX_DETAIL - 1] + "…"


class DockerError(NomtuiError):
    title = "Docker"

    def __init__(self, message: str, *, address: str) -> None:
        self.address = address
        super().__init__(message)


class DockerUnreachable(DockerError):
    """No engine answers at the address (socket missing, refused, not allowed)."""

    title = "Docker unreachable"

    def __init__(self, address: str, reason: str, *, denied: bool = False) -> None:
        self.reason = reason
        self.denied = denied
        if denied:
            message = (
                f"Not allowed to use the Docker engine at {address} ({reason}); "
                "use an account in the docker group, or sudo."
            )
        else:
            message = (
                f"No Docker engine at {address} ({reason}); "
                "start Docker there or point DOCKER_HOST at one."
            )
        super().__init__(message, address=address)


class DockerApiError(DockerError):
    """The engine answered with an error status."""

    def __init__(self, address: str, status: int, what: str, detail: str) -> None:
        self.status = status
        self.detail = _detail(detail)
        reason = f": {self.detail}" if self.detail else ""
        super().__init__(
            f"The Docker engine at {address} refused to {what} ({status}{reason}).",
            address=address,
        )


class DockerNotFound(DockerApiError):
    title = "Not found in Docker"


# -- addresses -------------------------------------------------------------------------


@dataclass(frozen=True)
class DockerHost:
    """Where the engine is, from DOCKER_HOST."""

    url: str
    """As given (for messages): `unix:///var/run/docker.sock`, `ssh://me@node`..."""
    kind: Literal["unix", "tcp", "ssh"]
    socket: str | None = None
    """The unix socket (kind `unix`)."""
    base_url: str = "http://docker"
    """Where requests go (`http://host:port` for `tcp`)."""
    ssh_target: str = ""
    """`[user@]host` (kind `ssh`)."""
    ssh_port: int | None = None


def parse_host(value: str | None) -> DockerHost:
    """DOCKER_HOST as the docker CLI reads it; unset or empty means the local socket.

    Raises ConfigError for a form nomtui cannot use (npipe://, fd://, TLS, paths on ssh).
    """
    text = (value or "").strip() or DEFAULT_HOST
    if "://" not in text:
        raise ConfigError(
            f"DOCKER_HOST={text} has no scheme; use unix:///path, tcp://host:port "
            "or ssh://[user@]host[:port]."
        )
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "unix":
        path = parts.path or ""
        if not path.startswith("/"):
            raise ConfigError(f"DOCKER_HOST={text} names no socket path; use unix:///path.")
        return DockerHost(text, "unix", socket=path)
    if scheme == "tcp":
        if not parts.hostname:
            raise ConfigError(f"DOCKER_HOST={text} names no host; use tcp://host:port.")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return DockerHost(text, "tcp", base_url=f"http://{host}:{parts.port or 2375}")
    if scheme == "ssh":
        if not parts.hostname or parts.hostname.startswith("-"):
            raise ConfigError(f"DOCKER_HOST={text} names no ssh host; use ssh://[user@]host.")
        if parts.path not in ("", "/"):
            raise ConfigError(f"DOCKER_HOST={text} has a path; ssh:// takes none.")
        user = f"{parts.username}@" if parts.username else ""
        return DockerHost(text, "ssh", ssh_target=f"{user}{parts.hostname}", ssh_port=parts.port)
    raise ConfigError(
        f"DOCKER_HOST={text} uses {scheme}://, which nomtui does not support; "
        "use unix://, tcp:// or ssh://."
    )


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


# -- the client ------------------------------------------------------------------------


class DockerClient:
    """One engine. `async with DockerClient(address=..., socket=...) as docker:`."""

    def __init__(
        self, *, address: str, socket: str | None = None, base_url: str = "http://docker"
    ) -> None:
        self.address = address
        transport = httpx.AsyncHTTPTransport(uds=socket) if socket else None
        self._http = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=TIMEOUT)
        self.api_version: str | None = None

    def __repr__(self) -> str:
        return f"DockerClient({self.address!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> DockerClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- plumbing ---------------------------------------------------------------------

    def _failure(self, exc: httpx.HTTPError) -> DockerError:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, OSError):
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, PermissionError):
            return DockerUnreachable(self.address, "permission denied", denied=True)
        if isinstance(cause, FileNotFoundError):
            return DockerUnreachable(self.address, "no such socket")
        if isinstance(cause, ConnectionRefusedError):
            return DockerUnreachable(self.address, "connection refused")
        if isinstance(exc, httpx.TimeoutException):
            return DockerUnreachable(self.address, "no answer in time")
        if isinstance(exc, httpx.RemoteProtocolError):
            # What an ssh forward does when the node has no engine behind its socket.
            return DockerUnreachable(self.address, "the connection closed without an answer")
        if isinstance(cause, OSError):
            return DockerUnreachable(self.address, cause.strerror or type(cause).__name__)
        return DockerUnreachable(self.address, type(exc).__name__)

    def _check(self, resp: httpx.Response, what: str) -> None:
        if resp.is_success:
            return
        detail = resp.text if resp.request.method != "HEAD" else ""
        try:
            body = json.loads(detail) if detail else {}
            detail = str(body.get("message", detail)) if isinstance(body, dict) else detail
        except ValueError:
            pass  # not JSON (a proxy's page, say): quoted as text, cut short
        cls = DockerNotFound if resp.status_code == 404 else DockerApiError
        raise cls(self.address, resp.status_code, what, detail)

    def _path(self, path: str) -> str:
        return f"/v{self.api_version}{path}" if self.api_version else path

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        if self.api_version is None and path != "/_ping":
            await self.ping()
        try:
            resp = await self._http.request(method, self._path(path), params=params, **kwargs)
        except httpx.HTTPError as exc:
            raise self._failure(exc) from None
        self._check(resp, what)
        return resp

    def _decode(self, raw: bytes, type_: type[T], what: str) -> T:
        try:
            return msgspec.json.decode(raw, type=type_)
        except msgspec.DecodeError as exc:
            raise DockerApiError(self.address, 200, what, f"unreadable answer: {exc}") from None

    # -- system -----------------------------------------------------------------------

    async def ping(self) -> str:
        """The API version both sides speak (negotiated once, then reused)."""
        resp = await self._request("GET", "/_ping", "answer a ping")
        offered = resp.headers.get("Api-Version", "")
        if offered and _version_tuple(offered) < _version_tuple(MIN_API_VERSION):
            raise DockerApiError(
                self.address, 200, "speak a supported API", f"it speaks API {offered} only"
            )
        ours = _version_tuple(API_VERSION)
        self.api_version = offered if offered and _version_tuple(offered) < ours else API_VERSION
        return self.api_version

    # -- containers -------------------------------------------------------------------

    async def list_containers(
        self, *, all: bool = False, filters: Mapping[str, Sequence[str]] | None = None
    ) -> list[ContainerSummary]:
        params = {"all": "1" if all else "0"}
        if filters:
            params["filters"] = json.dumps({k: list(v) for k, v in filters.items()})
        resp = await self._request("GET", "/containers/json", "list containers", params=params)
        return self._decode(resp.content, list[ContainerSummary], "list containers")

    async def inspect(self, ref: str) -> ContainerInspect:
        what = f"show container {clean(ref)}"
        resp = await self._request("GET", f"/containers/{quote(ref, safe='')}/json", what)
        return self._decode(resp.content, ContainerInspect, what)

    # -- files ------------------------------------------------------------------------

    def _stat(self, resp: httpx.Response, what: str) -> PathStat:
        raw = resp.headers.get(STAT_HEADER, "")
        try:
            return self._decode(base64.b64decode(raw, validate=True), PathStat, what)
        except ValueError:
            raise DockerApiError(self.address, 200, what, "no readable path stat") from None

    async def stat_path(self, ref: str, path: str) -> PathStat:
        """Raises DockerNotFound when the container or the path does not exist."""
        what = f"stat {clean(path)} in container {clean(ref)}"
        resp = await self._request(
            "HEAD", f"/containers/{quote(ref, safe='')}/archive", what, params={"path": path}
        )
        return self._stat(resp, what)

    async def put_archive(
        self,
        ref: str,
        path: str,
        body: AsyncIterable[bytes],
        *,
        size: int,
        no_overwrite_dir_non_dir: bool = False,
    ) -> None:
        """Unpack the tar stream `body` (`size` bytes) into directory `path`."""
        params = {"path": path}
        if no_overwrite_dir_non_dir:
            params["noOverwriteDirNonDir"] = "1"
        await self._request(
            "PUT",
            f"/containers/{quote(ref, safe='')}/archive",
            f"unpack an archive into {clean(path)} in container {clean(ref)}",
            params=params,
            content=body,
            headers={"Content-Type": "application/x-tar", "Content-Length": str(size)},
            timeout=ARCHIVE_TIMEOUT,
        )

    @asynccontextmanager
    async def get_archive(
        self, ref: str, path: str
    ) -> AsyncIterator[tuple[PathStat, AsyncIterator[bytes]]]:
        """The stat of `path` and a tar stream of it (a file, or a directory whole)."""
        if self.api_version is None:
            await self.ping()
        what = f"read {clean(path)} from container {clean(ref)}"
        url = self._path(f"/containers/{quote(ref, safe='')}/archive")
        request = self._http.build_request(
            "GET", url, params={"path": path}, timeout=ARCHIVE_TIMEOUT
        )
        try:
            resp = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._failure(exc) from None
        try:
            if not resp.is_success:
                await resp.aread()
                self._check(resp, what)
            yield self._stat(resp, what), self._chunks(resp)
        finally:
            await resp.aclose()

    async def _chunks(self, resp: httpx.Response) -> AsyncIterator[bytes]:
        try:
            async for chunk in resp.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            raise self._failure(exc) from None


__all__ = [
    "DEFAULT_HOST",
    "REMOTE_SOCKET",
    "ContainerInspect",
    "ContainerSummary",
    "DockerApiError",
    "DockerClient",
    "DockerError",
    "DockerHost",
    "DockerNotFound",
    "DockerUnreachable",
    "PathStat",
    "Port",
    "parse_host",
]
