"""The sim's Nomad event stream over a real socket: heartbeats, filters, resume, ACL, faults.

The harness serves only /v1/event/stream from a stand-in Sim (real State, Acl and
FaultInjector, nothing started); events are written with `State.write()` + `Txn.event()`
exactly as the scheduler records them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiohttp import web

from nomtui.sim import events_api
from nomtui.sim.acl import Acl
from nomtui.sim.answers import Answers
from nomtui.sim.clock import FixedClock
from nomtui.sim.faults import FaultInjector, Faults
from nomtui.sim.http import ApiError, error
from nomtui.sim.ids import IdSource
from nomtui.sim.state import Json, State
from nomtui.sim.traffic import Traffic

STREAM = "/v1/event/stream"


@dataclass
class FakeConfig:
    event_heartbeat_s: float = 30.0
    consul_instances: int | None = None


class FakeSim:
    """The attributes of nomtui.sim.server.Sim the event stream uses."""

    def __init__(self, heartbeat_s: float) -> None:
        self.config = FakeConfig(event_heartbeat_s=heartbeat_s)
        self.clock = FixedClock()
        self.ids = IdSource(11)
        self.state = State(self.clock, self.ids)
        self.acl = Acl(self.ids, self.clock.now_ns(), None, None)
        self.injector = FaultInjector(Faults(), 11)
        self.answers = Answers()
        self.traffic = Traffic()


@dataclass
class Harness:
    sim: FakeSim
    client: httpx.AsyncClient
    finished: list[int] = field(default_factory=list)
    """Status of every stream handler that returned, so tests can see a clean end."""

    @property
    def mgmt(self) -> dict[str, str]:
        return {"X-Nomad-Token": self.sim.acl.management.secret_id}

    @property
    def read(self) -> dict[str, str]:
        return {"X-Nomad-Token": self.sim.acl.read_only.secret_id}


async def _serve(heartbeat_s: float) -> AsyncIterator[Harness]:
    sim = FakeSim(heartbeat_s)
    finished: list[int] = []

    @web.middleware
    async def mw(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            resp = await handler(request)
        except ApiError as exc:
            resp = error(exc.status, exc.text)
        finished.append(resp.status)
        return resp

    app = web.Application(middlewares=[mw])
    events_api.add_routes(app, sim)  # type: ignore[arg-type]
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        yield Harness(sim, client, finished)
    await runner.cleanup()


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    async for harness in _serve(heartbeat_s=30.0):
        yield harness


@pytest.fixture
async def fast() -> AsyncIterator[Harness]:
    async for harness in _serve(heartbeat_s=0.05):
        yield harness


def emit(sim: FakeSim, *events: tuple[str, str, str, str, list[str]]) -> int:
    """One write with the given (topic, type, key, namespace, filter keys) events."""
    with sim.state.write() as txn:
        for topic, type_, key, ns, keys in events:
            txn.event(topic, type_, key, ns, {topic: {"ID": key}}, keys)
    return txn.index


def alloc_event(key: str, job: str = "web", ns: str = "default") -> tuple[Any, ...]:
    return ("Allocation", "AllocationUpdated", key, ns, [job])


async def read_lines(
    h: Harness, n: int, params: Any = None, headers: dict[str, str] | None = None
) -> list[Json]:
    """The first `n` lines of a stream, decoded; fails after 3 s rather than hang."""
    lines: list[Json] = []

    async def run() -> None:
        async with h.client.stream("GET", STREAM, params=params, headers=headers or h.mgmt) as resp:
            assert resp.status_code == 200, await resp.aread()
            async for line in resp.aiter_lines():
                lines.append(json.loads(line))
                if len(lines) == n:
                    return

    await asyncio.wait_for(run(), 3)
    return lines


def batches(lines: list[Json]) -> list[Json]:
    return [line for line in lines if line]


async def replay(h: Harness, params: Any) -> list[Json]:
    """The batches a subscription replays from the buffer: everything between the first
    heartbeat and the next one (use with a fast heartbeat)."""
    got: list[Json] = []

    async def run() -> None:
        async with h.client.stream("GET", STREAM, params=params, headers=h.mgmt) as resp:
            assert resp.status_code == 200, await resp.aread()
            beats = 0
            async for line in resp.aiter_lines():
                frame = json.loads(line)
                beats += not frame
                if beats == 2:
                    return
                if frame:
                    got.append(frame)

    await asyncio.wait_for(run(), 3)
    return got


def keys_of(frames: list[Json]) -> list[str]:
    return [e["Key"] for f in frames for e in f["Events"]]


# -- framing ------------------------------------------------------------------------------------


async def test_heartbeat_first_then_periodic(fast: Harness) -> None:
    async with fast.client.stream("GET", STREAM, headers=fast.mgmt) as resp:
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "application/json"
        assert resp.headers["Cache-Control"] == "no-cache"
        lines = resp.aiter_lines()
        assert await asyncio.wait_for(anext(lines), 1) == "{}"
        start = asyncio.get_running_loop().time()
        assert await asyncio.wait_for(anext(lines), 1) == "{}"
        assert await asyncio.wait_for(anext(lines), 1) == "{}"
        assert asyncio.get_running_loop().time() - start >= 0.05


async def test_live_events_follow_the_heartbeat(h: Harness) -> None:
    task = asyncio.create_task(read_lines(h, 2))
    await asyncio.sleep(0.1)
    index = emit(h.sim, alloc_event("a1"))
    heartbeat, batch = await task
    assert heartbeat == {}
    assert batch["Index"] == index
    [event] = batch["Events"]
    assert (event["Topic"], event["Key"], event["Index"]) == ("Allocation", "a1", index)
    assert event["Payload"] == {"Allocation": {"ID": "a1"}}


# -- filters ------------------------------------------------------------------------------------


async def test_topic_filters(fast: Harness) -> None:
    emit(fast.sim, ("Job", "JobRegistered", "web", "default", ["web"]))
    emit(fast.sim, alloc_event("a1", job="web"), alloc_event("a2", job="api"))
    emit(fast.sim, ("Node", "NodeRegistration", "n1", "", []))
    emit(fast.sim, ("Deployment", "DeploymentStatusUpdate", "d1", "default", ["web"]))

    async def keys(*topics: str) -> list[str]:
        return keys_of(await replay(fast, [("index", "0"), *(("topic", t) for t in topics)]))

    assert await keys("Allocation") == ["a1", "a2"]
    assert await keys("Allocation:a2") == ["a2"]
    # FilterKeys: the job ID of an allocation or deployment
    assert await keys("Allocation:web", "Deployment:web") == ["a1", "d1"]
    assert await keys("*:web") == ["web", "a1", "d1"]
    assert await keys("Job", "Node") == ["web", "n1"]
    assert await keys("Evaluation") == []
    every = await replay(fast, {"index": 0})
    assert [len(b["Events"]) for b in every] == [1, 2, 1, 1]


async def test_namespace_filter(fast: Harness) -> None:
    emit(fast.sim, alloc_event("in-default"), alloc_event("in-other", ns="other"))
    emit(fast.sim, ("Node", "NodeRegistration", "n1", "", []))

    async def keys(namespace: str | None) -> list[str]:
        params = {"index": 0} | ({"namespace": namespace} if namespace else {})
        return keys_of(await replay(fast, params))

    assert await keys(None) == ["in-default", "n1"]  # default namespace; nodes pass any
    assert await keys("other") == ["in-other", "n1"]
    assert await keys("*") == ["in-default", "in-other", "n1"]


async def test_empty_batches_are_skipped(fast: Harness) -> None:
    job1 = emit(fast.sim, ("Job", "JobRegistered", "web", "default", ["web"]))
    emit(fast.sim, alloc_event("a1"))
    job2 = emit(fast.sim, ("Job", "JobRegistered", "api", "default", ["api"]))
    frames = await replay(fast, {"index": 0, "topic": "Job"})
    assert [b["Index"] for b in frames] == [job1, job2]


# -- resume -------------------------------------------------------------------------------------


async def test_resume_semantics(h: Harness) -> None:
    indexes = [emit(h.sim, alloc_event(f"a{i}")) for i in range(4)]

    async def first_index(index: int) -> int:
        [_, batch] = await read_lines(h, 2, params={"index": index})
        return int(batch["Index"])

    assert await first_index(0) == indexes[0]  # replay the whole buffer
    assert await first_index(indexes[2]) == indexes[2]  # inclusive
    assert await first_index(indexes[3] + 50) == indexes[3]  # newer than all: newest
    h.sim.state.event_batches.popleft()  # index[0] dropped from the buffer
    assert await first_index(indexes[0]) == indexes[1]  # the next newer one


async def test_resume_has_no_duplicate_and_no_loss(h: Harness) -> None:
    seen: list[int] = []
    first = [emit(h.sim, alloc_event(f"a{i}")) for i in range(3)]
    lines = await read_lines(h, 4, params={"index": 0})
    seen += [b["Index"] for b in batches(lines)]
    # while disconnected, more happens; resume from the last seen + 1
    later = [emit(h.sim, alloc_event(f"b{i}")) for i in range(2)]
    task = asyncio.create_task(read_lines(h, 4, params={"index": seen[-1] + 1}))
    await asyncio.sleep(0.1)
    live = emit(h.sim, alloc_event("live"))
    seen += [b["Index"] for b in batches(await task)]
    assert seen == [*first, *later, live]


# -- errors and ACL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"index": "abc"}, 'Unable to parse index: strconv.Atoi: parsing "abc": invalid syntax'),
        (
            {"topic": "Job:web:x"},
            "Invalid topic query: error parsing topics: "
            "Invalid key value pair for topic, topic: Job:web:x",
        ),
    ],
)
async def test_bad_request(h: Harness, params: dict[str, str], text: str) -> None:
    r = await h.client.get(STREAM, params=params, headers=h.mgmt)
    assert (r.status_code, r.text) == (400, text)


async def test_acl(h: Harness) -> None:
    async def status(headers: dict[str, str], params: Any = None) -> tuple[int, str]:
        async with h.client.stream("GET", STREAM, params=params, headers=headers) as r:
            if r.status_code != 200:
                return r.status_code, (await r.aread()).decode()
            return 200, ""

    assert await status({}) == (403, "Permission denied")
    assert await status({"X-Nomad-Token": "nope"}) == (403, "ACL token not found")
    assert await status(h.read) == (403, "Permission denied")  # `*:*` needs management
    assert await status(h.read, {"topic": "ACLToken"}) == (403, "Permission denied")
    assert await status(h.read, [("topic", "Job"), ("topic", "Node:n1")]) == (200, "")
    assert await status(h.mgmt) == (200, "")
    bearer = {"Authorization": f"Bearer {h.sim.acl.management.secret_id}"}
    assert await status(bearer) == (200, "")
    r = await h.client.post(STREAM, headers=h.mgmt)
    assert (r.status_code, r.text) == (405, "Invalid method")


# -- faults and disconnects ---------------------------------------------------------------------


async def test_stream_cut_fault(h: Harness) -> None:
    for i in range(3):
        emit(h.sim, alloc_event(f"a{i}"))
    h.sim.injector.faults.stream_cut_bytes = 40
    body = b""
    async with h.client.stream("GET", STREAM, headers=h.mgmt) as resp:
        with pytest.raises(httpx.RemoteProtocolError):
            async for chunk in resp.aiter_bytes():
                body += chunk
    assert body.startswith(b"{}\n") and len(body) == 40
    assert h.sim.injector.cut_streams == 1
    await asyncio.sleep(0.05)
    assert h.finished == [200]  # the handler ended by itself


async def test_client_disconnect_ends_handler_quietly(
    fast: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    async with fast.client.stream("GET", STREAM, headers=fast.mgmt) as resp:
        assert await asyncio.wait_for(anext(resp.aiter_lines()), 1) == "{}"
    # the client closed its socket; heartbeats (50 ms) find it gone
    for _ in range(40):
        if fast.finished:
            break
        await asyncio.sleep(0.05)
    assert fast.finished == [200]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
