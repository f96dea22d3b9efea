"""Every write method of `NomadClient`, checked by its effect on the sim's state; and the
read-only mode, which must refuse every write before a single request is sent."""

from __future__ import annotations

import base64
import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest

from nomtui.client.nomad import WRITE_METHODS, NomadClient
from nomtui.errors import BadRequest, ReadOnlyRefused, Unauthorized
from nomtui.sim.server import Sim, SimConfig
from tests.client import RequestLog, nomad, still

HELLO = "internetarchive-hello-js"
HOUR_NS = 3600 * 10**9


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still(sim_config)


@pytest.fixture
def log() -> RequestLog:
    return RequestLog()


@pytest.fixture
async def client(sim: Sim, log: RequestLog) -> AsyncIterator[NomadClient]:
    async with nomad(sim, event_hooks=log.hooks) as c:
        yield c


def running_alloc(sim: Sim, job_id: str = "www-nomad") -> dict[str, Any]:
    return next(
        a for a in sim.state.allocs_of_job("default", job_id) if a["ClientStatus"] == "running"
    )


def hello_deployment(sim: Sim) -> dict[str, Any]:
    return next(
        d
        for d in sim.state.deployments.values()
        if d["JobID"] == HELLO and d["Status"] == "running"
    )


def version(sim: Sim, job_id: str, number: int) -> dict[str, Any]:
    found = sim.state.job_version("default", job_id, number)
    assert found is not None
    return found


def job(sim: Sim, job_id: str, ns: str = "default") -> dict[str, Any]:
    found = sim.state.job(ns, job_id)
    assert found is not None
    return found


# -- jobs ---------------------------------------------------------------------------------


async def test_register_job(client: NomadClient, sim: Sim, log: RequestLog) -> None:
    task = {"Name": "http", "Driver": "docker", "Config": {"image": "a:1"}}
    spec = {"ID": "new-app", "Type": "service", "TaskGroups": [{"Name": "web", "Tasks": [task]}]}
    resp = await client.register_job(spec, namespace="ops")
    assert resp.EvalID and resp.Index > 0
    assert job(sim, "new-app", "ops")["Version"] == 0
    assert log.requests[-1].method == "PUT"


async def test_stop_and_purge_job(client: NomadClient, sim: Sim, log: RequestLog) -> None:
    resp = await client.stop_job("services-pyhi", "default")
    assert resp.EvalID and job(sim, "services-pyhi")["Stop"] is True
    assert log.requests[-1].method == "DELETE"
    await client.stop_job("www-wiki", "default", purge=True)
    assert sim.state.job("default", "www-wiki") is None


async def test_revert_job(client: NomadClient, sim: Sim) -> None:
    with pytest.raises(BadRequest, match="enforcing version 0"):
        await client.revert_job(HELLO, 0, "default", enforce_prior_version=0)
    old_image = version(sim, HELLO, 0)["TaskGroups"][0]["Tasks"][0]["Config"]
    await client.revert_job(HELLO, 0, "default", enforce_prior_version=1)
    reverted = job(sim, HELLO)
    assert reverted["Version"] == 2
    assert reverted["TaskGroups"][0]["Tasks"][0]["Config"] == old_image


async def test_dispatch_job(client: NomadClient, sim: Sim) -> None:
    resp = await client.dispatch_job(
        "services-thumbnailer", "default", b'{"item": 1}', {"identifier": "gd-1"}
    )
    child = job(sim, resp.DispatchedJobID)
    assert child["ParentID"] == "services-thumbnailer" and child["Dispatched"]
    assert base64.b64decode(child["Payload"]) == b'{"item": 1}'
    assert child["Meta"]["identifier"] == "gd-1"
    no_payload = await client.dispatch_job(
        "services-thumbnailer", "default", None, {"identifier": "x"}
    )
    assert job(sim, no_payload.DispatchedJobID)["Payload"] is None


async def test_periodic_force(client: NomadClient, sim: Sim) -> None:
    before = {j["ID"] for j in sim.state.jobs.values()}
    resp = await client.periodic_force("services-nightly-backup", "default")
    new = {j["ID"] for j in sim.state.jobs.values()} - before
    assert resp.EvalID and len(new) == 1 and next(iter(new)).startswith("services-nightly-backup/")


