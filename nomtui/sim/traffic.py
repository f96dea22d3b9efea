"""What clients asked the sim and what it sent back: the load a tool puts on a cluster.

Counted per API ("nomad", "consul"), method and route (aiohttp's canonical path, e.g.
`/v1/job/{tail}`), so a benchmark can tell blocking reads from polling and see the bytes
each costs. `/v1/sim/stats` reports it; the counters only ever grow, so a reader takes
two readings and subtracts.

Bytes are response bodies: a plain answer is counted when its handler returns, a stream
(events, logs) as each chunk is written, so a stream that stays open shows up too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from aiohttp import web
from aiohttp.typedefs import Middleware

from nomtui.sim.state import Json

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Key = tuple[str, str, str]

_API = web.RequestKey("traffic_api", str)


def route_of(request: web.Request) -> str:
    """The route a request matched, or its path when none did (a 404)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


class Traffic:
    def __init__(self) -> None:
        self.requests: Counter[Key] = Counter()
        self.bytes_sent: Counter[Key] = Counter()
        self.parked: Counter[Key] = Counter()
        """Blocking reads waiting for a change right now (a gauge, not a counter)."""
        self.blocking: Counter[Key] = Counter()
        """Blocking reads (an `index` was given), whether they had to wait or not."""
        self.blocked: Counter[Key] = Counter()
        """Blocking reads that had to wait at least once."""
        self.computed: Counter[Key] = Counter()
        """Answers computed (the rest were shared with an equal query, see answers.py)."""

    def middleware(self, api: str) -> Middleware:
        @web.middleware
        async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
            request[_API] = api
            key = self.key(request)
            self.requests[key] += 1
            resp = await handler(request)
            # A stream was prepared by its handler and counted chunk by chunk.
            if isinstance(resp, web.Response) and not resp.prepared:
                body = resp.body
                if isinstance(body, bytes | bytearray):
                    self.bytes_sent[key] += len(body)
            return resp

        return count

    def key(self, request: web.Request) -> Key:
        return (request.get(_API, "nomad"), request.method, route_of(request))

    def streamed(self, request: web.Request, size: int) -> None:
        self.bytes_sent[self.key(request)] += size

    def as_dict(self) -> list[Json]:
        keys = sorted(set(self.requests) | set(self.bytes_sent) | set(self.parked))
        return [
            {
                "API": api,
                "Method": method,
                "Route": route,
                "Requests": self.requests[(api, method, route)],
                "BytesSent": self.bytes_sent[(api, method, route)],
                "Blocking": self.blocking[(api, method, route)],
                "Blocked": self.blocked[(api, method, route)],
                "Computed": self.computed[(api, method, route)],
                "Parked": self.parked[(api, method, route)],
            }
            for api, method, route in keys
        ]


class StreamWriter(Protocol):
    async def write(self, data: bytes) -> None: ...


class _Counted:
    def __init__(self, inner: StreamWriter, traffic: Traffic, request: web.Request) -> None:
        self._inner = inner
        self._traffic = traffic
        self._request = request

    async def write(self, data: bytes) -> None:
        await self._inner.write(data)
        self._traffic.streamed(self._request, len(data))


def guard(sim: Sim, request: web.Request, response: web.StreamResponse) -> StreamWriter:
    """The fault injector's guard for a stream, counting the bytes that get through it."""
    return _Counted(sim.injector.guard(request, response), sim.traffic, request)
