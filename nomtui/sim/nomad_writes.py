"""The sim's Nomad write endpoints. Both PUT and POST are accepted, as the agent does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from nomtui.sim import cluster_ops, jobs_ops
from nomtui.sim.http import ApiError, error, json_response, query_bool
from nomtui.sim.listing import namespace_param
from nomtui.sim.nomad_cluster_api import read_json
from nomtui.sim.state import Json

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

JOB_POST_SUFFIXES = (
    "/periodic/force",
    "/dispatch",
    "/revert",
    "/stable",
    "/evaluate",
    "/scale",
    "/plan",
)


def int_field(body: Json, name: str, *, required: bool = True) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{name} must be an integer")
    return value


def add_routes(app: web.Application, sim: Sim) -> None:
    def answer(request: web.Request, body: Any) -> web.Response:
        index = body.get("Index", sim.state.index) if isinstance(body, dict) else sim.state.index
        return json_response(request, sim, body, index)

    async def register(request: web.Request) -> web.Response:
        body = await read_json(request)
        job = body.get("Job")
        if not isinstance(job, dict):
            raise ApiError(400, "Job must be specified")
        submission = body.get("Submission") or {}
        source = submission.get("Source") if isinstance(submission, dict) else None
        return answer(request, jobs_ops.register(sim, job, namespace_param(request), source=source))

    async def job_write(request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        ns = namespace_param(request)
        for suffix in JOB_POST_SUFFIXES:
            if tail.endswith(suffix) and len(tail) > len(suffix):
                job_id = tail[: -len(suffix)]
                body = await read_json(request)
                return answer(request, job_action(ns, job_id, suffix, body))
        # POST /v1/job/:id is an update, which registers like POST /v1/jobs
        body = await read_json(request)
        job = body.get("Job")
        if not isinstance(job, dict):
            raise ApiError(400, "Job must be specified")
        if job.get("ID") != tail:
            raise ApiError(400, "Job ID does not match name")
        return answer(request, jobs_ops.register(sim, job, ns))

    def job_action(ns: str, job_id: str, suffix: str, body: Json) -> Json:
        if suffix == "/periodic/force":
            return jobs_ops.periodic_force(sim, ns, job_id)
        if suffix == "/dispatch":
            meta = body.get("Meta") or {}
            if not isinstance(meta, dict):
                raise ApiError(400, "Meta must be an object of strings")
            return jobs_ops.dispatch(sim, ns, job_id, body.get("Payload"), meta)
        if suffix == "/revert":
            version = int_field(body, "JobVersion")
            assert version is not None
            enforce = int_field(body, "EnforcePriorVersion", required=False)
            return jobs_ops.revert(sim, ns, job_id, version, enforce)
        if suffix == "/stable":
            version = int_field(body, "JobVersion")
            assert version is not None
            return jobs_ops.set_stable(sim, ns, job_id, version, bool(body.get("Stable")))
        if suffix == "/evaluate":
            return jobs_ops.evaluate(sim, ns, job_id)
        if suffix == "/scale":
            target = body.get("Target") or {}
            group = target.get("Group", "") if isinstance(target, dict) else ""
            return jobs_ops.scale(sim, ns, job_id, group, int_field(body, "Count", required=False))
        raise ApiError(400, "job plan is not supported by the simulated cluster")

    async def job_delete(request: web.Request) -> web.Response:
        job_id = request.match_info["tail"]
        purge = query_bool(request, "purge")
        return answer(
            request, jobs_ops.deregister(sim, namespace_param(request), job_id, purge=purge)
        )

    async def alloc_stop(request: web.Request) -> web.Response:
        return answer(request, cluster_ops.stop_alloc(sim, request.match_info["alloc_id"]))

    async def alloc_restart(request: web.Request) -> web.Response:
        body = await read_json(request)
        result = cluster_ops.restart_alloc(
            sim,
            request.match_info["alloc_id"],
            body.get("TaskName") or None,
            bool(body.get("AllTasks")),
        )
        return json_response(request, sim, result)

    async def alloc_signal(request: web.Request) -> web.Response:
        body = await read_json(request)
        result = cluster_ops.signal_alloc(
            sim,
            request.match_info["alloc_id"],
            body.get("Task") or None,
            str(body.get("Signal", "")),
        )
        return json_response(request, sim, result)

    async def deployment_action(request: web.Request) -> web.Response:
        action = request.match_info["action"]
        dep_id = request.match_info["dep_id"]
        body = await read_json(request)
        if action == "promote":
            groups = None if body.get("All") else body.get("Groups")
            return answer(request, cluster_ops.promote(sim, dep_id, groups))
        if action == "fail":
            return answer(request, cluster_ops.fail(sim, dep_id))
        if action == "pause":
            return answer(request, cluster_ops.pause(sim, dep_id, bool(body.get("Pause"))))
        if action == "allocation-health":
            return answer(
                request,
                cluster_ops.set_alloc_health(
                    sim,
                    dep_id,
                    list(body.get("HealthyAllocationIDs") or []),
                    list(body.get("UnhealthyAllocationIDs") or []),
                ),
            )
        return error(404, "Invalid URL path")

    async def node_action(request: web.Request) -> web.Response:
        action = request.match_info["action"]
        node_id = request.match_info["node_id"]
        body = await read_json(request)
        if action == "drain":
            spec = body.get("DrainSpec")
            if spec is not None and not isinstance(spec, dict):
                raise ApiError(400, "DrainSpec must be an object or null")
            return answer(
                request,
                cluster_ops.drain(
                    sim, node_id, spec, bool(body.get("MarkEligible")), body.get("Meta") or {}
                ),
            )
        if action == "eligibility":
            return answer(
                request, cluster_ops.eligibility(sim, node_id, str(body.get("Eligibility", "")))
            )
        return error(404, "Invalid URL path")

    r = app.router
    for method in ("PUT", "POST"):
        r.add_route(method, "/v1/jobs", register)
        r.add_route(method, "/v1/job/{tail:.+}", job_write)
        r.add_route(method, "/v1/allocation/{alloc_id}/stop", alloc_stop)
        r.add_route(method, "/v1/client/allocation/{alloc_id}/restart", alloc_restart)
        r.add_route(method, "/v1/client/allocation/{alloc_id}/signal", alloc_signal)
        r.add_route(method, "/v1/deployment/{action}/{dep_id}", deployment_action)
        r.add_route(method, "/v1/node/{node_id}/{action}", node_action)
    r.add_delete("/v1/job/{tail:.+}", job_delete)
