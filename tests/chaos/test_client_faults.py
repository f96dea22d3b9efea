"""What the client does about faults, against the sim: reads retried, watches woken.

- a plain read that got a 5xx is asked again a few times, within a budget; writes,
  blocking queries and errors a retry cannot fix are not;
- the same for Consul reads;
- a watch sleeping in backoff tries again as soon as the servers answer another
  request, but not when only the agent answers (the cluster still has no leader).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from nomtui.client.blocking import Backoff, Retrying, Snapshot
from nomtui.client.consul import ConsulClient
from nomtui.client.http import HttpClient
from nomtui.client.nomad import NomadClient
from nomtui.client.retry import RetryPolicy
from nomtui.errors import NotFound, ServerError
from nomtui.models.jobs import JobStub
from tests.client import Collector, RequestLog, set_faults, still

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

pytestmark = pytest.mark.chaos

HANG_GUARD_S = 10.0
"""Only so a broken wake-up fails instead of hanging; far below the backoff it cuts."""


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still(sim_config)


class Sleeps:
    """A sleep that records what it was asked for and returns at once."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


@pytest.fixture
async def rig(sim: Sim) -> AsyncIterator[tuple[NomadClient, RequestLog, Sleeps]]:
    log, sleeps = RequestLog(), Sleeps()
    http = HttpClient(
        sim.nomad_addr,
        sim.management_token,
        event_hooks=log.hooks,
        sleep=sleeps,
        rng=random.Random(7),
    )
    async with NomadClient(http=http) as client:
        yield client, log, sleeps


def sent(log: RequestLog, path: str, method: str = "GET") -> int:
    return sum(1 for r in log.requests if r.url.path == path and r.method == method)


async def test_a_read_is_tried_again_after_5xx_then_fails_as_the_last_try(
    sim: Sim, rig: tuple[NomadClient, RequestLog, Sleeps]
) -> None:
    client, log, sleeps = rig
    await set_faults(sim, error_rate=1.0)
    with pytest.raises(ServerError):
        await client.list_jobs()
    assert sent(log, "/v1/jobs") == RetryPolicy().attempts == 4
    assert len(sleeps.asked) == 3 and sleeps.asked == sorted(sleeps.asked)
    assert sum(sleeps.asked) <= RetryPolicy().budget_s
    await set_faults(sim, error_rate=0.0, leader_lost=True)
    with pytest.raises(ServerError, match="No cluster leader"):
        await client.list_jobs()
    assert sent(log, "/v1/jobs") == 8


async def test_reads_that_fail_and_fail_again_succeed(sim: Sim) -> None:
    log = RequestLog()
    # Twenty tries: with half of them failing, every call gets through (1 in a million).
    patient = RetryPolicy(attempts=20, budget_s=3600)
    http = HttpClient(
        sim.nomad_addr, sim.management_token, event_hooks=log.hooks, sleep=Sleeps(), retry=patient
    )
    async with NomadClient(http=http) as client:
        await set_faults(sim, error_rate=0.5)
        for _ in range(10):
            jobs = await client.list_jobs("*")
            assert {(j.Namespace, j.ID) for j in jobs} == set(sim.state.jobs)
    assert sim.injector.injected_errors > 0  # some tries failed, and no call did
    assert sent(log, "/v1/jobs") == 10 + sim.injector.injected_errors


async def test_writes_blocking_queries_and_4xx_are_not_retried(
    sim: Sim, rig: tuple[NomadClient, RequestLog, Sleeps]
) -> None:
    client, log, _ = rig
    with pytest.raises(NotFound):
        await client.http.get("/v1/job/no-such-job", JobStub)
    assert sent(log, "/v1/job/no-such-job") == 1
    await set_faults(sim, error_rate=1.0)
    with pytest.raises(ServerError):
        await client.http.send("POST", "/v1/job/www-nomad/evaluate", dict[str, Any], body={})
    assert sent(log, "/v1/job/www-nomad/evaluate", "POST") == 1
    with pytest.raises(ServerError):
        await client.http.request("GET", "/v1/jobs", {"index": "1", "wait": "1s"})
    assert sent(log, "/v1/jobs") == 1


async def test_consul_reads_are_tried_again_after_5xx(sim: Sim) -> None:
    async with ConsulClient(sim.consul_addr, None, rng=random.Random(3)) as consul:
        truth = await consul.services()
        await set_faults(sim, error_rate=1.0)
        with pytest.raises(ServerError):
            await consul.services()
        assert sim.injector.injected_errors == RetryPolicy().attempts
    patient = RetryPolicy(attempts=20, budget_s=3600)
    async with ConsulClient(sim.consul_addr, None, retry=patient) as consul:
        await set_faults(sim, error_rate=0.5)
        for _ in range(5):
            assert await consul.services() == truth
    assert sim.injector.injected_errors > RetryPolicy().attempts


async def test_a_watch_in_backoff_wakes_when_the_servers_answer_again(sim: Sim) -> None:
    async with NomadClient(sim.nomad_addr, sim.management_token) as client:
        # A backoff of 20 s or more: only the wake-up can bring the watch back in time.
        slow = Backoff(base_s=40.0, cap_s=60.0)
        watch = client.http.watch("/v1/jobs", list[JobStub], wait_s=1.0, backoff=slow)
        async with Collector(watch) as updates:
            first = await updates.snapshot()
            await set_faults(sim, leader_lost=True)
            failed = await updates.next(HANG_GUARD_S)
            assert isinstance(failed, Retrying) and failed.delay_s >= 20
            # The agent answers without a leader: that is no reason to wake.
            await client.agent_self()
            await updates.quiet(1.0)
            await set_faults(sim, leader_lost=False)
            await client.list_jobs()  # the servers answer: the watch tries again now
            back = await updates.next(HANG_GUARD_S)
    assert isinstance(back, Snapshot) and back.value == first.value


async def test_a_cancelled_watch_in_backoff_leaves_nothing_behind(sim: Sim) -> None:
    async with NomadClient(sim.nomad_addr, sim.management_token) as client:
        before = asyncio.all_tasks()
        watch = client.http.watch("/v1/jobs", list[JobStub], wait_s=1.0, backoff=Backoff(40, 60))
        collector = Collector(watch)
        await collector.snapshot()
        await set_faults(sim, error_rate=1.0)
        assert isinstance(await collector.next(HANG_GUARD_S), Retrying)
        await asyncio.sleep(0.1)  # now asleep in backoff, with its sleeper and waker
        await collector.aclose()
        await asyncio.sleep(0)
        # The sim's own tasks (handlers) aside, nothing of the watch is left running.
        ours = [t for t in asyncio.all_tasks() - before if "recovery" in repr(t.get_coro())]
        assert not [t for t in ours if not t.done()]
