"""The sim's faults for the chaos runs: each one happens as described, and is counted."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from nomtui.sim.faults import FaultInjector, Faults
from tests.client import still

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

pytestmark = pytest.mark.chaos

STREAM = "/v1/event/stream"
HANG_GUARD_S = 10.0
"""Only so a broken fault fails the test instead of hanging it; never a measurement."""


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    still(sim_config)
    sim_config.log_lines_per_s = 0
    return sim_config


@pytest.fixture
async def http(sim: Sim) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"X-Nomad-Token": sim.management_token}
    async with httpx.AsyncClient(base_url=sim.nomad_addr, headers=headers, timeout=30) as c:
        yield c


async def put_faults(http: httpx.AsyncClient, **faults: Any) -> httpx.Response:
    return await http.put("/v1/sim/faults", json=faults)


async def counts(http: httpx.AsyncClient) -> dict[str, int]:
    resp = await http.get("/v1/sim/stats")
    resp.raise_for_status()
    found: dict[str, int] = resp.json()["Faults"]
    return found


async def read_until_cut(http: httpx.AsyncClient, path: str, **params: str) -> bytes:
    """The body of a stream the sim cuts: what arrived before the connection closed."""
    body = b""
    async with asyncio.timeout(HANG_GUARD_S), http.stream("GET", path, params=params) as resp:
        assert resp.status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            async for chunk in resp.aiter_bytes():
                body += chunk
    return body


def test_the_same_seed_gives_the_same_faults() -> None:
    def draws(seed: int) -> list[tuple[bool, float | None, int]]:
        injector = FaultInjector(
            Faults(error_rate=0.3, stream_cut_every_s=5.0, latency_spike_rate=0.2), seed
        )
        return [
            (injector.should_fail(), injector.cut_after_s(), injector.cut_at(100))
            for _ in range(50)
        ]

    assert draws(42) == draws(42)
    assert draws(42) != draws(43)
    failed = sum(f for f, _, _ in draws(42))
    assert 0 < failed < 50
    assert all(2.5 <= after <= 7.5 for _, after, _ in draws(42) if after is not None)


async def test_fractions_above_one_are_refused(http: httpx.AsyncClient) -> None:
    for name in ("error_rate", "latency_spike_rate"):
        resp = await put_faults(http, **{name: 1.5})
        assert resp.status_code == 400
        assert "fraction" in resp.text
    assert (await put_faults(http, latency_spike_rate=1, latency_spike_ms=10)).status_code == 200


async def test_latency_spikes_hold_requests_and_are_counted(
    sim: Sim, http: httpx.AsyncClient
) -> None:
    await put_faults(http, latency_spike_rate=1.0, latency_spike_ms=300)
    started = time.monotonic()
    assert (await http.get("/v1/jobs")).status_code == 200
    assert time.monotonic() - started >= 0.3
    await put_faults(http, latency_spike_rate=0.5)
    for _ in range(20):
        await http.get("/v1/regions")
    spikes = (await counts(http))["LatencySpikes"]
    assert 1 + 1 <= spikes <= 1 + 19  # some of the twenty, not all, not none
    assert sim.injector.counts.latency_spikes == spikes


async def test_errors_hit_blocking_queries_and_stream_opens(http: httpx.AsyncClient) -> None:
    await put_faults(http, error_rate=1.0)
    blocking = await http.get("/v1/jobs", params={"index": "1", "wait": "5s"})
    assert (blocking.status_code, blocking.text) == (500, "rpc error: simulated server failure")
    async with http.stream("GET", STREAM) as resp:
        assert resp.status_code == 500
    assert (await counts(http))["InjectedErrors"] == 2


async def test_leader_loss_fails_parked_blocking_queries(sim: Sim, http: httpx.AsyncClient) -> None:
    jobs = await http.get("/v1/jobs")
    index = jobs.headers["X-Nomad-Index"]
    parked = asyncio.create_task(http.get("/v1/jobs", params={"index": index, "wait": "60s"}))
    while sim.state.waiting() == 0:  # noqa: ASYNC110 - parked on the server (no event to wait on)
        await asyncio.sleep(0.01)
    await put_faults(http, leader_loss_every_s=0.3, leader_loss_for_s=0.2)
    async with asyncio.timeout(HANG_GUARD_S):
        answer = await parked
    assert (answer.status_code, answer.text) == (500, "No cluster leader")
    await put_faults(http, leader_loss_every_s=0, leader_loss_for_s=0)
    found = await counts(http)
    assert found["LeaderLosses"] >= 1
    assert found["LeaderRefusals"] >= 1


async def test_time_cuts_reach_idle_streams_opened_before_they_were_on(
    sim: Sim, http: httpx.AsyncClient
) -> None:
    async with asyncio.timeout(HANG_GUARD_S), http.stream("GET", STREAM) as resp:
        lines = resp.aiter_lines()
        assert await anext(lines) == "{}"  # the first heartbeat: the stream is open
        await put_faults(http, stream_cut_every_s=0.2)
        # The replayed buffer, then nothing to send (heartbeats every 30 s), then the cut.
        with pytest.raises(httpx.RemoteProtocolError):
            async for _ in lines:
                pass
    found = await counts(http)
    assert found["CutStreams"] == found["CutStreamsByTime"] == 1


async def test_time_cuts_fall_inside_frames_of_a_busy_log(
    sim: Sim, http: httpx.AsyncClient
) -> None:
    alloc = next(a for a in sim.state.allocs.values() if a["ClientStatus"] == "running")
    task = next(iter(alloc["TaskStates"]))
    writing = True

    async def write() -> None:
        while writing:
            sim.files.write_log(alloc["ID"], task, "stdout", b"x" * 999 + b"\n")
            await asyncio.sleep(0.005)

    writer = asyncio.create_task(write())
    try:
        await put_faults(http, stream_cut_every_s=0.3)
        cut_inside = 0
        for _ in range(5):
            path = f"/v1/client/fs/logs/{alloc['ID']}"
            body = await read_until_cut(
                http, path, task=task, type="stdout", follow="true", origin="end", offset="0"
            )
            # Frames are JSON objects back to back: a cut inside one leaves it unclosed.
            cut_inside += not body.endswith(b"}")
    finally:
        writing = False
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    assert cut_inside >= 1
    assert (await counts(http))["CutStreamsByTime"] == 5


async def test_a_finished_stream_does_not_cut_the_next_request_on_its_connection(
    sim: Sim, http: httpx.AsyncClient
) -> None:
    alloc = next(a for a in sim.state.allocs.values() if a["ClientStatus"] == "running")
    await put_faults(http, stream_cut_every_s=0.3)
    task = next(iter(alloc["TaskStates"]))
    # cat answers through the fault injector's stream guard, and is done at once.
    cat = await http.get(
        f"/v1/client/fs/cat/{alloc['ID']}", params={"path": f"{task}/local/app.conf"}
    )
    assert cat.status_code == 200 and cat.content
    # Past the longest time the cut could have been set for, the same kept-alive
    # connection answers a slow request whole.
    await asyncio.sleep(0.5)
    await put_faults(http, latency_ms=500)
    assert (await http.get("/v1/jobs")).status_code == 200
    assert (await counts(http))["CutStreams"] == 0


async def test_stats_name_every_kind_of_fault(http: httpx.AsyncClient) -> None:
    assert set(await counts(http)) == {
        "InjectedErrors",
        "CutStreams",
        "CutStreamsByTime",
        "LeaderLosses",
        "LeaderRefusals",
        "LatencySpikes",
    }
