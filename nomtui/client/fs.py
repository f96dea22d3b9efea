"""An allocation's files: `/v1/client/fs/{ls,stat,cat,readat}/:alloc` (PROTOCOLS.md §5.1).

These are client endpoints: the node running the allocation answers, through the server
(§7). Errors name the file and the allocation rather than the API path, since that is
what a user typed. Status codes decide the class, as everywhere: the agent answers a
missing directory for `ls` and a missing file for `stat` with 404 (`NotFound`) but a
missing file for `cat`/`readat` with 400 (`BadRequest`, the detail says "no such file").
"""

from __future__ import annotations

from nomtui.client.base import seg
from nomtui.client.http import HttpClient
from nomtui.errors import (
    BadRequest,
    Conflict,
    HttpStatusError,
    NotFound,
    ServerError,
    Unauthorized,
)
from nomtui.models.frames import AllocFileInfo

READ_TIMEOUT_S = 30.0
"""Longest silence while a file's bytes arrive."""


def _named(exc: HttpStatusError, alloc_id: str, path: str) -> HttpStatusError:
    """`exc` restated with the file and allocation where the API path was."""
    shown = f"{path} in allocation {alloc_id}"
    a, d, s = exc.address, exc.detail, exc.service
    if isinstance(exc, NotFound):
        return NotFound(a, shown, d, service=s)
    if isinstance(exc, Unauthorized):
        return Unauthorized(a, shown, d, status=exc.status, service=s)
    if isinstance(exc, Conflict):
        return Conflict(a, shown, d, service=s)
    if isinstance(exc, BadRequest):
        return BadRequest(a, shown, d, status=exc.status, service=s)
    if isinstance(exc, ServerError):
        return ServerError(a, shown, d, status=exc.status, service=s)
    return exc


class Fs:
    """Read-only access to one cluster's allocation directories."""

    def __init__(self, http: HttpClient, *, read_timeout_s: float = READ_TIMEOUT_S) -> None:
        self._http = http
        self._timeout_s = read_timeout_s

    async def ls(self, alloc_id: str, path: str = "/") -> list[AllocFileInfo]:
        """The entries of a directory of the allocation (`/` is the alloc dir itself)."""
        api = f"/v1/client/fs/ls/{seg(alloc_id)}"
        problem: HttpStatusError | None = None
        try:
            raw, _ = await self._http.get_raw(api, {"path": path})
        except HttpStatusError as exc:
            problem = _named(exc, alloc_id, path)
        if problem is not None:
            raise problem
        files: list[AllocFileInfo] | None = self._http.decode(raw, list[AllocFileInfo] | None, api)
        return list(files or [])

    async def stat(self, alloc_id: str, path: str) -> AllocFileInfo:
        api = f"/v1/client/fs/stat/{seg(alloc_id)}"
        problem: HttpStatusError | None = None
        try:
            info, _ = await self._http.get(api, AllocFileInfo, {"path": path})
        except HttpStatusError as exc:
            problem = _named(exc, alloc_id, path)
        if problem is not None:
            raise problem
        return info

    async def cat(self, alloc_id: str, path: str) -> bytes:
        """The whole file (held in memory: use `readat` in slices for big files)."""
        return await self._raw("cat", alloc_id, path, {"path": path})

    async def readat(self, alloc_id: str, path: str, offset: int, limit: int) -> bytes:
        """`limit` bytes from `offset` (fewer at the end of the file; `limit <= 0`: to EOF)."""
        params = {"path": path, "offset": str(offset), "limit": str(limit)}
        return await self._raw("readat", alloc_id, path, params)

    async def _raw(self, kind: str, alloc_id: str, path: str, params: dict[str, str]) -> bytes:
        api = f"/v1/client/fs/{kind}/{seg(alloc_id)}"
        out = bytearray()
        problem: HttpStatusError | None = None
        try:
            async with self._http.stream(
                "GET", api, params, read_timeout_s=self._timeout_s
            ) as body:
                # A cut connection raises StreamDropped: never return a silently short file.
                async for chunk in body.chunks():
                    out += chunk
        except HttpStatusError as exc:
            problem = _named(exc, alloc_id, path)
        if problem is not None:
            raise problem
        return bytes(out)


__all__ = ["Fs"]
