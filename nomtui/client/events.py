"""Nomad's event stream, `GET /v1/event/stream`, as a resuming async iterator.

    stream = EventStream(http, topics=["Job", "Allocation"], on_status=show_link)
    async for batch in stream:          # EventBatch, heartbeats already dropped
        ...

Resume rules (PROTOCOLS.md §4): the server starts at the batch whose Index equals the
asked index, or the next newer one, or (asked index newer than its buffer) the newest.
So after a drop the stream asks for `last_index + 1` and also drops every batch whose
Index is not above `last_index`: each Index is yielded once, in order.

A stream ends only when the consumer stops (break, `aclose()`, task cancelled) or on an
error retrying cannot fix (403, 404, a malformed batch). Everything transient (the link
breaks, the agent restarts, the agent ends the body with an error text such as
`ACL token expired`) is reported through `on_status` as RECONNECTING, then retried with
backoff; if the retry answers 403, that is raised.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from types import TracebackType
from typing import cast

from nomtui.client.blocking import Backoff
from nomtui.client.frames import FrameError, JsonObjectSplitter, TrailingText
from nomtui.client.http import HttpClient
from nomtui.client.link import Link, LinkStatus, Sleep, StatusCallback, dropped, reject_html
from nomtui.errors import NomtuiError, StreamDropped
from nomtui.models.events import EventBatch

PATH = "/v1/event/stream"
HEARTBEAT_TIMEOUT_S = 75.0
"""Silence after which the link counts as dead: Nomad heartbeats every 30 s."""
MAX_BATCH_BYTES = 64 * 1024 * 1024
"""One batch can carry whole jobs and allocations; beyond this it is not Nomad talking."""


class EventStream:
    """Batches of `/v1/event/stream`, resumed after every drop without gaps or repeats.

    `topics`: `Topic` or `Topic:FilterKey` strings; None subscribes to everything (needs
    a management token). `index`: the first Index wanted (0 = the server's whole buffer).
    `last_index` is the newest Index yielded so far; `status` the link's state.
    """

    def __init__(
        self,
        http: HttpClient,
        *,
        topics: Sequence[str] | None = None,
        namespace: str = "*",
        index: int = 0,
        on_status: StatusCallback | None = None,
        backoff: Backoff | None = None,
        heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = http
        self.topics = list(topics) if topics else []
        self.namespace = namespace
        self.last_index = max(0, index - 1)
        self._first_index = max(0, index)
        self._timeout_s = heartbeat_timeout_s
        self._max_batch = max_batch_bytes
        self._link = Link(on_status, backoff, sleep)
        # Weak: a consumer that breaks out of `async for` drops the last strong reference,
        # and the event loop then closes the generator (and the connection) at once.
        self._gen: weakref.ref[AsyncGenerator[EventBatch, None]] | None = None

    @property
    def status(self) -> LinkStatus:
        return self._link.status

    def __aiter__(self) -> AsyncIterator[EventBatch]:
        return self.batches()

    def batches(self) -> AsyncGenerator[EventBatch, None]:
        """The iterator; `aclose()` on it (or on this object) ends the stream at once."""
        gen = self._run()
        self._gen = weakref.ref(gen)
        return gen

    async def aclose(self) -> None:
        gen = self._gen() if self._gen is not None else None
        self._gen = None
        if gen is not None:
            await gen.aclose()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _run(self) -> AsyncGenerator[EventBatch, None]:
        try:
            while True:
                try:
                    async with aclosing(self._connect()) as batches:
                        async for batch in batches:
                            yield batch
                    error: NomtuiError = StreamDropped(
                        self._http.address, PATH, "the agent ended the stream"
                    )
                except NomtuiError as exc:
                    error = exc
                await self._link.retry_after(error)
        finally:
            self._link.closed()

    def _resume_index(self) -> int:
        return self.last_index + 1 if self.last_index > 0 else self._first_index

    async def _connect(self) -> AsyncGenerator[EventBatch, None]:
        params: dict[str, str | list[str]] = {
            "index": str(self._resume_index()),
            "namespace": self.namespace,
        }
        if self.topics:
            params["topic"] = self.topics
        http = self._http
        split = JsonObjectSplitter(
            max_object_bytes=self._max_batch, address=http.address, path=PATH
        )
        # `topic` repeats; httpx sends a list value as repeated keys, which the client's
        # str->str params type does not spell (a query put in the path would be dropped).
        query = cast(Mapping[str, str], params)
        async with http.stream("GET", PATH, query, read_timeout_s=self._timeout_s) as body:
            reject_html(http, body, PATH)
            self._link.connected()
            try:
                async for chunk in body.chunks():
                    for raw in split.feed(chunk):
                        batch: EventBatch = http.decode(raw, EventBatch, PATH)
                        if batch.is_heartbeat or batch.Index <= self.last_index:
                            continue
                        self.last_index = batch.Index
                        self._link.progressed()
                        yield batch
                split.finish()
            except TrailingText as exc:
                # The agent's error after the stream started (token expired...).
                raise dropped(http, PATH, exc.text) from None
            except FrameError as exc:
                if exc.kind != "truncated":
                    raise
                # A clean end in the middle of a batch: the agent went away; reconnect.
                raise StreamDropped(http.address, PATH, "it ended inside a batch") from None


__all__ = ["HEARTBEAT_TIMEOUT_S", "EventStream"]
