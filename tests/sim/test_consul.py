"""The sim's Consul: Nomad → Consul sync and the catalog/health/agent API over real sockets.

The harness serves only the Consul routes from a stand-in Sim (real State, Acl and
FaultInjector, nothing started), so these tests do not depend on the rest of the sim.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import consul
import httpx
import pytest
from aiohttp import web

from nomtui.sim import consul_api, consul_sync
from nomtui.sim.acl import Acl
from nomtui.sim.answers import Answers
from nomtui.sim.clock import FixedClock
from nomtui.sim.consul_shapes import SERVER_NODE
from nomtui.sim.faults import FaultInjector, Faults
from nomtui.sim.http import ApiError, error
from nomtui.sim.ids import IdSource
from nomtui.sim.state import Json, State
from nomtui.sim.traffic import Traffic

NODE_IP = "10.0.0.11"
WEB_TAG = "https://web.example.org"
CANARY_TAG = "https://canary-web.example.org"


@dataclass
class FakeConfig:
    event_heartbeat_s: float = 30.0
    consul_instances: int | None = None


class FakeSim:
    """The attributes of nomtui.sim.server.Sim the Consul modules use."""

    def __init__(self, **config: Any) -> None:
        self.config = FakeConfig(**config)
        self.clock = FixedClock()
        self.ids = IdSource(7)
        self.state = State(self.clock, self.ids)
        self.acl = Acl(self.ids, self.clock.now_ns(), None, None)
        self.injector = FaultInjector(Faults(), 7)
        self.answers = Answers()
        self.traffic = Traffic()


@dataclass
class Harness:
    sim: FakeSim
    url: str
    client: httpx.AsyncClient

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    # What server.py's Consul middleware does besides faults.
    try:
        return await handler(request)
    except ApiError as exc:
        return error(exc.status, exc.text)


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    sim = FakeSim()
    app = web.Application(middlewares=[_errors])
    consul_api.add_routes(app, sim)  # type: ignore[arg-type]
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        yield Harness(sim, url, client)
    await runner.cleanup()


# -- API-shaped Nomad objects -----------------------------------------------------------------


def make_node(name: str = "nomad-client-1", ip: str = NODE_IP, status: str = "ready") -> Json:
    return {
        "ID": f"node-{name}",
        "Name": name,
        "Datacenter": "dc1",
        "HTTPAddr": f"{ip}:4646",
        "Status": status,
        "Attributes": {"unique.network.ip-address": ip},
    }


def make_job(version: int = 0, provider: str = "consul") -> Json:
    alive = {
        "Name": "alive",
        "Type": "http",
        "Path": "/health",
        "Protocol": "",
        "PortLabel": "",
        "Interval": 10_000_000_000,
        "Timeout": 2_000_000_000,
    }
    return {
        "ID": "web",
        "Namespace": "default",
        "Version": version,
        "TaskGroups": [
            {
                "Name": "web",
                "Networks": [{"DynamicPorts": [{"Label": "http", "Value": 0, "To": 80}]}],
                "Services": [
                    {
                        "Name": "web",
                        "PortLabel": "http",
                        "Provider": provider,
                        "Tags": [WEB_TAG],
                        "CanaryTags": [CANARY_TAG],
                        "Meta": {"team": "web"},
                        "Checks": [alive],
                    }
                ],
                "Tasks": [
                    {
                        "Name": "http",
                        "Services": [
                            {
                                "Name": "web-metrics",
                                "PortLabel": "http",
                                "Provider": "",
                                "Tags": ["metrics"],
                                "Checks": [{"Name": "tcp", "Type": "tcp", "Interval": 5e9}],
                            }
                        ],
                    },
                    {"Name": "kv", "Services": None},
                ],
            }
        ],
    }


def make_alloc(
    alloc_id: str = "a1b2c3d4-0000-0000-0000-000000000001",
    node: Json | None = None,
    port: int = 23456,
    client_status: str = "running",
    canary: bool = False,
) -> Json:
    node = node or make_node()
    return {
        "ID": alloc_id,
        "Namespace": "default",
        "JobID": "web",
        "JobVersion": 0,
        "TaskGroup": "web",
        "NodeID": node["ID"],
        "DesiredStatus": "run",
        "ClientStatus": client_status,
        "DeploymentStatus": {"Canary": canary, "Healthy": None} if canary else None,
        "AllocatedResources": {
            "Shared": {
                "Ports": [{"Label": "http", "Value": port, "To": 80, "HostIP": node_ip(node)}]
            }
        },
        "TaskStates": {"http": {"State": "running"}, "kv": {"State": "dead"}},
    }


def node_ip(node: Json) -> str:
    return str(node["Attributes"]["unique.network.ip-address"])


def add_job(sim: FakeSim, job: Json) -> None:
    sim.state.jobs[("default", job["ID"])] = job
    sim.state.job_versions.setdefault(("default", job["ID"]), []).insert(0, job)


def sync(sim: FakeSim, *objs: Json) -> int:
    """One write that syncs nodes (dicts with `Name`) and allocs; returns its index."""
    with sim.state.write() as txn:
        for obj in objs:
            if "Name" in obj:
                sim.state.nodes[obj["ID"]] = obj
                consul_sync.sync_node(sim, txn, obj)  # type: ignore[arg-type]
            else:
                consul_sync.sync_alloc(sim, txn, obj)  # type: ignore[arg-type]
    return txn.index


def cluster(sim: FakeSim, *allocs: Json) -> Json:
    node = make_node()
    add_job(sim, make_job())
    sync(sim, node)
    sync(sim, *(allocs or (make_alloc(node=node),)))
    return node


def web_services(sim: FakeSim) -> list[Json]:
    return [s for s in sim.state.consul_services.values() if s["ServiceName"] == "web"]


def web_checks(sim: FakeSim) -> list[Json]:
    return [c for c in sim.state.consul_checks.values() if c["ServiceName"] == "web"]


# -- sync ---------------------------------------------------------------------------------------


def test_sync_alloc_registers_group_and_task_services() -> None:
    sim = FakeSim()
    alloc = make_alloc()
    cluster(sim, alloc)
    [svc] = web_services(sim)
    assert svc["ServiceID"] == f"_nomad-task-{alloc['ID']}-group-web-web-http"
    assert (svc["Node"], svc["ServiceAddress"], svc["ServicePort"]) == (
        "nomad-client-1",
        NODE_IP,
        23456,
    )
    assert svc["ServiceTags"] == [WEB_TAG]
    assert svc["ServiceMeta"] == {"team": "web", "external-source": "nomad"}
    [check] = web_checks(sim)
    assert re.fullmatch(r"_nomad-check-[0-9a-f]{40}", check["CheckID"])
    assert check["Name"] == "alive" and check["Status"] == "passing"
    assert check["Type"] == "http" and check["Interval"] == "10s" and check["Timeout"] == "2s"
    assert check["Output"] == f"HTTP GET http://{NODE_IP}:23456/health: 200 OK Output: ok"
    # task-level service with an empty Provider means Consul; the dead `kv` task has none
    ids = {s["ServiceID"] for s in sim.state.consul_services.values()}
    assert f"_nomad-task-{alloc['ID']}-http-web-metrics-http" in ids
    tcp = next(c for c in sim.state.consul_checks.values() if c["Name"] == "tcp")
    assert tcp["Output"] == f"TCP connect {NODE_IP}:23456: Success"
    assert tcp["Interval"] == "5s"


def test_sync_touches_tables_only_on_change() -> None:
    sim = FakeSim()
    alloc = make_alloc()
    cluster(sim, alloc)
    before = dict(sim.state.table_index)
    index = sim.state.index
    sync(sim, alloc)  # nothing changed
    assert sim.state.table_index == before
    assert sim.state.index == index  # the empty write gave its index back


def test_check_status_follows_alloc_health_without_touching_catalog() -> None:
    sim = FakeSim()
    alloc = make_alloc()
    cluster(sim, alloc)
    [check] = web_checks(sim)
    catalog_index = sim.state.table_index["consul_catalog"]
    sim.state.alloc_health[alloc["ID"]] = "critical"
    index = sync(sim, alloc)
    [after] = web_checks(sim)
    assert after["Status"] == "critical"
    assert "503 Service Unavailable" in after["Output"]
    assert after["CreateIndex"] == check["CreateIndex"] and after["ModifyIndex"] == index
    assert sim.state.table_index["consul_health"] == index
    assert sim.state.table_index["consul_catalog"] == catalog_index
    # a task that is not running means nothing listens on the port
    alloc["TaskStates"]["http"]["State"] = "pending"
    sync(sim, alloc)
    [refused] = web_checks(sim)
    assert refused["Output"].endswith(f"dial tcp {NODE_IP}:23456: connect: connection refused")


def test_canary_tags_then_promotion() -> None:
    sim = FakeSim()
    alloc = make_alloc(canary=True)
    cluster(sim, alloc)
    [svc] = web_services(sim)
    assert svc["ServiceTags"] == [CANARY_TAG]
    assert web_checks(sim)[0]["ServiceTags"] == [CANARY_TAG]
    alloc["DeploymentStatus"]["Canary"] = False
    index = sync(sim, alloc)
    [promoted] = web_services(sim)
    assert promoted["ServiceTags"] == [WEB_TAG]
    assert promoted["CreateIndex"] == svc["CreateIndex"] and promoted["ModifyIndex"] == index


@pytest.mark.parametrize("status", ["complete", "failed", "lost", "pending"])
def test_not_running_alloc_deregisters(status: str) -> None:
    sim = FakeSim()
    alloc = make_alloc()
    cluster(sim, alloc)
    assert web_services(sim) and web_checks(sim)
    alloc["ClientStatus"] = status
    index = sync(sim, alloc)
    assert not web_services(sim) and not web_checks(sim)
    assert sim.state.table_index["consul_catalog"] == index
    assert sim.state.table_index["consul_health"] == index


def test_stop_desired_deregisters_and_nomad_provider_is_skipped() -> None:
    sim = FakeSim()
    alloc = make_alloc()
    cluster(sim, alloc)
    alloc["DesiredStatus"] = "stop"
    sync(sim, alloc)
    assert not web_services(sim)
    sim2 = FakeSim()
    node = make_node()
    add_job(sim2, make_job(provider="nomad"))
    sync(sim2, node, make_alloc(node=node))
    assert not web_services(sim2)  # Nomad-native services never reach Consul


def test_sync_node_serf_health_and_server() -> None:
    sim = FakeSim()
    node = make_node()
    sync(sim, node)
    assert SERVER_NODE in sim.state.consul_nodes
    serf = sim.state.consul_checks["nomad-client-1/serfHealth"]
    assert serf["Status"] == "passing" and serf["Output"] == "Agent alive and reachable"
    node["Status"] = "down"
    index = sync(sim, node)
    serf = sim.state.consul_checks["nomad-client-1/serfHealth"]
    assert serf["Status"] == "critical" and serf["ModifyIndex"] == index
    assert sim.state.table_index["consul_catalog"] < index  # the node record itself is unchanged


def test_consul_instances_cap() -> None:
    sim = FakeSim(consul_instances=1)
    node = make_node()
    add_job(sim, make_job())
    sync(sim, node)  # registers the `consul` service of the server: the cap is reached
    sync(sim, make_alloc(node=node))
    assert not web_services(sim)


def test_deregister_node() -> None:
    sim = FakeSim()
    alloc = make_alloc()
    cluster(sim, alloc)
    with sim.state.write() as txn:
        consul_sync.deregister_node(sim, txn, "nomad-client-1")  # type: ignore[arg-type]
    assert "nomad-client-1" not in sim.state.consul_nodes
    assert not web_services(sim) and not web_checks(sim)
    sync(sim, alloc)  # the alloc's bookkeeping forgot the node's keys: no KeyError


# -- API ----------------------------------------------------------------------------------------


async def test_catalog_services_and_service_rows(h: Harness) -> None:
    cluster(h.sim)
    r = await h.client.get("/v1/catalog/services")
    assert r.status_code == 200
    assert r.headers["X-Consul-Index"] == str(h.sim.state.table_index["consul_catalog"])
    assert r.json() == {"consul": [], "web": [WEB_TAG], "web-metrics": ["metrics"]}
    rows = (await h.client.get("/v1/catalog/service/web")).json()
    assert [(r["Node"], r["Address"], r["ServicePort"]) for r in rows] == [
        ("nomad-client-1", NODE_IP, 23456)
    ]
    tagged = await h.client.get("/v1/catalog/service/web", params={"tag": WEB_TAG})
    assert len(tagged.json()) == 1
    untagged = await h.client.get("/v1/catalog/service/web", params={"tag": "nope"})
    assert untagged.json() == []
    nodes = (await h.client.get("/v1/catalog/nodes")).json()
    assert [n["Node"] for n in nodes] == [SERVER_NODE, "nomad-client-1"]
    assert (await h.client.get("/v1/catalog/datacenters")).json() == ["dc1"]


async def test_unknown_service_is_empty_200(h: Harness) -> None:
    for path in ("/v1/catalog/service/nope", "/v1/health/service/nope", "/v1/health/checks/x"):
        r = await h.client.get(path)
        assert (r.status_code, r.json()) == (200, [])
        assert "X-Consul-Index" in r.headers


async def test_health_service_passing_filter(h: Harness) -> None:
    node = make_node()
    other = make_node("nomad-client-2", "10.0.0.12")
    good = make_alloc("aaaa0000-0000-0000-0000-000000000001", node=node)
    bad = make_alloc("bbbb0000-0000-0000-0000-000000000002", node=other, port=24000)
    add_job(h.sim, make_job())
    sync(h.sim, node, other)
    h.sim.state.alloc_health[bad["ID"]] = "warning"  # warning is not passing
    sync(h.sim, good, bad)
    every = (await h.client.get("/v1/health/service/web")).json()
    assert [e["Node"]["Node"] for e in every] == ["nomad-client-1", "nomad-client-2"]
    checks = [c["CheckID"] for c in every[0]["Checks"]]
    assert "serfHealth" in checks and len(checks) == 2  # node check + the service's own
    passing = (await h.client.get("/v1/health/service/web?passing")).json()
    assert [e["Service"]["Port"] for e in passing] == [23456]
    # a dead agent (serfHealth critical) hides its instances too
    node["Status"] = "down"
    sync(h.sim, node)
    assert (await h.client.get("/v1/health/service/web", params={"passing": "1"})).json() == []
    bad_param = await h.client.get("/v1/health/service/web", params={"passing": "maybe"})
    assert (bad_param.status_code, bad_param.text) == (400, "Invalid value for ?passing")


async def test_health_checks_node_and_state(h: Harness) -> None:
    alloc = make_alloc()
    cluster(h.sim, alloc)
    h.sim.state.alloc_health[alloc["ID"]] = "critical"
    sync(h.sim, alloc)
    checks = (await h.client.get("/v1/health/checks/web")).json()
    assert [c["Name"] for c in checks] == ["alive"]
    node_checks = (await h.client.get("/v1/health/node/nomad-client-1")).json()
    assert {c["CheckID"] for c in node_checks} >= {"serfHealth", checks[0]["CheckID"]}
    node_id = h.sim.state.consul_nodes["nomad-client-1"]["ID"]
    assert all(c["ID"] == node_id for c in node_checks)  # as the documented sample has it
    crit = (await h.client.get("/v1/health/state/critical")).json()
    assert {c["Name"] for c in crit} == {"alive", "tcp"}  # every check of the alloc follows
    every = (await h.client.get("/v1/health/state/any")).json()
    assert len(every) == len(h.sim.state.consul_checks)
    passing = (await h.client.get("/v1/health/state/passing")).json()
    assert passing and all(c["Status"] == "passing" for c in passing)
    # Consul does not validate the state: an unknown one matches nothing
    bogus = await h.client.get("/v1/health/state/bogus")
    assert (bogus.status_code, bogus.json()) == (200, [])
    empty = await h.client.get("/v1/health/state/")
    assert (empty.status_code, empty.text) == (400, "Missing check state")


async def test_filter_expressions(h: Harness) -> None:
    alloc = make_alloc()
    cluster(h.sim, alloc)
    found = await h.client.get(
        "/v1/health/service/web", params={"filter": f'"{WEB_TAG}" in Service.Tags'}
    )
    assert len(found.json()) == 1
    none = await h.client.get(
        "/v1/health/service/web", params={"filter": '"x" in Service.Tags or Node.Node == "y"'}
    )
    assert none.json() == []
    rows = await h.client.get(
        "/v1/catalog/service/web",
        params={"filter": "ServicePort == 23456 and not (ServiceTags is empty)"},
    )
    assert len(rows.json()) == 1
    services = await h.client.get(
        "/v1/catalog/services", params={"filter": 'ServiceName != "consul"'}
    )
    assert "consul" not in services.json()
    bad = await h.client.get("/v1/health/state/any", params={"filter": "Status ~~ 1"})
    assert bad.status_code == 400 and bad.text.startswith("Failed to create boolean")


async def test_blocking_queries(h: Harness) -> None:
    alloc = make_alloc()
    cluster(h.sim, alloc)
    first = await h.client.get("/v1/health/service/web")
    index = int(first.headers["X-Consul-Index"])
    # an older index answers at once
    start = time.monotonic()
    old = await h.client.get("/v1/health/service/web", params={"index": index - 1})
    assert int(old.headers["X-Consul-Index"]) == index and time.monotonic() - start < 0.5
    # nothing changes: the wait runs out and the same index comes back
    start = time.monotonic()
    same = await h.client.get("/v1/health/service/web", params={"index": index, "wait": "100ms"})
    elapsed = time.monotonic() - start
    assert same.status_code == 200 and int(same.headers["X-Consul-Index"]) == index
    assert 0.09 <= elapsed < 1.0
    # a change wakes the waiting query
    pending = asyncio.create_task(
        h.client.get("/v1/health/service/web", params={"index": index, "wait": "5s"})
    )
    await asyncio.sleep(0.05)
    assert not pending.done()
    h.sim.state.alloc_health[alloc["ID"]] = "critical"
    changed_at = sync(h.sim, alloc)
    woke = await asyncio.wait_for(pending, 2)
    assert int(woke.headers["X-Consul-Index"]) == changed_at > index
    assert woke.json()[0]["Checks"][0]["Status"] == "critical"
    # catalog endpoints do not wake for a health-only change
    cat = await h.client.get("/v1/catalog/services")
    assert int(cat.headers["X-Consul-Index"]) < changed_at
    bad = await h.client.get("/v1/catalog/services", params={"index": "x"})
    assert (bad.status_code, bad.text) == (400, "Invalid index")


async def test_method_not_allowed_and_options(h: Harness) -> None:
    r = await h.client.put("/v1/catalog/services")
    assert (r.status_code, r.text) == (405, "method PUT not allowed")
    assert r.headers["Allow"] == "OPTIONS,GET"
    r = await h.client.delete("/v1/health/service/web")
    assert (r.status_code, r.text) == (405, "method DELETE not allowed")
    r = await h.client.options("/v1/status/leader")
    assert (r.status_code, r.headers["Allow"]) == (200, "OPTIONS,GET")


async def test_other_datacenter(h: Harness) -> None:
    r = await h.client.get("/v1/catalog/services", params={"dc": "dc9"})
    assert (r.status_code, r.text) == (500, "No path to datacenter")
    assert (await h.client.get("/v1/catalog/services", params={"dc": "dc1"})).status_code == 200


async def test_agent_and_status(h: Harness) -> None:
    node = make_node()
    sync(h.sim, node)
    me = (await h.client.get("/v1/agent/self")).json()
    assert me["Config"]["NodeName"] == SERVER_NODE and me["Config"]["Server"] is True
    assert me["Member"]["Tags"]["role"] == "consul"
    members = (await h.client.get("/v1/agent/members")).json()
    assert [(m["Name"], m["Status"]) for m in members] == [(SERVER_NODE, 1), ("nomad-client-1", 1)]
    node["Status"] = "down"
    sync(h.sim, node)
    members = (await h.client.get("/v1/agent/members")).json()
    assert members[1]["Status"] == 4
    assert (await h.client.get("/v1/status/leader")).json() == "127.0.0.1:8300"
    assert (await h.client.get("/v1/status/peers")).json() == ["127.0.0.1:8300"]
    h.sim.injector.faults.leader_lost = True
    leader = await h.client.get("/v1/status/leader")
    assert leader.json() == ""


async def test_py_consul_reads_the_sim(h: Harness) -> None:
    """A third-party client (py-consul, sync) parses what the sim serves."""
    alloc = make_alloc()
    cluster(h.sim, alloc)
    c = consul.Consul(host="127.0.0.1", port=h.port)
    index, services = await asyncio.to_thread(c.catalog.services)
    assert services["web"] == [WEB_TAG] and int(index) >= 1
    _, entries = await asyncio.to_thread(lambda: c.health.service("web", passing=True))
    assert [e["Service"]["Address"] for e in entries] == [NODE_IP]
    assert entries[0]["Service"]["Tags"] == [WEB_TAG]
    h.sim.state.alloc_health[alloc["ID"]] = "critical"
    sync(h.sim, alloc)
    _, entries = await asyncio.to_thread(lambda: c.health.service("web", passing=True))
    assert entries == []
    _, crit = await asyncio.to_thread(lambda: c.health.state("critical"))
    assert {x["Name"] for x in crit} == {"alive", "tcp"}
    _, nodes = await asyncio.to_thread(c.catalog.nodes)
    assert {n["Node"] for n in nodes} == {SERVER_NODE, "nomad-client-1"}
    assert await asyncio.to_thread(c.status.leader) == "127.0.0.1:8300"
    # a blocking read through the client: times out with the same index
    start = time.monotonic()
    again, _ = await asyncio.to_thread(lambda: c.catalog.services(index=index, wait="100ms"))
    assert again == index and time.monotonic() - start >= 0.09
