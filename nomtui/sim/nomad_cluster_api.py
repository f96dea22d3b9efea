"""The sim's Nomad read endpoints for nodes, deployments, evaluations and the cluster itself."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nomtui.sim import shapes
from nomtui.sim.http import ApiError, blocking, json_response, query_bool
from nomtui.sim.listing import (
    NEXT_TOKEN,
    in_namespace,
    max_index,
    namespace_param,
    paginate,
    uuid_prefix,
)
from nomtui.sim.nomad_api import ALLOC_READ, apply_filter, with_job, with_next_token
from nomtui.sim.state import Json

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

SERVER_RPC_PORT = 4647
SERVER_SERF_PORT = 4648
SEARCH_LIMIT = 20


def by_create_index(obj: Json) -> str:
    """A paging token that sorts like the list (newest first), so pages never skip items."""
    return f"{obj['CreateIndex']:020d}.{obj['ID']}"


def node_ip(node: Json) -> str:
    return str(node["HTTPAddr"]).rsplit(":", 1)[0]


def add_routes(app: web.Application, sim: Sim) -> None:
    state = sim.state

    def node_or_404(node_id: str) -> Json:
        node = state.nodes.get(node_id)
        if node is None:
            raise ApiError(404, "node not found")
        return node

    async def list_nodes(request: web.Request) -> web.Response:
        prefix = uuid_prefix(request)
        resources = query_bool(request, "resources")
        os_attrs = query_bool(request, "os")

        def compute() -> tuple[Any, int]:
            nodes = sorted(
                (n for n in state.nodes.values() if n["ID"].startswith(prefix)),
                key=lambda n: n["ID"],
            )
            stubs = [shapes.node_stub(n, resources=resources, os=os_attrs) for n in nodes]
            page, token = paginate(request, apply_filter(request, stubs), lambda s: s["ID"])
            if token:
                request[NEXT_TOKEN] = token
            return page, state.table_index["nodes"]

        return with_next_token(request, await blocking(request, sim, compute, tables=("nodes",)))

    async def node_get(request: web.Request) -> web.Response:
        node_id = request.match_info["node_id"]

        def compute() -> tuple[Any, int]:
            node = node_or_404(node_id)
            return node, node["ModifyIndex"]

        return await blocking(request, sim, compute, tables=("nodes",))

    async def node_allocs(request: web.Request) -> web.Response:
        node_id = request.match_info["node_id"]

        def compute() -> tuple[Any, int]:
            node_or_404(node_id)
            allocs = state.allocs_of_node(node_id)
            allocs.sort(key=lambda a: a["CreateIndex"], reverse=True)
            return [with_job(sim, a) for a in allocs], max_index(
                allocs, state.table_index["allocs"]
            )

        return await blocking(request, sim, compute, tables=("nodes", *ALLOC_READ))

    async def list_deployments(request: web.Request) -> web.Response:
        ns = namespace_param(request)
        prefix = uuid_prefix(request)

        def compute() -> tuple[Any, int]:
            deps = [
                d
                for d in state.deployments.values()
                if in_namespace(d, ns) and d["ID"].startswith(prefix)
            ]
            deps.sort(key=lambda d: d["CreateIndex"], reverse=True)
            page, token = paginate(
                request, apply_filter(request, deps), by_create_index, descending=True
            )
            if token:
                request[NEXT_TOKEN] = token
            return page, state.table_index["deployment"]

        return with_next_token(
            request, await blocking(request, sim, compute, tables=("deployment",))
        )

    def deployment_or_404(dep_id: str) -> Json:
        dep = state.deployments.get(dep_id)
        if dep is None:
            raise ApiError(404, "deployment not found")
        return dep

    async def deployment_get(request: web.Request) -> web.Response:
        dep_id = request.match_info["dep_id"]

        def compute() -> tuple[Any, int]:
            dep = deployment_or_404(dep_id)
            return dep, dep["ModifyIndex"]

        return await blocking(request, sim, compute, tables=("deployment",))

    async def deployment_allocs(request: web.Request) -> web.Response:
        dep_id = request.match_info["dep_id"]

        def compute() -> tuple[Any, int]:
            deployment_or_404(dep_id)
            allocs = [a for a in state.allocs.values() if a.get("DeploymentID") == dep_id]
            allocs.sort(key=lambda a: a["CreateIndex"], reverse=True)
            stubs = [shapes.alloc_stub(a) for a in allocs]
            return stubs, max_index(allocs, state.table_index["allocs"])

        return await blocking(request, sim, compute)

    async def list_evals(request: web.Request) -> web.Response:
        ns = namespace_param(request)
        prefix = uuid_prefix(request)
        job = request.query.get("job")
        status = request.query.get("status")

        def compute() -> tuple[Any, int]:
            evals = [
                e
                for e in state.evals.values()
                if in_namespace(e, ns)
                and e["ID"].startswith(prefix)
                and (job is None or e["JobID"] == job)
                and (status is None or e["Status"] == status)
            ]
            evals.sort(key=lambda e: e["CreateIndex"], reverse=True)
            page, token = paginate(
                request, apply_filter(request, evals), by_create_index, descending=True
            )
            if token:
                request[NEXT_TOKEN] = token
            return page, state.table_index["evals"]

        return with_next_token(request, await blocking(request, sim, compute))

    async def eval_get(request: web.Request) -> web.Response:
        eval_id = request.match_info["eval_id"]

        def compute() -> tuple[Any, int]:
            ev = state.evals.get(eval_id)
            if ev is None:
                raise ApiError(404, "eval not found")
            return ev, ev["ModifyIndex"]

        return await blocking(request, sim, compute)

    async def eval_allocs(request: web.Request) -> web.Response:
        eval_id = request.match_info["eval_id"]

        def compute() -> tuple[Any, int]:
            allocs = [a for a in state.allocs.values() if a["EvalID"] == eval_id]
            return [shapes.alloc_stub(a) for a in allocs], max_index(
                allocs, state.table_index["allocs"]
            )

        return await blocking(request, sim, compute)

    async def list_namespaces(request: web.Request) -> web.Response:
        prefix = request.query.get("prefix", "")

        def compute() -> tuple[Any, int]:
            spaces = sorted(
                (n for n in state.namespaces.values() if n["Name"].startswith(prefix)),
                key=lambda n: n["Name"],
            )
            return spaces, state.table_index["namespaces"]

        return await blocking(request, sim, compute)

    async def namespace_get(request: web.Request) -> web.Response:
        name = request.match_info["name"]

        def compute() -> tuple[Any, int]:
            ns = state.namespaces.get(name)
            if ns is None:
                raise ApiError(404, "namespace not found")
            return ns, ns["ModifyIndex"]

        return await blocking(request, sim, compute)

    async def regions(request: web.Request) -> web.Response:
        return json_response(request, sim, ["global"])

    async def leader(request: web.Request) -> web.Response:
        addr = "" if sim.injector.faults.leader_lost else f"127.0.0.1:{SERVER_RPC_PORT}"
        return json_response(request, sim, addr)

    async def peers(request: web.Request) -> web.Response:
        return json_response(request, sim, [f"127.0.0.1:{SERVER_RPC_PORT}"])

    def server_addr() -> tuple[str, int]:
        host, _, port = sim.nomad_addr.split("://", 1)[-1].rpartition(":")
        return host, int(port)

    async def agent_self(request: web.Request) -> web.Response:
        host, port = server_addr()
        body = shapes.agent_self(
            node_name="sim-server-1",
            region="global",
            datacenter="dc1",
            version=sim_version(),
            address=host,
            http_port=port,
            server=True,
            client=True,
        )
        return json_response(request, sim, body)

    async def agent_members(request: web.Request) -> web.Response:
        body = shapes.agent_members(
            servers=[("sim-server-1.global", "127.0.0.1", SERVER_SERF_PORT)],
            region="global",
            datacenter="dc1",
            version=sim_version(),
        )
        return json_response(request, sim, body)

    async def agent_servers(request: web.Request) -> web.Response:
        return json_response(request, sim, [f"127.0.0.1:{SERVER_RPC_PORT}"])

    async def agent_health(request: web.Request) -> web.Response:
        ok = not sim.injector.faults.leader_lost
        body = shapes.agent_health(server=True, client=True)
        if not ok:
            body["server"] = {"ok": False, "message": "No cluster leader"}
        return json_response(request, sim, body, status=200 if ok else 500)

    async def token_self(request: web.Request) -> web.Response:
        token = sim.acl.lookup(sim.acl.token_of(request))
        if token is None:
            raise ApiError(403, "ACL token not found")
        return json_response(request, sim, token_json(token), state.table_index["acl_token"])

    async def token_list(request: web.Request) -> web.Response:
        token = sim.acl.lookup(sim.acl.token_of(request))
        if token is None or token.type != "management":
            raise ApiError(403, "Permission denied")
        body = [
            {k: v for k, v in token_json(t).items() if k != "SecretID"}
            for t in (sim.acl.management, sim.acl.read_only)
        ]
        return json_response(request, sim, body, state.table_index["acl_token"])

    async def token_get(request: web.Request) -> web.Response:
        caller = sim.acl.lookup(sim.acl.token_of(request))
        accessor = request.match_info["accessor"]
        found = [t for t in (sim.acl.management, sim.acl.read_only) if t.accessor_id == accessor]
        # a token may read itself; reading others needs management
        if caller is None or (caller.type != "management" and caller.accessor_id != accessor):
            raise ApiError(403, "Permission denied")
        if not found:
            raise ApiError(404, "ACL token not found")
        return json_response(request, sim, token_json(found[0]), state.table_index["acl_token"])

    def token_json(token: Any) -> Json:
        return shapes.acl_token(
            accessor_id=token.accessor_id,
            secret_id=token.secret_id,
            name=token.name,
            type_=token.type,
            policies=list(token.policies),
            create_time_ns=token.create_time_ns,
            create_index=token.create_index,
        )

    async def client_stats(request: web.Request) -> web.Response:
        node_id = request.query.get("node_id")
        if not node_id:
            raise ApiError(400, "No local Node and node_id not provided")
        node = state.nodes.get(node_id)
        if node is None:
            raise ApiError(404, f"Unknown node {node_id}")
        if node["Status"] == "down":
            raise ApiError(404, "No path to node")
        return json_response(request, sim, sim.stats.node_stats(node))

    async def alloc_stats(request: web.Request) -> web.Response:
        alloc_id = request.match_info["alloc_id"]
        alloc = state.allocs.get(alloc_id)
        if alloc is None:
            raise ApiError(404, f'Unknown allocation "{alloc_id}"')
        node = state.nodes.get(alloc["NodeID"])
        if node is None or node["Status"] == "down":
            raise ApiError(404, "No path to node")
        task = request.query.get("task")
        return json_response(request, sim, sim.stats.alloc_stats(alloc, task))

    async def client_alloc_checks(request: web.Request) -> web.Response:
        alloc_id = request.match_info["alloc_id"]
        if alloc_id not in state.allocs:
            raise ApiError(404, f'Unknown allocation "{alloc_id}"')
        return json_response(request, sim, {})

    async def search(request: web.Request) -> web.Response:
        body = await read_json(request)
        return json_response(request, sim, sim.search.prefix(body, namespace_param(request)))

    async def fuzzy(request: web.Request) -> web.Response:
        body = await read_json(request)
        return json_response(request, sim, sim.search.fuzzy(body, namespace_param(request)))

    async def services(request: web.Request) -> web.Response:
        return json_response(request, sim, [], state.table_index["services"])

    async def service_get(request: web.Request) -> web.Response:
        return json_response(request, sim, [], state.table_index["services"])

    r = app.router
    r.add_get("/v1/nodes", list_nodes)
    r.add_get("/v1/node/{node_id}", node_get)
    r.add_get("/v1/node/{node_id}/allocations", node_allocs)
    r.add_get("/v1/deployments", list_deployments)
    r.add_get("/v1/deployment/allocations/{dep_id}", deployment_allocs)
    r.add_get("/v1/deployment/{dep_id}", deployment_get)
    r.add_get("/v1/evaluations", list_evals)
    r.add_get("/v1/evaluation/{eval_id}", eval_get)
    r.add_get("/v1/evaluation/{eval_id}/allocations", eval_allocs)
    r.add_get("/v1/namespaces", list_namespaces)
    r.add_get("/v1/namespace/{name}", namespace_get)
    r.add_get("/v1/regions", regions)
    r.add_get("/v1/status/leader", leader)
    r.add_get("/v1/status/peers", peers)
    r.add_get("/v1/agent/self", agent_self)
    r.add_get("/v1/agent/members", agent_members)
    r.add_get("/v1/agent/servers", agent_servers)
    r.add_get("/v1/agent/health", agent_health)
    r.add_get("/v1/acl/token/self", token_self)
    r.add_get("/v1/acl/tokens", token_list)
    r.add_get("/v1/acl/token/{accessor}", token_get)
    r.add_get("/v1/client/stats", client_stats)
    r.add_get("/v1/client/allocation/{alloc_id}/stats", alloc_stats)
    r.add_get("/v1/client/allocation/{alloc_id}/checks", client_alloc_checks)
    for path, handler in (("/v1/search", search), ("/v1/search/fuzzy", fuzzy)):
        r.add_post(path, handler)
        r.add_put(path, handler)
    r.add_get("/v1/services", services)
    r.add_get("/v1/service/{name}", service_get)


def sim_version() -> str:
    from nomtui.sim.server import NOMAD_VERSION

    return NOMAD_VERSION


async def read_json(request: web.Request) -> Json:
    raw = await request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return body
