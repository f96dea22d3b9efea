"""How a long-lived stream reports its connection and decides to retry.

Streams (events, logs) report their link through a `LinkStatus` callback instead of
yielding sentinels, so `async for chunk in stream` stays a plain data loop while a TUI
worker can still show "reconnecting…" in the status bar and clear it when the link is back
(even when no data follows the reconnect, which is the common case for events).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nomtui.client.blocking import Backoff
from nomtui.client.failures import content_type
from nomtui.client.http import HttpClient
from nomtui.client.streaming import HttpStream
from nomtui.errors import BadResponse, NomtuiError, StreamDropped, scrub
from nomtui.sanitize import clean

Sleep = Callable[[float], Awaitable[None]]


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True)
class LinkStatus:
    """A stream's connection state; `error`, `attempt` and `delay_s` while reconnecting."""

    state: LinkState
    error: NomtuiError | None = None
    attempt: int = 0
    delay_s: float = 0.0


StatusCallback = Callable[[LinkStatus], None]


class Link:
    """Status reporting plus the retry policy of one stream.

    Transient errors (`NomtuiError.transient`: unreachable, 5xx, dropped) wait with
    exponential backoff and jitter, then retry; any other error (403, 404, TLS, a bad
    answer) is raised, because retrying cannot fix it. Progress resets the backoff, so a
    link that drops every few seconds but delivers in between reconnects quickly.
    """

    def __init__(
        self,
        on_status: StatusCallback | None = None,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._on_status = on_status
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self.attempt = 0
        self.status = LinkStatus(LinkState.CONNECTING)

    def _report(self, status: LinkStatus) -> None:
        self.status = status
        if self._on_status is not None:
            self._on_status(status)

    def connected(self) -> None:
        if self.status.state is not LinkState.CONNECTED:
            self._report(LinkStatus(LinkState.CONNECTED))

    def progressed(self) -> None:
        self.attempt = 0

    async def retry_after(self, exc: NomtuiError) -> None:
        """Report and sleep before the next attempt; re-raise `exc` when not transient."""
        if not exc.transient:
            raise exc
        self.attempt += 1
        delay = self._backoff.delay(self.attempt)
        self._report(LinkStatus(LinkState.RECONNECTING, exc, self.attempt, delay))
        await self._sleep(delay)

    def closed(self) -> None:
        if self.status.state is not LinkState.CLOSED:
            self._report(LinkStatus(LinkState.CLOSED))


def reject_html(http: HttpClient, body: HttpStream, path: str) -> None:
    """A 200 HTML page is a login page or proxy, never an agent: no use retrying it."""
    if content_type(body.response) == "text/html":
        reason = "an HTML page instead of a stream, likely from a proxy"
        raise BadResponse(http.address, path, reason, service=http.service)


def dropped(http: HttpClient, path: str, text: str) -> StreamDropped:
    """`StreamDropped` quoting the agent's closing words, made safe to show."""
    secret = http.token.reveal() if http.token else None
    reason = " ".join(clean(scrub(text, secret), newlines=True).split())
    return StreamDropped(http.address, path, reason, service=http.service)


__all__ = ["Link", "LinkState", "LinkStatus", "StatusCallback", "dropped", "reject_html"]