async def test_scale_job(client: NomadClient, sim: Sim) -> None:
    group = job(sim, "www-nomad")["TaskGroups"][0]["Name"]
    await client.scale_job("www-nomad", "default", group, 3, message="more")
    assert job(sim, "www-nomad")["TaskGroups"][0]["Count"] == 3


async def test_evaluate_job(client: NomadClient, sim: Sim) -> None:
    resp = await client.evaluate_job("www-nomad", "default")
    assert sim.state.evals[resp.EvalID]["TriggeredBy"] == "job-eval"


async def test_set_job_stable(client: NomadClient, sim: Sim) -> None:
    await client.set_job_stable(HELLO, "default", 0, False)
    assert version(sim, HELLO, 0)["Stable"] is False
    resp = await client.set_job_stable(HELLO, "default", 0, True)
    assert version(sim, HELLO, 0)["Stable"] is True
    assert resp.JobModifyIndex > 0


# -- allocations ----------------------------------------------------------------------------


async def test_stop_allocation(client: NomadClient, sim: Sim) -> None:
    alloc = running_alloc(sim)
    resp = await client.stop_allocation(alloc["ID"])
    assert resp.EvalID and alloc["DesiredStatus"] == "stop"


async def test_restart_allocation(client: NomadClient, sim: Sim) -> None:
    alloc = running_alloc(sim)
    await client.restart_allocation(alloc["ID"])
    await client.restart_allocation(alloc["ID"], task="http")
    await client.restart_allocation(alloc["ID"], all_tasks=True)
    assert alloc["TaskStates"]["http"]["Restarts"] == 3


async def test_signal_allocation(client: NomadClient, sim: Sim) -> None:
    alloc = running_alloc(sim)
    await client.signal_allocation(alloc["ID"], "SIGHUP", task="http")
    event = alloc["TaskStates"]["http"]["Events"][-1]
    assert event["Type"] == "Signaling" and event["Details"]["signal"] == "SIGHUP"


# -- deployments ------------------------------------------------------------------------------


async def test_promote_deployment(client: NomadClient, sim: Sim) -> None:
    dep = hello_deployment(sim)
    with pytest.raises(BadRequest, match="no task group"):
        await client.promote_deployment(dep["ID"], ["nope"])
    await client.promote_deployment(dep["ID"], [HELLO])
    assert dep["TaskGroups"][HELLO]["Promoted"] is True


async def test_promote_all(client: NomadClient, sim: Sim) -> None:
    dep = hello_deployment(sim)
    resp = await client.promote_deployment(dep["ID"])
    assert resp.Index > 0 and all(g["Promoted"] for g in dep["TaskGroups"].values())


async def test_fail_deployment(client: NomadClient, sim: Sim) -> None:
    dep = hello_deployment(sim)
    resp = await client.fail_deployment(dep["ID"])
    assert dep["Status"] == "failed" and resp.RevertedJobVersion == 0


async def test_pause_deployment(client: NomadClient, sim: Sim) -> None:
    dep = hello_deployment(sim)
    await client.pause_deployment(dep["ID"], True)
    assert dep["Status"] == "paused"
    await client.pause_deployment(dep["ID"], False)
    assert dep["Status"] == "running"


async def test_set_allocation_health(client: NomadClient, sim: Sim) -> None:
    dep = hello_deployment(sim)
    canary = next(a for a in sim.state.allocs.values() if a.get("DeploymentID") == dep["ID"])
    await client.set_allocation_health(dep["ID"], [], [canary["ID"]])
    assert canary["DeploymentStatus"]["Healthy"] is False
    await client.set_allocation_health(dep["ID"], [canary["ID"]], [])
    assert canary["DeploymentStatus"]["Healthy"] is True


# -- nodes --------------------------------------------------------------------------------------


async def test_drain_node_and_cancel(client: NomadClient, sim: Sim) -> None:
    node = sim.state.nodes[running_alloc(sim)["NodeID"]]
    await client.drain_node(node["ID"], 3600, ignore_system_jobs=True, meta={"reason": "disk"})
    assert node["SchedulingEligibility"] == "ineligible" and node["Drain"] is True
    spec = node["DrainStrategy"]["DrainSpec"]
    assert spec == {"Deadline": HOUR_NS, "IgnoreSystemJobs": True}
    assert node["LastDrain"]["Meta"] == {"reason": "disk"}
    await client.drain_node(node["ID"], None, mark_eligible=True)
    assert node["DrainStrategy"] is None and node["SchedulingEligibility"] == "eligible"
    await client.drain_node(node["ID"], -1)
    assert sim.state.nodes[node["ID"]]["DrainStrategy"]["DrainSpec"]["Deadline"] == -1


