"""`EventStream` over loopback: filters, exact resume through cut links, errors, closing.

Events are written straight into the sim's state (`State.write()` + `Txn.event()`, as its
scheduler records them) on a still cluster, so the test knows every Index there is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from nomtui.client.blocking import Backoff
from nomtui.client.events import EventStream
from nomtui.client.http import HttpClient
from nomtui.client.link import LinkState, LinkStatus
from nomtui.errors import StreamDropped, Unauthorized
from nomtui.models.events import EventBatch
from nomtui.sim.server import Sim, SimConfig
from tests.client import set_faults, still

FAST = Backoff(base_s=0.01, cap_s=0.05)


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still(sim_config)


@pytest.fixture
async def http(sim: Sim) -> AsyncIterator[HttpClient]:
    client = HttpClient(sim.nomad_addr, sim.management_token)
    yield client
    await client.aclose()


def emit(sim: Sim, topic: str, key: str, namespace: str = "default") -> int:
    with sim.state.write() as txn:
        txn.event(topic, f"{topic}Registered", key, namespace, {topic: {"ID": key}})
    return txn.index


async def take(stream: EventStream, count: int, timeout_s: float = 5.0) -> list[EventBatch]:
    got: list[EventBatch] = []
    async with asyncio.timeout(timeout_s), aclosing(stream.batches()) as batches:
        async for batch in batches:
            got.append(batch)
            if len(got) == count:
                break
    return got


async def test_topics_and_namespace_filter(sim: Sim, http: HttpClient) -> None:
    start = sim.state.index + 1  # after the seed's events
    emit(sim, "Job", "web")
    emit(sim, "Job", "grafana", "ops")
    node = emit(sim, "Node", "node-1", "")
    last = emit(sim, "Job", "api")
    jobs_default = await take(
        EventStream(http, topics=["Job"], namespace="default", index=start), 2
    )
    assert [(b.Events[0].Key, b.Events[0].Namespace) for b in jobs_default] == [
        ("web", "default"),
        ("api", "default"),
    ]
    everything = await take(EventStream(http, topics=["Job", "Node"], index=start), 4)
    assert [b.Events[0].Key for b in everything] == ["web", "grafana", "node-1", "api"]
    assert everything[2].Index == node and everything[2].Events[0].payload_node() is not None
    keyed = await take(EventStream(http, topics=["Job:api"], index=node), 1)
    assert keyed[0].Index == last


async def test_resume_through_cut_links_sees_every_index_once_in_order(
    sim: Sim, http: HttpClient
) -> None:
    await set_faults(sim, stream_cut_bytes=450)  # two batches and a bit per connection
    statuses: list[LinkStatus] = []
    stream = EventStream(
        http, topics=["Job"], index=sim.state.index + 1, backoff=FAST, on_status=statuses.append
    )
    written: list[int] = []

    async def writer() -> None:
        for i in range(40):
            written.append(emit(sim, "Job", f"job-{i:02d}"))
            await asyncio.sleep(0.01 if i % 5 else 0.05)

    task = asyncio.create_task(writer())
    seen: list[int] = []
    try:
        async with asyncio.timeout(10), aclosing(stream.batches()) as batches:
            async for batch in batches:
                seen.append(batch.Index)
                if len(seen) == 40:  # one batch per write
                    break
    finally:
        await task
    assert seen == written
    assert sim.injector.cut_streams >= 10
    reconnects = [s for s in statuses if s.state is LinkState.RECONNECTING]
    assert reconnects and all(isinstance(s.error, StreamDropped) for s in reconnects)
    assert statuses[-1].state is LinkState.CLOSED


async def test_without_topics_needs_management(sim: Sim) -> None:
    reader = HttpClient(sim.nomad_addr, sim.read_token)
    try:
        with pytest.raises(Unauthorized):
            await take(EventStream(reader), 1)
    finally:
        await reader.aclose()


# -- a scripted agent, for what the sim does not do ---------------------------------------


class Scripted:
    """Serves /v1/event/stream from a list of bodies; `None` answers 403."""

    def __init__(self, bodies: list[bytes | None]) -> None:
        self.bodies = bodies
        self.indexes: list[str] = []
        self.hung_up = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.indexes.append(request.query.get("index", ""))
        body = self.bodies.pop(0) if self.bodies else b""
        if body is None:
            return web.Response(status=403, text="ACL token expired")
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        await resp.write(body)
        if self.bodies:
            return resp  # the agent ends the body
        try:
            while True:  # idle stream: heartbeats until the client goes
                await asyncio.sleep(0.05)
                await resp.write(b"{}\n")
        except ConnectionResetError:
            return resp
        finally:
            # aiohttp cancels the handler when the client disconnects, or the write fails.
            self.hung_up.set()


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, HttpClient]]:
    script = Scripted([])
    app = web.Application()
    app.router.add_get("/v1/event/stream", script.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    http = HttpClient(str(server.make_url("")), "s3cret-token-value")
    yield script, http
    await http.aclose()
    await server.close()


async def test_error_text_after_the_start_is_a_drop_then_reconnect(
    scripted: tuple[Scripted, HttpClient],
) -> None:
    script, http = scripted
    batch = b'{"Index":5,"Events":[{"Topic":"Job","Key":"a","Index":5}]}\n'
    script.bodies = [b"{}\n" + batch + b"rpc error: ACL token expired \x1b[2J", None]
    statuses: list[LinkStatus] = []
    stream = EventStream(http, topics=["Job"], backoff=FAST, on_status=statuses.append)
    got: list[int] = []
    with pytest.raises(Unauthorized, match="ACL token expired"):
        async with aclosing(stream.batches()) as batches:
            async for b in batches:
                got.append(b.Index)
    assert got == [5]
    assert script.indexes == ["0", "6"]
    dropped = next(s.error for s in statuses if s.state is LinkState.RECONNECTING)
    assert isinstance(dropped, StreamDropped)
    assert dropped.reason == "rpc error: ACL token expired"  # the escape sequence is gone
    assert "s3cret" not in str(dropped)


async def test_duplicates_after_resume_are_dropped(scripted: tuple[Scripted, HttpClient]) -> None:
    script, http = scripted

    def b(i: int) -> bytes:
        return b'{"Index":%d,"Events":[{"Topic":"Job","Key":"k"}]}\n' % i

    # The agent's buffer lost index 8, so asking for 8 starts at the newest it has (7).
    script.bodies = [b"{}\n" + b(3) + b(7), b"{}\n" + b(7) + b(9)]
    got = await take(EventStream(http, topics=["Job"], backoff=FAST), 3)
    assert [x.Index for x in got] == [3, 7, 9]
    assert script.indexes == ["0", "8"]


async def test_break_and_cancel_close_the_connection(
    scripted: tuple[Scripted, HttpClient],
) -> None:
    script, http = scripted
    script.bodies = [b"{}\n" + b'{"Index":2,"Events":[{"Topic":"Job"}]}\n']
    statuses: list[LinkStatus] = []
    stream = EventStream(http, topics=["Job"], on_status=statuses.append)
    async for batch in stream:
        assert batch.Index == 2
        break
    await asyncio.wait_for(script.hung_up.wait(), 3)  # the agent saw us go

    script.hung_up.clear()
    script.bodies = [b"{}\n"]
    consumer = asyncio.create_task(take(EventStream(http, topics=["Job"]), 1, 30))
    await asyncio.sleep(0.2)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    await asyncio.wait_for(script.hung_up.wait(), 3)
    assert statuses[0].state is LinkState.CONNECTED
