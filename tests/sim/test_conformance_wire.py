"""The sim's answers over real sockets have the keys and JSON types of the spec's examples.

Every example body in ../shared/api is either exercised here or listed in NOT_SERVED with
the reason, so a new example or a new endpoint cannot slip by unnoticed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from nomtui.sim.server import Sim
from tests.conformance import DEFAULT_MAPS, assert_conforms

API = Path(__file__).resolve().parents[3] / "shared" / "api"
pytestmark = pytest.mark.skipif(not API.is_dir(), reason=f"spec examples not found at {API}")

Call = Callable[["Ctx"], Awaitable[Any]]

NOT_SERVED = {
    # Nomad variables, job actions, version tags, plan/parse, node-local metadata and
    # identity, agent join, node evaluate/purge and native service discovery are not
    # part of what the sim promises (see the foundation issue's endpoint list).
    "DELETE_v1_job_ID_versions_TAG_tag.json",
    "DELETE_v1_var_PATH.409.json",
    "DELETE_v1_var_PATH.json",
    "GET_v1_var_PATH.json",
    "GET_v1_vars.json",
    "PUT_v1_var_PATH.409.json",
    "PUT_v1_var_PATH.json",
    "GET_v1_job_ID_actions.json",
    "GET_v1_client_identity.json",
    "GET_v1_client_metadata.json",
    "POST_v1_client_metadata.json",
    "POST_v1_agent_join.json",
    "POST_v1_job_ID_plan.json",
    "POST_v1_jobs_parse.json",
    "POST_v1_job_ID_versions_TAG_tag.json",
    "POST_v1_node_ID_evaluate.json",
    "POST_v1_node_ID_purge.json",
    # demo services register in Consul, so Nomad's native service lists are empty
    "GET_v1_services.json",
    "GET_v1_service_NAME.json",
    "GET_v1_job_ID_services.json",
    "GET_v1_allocation_ID_services.json",
    "GET_v1_allocation_ID_checks.json",
    # streams, websockets and raw bodies have their own protocol tests
    "GET_v1_client_fs_cat_ID.txt",
    "GET_v1_client_fs_readat_ID.txt",
    "GET_v1_client_fs_logs_ID.frames.json",
    "GET_v1_client_fs_logs_ID.frames.synthetic.json",
    "GET_v1_client_fs_stream_ID.frames.json",
    "GET_v1_event_stream.ndjson",
    "GET_v1_event_stream.sample.json",
    "WS_v1_client_allocation_ID_exec.frames.json",
    "WS_v1_job_ID_action.frames.json",
}


class Ctx:
    def __init__(self, sim: Sim, client: httpx.AsyncClient) -> None:
        self.sim = sim
        self.client = client

    async def get(self, url: str, **params: Any) -> Any:
        resp = await self.client.get(self.sim.nomad_addr + url, params=params)
        assert resp.status_code == 200, (url, resp.status_code, resp.text)
        return resp.json()

    async def put(self, url: str, body: Any = None, **params: Any) -> Any:
        resp = await self.client.put(self.sim.nomad_addr + url, json=body, params=params)
        assert resp.status_code == 200, (url, resp.status_code, resp.text)
        return resp.json()

    async def delete(self, url: str, **params: Any) -> Any:
        resp = await self.client.delete(self.sim.nomad_addr + url, params=params)
        assert resp.status_code == 200, (url, resp.status_code, resp.text)
        return resp.json()

    async def consul(self, url: str, **params: Any) -> Any:
        resp = await self.client.get(self.sim.consul_addr + url, params=params)
        assert resp.status_code == 200, (url, resp.status_code, resp.text)
        return resp.json()

    def alloc_of(self, job_id: str, ns: str = "default") -> dict[str, Any]:
        return next(
            a
            for a in self.sim.state.allocs.values()
            if a["JobID"] == job_id and a["Namespace"] == ns and a["ClientStatus"] == "running"
        )

    def node_named(self, name: str) -> dict[str, Any]:
        return next(n for n in self.sim.state.nodes.values() if n["Name"] == name)

    def canary_deployment(self) -> dict[str, Any]:
        return next(
            d
            for d in self.sim.state.deployments.values()
            if d["JobID"] == "internetarchive-hello-js" and d["Status"] == "running"
        )


def job_spec(job_id: str) -> dict[str, Any]:
    return {
        "ID": job_id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "TaskGroups": [
            {
                "Name": "web",
                "Count": 1,
                "Tasks": [{"Name": "http", "Driver": "docker", "Config": {"image": "x"}}],
            }
        ],
    }


HELLO = "/v1/job/internetarchive-hello-js"
BACKUP = "/v1/job/services-nightly-backup"

NOMAD_CALLS: dict[str, Call] = {
    "GET_v1_jobs.json": lambda c: c.get("/v1/jobs"),
    "GET_v1_jobs.full_stub.json": lambda c: c.get("/v1/jobs", namespace="*"),
    "GET_v1_job_ID.json": lambda c: c.get(BACKUP),
    "GET_v1_job_ID_allocations.json": lambda c: c.get(HELLO + "/allocations"),
    "GET_v1_job_ID_evaluations.json": lambda c: c.get(HELLO + "/evaluations"),
    "GET_v1_job_ID_deployments.json": lambda c: c.get(HELLO + "/deployments"),
    "GET_v1_job_ID_deployment.json": lambda c: c.get(HELLO + "/deployment"),
    "GET_v1_job_ID_summary.json": lambda c: c.get(HELLO + "/summary"),
    "GET_v1_job_ID_scale.json": lambda c: c.get(HELLO + "/scale"),
    "GET_v1_job_ID_submission.json": lambda c: c.get(HELLO + "/submission", version="1"),
    "GET_v1_job_ID_versions.json": lambda c: c.get(HELLO + "/versions"),
    "GET_v1_job_ID_versions.diffs.json": lambda c: c.get(HELLO + "/versions", diffs="true"),
    "GET_v1_allocations.json": lambda c: c.get("/v1/allocations"),
    "GET_v1_allocation_ID.json": lambda c: c.get(f"/v1/allocation/{c.alloc_of('www-nomad')['ID']}"),
    "GET_v1_client_allocation_ID_stats.json": lambda c: c.get(
        f"/v1/client/allocation/{c.alloc_of('www-wiki')['ID']}/stats"
    ),
    "GET_v1_client_stats.json": lambda c: c.get(
        "/v1/client/stats", node_id=c.node_named("nomad-dc1-01")["ID"]
    ),
    "GET_v1_client_fs_ls_ID.json": lambda c: c.get(
        f"/v1/client/fs/ls/{c.alloc_of('www-nomad')['ID']}", path="/alloc/logs"
    ),
    "GET_v1_client_fs_stat_ID.json": lambda c: c.get(
        f"/v1/client/fs/stat/{c.alloc_of('www-nomad')['ID']}", path="/alloc"
    ),
    "GET_v1_nodes.json": lambda c: c.get("/v1/nodes", os="true"),
    "GET_v1_node_ID.json": lambda c: c.get(f"/v1/node/{c.node_named('nomad-dc1-01')['ID']}"),
    "GET_v1_node_ID_allocations.json": lambda c: c.get(
        f"/v1/node/{c.node_named('nomad-dc1-01')['ID']}/allocations"
    ),
    "GET_v1_deployments.json": lambda c: c.get("/v1/deployments"),
    "GET_v1_deployments.full.json": lambda c: c.get("/v1/deployments", namespace="*"),
    "GET_v1_deployment_ID.json": lambda c: c.get(f"/v1/deployment/{c.canary_deployment()['ID']}"),
    "GET_v1_deployment_allocations_ID.json": lambda c: c.get(
        f"/v1/deployment/allocations/{c.canary_deployment()['ID']}"
    ),
    "GET_v1_evaluations.json": lambda c: c.get("/v1/evaluations"),
    "GET_v1_evaluation_ID.json": lambda c: c.get(
        f"/v1/evaluation/{c.alloc_of('www-nomad')['EvalID']}"
    ),
    "GET_v1_evaluation_ID_allocations.json": lambda c: c.get(
        f"/v1/evaluation/{c.alloc_of('www-nomad')['EvalID']}/allocations"
    ),
    "GET_v1_namespaces.json": lambda c: c.get("/v1/namespaces"),
    "GET_v1_namespace_NAME.json": lambda c: c.get("/v1/namespace/ops"),
    "GET_v1_status_leader.json": lambda c: c.get("/v1/status/leader"),
    "GET_v1_status_peers.json": lambda c: c.get("/v1/status/peers"),
    "GET_v1_agent_self.json": lambda c: c.get("/v1/agent/self"),
    "GET_v1_agent_members.json": lambda c: c.get("/v1/agent/members"),
    "GET_v1_agent_servers.json": lambda c: c.get("/v1/agent/servers"),
    "GET_v1_agent_health.json": lambda c: c.get("/v1/agent/health"),
    "GET_v1_acl_token_self.json": lambda c: c.get("/v1/acl/token/self"),
    "GET_v1_acl_token_ACCESSOR.json": lambda c: c.get(
        f"/v1/acl/token/{c.sim.acl.read_only.accessor_id}"
    ),
    "GET_v1_acl_tokens.json": lambda c: c.get("/v1/acl/tokens"),
    "POST_v1_jobs.json": lambda c: c.put("/v1/jobs", {"Job": job_spec("conformance-a")}),
    "POST_v1_job_ID.json": lambda c: c.put(
        "/v1/job/services-pyhi", {"Job": {**job_spec("services-pyhi")}}
    ),
    "DELETE_v1_job_ID.json": lambda c: c.delete("/v1/job/www-ia-kv"),
    "POST_v1_job_ID_scale.json": lambda c: c.put(
        "/v1/job/www-nomad/scale", {"Count": 2, "Target": {"Group": "www-nomad"}}
    ),
    "POST_v1_job_ID_dispatch.json": lambda c: c.put(
        "/v1/job/services-thumbnailer/dispatch", {"Meta": {"identifier": "x"}}
    ),
    "POST_v1_job_ID_revert.json": lambda c: c.put(
        HELLO + "/revert", {"JobID": "internetarchive-hello-js", "JobVersion": 0}
    ),
    "POST_v1_job_ID_evaluate.json": lambda c: c.put("/v1/job/www-wiki/evaluate", {}),
    "POST_v1_job_ID_stable.json": lambda c: c.put(
        "/v1/job/www-wiki/stable", {"JobID": "www-wiki", "JobVersion": 0, "Stable": True}
    ),
    "POST_v1_job_ID_periodic_force.json": lambda c: c.put(BACKUP + "/periodic/force"),
    "POST_v1_allocation_ID_stop.json": lambda c: c.put(
        f"/v1/allocation/{c.alloc_of('services-pyhi')['ID']}/stop"
    ),
    "POST_v1_client_allocation_ID_restart.json": lambda c: c.put(
        f"/v1/client/allocation/{c.alloc_of('www-wiki')['ID']}/restart", {"TaskName": "http"}
    ),
    "POST_v1_client_allocation_ID_signal.json": lambda c: c.put(
        f"/v1/client/allocation/{c.alloc_of('www-wiki')['ID']}/signal", {"Signal": "SIGHUP"}
    ),
    "POST_v1_deployment_promote_ID.json": lambda c: c.put(
        f"/v1/deployment/promote/{c.canary_deployment()['ID']}", {"All": True}
    ),
    "POST_v1_deployment_pause_ID.json": lambda c: c.put(
        f"/v1/deployment/pause/{c.canary_deployment()['ID']}", {"Pause": True}
    ),
    "POST_v1_deployment_allocation-health_ID.json": lambda c: c.put(
        f"/v1/deployment/allocation-health/{c.canary_deployment()['ID']}",
        {"HealthyAllocationIDs": []},
    ),
    "POST_v1_deployment_fail_ID.json": lambda c: c.put(
        f"/v1/deployment/fail/{c.canary_deployment()['ID']}"
    ),
    "POST_v1_node_ID_drain.json": lambda c: c.put(
        f"/v1/node/{c.node_named('nomad-dc1-02')['ID']}/drain", {"DrainSpec": None}
    ),
    "POST_v1_node_ID_eligibility.json": lambda c: c.put(
        f"/v1/node/{c.node_named('nomad-dc1-02')['ID']}/eligibility",
        {"Eligibility": "eligible"},
    ),
    "POST_v1_search.json": lambda c: c.put("/v1/search", {"Prefix": "", "Context": "jobs"}),
    "POST_v1_search.evals.json": lambda c: c.put("/v1/search", {"Prefix": "", "Context": "evals"}),
    "POST_v1_search_fuzzy.json": lambda c: c.put(
        "/v1/search/fuzzy", {"Text": "ww", "Context": "jobs"}
    ),
    "POST_v1_search_fuzzy.nodes.json": lambda c: c.put(
        "/v1/search/fuzzy", {"Text": "dc1", "Context": "nodes"}
    ),
    "POST_v1_search_fuzzy.allocs.json": lambda c: c.put(
        "/v1/search/fuzzy", {"Text": "www", "Context": "allocs"}
    ),
    "POST_v1_search_fuzzy.all.json": lambda c: c.put(
        "/v1/search/fuzzy", {"Text": "www", "Context": "all"}
    ),
    "POST_v1_search_fuzzy.prefix.json": lambda c: c.put(
        "/v1/search/fuzzy", {"Text": "www", "Context": "all"}
    ),
}

CONSUL_CALLS: dict[str, Call] = {
    "GET_v1_agent_members.json": lambda c: c.consul("/v1/agent/members"),
    "GET_v1_agent_self.json": lambda c: c.consul("/v1/agent/self"),
    "GET_v1_catalog_datacenters.json": lambda c: c.consul("/v1/catalog/datacenters"),
    "GET_v1_catalog_nodes.json": lambda c: c.consul("/v1/catalog/nodes"),
    "GET_v1_catalog_service_NAME.json": lambda c: c.consul("/v1/catalog/service/services-pyhi"),
    "GET_v1_catalog_services.json": lambda c: c.consul("/v1/catalog/services"),
    "GET_v1_health_checks_NAME.json": lambda c: c.consul("/v1/health/checks/services-pyhi"),
    "GET_v1_health_node_NODE.json": lambda c: c.consul("/v1/health/node/nomad-dc1-01"),
    "GET_v1_health_service_NAME.json": lambda c: c.consul("/v1/health/service/services-pyhi"),
    "GET_v1_health_state_ANY.json": lambda c: c.consul("/v1/health/state/any"),
    "GET_v1_status_leader.json": lambda c: c.consul("/v1/status/leader"),
    "GET_v1_status_peers.json": lambda c: c.consul("/v1/status/peers"),
}


def response_examples(kind: str) -> list[str]:
    if not API.is_dir():
        return []
    return sorted(p.name for p in (API / kind).iterdir() if not p.name.endswith(".request.json"))


def test_every_example_is_covered_or_excused() -> None:
    nomad = set(response_examples("nomad"))
    assert nomad - set(NOMAD_CALLS) - NOT_SERVED == set()
    assert set(NOMAD_CALLS) - nomad == set()
    assert set(response_examples("consul")) == set(CONSUL_CALLS)


@pytest.fixture
async def ctx(sim: Sim) -> Any:
    headers = {"X-Nomad-Token": sim.management_token}
    async with httpx.AsyncClient(headers=headers, timeout=10) as client:
        yield Ctx(sim, client)


@pytest.mark.parametrize("name", sorted(NOMAD_CALLS))
async def test_nomad_answer_conforms(ctx: Ctx, name: str) -> None:
    example = json.loads((API / "nomad" / name).read_text())
    actual = await NOMAD_CALLS[name](ctx)
    assert_conforms(actual, example)


@pytest.mark.parametrize("name", sorted(CONSUL_CALLS))
async def test_consul_answer_conforms(ctx: Ctx, name: str) -> None:
    example = json.loads((API / "consul" / name).read_text())
    actual = await CONSUL_CALLS[name](ctx)
    # the catalog's service list is a map keyed by service name
    maps = DEFAULT_MAPS | {"$"} if name == "GET_v1_catalog_services.json" else DEFAULT_MAPS
    assert_conforms(actual, example, maps=maps)
