"""The sim's Nomad API over loopback: blocking queries, ACL, faults and state changes."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from nomtui.sim import lifecycle
from nomtui.sim.clock import FixedClock
from nomtui.sim.faults import Faults
from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
async def fixed() -> AsyncIterator[Sim]:
    """A demo cluster that only moves when the test says so."""
    async with Sim(SimConfig(clock=FixedClock(), lifecycle=False)) as sim:
        yield sim


def client(sim: Sim, token: str | None = "mgmt", timeout: float = 10) -> httpx.AsyncClient:
    headers = {}
    if token == "mgmt":
        headers["X-Nomad-Token"] = sim.management_token
    elif token == "read":
        headers["X-Nomad-Token"] = sim.read_token
    elif token is not None:
        headers["X-Nomad-Token"] = token
    return httpx.AsyncClient(base_url=sim.nomad_addr, headers=headers, timeout=timeout)


def advance(sim: Sim, seconds: float, ticks: int = 1) -> None:
    assert isinstance(sim.clock, FixedClock)
    for _ in range(ticks):
        sim.clock.advance(seconds)
        lifecycle.tick(sim)


def job_allocs(sim: Sim, job_id: str, ns: str = "default") -> list[dict[str, Any]]:
    return sim.state.allocs_of_job(ns, job_id)


def running(sim: Sim, job_id: str) -> dict[str, Any]:
    return next(a for a in job_allocs(sim, job_id) if a["ClientStatus"] == "running")


# -- headers, errors, routing -----------------------------------------------------------


async def test_index_headers_and_plain_text_errors(fixed: Sim) -> None:
    async with client(fixed) as c:
        resp = await c.get("/v1/jobs")
        assert resp.status_code == 200
        assert int(resp.headers["X-Nomad-Index"]) > 1
        assert resp.headers["X-Nomad-KnownLeader"] == "true"
        assert resp.headers["X-Nomad-LastContact"] == "0"
        missing = await c.get("/v1/job/nope")
        assert (missing.status_code, missing.text) == (404, "job not found")
        assert missing.headers["Content-Type"].startswith("text/plain")
        assert (await c.get("/v1/allocation/0000")).text == "alloc not found"
        assert (await c.patch("/v1/jobs")).status_code == 405
        bad_wait = await c.get("/v1/jobs", params={"index": "1", "wait": "soon"})
        assert (bad_wait.status_code, bad_wait.text) == (400, "Invalid wait time")
        bad_prefix = await c.get("/v1/allocations", params={"prefix": "abc"})
        assert bad_prefix.status_code == 400


async def test_job_ids_with_slashes_route_by_suffix(fixed: Sim) -> None:
    children = [j["ID"] for j in fixed.state.jobs.values() if j["ParentID"]]
    assert any("/periodic-" in c for c in children)
    child = next(c for c in children if "/periodic-" in c)
    async with client(fixed) as c:
        resp = await c.get(f"/v1/job/{child.replace('/', '%2F')}/allocations")
        assert resp.status_code == 200, resp.text
        assert all(a["JobID"] == child for a in resp.json())
        summary = await c.get(f"/v1/job/{child}/summary")
        assert summary.json()["JobID"] == child


async def test_namespace_wildcard_and_prefix_and_paging(fixed: Sim) -> None:
    async with client(fixed) as c:
        default = (await c.get("/v1/jobs")).json()
        everything = (await c.get("/v1/jobs", params={"namespace": "*"})).json()
        assert {j["Namespace"] for j in default} == {"default"}
        assert {j["Namespace"] for j in everything} == {"default", "ops"}
        www = (await c.get("/v1/jobs", params={"prefix": "www-"})).json()
        assert www and all(j["ID"].startswith("www-") for j in www)
        first = await c.get("/v1/jobs", params={"per_page": "2"})
        token = first.headers["X-Nomad-NextToken"]
        second = await c.get("/v1/jobs", params={"per_page": "2", "next_token": token})
        ids = [j["ID"] for j in first.json() + second.json()]
        assert ids == [j["ID"] for j in default][:4]
        meta = (await c.get("/v1/jobs", params={"meta": "true"})).json()
        assert all("Meta" in j for j in meta)
        assert all("Meta" not in j for j in default)


async def test_filter_expression(fixed: Sim) -> None:
    async with client(fixed) as c:
        batch = await c.get("/v1/jobs", params={"filter": 'Type == "batch"'})
        assert batch.status_code == 200
        assert batch.json() and {j["Type"] for j in batch.json()} == {"batch"}
        broken = await c.get("/v1/jobs", params={"filter": "Type =="})
        assert broken.status_code == 400


# -- blocking queries -------------------------------------------------------------------


async def test_blocking_query_waits_then_wakes_on_change(fixed: Sim) -> None:
    async with client(fixed) as c:
        first = await c.get("/v1/jobs")
        index = first.headers["X-Nomad-Index"]
        started = time.monotonic()
        timed_out = await c.get("/v1/jobs", params={"index": index, "wait": "300ms"})
        assert time.monotonic() - started >= 0.29
        assert timed_out.headers["X-Nomad-Index"] == index

        waiter = asyncio.create_task(c.get("/v1/jobs", params={"index": index, "wait": "10s"}))
        await asyncio.sleep(0.2)
        assert not waiter.done()
        await c.delete("/v1/job/www-wiki")
        woken = await asyncio.wait_for(waiter, 5)
        assert int(woken.headers["X-Nomad-Index"]) > int(index)
        wiki = next(j for j in woken.json() if j["ID"] == "www-wiki")
        assert wiki["Stop"] is True


async def test_blocking_on_one_alloc_ignores_other_changes(fixed: Sim) -> None:
    alloc = running(fixed, "www-nomad")
    async with client(fixed) as c:
        first = await c.get(f"/v1/allocation/{alloc['ID']}")
        index = first.headers["X-Nomad-Index"]
        waiter = asyncio.create_task(
            c.get(f"/v1/allocation/{alloc['ID']}", params={"index": index, "wait": "800ms"})
        )
        await c.delete("/v1/job/www-wiki")
        resp = await waiter
        assert resp.headers["X-Nomad-Index"] == index


# -- ACL --------------------------------------------------------------------------------


async def test_acl_tokens(fixed: Sim) -> None:
    alloc = running(fixed, "www-nomad")
    async with client(fixed, token=None) as anon:
        resp = await anon.get("/v1/jobs")
        assert (resp.status_code, resp.text) == (403, "Permission denied")
        assert (await anon.get("/v1/status/leader")).status_code == 200
    async with client(fixed, token="not-a-token") as wrong:
        resp = await wrong.get("/v1/jobs")
        assert (resp.status_code, resp.text) == (403, "ACL token not found")
    async with client(fixed, token="read") as ro:
        assert (await ro.get("/v1/jobs")).status_code == 200
        assert (await ro.get(f"/v1/allocation/{alloc['ID']}")).status_code == 200
        denied = await ro.delete("/v1/job/www-nomad")
        assert (denied.status_code, denied.text) == (403, "Permission denied")
        assert (await ro.put(f"/v1/allocation/{alloc['ID']}/stop")).status_code == 403
        assert (await ro.put("/v1/search/fuzzy", json={"Text": "www"})).status_code == 200
        me = (await ro.get("/v1/acl/token/self")).json()
        assert me["Name"] == "sim read-only" and me["Type"] == "client"
    async with httpx.AsyncClient(
        base_url=fixed.nomad_addr, headers={"Authorization": f"Bearer {fixed.read_token}"}
    ) as bearer:
        assert (await bearer.get("/v1/jobs")).status_code == 200
    assert fixed.management_token not in repr(fixed.acl.management)


# -- state changes ----------------------------------------------------------------------


async def test_stop_job_moves_allocs_and_consul(fixed: Sim) -> None:
    async with client(fixed) as c:
        resp = await c.delete("/v1/job/services-pyhi")
        assert resp.status_code == 200 and resp.json()["EvalID"]
    assert {a["DesiredStatus"] for a in job_allocs(fixed, "services-pyhi")} == {"stop"}
    advance(fixed, 1)
    allocs = job_allocs(fixed, "services-pyhi")
    assert {a["ClientStatus"] for a in allocs} == {"complete"}
    job = fixed.state.job("default", "services-pyhi")
    assert job is not None and job["Status"] == "dead" and job["Stop"] is True
    assert not [
        s for s in fixed.state.consul_services.values() if s["ServiceName"] == "services-pyhi"
    ]
    async with client(fixed) as c:
        versions = (await c.get("/v1/job/services-pyhi/versions")).json()["Versions"]
        assert versions[0]["Stop"] is True and versions[1]["Stop"] is False


async def test_purge_removes_the_job(fixed: Sim) -> None:
    async with client(fixed) as c:
        assert (await c.delete("/v1/job/www-nomad", params={"purge": "true"})).status_code == 200
        assert (await c.get("/v1/job/www-nomad")).status_code == 404


async def test_register_places_and_starts_allocations(fixed: Sim) -> None:
    spec = {
        "ID": "new-app",
        "Type": "service",
        "Datacenters": ["dc1"],
        "TaskGroups": [
            {
                "Name": "web",
                "Count": 2,
                "Tasks": [{"Name": "http", "Driver": "docker", "Config": {"image": "a:1"}}],
            }
        ],
    }
    async with client(fixed) as c:
        resp = await c.put("/v1/jobs", json={"Job": spec})
        assert resp.status_code == 200, resp.text
        assert int(resp.headers["X-Nomad-Index"]) == resp.json()["Index"]
    allocs = job_allocs(fixed, "new-app")
    assert [a["ClientStatus"] for a in allocs] == ["pending", "pending"]
    advance(fixed, 2)
    assert {a["ClientStatus"] for a in job_allocs(fixed, "new-app")} == {"running"}
    job = fixed.state.job("default", "new-app")
    assert job is not None and job["Status"] == "running"
    # an update with canaries waits for promotion
    spec["TaskGroups"][0]["Tasks"][0]["Config"]["image"] = "a:2"
    async with client(fixed) as c:
        assert (await c.put("/v1/jobs", json={"Job": spec})).status_code == 200
        dep = (await c.get("/v1/job/new-app/deployment")).json()
    assert dep["JobVersion"] == 1 and dep["Status"] == "running"


async def test_restart_alloc_adds_task_events(fixed: Sim) -> None:
    alloc = running(fixed, "www-nomad")
    async with client(fixed) as c:
        resp = await c.put(f"/v1/client/allocation/{alloc['ID']}/restart", json={})
        assert (resp.status_code, resp.json()) == (200, {})
        body = (await c.get(f"/v1/allocation/{alloc['ID']}")).json()
    http = body["TaskStates"]["http"]
    assert http["Restarts"] == 1
    assert "Restart Signaled" in [e["Type"] for e in http["Events"]]
    assert len(http["Events"]) <= 10
    assert body["Job"]["ID"] == "www-nomad"


async def test_canary_promotion_completes_the_deployment(fixed: Sim) -> None:
    dep = next(
        d
        for d in fixed.state.deployments.values()
        if d["JobID"] == "internetarchive-hello-js" and d["Status"] == "running"
    )
    assert dep["StatusDescription"] == "Deployment is running but requires manual promotion"
    async with client(fixed) as c:
        resp = await c.put(f"/v1/deployment/promote/{dep['ID']}", json={"All": True})
        assert resp.status_code == 200, resp.text
    for _ in range(10):
        advance(fixed, 5)
    assert dep["Status"] == "successful"
    live = [
        a for a in job_allocs(fixed, "internetarchive-hello-js") if a["ClientStatus"] == "running"
    ]
    assert len(live) == 2 and {a["JobVersion"] for a in live} == {dep["JobVersion"]}
    tags = {
        t
        for s in fixed.state.consul_services.values()
        if s["ServiceName"] == "internetarchive-hello-js"
        for t in s["ServiceTags"]
    }
    assert not any("canary-" in t for t in tags)


async def test_fail_deployment_with_auto_revert(fixed: Sim) -> None:
    dep = next(
        d
        for d in fixed.state.deployments.values()
        if d["JobID"] == "internetarchive-hello-js" and d["Status"] == "running"
    )
    async with client(fixed) as c:
        resp = await c.put(f"/v1/deployment/fail/{dep['ID']}")
        assert resp.status_code == 200
        assert resp.json()["RevertedJobVersion"] == 0
    job = fixed.state.job("default", "internetarchive-hello-js")
    assert job is not None and job["Version"] == 2
    assert "rolling back to job version 0" in dep["StatusDescription"]


async def test_drain_moves_allocations_off_the_node(fixed: Sim) -> None:
    node = next(n for n in fixed.state.nodes.values() if n["Name"] == "nomad-dc1-01")
    before = [
        a
        for a in fixed.state.allocs_of_node(node["ID"])
        if a["DesiredStatus"] == "run" and a["JobType"] == "service"
    ]
    assert before
    async with client(fixed) as c:
        resp = await c.put(
            f"/v1/node/{node['ID']}/drain", json={"DrainSpec": {"Deadline": 3_600_000_000_000}}
        )
        assert resp.status_code == 200
        refused = await c.put(
            f"/v1/node/{node['ID']}/eligibility", json={"Eligibility": "eligible"}
        )
        assert refused.status_code == 400
    assert node["SchedulingEligibility"] == "ineligible" and node["DrainStrategy"]
    for _ in range(len(before) + 2):
        advance(fixed, 1)
    live = [
        a
        for a in fixed.state.allocs_of_node(node["ID"])
        if a["DesiredStatus"] == "run" and a["JobType"] == "service"
    ]
    assert live == []
    assert node["DrainStrategy"] is None and node["LastDrain"]["Status"] == "complete"
    assert all(a["DesiredTransition"]["Migrate"] for a in before)


async def test_draining_demo_node_keeps_its_pinned_alloc(fixed: Sim) -> None:
    node = next(n for n in fixed.state.nodes.values() if n["Name"] == "nomad-dc1-03")
    assert node["DrainStrategy"] is not None
    advance(fixed, 1, ticks=5)
    assert node["DrainStrategy"] is not None
    pinned = [
        a
        for a in fixed.state.allocs_of_node(node["ID"])
        if a["JobID"] == "ops-prometheus" and a["DesiredStatus"] == "run"
    ]
    assert pinned


async def test_dispatch_and_periodic_force(fixed: Sim) -> None:
    async with client(fixed) as c:
        missing = await c.put("/v1/job/services-thumbnailer/dispatch", json={"Meta": {}})
        assert missing.status_code == 400
        resp = await c.put(
            "/v1/job/services-thumbnailer/dispatch", json={"Meta": {"identifier": "abc"}}
        )
        child = resp.json()["DispatchedJobID"]
        assert child.startswith("services-thumbnailer/dispatch-")
        forced = await c.put("/v1/job/services-nightly-backup/periodic/force")
        assert forced.status_code == 200 and forced.json()["EvalID"]
        not_periodic = await c.put("/v1/job/www-nomad/periodic/force")
        assert not_periodic.status_code == 400
    advance(fixed, 2)
    advance(fixed, 6)
    assert {a["ClientStatus"] for a in job_allocs(fixed, child)} == {"complete"}


async def test_scale_refused_during_deployment(fixed: Sim) -> None:
    async with client(fixed) as c:
        resp = await c.put(
            "/v1/job/internetarchive-hello-js/scale",
            json={"Count": 5, "Target": {"Group": "internetarchive-hello-js"}},
        )
        assert resp.status_code == 400


# -- faults -----------------------------------------------------------------------------


async def test_fault_switches_over_the_control_endpoint(fixed: Sim) -> None:
    async with client(fixed) as c:
        assert (await c.put("/v1/sim/faults", json={"error_rate": 1.0})).status_code == 200
        failing = await c.get("/v1/jobs")
        assert failing.status_code == 500
        assert await c.put("/v1/sim/faults", json={"error_rate": 0, "leader_lost": True})
        lost = await c.get("/v1/jobs")
        assert (lost.status_code, lost.text) == (500, "No cluster leader")
        assert (await c.get("/v1/status/leader")).json() == ""
        await c.put("/v1/sim/faults", json={"leader_lost": False, "latency_ms": 200})
        started = time.monotonic()
        assert (await c.get("/v1/jobs")).status_code == 200
        assert time.monotonic() - started >= 0.2
        bad = await c.put("/v1/sim/faults", json={"no_such_fault": 1})
        assert bad.status_code == 400
    async with client(fixed, token="read") as ro:
        assert (await ro.put("/v1/sim/faults", json={"latency_ms": 0})).status_code == 403


async def test_faults_from_config() -> None:
    cfg = SimConfig(clock=FixedClock(), lifecycle=False, faults=Faults(error_rate=0.5))
    async with Sim(cfg) as sim, client(sim) as c:
        codes = [(await c.get("/v1/regions")).status_code for _ in range(40)]
    assert 5 < codes.count(500) < 35 and codes.count(200) > 5


async def test_scale_cluster() -> None:
    cfg = SimConfig(jobs=2000, allocs_per_job=5, nodes=500, consul_instances=2000, lifecycle=False)
    async with Sim(cfg) as sim:
        assert len(sim.state.allocs) == 10_000
        assert len(sim.state.nodes) == 500
        assert len(sim.state.consul_services) == 2000
        async with client(sim, timeout=30) as c:
            resp = await c.get("/v1/allocations", params={"task_states": "false"})
            assert len(resp.json()) == 10_000


async def test_tls_serving(tmp_path: Any) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    cfg = SimConfig(clock=FixedClock(), lifecycle=False, tls=server_ctx)
    async with Sim(cfg) as sim:
        assert sim.nomad_addr.startswith("https://")
        ca_file = tmp_path / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        headers = {"X-Nomad-Token": sim.management_token}
        trusting = ssl.create_default_context(cafile=str(ca_file))
        async with httpx.AsyncClient(verify=trusting, headers=headers) as c:
            assert (await c.get(sim.nomad_addr + "/v1/jobs")).status_code == 200
        async with httpx.AsyncClient(headers=headers) as untrusting:
            with pytest.raises(httpx.ConnectError):
                await untrusting.get(sim.nomad_addr + "/v1/jobs")


async def test_leader_loss_windows() -> None:
    faults = Faults(leader_loss_every_s=0.6, leader_loss_for_s=0.3)
    async with Sim(SimConfig(clock=FixedClock(), lifecycle=False, faults=faults)) as sim:
        async with client(sim) as c:
            seen: set[int] = set()
            for _ in range(30):
                seen.add((await c.get("/v1/jobs")).status_code)
                await asyncio.sleep(0.05)
        assert seen == {200, 500}
        assert sim.injector.leader_losses >= 1
