"""The store over the sim: snapshots per view, shared watches, immutability, connection state."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeVar

import httpx
import pytest

from nomtui.client.consul import ConsulClient
from nomtui.errors import NotFound, ServerError, Unreachable
from nomtui.models.allocs import Allocation, AllocStub
from nomtui.models.jobs import JobStub
from nomtui.store import (
    AllocsView,
    AllocView,
    ClusterData,
    ClusterView,
    DeploymentsView,
    JobDetail,
    JobsView,
    JobView,
    NodesView,
    ServicesData,
    ServicesView,
    Store,
    ViewKey,
    ViewState,
)
from nomtui.store.sources import ALLOCS_BRIEF, CONSUL_SERVICES, JOBS_ALL, NODES
from nomtui.store.watches import Channel, Subscription

from .conftest import Rig, data, loaded, until

PYHI = "services-pyhi"
T = TypeVar("T")


async def set_faults(rig: Rig, **faults: Any) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.put(
            f"{rig.sim.nomad_addr}/v1/sim/faults",
            json=faults,
            headers={"X-Nomad-Token": rig.sim.management_token},
        )
        resp.raise_for_status()


async def test_first_snapshot_of_the_jobs_view(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(JobsView("default")) as states:
        state = await until(states, loaded)
    assert state.connection == "live" and state.error is None and state.stale_since is None
    assert state.index > 0
    assert state.view == JobsView("default")
    jobs = data(state)
    assert isinstance(jobs, MappingProxyType)  # read-only
    assert f"default/{PYHI}" in jobs
    assert all(isinstance(job, JobStub) for job in jobs.values())
    await store.aclose()


async def test_a_stop_arrives_through_the_watch(rig: Rig) -> None:
    store = rig.store()
    key = f"default/{PYHI}"
    async with store.subscribe(JobsView()) as states:
        before = await until(states, loaded)
        assert not data(before)[key].Stop
        response = await store.stop_job(PYHI, "default")
        assert response.EvalID
        assert not data(before)[key].Stop  # never patched in place
        after = await until(states, lambda s: data(s)[key].Stop, 3)
    assert after.index > before.index
    await store.aclose()


async def test_two_subscribers_share_one_watch(rig: Rig) -> None:
    store = rig.store()
    first = store.subscribe(JobsView())
    second = store.subscribe(JobsView())
    async with first, second:
        a = await until(first, loaded)
        b = await until(second, loaded)
        assert a is b  # the very same published state
        assert store.starts(JobsView()) == 1 and store.starts(JOBS_ALL) == 1
        assert rig.requests.count("/v1/jobs", blocking=False) == 1
        # A late subscriber gets the latest state at once, without a new request.
        async with store.subscribe(JobsView()) as late:
            c = await asyncio.wait_for(anext(late), 0.5)
        assert c is a
        assert rig.requests.count("/v1/jobs", blocking=False) == 1
    await store.aclose()


async def test_the_last_unsubscribe_stops_the_watch(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(JobsView()) as states:
        await until(states, loaded)
        assert JOBS_ALL in store.running() and JobsView() in store.running()
    assert store.running() == []
    seen = rig.requests.count("/v1/jobs")
    await asyncio.sleep(0.7)  # longer than a blocking wait: a live watch would ask again
    assert rig.requests.count("/v1/jobs") == seen
    # Subscribing again starts a fresh watch.
    async with store.subscribe(JobsView()) as states:
        await until(states, loaded)
    assert store.starts(JOBS_ALL) == 2
    await store.aclose()


async def test_views_share_their_sources(rig: Rig) -> None:
    store = rig.store()
    views = (ClusterView(), JobsView(), AllocsView(task_states=False), NodesView(), ServicesView())
    subscriptions = [store.subscribe(view) for view in views]
    for states in subscriptions:
        await until(states, loaded)
    # The header, jobs, nodes and services screens: one list of each kind between them.
    for source in (JOBS_ALL, ALLOCS_BRIEF, NODES, CONSUL_SERVICES):
        assert store.starts(source) == 1, source
    assert rig.requests.count("/v1/allocations", blocking=False) == 1
    assert rig.requests.count("/v1/nodes", blocking=False) == 1
    for states in subscriptions:
        await states.aclose()
    await store.aclose()


async def load(store: Store, view: ViewKey[T]) -> T:
    async with store.subscribe(view) as states:
        return data(await until(states, loaded))


async def test_resource_views_carry_resources(rig: Rig) -> None:
    store = rig.store()
    nodes = await load(store, NodesView())
    brief = await load(store, AllocsView(task_states=False))
    full = await load(store, AllocsView())
    one_job = await load(store, AllocsView("default", PYHI))
    assert all(n.NodeResources and n.ReservedResources for n in nodes.values())
    placed = [a for a in full.values() if a.ClientStatus == "running"]
    assert placed and all(a.AllocatedResources and a.AllocatedResources.cpu_mhz for a in placed)
    assert all(a.AllocatedResources for a in brief.values()) and brief.keys() == full.keys()
    assert not any(a.TaskStates for a in brief.values())  # brief: no task states
    assert any(a.TaskStates for a in full.values())
    assert one_job and all(a.JobID == PYHI and a.AllocatedResources for a in one_job.values())
    assert list(one_job) == [k for k, a in full.items() if a.JobID == PYHI]  # newest first
    await store.aclose()


async def test_snapshots_are_immutable(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(JobView("default", PYHI)) as states:
        state = await until(states, loaded)
    detail = state.data
    assert isinstance(detail, JobDetail)
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.index = 0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        detail.job = detail.job  # type: ignore[misc]
    with pytest.raises(TypeError):
        detail.allocs["x"] = next(iter(detail.allocs.values()))  # type: ignore[index]
    with pytest.raises(TypeError):
        detail.summary[PYHI] = detail.summary[PYHI]  # type: ignore[index]
    with pytest.raises(AttributeError):
        detail.job.Stop = True  # type: ignore[misc]
    await store.aclose()


async def test_connection_goes_reconnecting_and_back_to_live(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(JobsView()) as states:
        await until(states, loaded)
        await set_faults(rig, error_rate=1.0)
        broken = await until(states, lambda s: s.connection != "live")
        assert broken.connection == "reconnecting"
        assert isinstance(broken.error, ServerError)
        assert broken.stale_since is not None
        assert broken.data is not None  # the last good data stays on screen
        await set_faults(rig, error_rate=0.0)
        back = await until(states, lambda s: s.connection == "live")
        assert back.error is None and back.stale_since is None and back.data is not None
    await store.aclose()


async def test_a_long_outage_turns_stale(rig: Rig) -> None:
    store = rig.store(stale_after_s=0.3)
    async with store.subscribe(NodesView()) as states:
        await until(states, loaded)
        await set_faults(rig, error_rate=1.0)
        first = await until(states, lambda s: s.connection != "live")
        stale = await until(states, lambda s: s.connection == "stale", 3)
        assert stale.stale_since == first.stale_since
        await set_faults(rig, error_rate=0.0)
    await store.aclose()


async def test_the_clock_is_injected(rig: Rig) -> None:
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    store = rig.store(clock=lambda: moment)
    async with store.subscribe(NodesView()) as states:
        state = await until(states, loaded)
    assert state.at == moment
    await store.aclose()


@pytest.mark.parametrize(
    ("view", "check"),
    [
        (AllocsView("default", PYHI), lambda d: all(a.JobID == PYHI for a in d.values())),
        (AllocsView(), lambda d: all(isinstance(a, AllocStub) for a in d.values())),
        (NodesView(), lambda d: {n.Name for n in d.values()} >= {"nomad-dc1-01"}),
        (DeploymentsView("default"), lambda d: all(k == v.ID for k, v in d.items())),
    ],
)
async def test_table_views(rig: Rig, view: Any, check: Any) -> None:
    store = rig.store()
    async with store.subscribe(view) as states:
        state = await until(states, loaded)
    assert state.data and check(state.data)
    await store.aclose()


async def test_job_view_joins_job_allocations_and_deployment(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(JobView("default", PYHI)) as states:
        state = await until(states, loaded)
    detail = state.data
    assert isinstance(detail, JobDetail)
    assert detail.job.ID == PYHI and detail.deployment is not None
    assert detail.summary[PYHI].Running == sum(
        1 for a in detail.allocs.values() if a.ClientStatus == "running"
    )
    await store.aclose()


async def test_alloc_view_and_an_unknown_job(rig: Rig) -> None:
    store = rig.store()
    alloc_id = (await rig.nomad.job_allocations(PYHI, "default"))[0].ID
    async with store.subscribe(AllocView(alloc_id)) as states:
        state = await until(states, loaded)
    assert isinstance(state.data, Allocation) and alloc_id == state.data.ID
    async with store.subscribe(JobView("default", "no-such-job")) as states:
        missing = await until(states, lambda s: s.error is not None)
    assert isinstance(missing.error, NotFound) and missing.data is None
    await store.aclose()


async def test_services_view_joins_consul_health_to_allocations(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(ServicesView()) as states:
        state = await until(states, loaded)
    data = state.data
    assert isinstance(data, ServicesData) and data.enabled
    row = data.services[PYHI]
    assert len(row.instances) == 3 and row.status == "passing" and row.passing == 3
    for instance in row.instances:
        assert instance.alloc is not None and instance.alloc_id == instance.alloc.ID
        assert data.by_alloc[instance.alloc_id].status == "passing"
    assert data.services["services-scribe-api"].status == "critical"
    await store.aclose()


async def test_services_view_without_consul(rig: Rig) -> None:
    store = rig.store(consul=False)
    async with store.subscribe(ServicesView()) as states:
        state = await until(states, loaded)
    assert isinstance(state.data, ServicesData) and not state.data.enabled
    await store.aclose()


async def test_cluster_view_counts(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(ClusterView()) as states:
        # Consul's reachability comes with the catalog watch's first answer, which may
        # land after the Nomad lists.
        state = await until(
            states,
            lambda s: loaded(s) and isinstance(s.data, ClusterData) and s.data.consul.reachable,
        )
    data = state.data
    assert isinstance(data, ClusterData)
    assert data.leader and data.version and data.region == "global"
    assert data.token is not None and data.token.Type == "management"
    assert data.jobs_by_status["running"] > 0
    assert data.allocs.running > 0 and data.allocs.total >= data.allocs.running
    assert data.nodes.ready == 3 and data.nodes.down == 1
    assert data.consul.enabled and data.consul.reachable
    await store.aclose()


async def test_an_unreachable_consul_is_data_for_the_cluster_but_fails_services(
    rig: Rig,
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with ConsulClient(f"http://127.0.0.1:{port}", wait_s=0.5) as consul:
        store = Store(rig.nomad, consul, read_only=False, wait_s=0.5)
        async with store.subscribe(ClusterView()) as states:
            cluster = await until(states, loaded)
        # Consul being down must not make the Nomad cluster look disconnected.
        assert cluster.connection == "live"
        assert not data(cluster).consul.reachable
        assert isinstance(data(cluster).consul.error, Unreachable)
        async with store.subscribe(ServicesView()) as states:
            services = await until(states, lambda s: s.error is not None)
        assert services.connection == "reconnecting" and services.data is None
        assert isinstance(services.error, Unreachable) and services.error.service == "Consul"
        await store.aclose()


async def test_closing_the_store_ends_subscriptions(rig: Rig) -> None:
    store = rig.store()
    states = store.subscribe(JobsView())
    await until(states, loaded)
    await store.aclose()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(states), 1)
    assert store.running() == []


async def test_a_slow_reader_gets_only_the_newest_state() -> None:
    channel: Channel[Any] = Channel("k")
    released: list[Channel[Any]] = []

    async def release(ch: Channel[Any]) -> None:
        released.append(ch)

    def state(index: int) -> ViewState[Any]:
        at = datetime(2030, 1, 1, tzinfo=UTC)
        return ViewState(JobsView(), {}, index, "live", None, None, at)

    sub: Subscription[Any] = Subscription(JobsView(), lambda: channel, release)
    async with sub:
        for n in range(3):
            channel.publish(state(n))
        assert (await anext(sub)).index == 2
        waiting = asyncio.ensure_future(anext(sub))
        await asyncio.sleep(0)
        assert not waiting.done()
        channel.publish(state(3))
        assert (await waiting).index == 3
    assert released == [channel]
