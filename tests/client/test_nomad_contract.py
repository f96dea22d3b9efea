"""Every read method and every watch of `NomadClient`, against the sim over loopback.

The cluster is still (fixed clock, no lifecycle), so a watch that sees a new snapshot saw
the change the test made, and a quiet watch proves unchanged answers are not yielded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import pytest

from nomtui.client.base import Watch
from nomtui.client.nomad import NomadClient
from nomtui.config.secret import Secret
from nomtui.models.allocs import Allocation, AllocStub
from nomtui.models.deployments import Deployment
from nomtui.models.job_spec import Job
from nomtui.models.jobs import JobStub
from nomtui.sim import shapes
from nomtui.sim.server import Sim, SimConfig
from tests.client import FAST_WAIT_S, Collector, RequestLog, nomad, still

HELLO = "internetarchive-hello-js"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still(sim_config)


@pytest.fixture
async def client(sim: Sim) -> AsyncIterator[NomadClient]:
    async with nomad(sim) as c:
        yield c


@dataclass(frozen=True)
class Demo:
    """IDs of demo objects the tests read and change."""

    alloc_id: str
    node_id: str
    dep_id: str
    child_id: str


def demo(sim: Sim) -> Demo:
    alloc = next(
        a for a in sim.state.allocs_of_job("default", "www-nomad") if a["ClientStatus"] == "running"
    )
    dep = next(
        d
        for d in sim.state.deployments.values()
        if d["JobID"] == HELLO and d["Status"] == "running"
    )
    child = next(j["ID"] for j in sim.state.jobs.values() if "/periodic-" in j["ID"])
    return Demo(alloc["ID"], alloc["NodeID"], dep["ID"], child)


# -- reads ------------------------------------------------------------------------------


async def test_job_lists(client: NomadClient, sim: Sim) -> None:
    everything = await client.list_jobs()
    assert {(j.Namespace, j.ID) for j in everything} == set(sim.state.jobs)
    assert everything == sorted(everything, key=lambda j: (j.Namespace, j.ID))
    assert {j.Namespace for j in await client.list_jobs("ops")} == {"ops"}
    www = await client.list_jobs("default", prefix="www-")
    assert www and all(j.ID.startswith("www-") for j in www)
    dispatched = next(j["ID"] for j in sim.state.jobs.values() if j.get("Dispatched"))
    plain = {j.ID: j for j in everything}
    with_meta = {j.ID: j for j in await client.list_jobs(meta=True)}
    assert plain[dispatched].Meta is None and with_meta[dispatched].Meta
    batch = await client.list_jobs(filter='Type == "batch"')
    assert batch and {j.Type for j in batch} == {"batch"}
    assert await client.list_jobs(per_page=2) == everything


async def test_job_reads(client: NomadClient, sim: Sim) -> None:
    job = await client.get_job("www-nomad", "default")
    assert isinstance(job, Job) and job.ID == "www-nomad" and job.TaskGroups
    versions = await client.job_versions(HELLO, "default", diffs=True)
    assert [v.Version for v in versions.Versions or ()] == [1, 0]
    assert versions.Diffs is not None and len(versions.Diffs) == 1
    assert (await client.job_versions(HELLO, "default")).Diffs is None
    summary = await client.job_summary("www-nomad", "default")
    assert summary.JobID == "www-nomad" and summary.Summary
    allocs = await client.job_allocations("www-nomad", "default")
    assert allocs and {a.JobID for a in allocs} == {"www-nomad"}
    assert [a.CreateIndex for a in allocs] == sorted((a.CreateIndex for a in allocs), reverse=True)
    evals = await client.job_evaluations("www-nomad", "default")
    assert evals and {e.JobID for e in evals} == {"www-nomad"}
    deps = await client.job_deployments(HELLO, "default")
    assert len(deps) >= 2 and deps[0].CreateIndex > deps[-1].CreateIndex
    latest = await client.job_latest_deployment(HELLO, "default")
    assert isinstance(latest, Deployment) and latest.ID == deps[0].ID
    assert await client.job_latest_deployment("services-nightly-backup", "default") is None
    scale = await client.job_scale("www-nomad", "default")
    assert scale.JobID == "www-nomad" and scale.TaskGroups
    source = await client.job_submission(HELLO, "default")
    assert source.Version == 1 and source.Source
    assert (await client.job_submission(HELLO, "default", version=0)).Version == 0


async def test_job_ids_with_slashes_are_escaped(client: NomadClient, sim: Sim) -> None:
    child = demo(sim).child_id
    assert child == (await client.get_job(child, "default")).ID
    assert (await client.job_summary(child, "default")).JobID == child
    assert {a.JobID for a in await client.job_allocations(child, "default")} <= {child}


async def test_allocation_reads(client: NomadClient, sim: Sim) -> None:
    ids = demo(sim)
    allocs = await client.list_allocations()
    assert {a.ID for a in allocs} == set(sim.state.allocs)
    assert any(a.TaskStates for a in allocs)
    assert all(a.TaskStates is None for a in await client.list_allocations(task_states=False))
    assert all(a.AllocatedResources for a in await client.list_allocations(resources=True))
    some = await client.list_allocations(prefix=ids.alloc_id[:4])
    assert ids.alloc_id in {a.ID for a in some}
    running = await client.list_allocations("default", filter='ClientStatus == "running"')
    assert running and {a.ClientStatus for a in running} == {"running"}
    paged = await client.list_allocations(per_page=5)
    assert {a.ID for a in paged} == {a.ID for a in allocs} and len(paged) == len(allocs)
    alloc = await client.get_allocation(ids.alloc_id)
    assert isinstance(alloc, Allocation) and alloc.Job is not None
    stats = await client.alloc_stats(ids.alloc_id)
    assert stats.Tasks and "http" in stats.Tasks
    assert set((await client.alloc_stats(ids.alloc_id, task="http")).Tasks or {}) == {"http"}


async def test_node_reads(client: NomadClient, sim: Sim) -> None:
    ids = demo(sim)
    nodes = await client.list_nodes()
    assert {n.ID for n in nodes} == set(sim.state.nodes)
    assert [n.Name for n in nodes] == sorted(n.Name for n in nodes)
    assert all(n.NodeResources for n in await client.list_nodes(resources=True))
    assert [n.ID for n in await client.list_nodes(prefix=ids.node_id[:2])] == [ids.node_id]
    assert await client.list_nodes(per_page=1) == nodes
    node = await client.get_node(ids.node_id)
    assert ids.node_id == node.ID and node.Attributes
    on_node = await client.node_allocations(ids.node_id)
    assert ids.alloc_id in {a.ID for a in on_node} and all(a.Job for a in on_node)
    stats = await client.node_stats(ids.node_id)
    assert stats.Memory is not None and stats.CPU


async def test_deployment_and_evaluation_reads(client: NomadClient, sim: Sim) -> None:
    ids = demo(sim)
    deps = await client.list_deployments()
    assert {d.ID for d in deps} == set(sim.state.deployments)
    dep = await client.get_deployment(ids.dep_id)
    assert dep.JobID == HELLO and dep.Status == "running"
    dep_allocs = await client.deployment_allocations(ids.dep_id)
    assert dep_allocs and all(isinstance(a, AllocStub) for a in dep_allocs)
    evals = await client.list_evaluations()
    assert {e.ID for e in evals} == set(sim.state.evals)
    mine = await client.list_evaluations(job="www-nomad", status="complete")
    assert mine and {(e.JobID, e.Status) for e in mine} == {("www-nomad", "complete")}
    assert (await client.get_evaluation(evals[0].ID)).ID == evals[0].ID


async def test_paging_of_lists_ordered_by_create_index(client: NomadClient) -> None:
    assert await client.list_deployments(per_page=3) == await client.list_deployments()
    assert await client.list_evaluations(per_page=4) == await client.list_evaluations()


async def test_cluster_reads(client: NomadClient, sim: Sim) -> None:
    assert {n.Name for n in await client.list_namespaces()} == {"default", "ops"}
    assert await client.regions() == ["global"]
    assert (await client.leader()).endswith(":4647")
    assert await client.peers() == ["127.0.0.1:4647"]
    me = await client.agent_self()
    assert me.is_server and me.config is not None and me.config.Region == "global"
    members = await client.agent_members()
    assert members.Members and members.ServerRegion == "global"
    health = await client.agent_health()
    assert health.server is not None and health.server.ok
    token = await client.token_self()
    assert token.Name == "sim management" and token.is_management
    assert sim.management_token not in repr(token)
    fuzzy = await client.fuzzy_search("hello")
    assert HELLO in {m.ID for m in fuzzy.matches("jobs")}
    found = await client.prefix_search("www", "jobs")
    assert "www-nomad" in found.matches("jobs") and not found.truncated("jobs")


async def test_unhealthy_agent_health_is_an_answer(client: NomadClient, sim: Sim) -> None:
    sim.injector.faults.leader_lost = True
    health = await client.agent_health()
    assert health.server is not None and not health.server.ok
    assert health.server.message == "No cluster leader"
    assert await client.leader() == ""


async def test_region_namespace_and_proxy_auth_travel(sim: Sim) -> None:
    log = RequestLog()
    async with NomadClient(
        sim.nomad_addr,
        Secret(sim.management_token),
        region="global",
        namespace="ops",
        http_auth=Secret("proxyuser:hunter2"),
        event_hooks=log.hooks,
    ) as client:
        task = {"Name": "t", "Driver": "docker", "Config": {"image": "a:1"}}
        spec = {"ID": "in-ops", "Type": "batch", "TaskGroups": [{"Name": "g", "Tasks": [task]}]}
        await client.register_job(spec)  # no namespace given: the client's default
        assert sim.state.job("ops", "in-ops") is not None
        assert (await client.get_job("www-nomad", "default")).Namespace == "default"
        assert "hunter2" not in repr(client)
    first = log.requests[0]
    assert first.url.params["region"] == "global" and first.url.params["namespace"] == "ops"
    assert first.headers["x-nomad-token"] == sim.management_token
    assert first.headers["authorization"].startswith("Basic ")
    assert log.requests[1].url.params["namespace"] == "default"


# -- watches ----------------------------------------------------------------------------

WatchOf = Callable[[NomadClient, Demo], Watch[Any]]
Change = Callable[[NomadClient, Sim, Demo], Awaitable[object]]


async def _add_namespace(client: NomadClient, sim: Sim, ids: Demo) -> None:
    with sim.state.write() as txn:
        sim.state.namespaces["batch"] = shapes.namespace(
            "batch", "added by a test", create_index=txn.index, modify_index=txn.index
        )
        txn.touch("namespaces")


class _WatchKw(TypedDict):
    wait_s: float
    min_interval_s: float


def _kw() -> _WatchKw:
    return {"wait_s": FAST_WAIT_S, "min_interval_s": 0}


WATCHES: dict[str, tuple[WatchOf, Change]] = {
    "jobs": (
        lambda c, d: c.watch_jobs("*", **_kw()),
        lambda c, s, d: c.stop_job("services-pyhi", "default"),
    ),
    "job": (
        lambda c, d: c.watch_job("www-nomad", "default", **_kw()),
        lambda c, s, d: c.stop_job("www-nomad", "default"),
    ),
    "job_allocations": (
        lambda c, d: c.watch_job_allocations("www-nomad", "default", **_kw()),
        lambda c, s, d: c.stop_allocation(d.alloc_id),
    ),
    "job_deployments": (
        lambda c, d: c.watch_job_deployments(HELLO, "default", **_kw()),
        lambda c, s, d: c.pause_deployment(d.dep_id, True),
    ),
    "latest_deployment": (
        lambda c, d: c.watch_latest_deployment(HELLO, "default", **_kw()),
        lambda c, s, d: c.pause_deployment(d.dep_id, True),
    ),
    "job_evaluations": (
        lambda c, d: c.watch_job_evaluations("www-nomad", "default", **_kw()),
        lambda c, s, d: c.evaluate_job("www-nomad", "default"),
    ),
    "job_versions": (
        lambda c, d: c.watch_job_versions(HELLO, "default", **_kw()),
        lambda c, s, d: c.set_job_stable(HELLO, "default", 0, False),
    ),
    "allocations": (
        lambda c, d: c.watch_allocations("*", **_kw()),
        lambda c, s, d: c.stop_allocation(d.alloc_id),
    ),
    "allocation": (
        lambda c, d: c.watch_allocation(d.alloc_id, **_kw()),
        lambda c, s, d: c.restart_allocation(d.alloc_id),
    ),
    "nodes": (
        lambda c, d: c.watch_nodes(**_kw()),
        lambda c, s, d: c.set_eligibility(d.node_id, False),
    ),
    "node": (
        lambda c, d: c.watch_node(d.node_id, **_kw()),
        lambda c, s, d: c.set_eligibility(d.node_id, False),
    ),
    "node_allocations": (
        lambda c, d: c.watch_node_allocations(d.node_id, **_kw()),
        lambda c, s, d: c.stop_allocation(d.alloc_id),
    ),
    "deployments": (
        lambda c, d: c.watch_deployments("*", **_kw()),
        lambda c, s, d: c.pause_deployment(d.dep_id, True),
    ),
    "deployment": (
        lambda c, d: c.watch_deployment(d.dep_id, **_kw()),
        lambda c, s, d: c.pause_deployment(d.dep_id, True),
    ),
    "evaluations": (
        lambda c, d: c.watch_evaluations("*", **_kw()),
        lambda c, s, d: c.evaluate_job("www-nomad", "default"),
    ),
    "namespaces": (lambda c, d: c.watch_namespaces(**_kw()), _add_namespace),
}


def test_every_watch_is_covered() -> None:
    watches = {name for name in dir(NomadClient) if name.startswith("watch_")}
    assert watches == {f"watch_{name}" for name in WATCHES}


@pytest.mark.parametrize("name", sorted(WATCHES))
async def test_watch(name: str, client: NomadClient, sim: Sim) -> None:
    make, change = WATCHES[name]
    ids = demo(sim)
    async with Collector(make(client, ids)) as updates:
        first = await updates.snapshot()
        assert first.index > 0
        # Two blocking rounds time out unchanged: neither is yielded.
        await updates.quiet(FAST_WAIT_S * 2.2)
        await change(client, sim, ids)
        second = await updates.snapshot()
    assert second.index > first.index
    assert second.value != first.value


async def test_watch_values_are_typed_and_sorted(client: NomadClient) -> None:
    async with Collector(client.watch_jobs(**_kw())) as updates:
        jobs = (await updates.snapshot()).value
    assert all(isinstance(j, JobStub) for j in jobs)
    assert jobs == sorted(jobs, key=lambda j: (j.Namespace, j.ID))
    async with Collector(client.watch_allocations("default", task_states=False, **_kw())) as u:
        allocs = (await u.snapshot()).value
    assert allocs and all(a.TaskStates is None for a in allocs)
    assert [a.CreateIndex for a in allocs] == sorted((a.CreateIndex for a in allocs), reverse=True)
