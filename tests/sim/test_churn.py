"""Churn mode on a fixed clock, driven through /v1/sim/advance: rate, visibility, sync.

Also what makes the sim a cheap load generator: blocking reads woken only by writes to
their own tables, and equal reads sharing one computed answer (counted in /v1/sim/stats).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from nomtui.sim.clock import FixedClock
from nomtui.sim.consul_sync import SERVICE_PREFIX
from nomtui.sim.server import Sim, SimConfig

RATE = 0.05  # of the allocations per minute: 10 a minute out of 200
STEP_S = 5.0


def churn_config(data_dir: Path, rate: float = RATE) -> SimConfig:
    return SimConfig(
        seed=42,
        jobs=40,
        allocs_per_job=5,
        nodes=20,
        clock=FixedClock(),
        lifecycle=False,
        churn_per_min=rate,
        data_dir=data_dir,
        log_lines_per_s=0,
    )


@pytest.fixture
def sim_config(tmp_path: Path) -> SimConfig:
    return churn_config(tmp_path / "sim-data")


def nomad(sim: Sim) -> httpx.AsyncClient:
    headers = {"X-Nomad-Token": sim.management_token}
    return httpx.AsyncClient(base_url=sim.nomad_addr, headers=headers, timeout=30)


async def advance(c: httpx.AsyncClient, seconds: float = STEP_S, times: int = 1) -> None:
    for _ in range(times):
        resp = await c.post("/v1/sim/advance", params={"seconds": seconds})
        resp.raise_for_status()


async def stats(c: httpx.AsyncClient) -> dict[str, Any]:
    resp = await c.get("/v1/sim/stats")
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


def route(body: dict[str, Any], path: str, api: str = "nomad") -> dict[str, Any]:
    rows = [r for r in body["Traffic"] if r["Route"] == path and r["API"] == api]
    assert len(rows) == 1, body["Traffic"]
    row: dict[str, Any] = rows[0]
    return row


async def advance_until_change(c: httpx.AsyncClient, limit: int = 60) -> None:
    """Advance until churn has made at least one more change than now."""
    before = sum((await stats(c))["Churn"]["Changes"].values())
    for _ in range(limit):
        await advance(c)
        if sum((await stats(c))["Churn"]["Changes"].values()) > before:
            return
    raise AssertionError("churn made no change")


# -- rate and determinism --------------------------------------------------------------


async def test_churn_touches_about_the_configured_share_each_minute(sim: Sim) -> None:
    async with nomad(sim) as c:
        await advance(c)  # the first tick only starts the clock of the churn
        per_minute: list[int] = []
        touched = 0
        for _ in range(10):
            await advance(c, times=int(60 / STEP_S))
            now = (await stats(c))["Churn"]["AllocationsTouched"]
            per_minute.append(now - touched)
            touched = now
        body = await stats(c)
    expected = RATE * 200  # allocations a minute
    assert 0.75 * expected * 10 <= touched <= 1.25 * expected * 10
    # spread over time, not in bursts: every minute sees some, none sees a pile
    assert all(0 < n <= 3 * expected for n in per_minute), per_minute
    kinds = body["Churn"]["Changes"]
    assert kinds["restart"] > kinds["reschedule"] > 0 and kinds["version"] > 0, kinds


async def test_churn_is_off_by_default(tmp_path: Path) -> None:
    async with Sim(churn_config(tmp_path, rate=0)) as sim, nomad(sim) as c:
        index = (await stats(c))["Index"]
        await advance(c, times=24)
        body = await stats(c)
    assert body["Churn"]["AllocationsTouched"] == 0
    assert body["Index"] == index  # a settled cluster writes nothing


async def test_churn_rate_changes_at_runtime(tmp_path: Path) -> None:
    async with Sim(churn_config(tmp_path, rate=0)) as sim, nomad(sim) as c:
        await advance(c, times=24)
        assert (await stats(c))["Churn"]["AllocationsTouched"] == 0
        bad = await c.put("/v1/sim/churn", json={"PerMinute": 2})
        assert bad.status_code == 400 and "PerMinute" in bad.text
        resp = await c.put("/v1/sim/churn", json={"PerMinute": RATE})
        assert resp.json() == {"PerMinute": RATE}
        await advance(c, times=24)  # two minutes
        touched = (await stats(c))["Churn"]["AllocationsTouched"]
        assert 0 < touched <= 3 * RATE * 200 * 2
        # off again: nothing more, and no credit saved up for later
        await c.put("/v1/sim/churn", json={"PerMinute": 0})
        await advance(c, times=24)
        assert (await stats(c))["Churn"]["AllocationsTouched"] == touched
        await c.put("/v1/sim/churn", json={"PerMinute": RATE})
        await advance(c, seconds=600)
        await advance(c)
        assert (await stats(c))["Churn"]["AllocationsTouched"] - touched <= 3


async def test_churn_is_seeded(tmp_path: Path) -> None:
    """Two clusters with the same seed, moved the same way, make the same changes."""
    results = []
    for run in ("a", "b"):
        async with Sim(churn_config(tmp_path / run)) as sim, nomad(sim) as c:
            await advance(c, times=30)
            resp = await c.get("/v1/allocations", params={"task_states": "false"})
            body = await stats(c)
            results.append((body["Churn"], body["Index"], resp.content))
    assert results[0] == results[1]
    assert results[0][0]["AllocationsTouched"] > 0


# -- visible through the API -------------------------------------------------------------


async def test_each_change_wakes_blocking_queries_and_reaches_the_event_stream(
    sim: Sim,
) -> None:
    async with nomad(sim) as c:
        await advance(c)
        first = await c.get("/v1/allocations", params={"task_states": "false"})
        index = int(first.headers["X-Nomad-Index"])
        before = {a["ID"]: a["ModifyIndex"] for a in first.json()}

        async def events() -> list[dict[str, Any]]:
            seen: list[dict[str, Any]] = []
            params = {"index": str(index + 1), "topic": "Allocation"}
            async with c.stream("GET", "/v1/event/stream", params=params) as resp:
                async for line in resp.aiter_lines():
                    batch = json.loads(line)
                    seen += batch.get("Events") or []
                    if seen:
                        return seen
            return seen

        blocked = asyncio.create_task(
            c.get("/v1/allocations", params={"index": str(index), "task_states": "false"})
        )
        stream = asyncio.create_task(events())
        await advance_until_change(c)
        answer = await blocked
        new_index = int(answer.headers["X-Nomad-Index"])
        assert new_index > index
        changed = {a["ID"] for a in answer.json() if before.get(a["ID"]) != a["ModifyIndex"]}
        assert changed
        assert all(a["ModifyIndex"] <= new_index for a in answer.json())
        seen = await asyncio.wait_for(stream, 30)
        assert {e["Key"] for e in seen} & changed
        assert all(e["Index"] > index for e in seen)


async def test_consul_follows_every_change(sim: Sim) -> None:
    """After minutes of churn, Consul holds exactly the running allocations' instances,
    and the health index has moved with them."""
    consul = httpx.AsyncClient(base_url=sim.consul_addr, timeout=30)
    async with nomad(sim) as c, consul:
        start = int((await consul.get("/v1/health/state/any")).headers["X-Consul-Index"])
        await advance(c, times=60)
        allocs = (await c.get("/v1/allocations", params={"task_states": "false"})).json()
        checks = await consul.get("/v1/health/state/any")
        services = (await consul.get("/v1/catalog/services")).json()
        assert (await stats(c))["Churn"]["AllocationsTouched"] > 0
    running = {a["ID"] for a in allocs if a["ClientStatus"] == "running"}
    registered = set()
    for name in services:
        if name == "consul":
            continue
        async with httpx.AsyncClient(base_url=sim.consul_addr) as consul2:
            for row in (await consul2.get(f"/v1/catalog/service/{name}")).json():
                registered.add(row["ServiceID"].removeprefix(SERVICE_PREFIX)[:36])
    assert registered == running
    assert int(checks.headers["X-Consul-Index"]) > start


# -- cheap to serve ----------------------------------------------------------------------


async def test_a_write_wakes_only_the_reads_of_its_tables(sim: Sim) -> None:
    async with nomad(sim) as c:
        await advance(c)
        nodes = await c.get("/v1/nodes")
        node_index = int(nodes.headers["X-Nomad-Index"])
        parked = asyncio.create_task(
            c.get("/v1/nodes", params={"index": str(node_index), "wait": "5m"})
        )
        for _ in range(200):  # until the read is parked
            if route(await stats(c), "/v1/nodes")["Parked"]:
                break
            await asyncio.sleep(0.01)
        computed = route(await stats(c), "/v1/nodes")["Computed"]
        for _ in range(3):
            await advance_until_change(c)
        # churn wrote allocations several times; the nodes read has not even looked
        assert route(await stats(c), "/v1/nodes")["Computed"] == computed
        assert not parked.done()
        node = nodes.json()[0]["ID"]
        resp = await c.post(f"/v1/node/{node}/eligibility", json={"Eligibility": "ineligible"})
        resp.raise_for_status()
        answer = await parked
        assert int(answer.headers["X-Nomad-Index"]) > node_index
        assert route(await stats(c), "/v1/nodes")["Computed"] == computed + 1


async def test_equal_reads_share_one_answer_per_write(sim: Sim) -> None:
    async with nomad(sim) as c:
        await advance(c)
        first = await c.get("/v1/allocations")
        index = first.headers["X-Nomad-Index"]
        computed = route(await stats(c), "/v1/allocations")["Computed"]
        readers = [
            asyncio.create_task(c.get("/v1/allocations", params={"index": index})) for _ in range(5)
        ]
        for _ in range(200):
            if route(await stats(c), "/v1/allocations")["Parked"] == 5:
                break
            await asyncio.sleep(0.01)
        await advance_until_change(c)
        answers = await asyncio.gather(*readers)
        body = await stats(c)
    assert len({a.content for a in answers}) == 1
    assert all(int(a.headers["X-Nomad-Index"]) > int(index) for a in answers)
    # one computation for the five of them (a poll before parking shares the first)
    assert route(body, "/v1/allocations")["Computed"] == computed + 1
    assert route(body, "/v1/allocations")["BytesSent"] >= 6 * len(first.content)


async def test_encoded_list_matches_a_fresh_encoding(sim: Sim) -> None:
    """Items joined from cached bytes are exactly what encoding the list would give."""
    async with nomad(sim) as c:
        await advance(c, times=12)
        for path in ("/v1/allocations", "/v1/jobs"):
            resp = await c.get(path)
            assert resp.content == json.dumps(resp.json(), separators=(",", ":")).encode()
            pretty = await c.get(path, params={"pretty": "true"})
            assert pretty.json() == resp.json()
            assert pretty.text.startswith("[\n    {")
