"""`follow_jobs` / `follow_allocations`: a list kept by the event stream, over loopback.

Each test checks the followed list against a fresh whole read of the same list, and
what went over the wire: after the first read, only item reads (`filter=ID == ...`) and
the parked probe, never the whole list again, unless a deletion or a drop calls for it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from nomtui.client.base import Watch
from nomtui.client.blocking import Retrying, Snapshot
from nomtui.client.event_fed import ids_filter
from nomtui.client.nomad import NomadClient
from nomtui.sim.server import Sim, SimConfig
from tests.client import FAST_WAIT_S, Collector, RequestLog, nomad, set_faults, still
from tests.corpus.badserver import BadServer, Reply, rule

T = TypeVar("T")


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still(sim_config)


@pytest.fixture
async def log() -> RequestLog:
    return RequestLog()


@pytest.fixture
async def client(sim: Sim, log: RequestLog) -> AsyncIterator[NomadClient]:
    async with nomad(sim, event_hooks=log.hooks) as c:
        yield c


def whole_reads(log: RequestLog, path: str) -> list[httpx.Request]:
    """Reads of the whole list at `path` (no `filter=` of the watch's own)."""
    return [r for r in log.requests if r.url.path == path and "filter" not in r.url.params]


async def until(
    updates: Collector[T], done: Callable[[T], Awaitable[bool] | bool], timeout_s: float = 10.0
) -> Snapshot[T]:
    async with asyncio.timeout(timeout_s):
        while True:
            update = await updates.next(timeout_s)
            if isinstance(update, Snapshot):
                ok = done(update.value)
                if isinstance(ok, Awaitable):
                    ok = await ok
                if ok:
                    return update


def live_alloc(sim: Sim) -> dict[str, Any]:
    return next(a for a in sim.state.allocs.values() if a["ClientStatus"] == "running")


async def test_allocations_follow_a_stop_with_item_reads_only(
    client: NomadClient, sim: Sim, log: RequestLog
) -> None:
    watch = client.follow_allocations("*", resources=True, wait_s=FAST_WAIT_S)
    async with Collector(watch) as updates:
        first = await updates.snapshot()
        assert first.value == await client.list_allocations("*", resources=True)
        reads_before = len(whole_reads(log, "/v1/allocations"))
        alloc = live_alloc(sim)
        await client.stop_allocation(alloc["ID"])

        async def caught_up(allocs: list[Any]) -> bool:
            return bool(allocs == await client.list_allocations("*", resources=True))

        shown = await until(updates, caught_up)
    stopped = next(a for a in shown.value if alloc["ID"] == a.ID)
    assert stopped.DesiredStatus == "stop"
    assert len(shown.value) > len(first.value)  # the replacement is there too
    assert shown.index > first.index
    # only the test's own whole reads (`caught_up`), none of the watch's
    watch_reads = [
        r
        for r in whole_reads(log, "/v1/allocations")[reads_before:]
        if "index" in r.url.params or "wait" in r.url.params
    ]
    assert watch_reads == []
    item_reads = [r for r in log.requests if "ID == " in r.url.params.get("filter", "")]
    assert item_reads and all(r.url.params["resources"] == "true" for r in item_reads)


async def test_one_jobs_allocations_follow_its_topic(client: NomadClient, sim: Sim) -> None:
    alloc = live_alloc(sim)
    job = alloc["JobID"]
    watch = client.follow_allocations("default", job_id=job, wait_s=FAST_WAIT_S)
    async with Collector(watch) as updates:
        first = await updates.snapshot()
        assert {a.JobID for a in first.value} == {job}
        await client.stop_allocation(alloc["ID"])
        shown = await until(
            updates,
            lambda allocs: any(alloc["ID"] == a.ID and a.DesiredStatus == "stop" for a in allocs),
        )
    assert {a.JobID for a in shown.value} == {job}


async def test_jobs_follow_stop_and_purge(client: NomadClient, sim: Sim) -> None:
    async with Collector(client.follow_jobs("*", wait_s=FAST_WAIT_S)) as updates:
        first = await updates.snapshot()
        assert first.value == await client.list_jobs("*")
        job = next(j for j in first.value if not j.Stop and j.Type == "service")
        await client.stop_job(job.ID, job.Namespace)
        await until(updates, lambda jobs: any(j.ID == job.ID and j.Stop for j in jobs))
        await client.stop_job(job.ID, job.Namespace, purge=True)
        gone = await until(updates, lambda jobs: all(j.ID != job.ID for j in jobs))
        # the summary counts its allocations moved through their events, not a job event
        assert gone.value == await client.list_jobs("*")


async def test_a_deletion_without_an_event_is_found_by_the_probe(
    client: NomadClient, sim: Sim, log: RequestLog
) -> None:
    watch = client.follow_allocations("*", False, wait_s=FAST_WAIT_S)
    async with Collector(watch) as updates:
        first = await updates.snapshot()
        victim = first.value[-1].ID
        reads = len(whole_reads(log, "/v1/allocations"))
        # as the garbage collector does: gone, the index moves, and no event says so
        with sim.state.write() as txn:
            del sim.state.allocs[victim]
            txn.touch("allocs")
        shown = await until(updates, lambda allocs: all(victim != a.ID for a in allocs))
    assert len(shown.value) == len(first.value) - 1
    assert len(whole_reads(log, "/v1/allocations")) == reads + 1


async def test_a_quiet_list_costs_only_parked_queries(
    client: NomadClient, sim: Sim, log: RequestLog
) -> None:
    async with Collector(client.follow_allocations("*", wait_s=FAST_WAIT_S)) as updates:
        await updates.snapshot()
        await asyncio.sleep(0.2)
        start = len(log.requests)
        await updates.quiet(FAST_WAIT_S * 3)
    later = log.requests[start:]
    # the probe re-parks after each empty wait; nothing else is asked
    assert later and all(
        r.url.params.get("filter") == 'ID == ""' and "index" in r.url.params for r in later
    )


async def test_a_cut_stream_reports_retrying_then_reads_the_whole_list(
    client: NomadClient, sim: Sim, log: RequestLog
) -> None:
    async with Collector(client.follow_allocations("*", wait_s=FAST_WAIT_S)) as updates:
        first = await updates.snapshot()
        reads = len(whole_reads(log, "/v1/allocations"))
        await set_faults(sim, stream_cut_every_s=0.3)
        async with asyncio.timeout(10):
            while not isinstance(await updates.next(), Retrying):
                pass
        await set_faults(sim, stream_cut_every_s=0.0)
        back = await until(updates, lambda _: True)
    assert back.value == first.value
    assert len(whole_reads(log, "/v1/allocations")) > reads


@pytest.fixture
def no_stream(sim: Sim) -> Callable[[int], BadServer]:
    def make(status: int) -> BadServer:
        reply = Reply(status=status, content_type="text/plain", body=b"404 page not found")
        return BadServer([rule(r"^/v1/event/stream$", reply)], upstream=sim.nomad_addr)

    return make


@pytest.mark.parametrize("status", [404, 403])
async def test_without_an_event_stream_it_is_the_blocking_watch(
    sim: Sim, no_stream: Callable[[int], BadServer], status: int
) -> None:
    log = RequestLog()
    with no_stream(status) as bad:
        async with NomadClient(bad.address, sim.management_token, event_hooks=log.hooks) as c:
            watch: Watch[Any] = c.follow_jobs("*", wait_s=FAST_WAIT_S)
            async with Collector(watch) as updates:
                first = await updates.snapshot()
                job = next(j for j in first.value if not j.Stop)
                await c.stop_job(job.ID, job.Namespace)
                await until(updates, lambda jobs: any(j.ID == job.ID and j.Stop for j in jobs))
    blocking = [r for r in whole_reads(log, "/v1/jobs") if "index" in r.url.params]
    assert blocking, "the fallback is the blocking query of the whole list"


async def test_an_agent_ignoring_filter_gives_the_whole_list(sim: Sim, client: NomadClient) -> None:
    # Nomad before 1.1 has no `filter=`: an item read comes back as the whole list.
    jobs = await client.list_jobs("*")
    job = next(j for j in jobs if not j.Stop)
    body, index = await client.http.get_raw("/v1/jobs", {"namespace": "*"})
    # that whole list lacks a job: taken as the whole list, the job leaves the table
    listed = json.loads(body)
    dropped = next(j for j in listed if j["ID"] != job.ID)
    listed.remove(dropped)
    whole = Reply(body=json.dumps(listed).encode(), headers={"X-Nomad-Index": str(index)})
    ignoring = rule(r"^/v1/jobs$", whole, query={"filter": ids_filter([job.ID], None)})
    with BadServer([ignoring], upstream=sim.nomad_addr) as bad:
        async with (
            NomadClient(bad.address, sim.management_token) as c,
            Collector(c.follow_jobs("*", wait_s=FAST_WAIT_S)) as updates,
        ):
            first = await updates.snapshot()
            await c.stop_job(job.ID, job.Namespace)
            # taken as the whole list it is (no job dropped as "not answered")
            second = await updates.snapshot()
    assert first.value == jobs
    assert second.value == [j for j in jobs if dropped["ID"] != j.ID]