async def test_set_eligibility(client: NomadClient, sim: Sim) -> None:
    node_id = running_alloc(sim)["NodeID"]
    await client.set_eligibility(node_id, False)
    assert sim.state.nodes[node_id]["SchedulingEligibility"] == "ineligible"
    resp = await client.set_eligibility(node_id, True)
    assert sim.state.nodes[node_id]["SchedulingEligibility"] == "eligible"
    assert resp.NodeModifyIndex > 0


async def test_writes_use_put_except_stop(client: NomadClient, sim: Sim, log: RequestLog) -> None:
    await client.evaluate_job("www-nomad", "default")
    await client.set_eligibility(running_alloc(sim)["NodeID"], False)
    await client.pause_deployment(hello_deployment(sim)["ID"], True)
    assert [r.method for r in log.requests] == ["PUT", "PUT", "PUT"]


async def test_the_read_only_token_is_refused_by_the_cluster(sim: Sim) -> None:
    async with nomad(sim, token=sim.read_token) as client:
        with pytest.raises(Unauthorized):
            await client.evaluate_job("www-nomad", "default")


# -- read-only mode -------------------------------------------------------------------------------

WRITE_CALLS: dict[str, tuple[Any, ...]] = {
    "register_job": ({"ID": "x", "TaskGroups": []},),
    "stop_job": ("www-nomad", "default"),
    "revert_job": (HELLO, 0, "default"),
    "dispatch_job": ("services-thumbnailer", "default", b"", {"identifier": "x"}),
    "periodic_force": ("services-nightly-backup", "default"),
    "scale_job": ("www-nomad", "default", "www-nomad", 3),
    "evaluate_job": ("www-nomad", "default"),
    "set_job_stable": (HELLO, "default", 0, True),
    "stop_allocation": ("ALLOC",),
    "restart_allocation": ("ALLOC",),
    "signal_allocation": ("ALLOC", "SIGHUP"),
    "promote_deployment": ("DEP",),
    "fail_deployment": ("DEP",),
    "pause_deployment": ("DEP", True),
    "set_allocation_health": ("DEP", ["ALLOC"], []),
    "drain_node": ("NODE", 60.0),
    "set_eligibility": ("NODE", False),
}


READS = {
    *("list_jobs", "get_job", "job_versions", "job_summary", "job_allocations"),
    *("job_evaluations", "job_deployments", "job_latest_deployment", "job_scale"),
    *("job_submission", "list_allocations", "get_allocation", "alloc_stats", "node_stats"),
    *("list_nodes", "get_node", "node_allocations", "list_deployments", "get_deployment"),
    *("deployment_allocations", "list_evaluations", "get_evaluation", "list_namespaces"),
    *("regions", "leader", "peers", "agent_self", "agent_members", "agent_health"),
    *("token_self", "fuzzy_search", "prefix_search", "aclose"),
}


def test_write_methods_are_listed() -> None:
    """Every public coroutine is a known read or in `WRITE_METHODS`; the table covers those."""
    public = {
        name
        for name, _ in inspect.getmembers(NomadClient, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }
    assert public == READS | WRITE_METHODS
    assert set(WRITE_CALLS) == WRITE_METHODS


async def test_read_only_refuses_every_write_without_sending(sim: Sim, log: RequestLog) -> None:
    alloc = running_alloc(sim)
    ids = {"ALLOC": alloc["ID"], "DEP": hello_deployment(sim)["ID"], "NODE": alloc["NodeID"]}
    index_before = sim.state.index
    async with nomad(sim, read_only=True, cluster="prod", event_hooks=log.hooks) as client:
        for name, args in WRITE_CALLS.items():
            real = tuple(ids.get(a, a) if isinstance(a, str) else a for a in args)
            with pytest.raises(ReadOnlyRefused) as info:
                await getattr(client, name)(*real)
            assert info.value.cluster == "prod" and "read-only" in info.value.message
        assert log.requests == []
        assert sim.state.index == index_before
        # Reads still work, including the searches that travel as PUT.
        assert await client.list_jobs()
        assert (await client.fuzzy_search("www")).matches("jobs")
    assert len(log.requests) == 2
