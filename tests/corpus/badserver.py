"""A misbehaving peer on loopback: answers chosen paths with the bytes of a corpus case.

This is fault injection, not a mock of the HTTP layer: nomtui's real client makes real
requests over a real socket. Requests that no rule matches are passed on to an upstream
(the sim), so a case can break one answer of an otherwise consistent cluster — the log
frames of an allocation the sim really has, say — and everything before that answer
still works.

    with BadServer(rules, upstream=sim.nomad_addr) as bad:
        run("nomtui", "logs", "www-nomad", env={"NOMAD_ADDR": bad.address})

It runs on its own event loop in a daemon thread, so sync tests, CliRunner and
subprocesses can all talk to it.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

import aiohttp
from aiohttp import web

# Hop-by-hop and framing headers: aiohttp sets its own for what it actually sends.
_DROP = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "keep-alive",
        "transfer-encoding",
        "host",
    }
)


@dataclass(frozen=True)
class Reply:
    """What to answer: `body` at once, then `chunks` one by one (each flushed, with a
    pause, so the client reads them apart), then `endless` repeated until the client
    hangs up."""

    status: int = 200
    content_type: str | None = "application/json"
    body: bytes = b""
    chunks: Sequence[bytes] = ()
    endless: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    declared_length: int | None = None
    """A Content-Length header to claim (the body sent is what it is)."""


@dataclass(frozen=True)
class Rule:
    path: re.Pattern[str]
    reply: Reply
    method: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    """Query parameters the request must carry with these values."""

    def matches(self, request: web.Request) -> bool:
        if self.method is not None and request.method != self.method:
            return False
        if any(request.query.get(k) != v for k, v in self.query.items()):
            return False
        return self.path.fullmatch(request.path) is not None


class BadServer:
    def __init__(self, rules: Sequence[Rule], upstream: str | None = None) -> None:
        self.rules = list(rules)
        self.upstream = upstream
        self.seen: list[tuple[str, str, bool]] = []
        """(method, path, answered by a rule) of every request, in order."""
        self.headers: list[dict[str, str]] = []
        """The headers of every request, in the same order."""
        self.address = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> BadServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=0.2
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.base_events.Server)
        self.address = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        self._session = aiohttp.ClientSession(auto_decompress=True)

    async def _stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- answering ----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        rule = next((r for r in self.rules if r.matches(request)), None)
        self.seen.append((request.method, request.path, rule is not None))
        self.headers.append(dict(request.headers))
        if rule is not None:
            return await self._reply(request, rule.reply)
        if self.upstream is None:
            return web.Response(status=404, text="404 page not found")
        return await self._proxy(request)

    async def _reply(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        resp = web.StreamResponse(status=reply.status, headers=reply.headers)
        if reply.content_type is not None:
            resp.headers["Content-Type"] = reply.content_type
        if reply.declared_length is not None:
            resp.headers["Content-Length"] = str(reply.declared_length)
        elif not (reply.chunks or reply.endless):
            resp.content_length = len(reply.body)
        try:
            await resp.prepare(request)
            if reply.body:
                await resp.write(reply.body)
            for chunk in reply.chunks:
                await resp.write(chunk)
                await asyncio.sleep(0.02)
            while reply.endless:
                await resp.write(reply.endless)
            if reply.declared_length is None:
                await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, which is what a capped reader should do
        return resp

    async def _proxy(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None and self.upstream is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROP}
        body = await request.read()
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=body or None,
            timeout=aiohttp.ClientTimeout(total=None),
        ) as upstream:
            resp = web.StreamResponse(status=upstream.status)
            for name, value in upstream.headers.items():
                if name.lower() not in _DROP:
                    resp.headers[name] = value
            await resp.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await resp.write(chunk)
                await resp.write_eof()
            except (ConnectionError, RuntimeError):
                pass  # the client went away mid-stream
            return resp


def rule(
    path: str, reply: Reply, method: str | None = None, query: dict[str, str] | None = None
) -> Rule:
    return Rule(re.compile(path), reply, method, dict(query or {}))


__all__ = ["BadServer", "Reply", "Rule", "rule"]
