"""The body of a long answer (logs, fs stream, events), read with failures mapped.

`HttpClient.stream` opens the request and checks its status; what it yields is an
`HttpStream`, whose iterators turn a connection that breaks mid-body into
`StreamDropped`. The error is raised from the iterator's own frame, outside any
`except` block, so it does not carry httpx's exception (whose request holds the token)
as its `__context__`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

import httpx

from nomtui.errors import NomtuiError, StreamDropped

T = TypeVar("T")


class HttpStream:
    """An open streaming answer with a 2xx status; iterate `chunks()` or `lines()` once."""

    def __init__(
        self,
        response: httpx.Response,
        *,
        address: str,
        path: str,
        service: str,
        read_timeout_s: float | None,
    ) -> None:
        self.response = response
        self.address = address
        self.path = path
        self.service = service
        self.read_timeout_s = read_timeout_s

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    def _dropped(self, exc: httpx.HTTPError) -> NomtuiError:
        if isinstance(exc, httpx.ReadTimeout) and self.read_timeout_s is not None:
            reason = f"no data within {self.read_timeout_s:g} s"
        elif isinstance(exc, httpx.RemoteProtocolError):
            reason = "the connection closed in the middle of the answer"
        else:
            reason = type(exc).__name__
        return StreamDropped(self.address, self.path, reason, service=self.service)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (decompressed), in chunks of any size."""
        async for chunk in self._mapped(self.response.aiter_bytes()):
            yield chunk

    async def lines(self) -> AsyncIterator[str]:
        """The body line by line (NDJSON event streams), without line endings."""
        async for line in self._mapped(self.response.aiter_lines()):
            yield line

    async def _mapped(self, source: AsyncIterator[T]) -> AsyncIterator[T]:
        while True:
            error: NomtuiError | None = None
            try:
                item = await anext(source)
            except StopAsyncIteration:
                return
            except httpx.HTTPError as exc:
                error = self._dropped(exc)
            if error is not None:
                raise error
            yield item


__all__ = ["HttpStream"]
