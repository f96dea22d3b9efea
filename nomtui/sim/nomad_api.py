"""The sim's Nomad read endpoints for jobs and allocations.

Job paths are routed by suffix, as the agent does, because job IDs may contain `/`
(periodic and dispatched children). Writes live in `nomad_writes`.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from nomtui.sim import shapes
from nomtui.sim.answers import join_array, json_bytes
from nomtui.sim.bexpr import FilterError, compile_filter
from nomtui.sim.http import ApiError, blocking, error, json_response, query_bool
from nomtui.sim.listing import (
    NEXT_TOKEN,
    in_namespace,
    max_index,
    namespace_param,
    paginate,
    reverse_param,
    uuid_prefix,
)
from nomtui.sim.state import Json

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

T = TypeVar("T")
JOBS_LIST = ("jobs", "job_summary")
# what a full allocation read embeds: the allocation and the job version it runs
ALLOC_READ = ("allocs", "jobs", "job_version")
# The tables each job sub-read comes from (see `blocking`); the rest wake on any write.
JOB_SUB_TABLES: dict[str, tuple[str, ...]] = {
    "/allocations": ("jobs", "allocs"),
    "/evaluations": ("jobs", "evals"),
    "/deployments": ("jobs", "deployment"),
    "/deployment": ("jobs", "deployment"),
    "/summary": JOBS_LIST,
}
JOB_GET_SUFFIXES = (
    "/allocations",
    "/evaluations",
    "/deployments",
    "/deployment",
    "/summary",
    "/versions",
    "/scale",
    "/submission",
    "/services",
)


def apply_filter(request: web.Request, items: list[Json]) -> list[Json]:
    return filter_items(request, items, lambda i: i)


def filter_items(request: web.Request, items: list[T], as_json: Callable[[T], Json]) -> list[T]:
    """`filter=`: keep the items whose JSON (`as_json(item)`) matches the expression."""
    expr = request.query.get("filter")
    if not expr:
        return items
    try:
        keep = compile_filter(expr)
    except FilterError as exc:
        raise ApiError(
            400, f"failed to create result paginator: failed to read filter expression: {exc}"
        ) from None
    try:
        return [i for i in items if keep(as_json(i))]
    except FilterError as exc:
        raise ApiError(400, f"failed to read result page: {exc}") from None


Item = tuple[Json, bytes]
"""A list item as JSON (for filters and paging) and as encoded bytes (for the answer)."""


def job_stub_item(sim: Sim, job: Json, meta: bool) -> Item:
    """A job's list stub, re-encoded only when the job or one of its allocations changed."""
    if job.get("Periodic") or job.get("ParameterizedJob"):
        stub = shapes.job_stub(job, summary_of(sim, job), meta=meta)  # counts its children
        return stub, json_bytes(stub)
    key = (job["Namespace"], job["ID"])
    allocs = sim.state.allocs
    version = (job["ModifyIndex"], allocs.job_index.get(key, 0), len(allocs.by_job.get(key, ())))
    return sim.answers.fragments["job_stub"].get(
        (*key, meta), version, lambda: shapes.job_stub(job, summary_of(sim, job), meta=meta)
    )


def job_or_404(sim: Sim, request: web.Request, job_id: str) -> Json:
    job = sim.state.job(namespace_param(request), job_id)
    if job is None:
        raise ApiError(404, "job not found")
    return job


def summary_of(sim: Sim, job: Json) -> Json:
    ns, job_id = job["Namespace"], job["ID"]
    allocs = sim.state.allocs_of_job(ns, job_id)
    children = None
    if job.get("Periodic") or job.get("ParameterizedJob"):
        children = {"Pending": 0, "Running": 0, "Dead": 0}
        for child in sim.state.jobs.values():
            if child["ParentID"] == job_id and child["Namespace"] == ns:
                key = {"pending": "Pending", "running": "Running"}.get(child["Status"], "Dead")
                children[key] += 1
    modify = max([job["ModifyIndex"], *(a["ModifyIndex"] for a in allocs)])
    return shapes.job_summary(
        job, allocs, children=children, create_index=job["CreateIndex"], modify_index=modify
    )


def with_job(sim: Sim, alloc: Json) -> Json:
    """Full allocation reads embed the job version the allocation runs."""
    body = copy.copy(alloc)
    body["Job"] = sim.state.job_version(alloc["Namespace"], alloc["JobID"], alloc["JobVersion"])
    return body


def add_routes(app: web.Application, sim: Sim) -> None:
    state = sim.state

    async def list_jobs(request: web.Request) -> web.Response:
        ns = namespace_param(request)
        prefix = request.query.get("prefix", "")
        meta = query_bool(request, "meta")

        def compute() -> tuple[Any, int]:
            jobs = sorted(
                (j for j in state.jobs.values() if in_namespace(j, ns)),
                key=lambda j: (j["ID"], j["Namespace"]),
            )
            jobs = [j for j in jobs if j["ID"].startswith(prefix)]
            items = [job_stub_item(sim, j, meta) for j in jobs]
            items = filter_items(request, items, lambda i: i[0])
            page, token = paginate(request, items, lambda i: i[0]["ID"])
            if token:
                request[NEXT_TOKEN] = token
            return join_array(data for _, data in page), state.max_index(*JOBS_LIST)

        return with_next_token(request, await blocking(request, sim, compute, tables=JOBS_LIST))

    async def job_get(request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        for suffix in JOB_GET_SUFFIXES:
            if tail.endswith(suffix) and len(tail) > len(suffix):
                return await job_sub(request, tail[: -len(suffix)], suffix)
        return await blocking(request, sim, lambda: job_read(request, tail), tables=("jobs",))

    def job_read(request: web.Request, job_id: str) -> tuple[Any, int]:
        job = job_or_404(sim, request, job_id)
        return job, job["ModifyIndex"]

    async def job_sub(request: web.Request, job_id: str, suffix: str) -> web.StreamResponse:
        handlers: dict[str, Callable[[], tuple[Any, int]]] = {
            "/allocations": lambda: job_allocs(request, job_id),
            "/evaluations": lambda: job_evals(request, job_id),
            "/deployments": lambda: job_deployments(request, job_id),
            "/deployment": lambda: job_latest_deployment(request, job_id),
            "/summary": lambda: job_summary(request, job_id),
            "/versions": lambda: job_versions(request, job_id),
            "/scale": lambda: job_scale(request, job_id),
            "/submission": lambda: job_submission(request, job_id),
            "/services": lambda: job_services(request, job_id),
        }
        return await blocking(request, sim, handlers[suffix], tables=JOB_SUB_TABLES.get(suffix))

    def job_allocs(request: web.Request, job_id: str) -> tuple[Any, int]:
        job = job_or_404(sim, request, job_id)
        # `all=true` would add allocations of an earlier job with the same ID; the sim
        # garbage-collects those when a job is purged, so both forms answer the same.
        allocs = state.allocs_of_job(job["Namespace"], job_id)
        allocs.sort(key=lambda a: a["CreateIndex"], reverse=True)
        stubs = [shapes.alloc_stub(a) for a in allocs]
        return stubs, max_index(allocs, state.table_index["allocs"])

    def job_evals(request: web.Request, job_id: str) -> tuple[Any, int]:
        job = job_or_404(sim, request, job_id)
        evals = [
            e
            for e in state.evals.values()
            if e["JobID"] == job_id and e["Namespace"] == job["Namespace"]
        ]
        evals.sort(key=lambda e: e["CreateIndex"], reverse=True)
        return evals, max_index(evals, state.table_index["evals"])

    def deployments_of(job: Json) -> list[Json]:
        deps = [
            d
            for d in state.deployments.values()
            if d["JobID"] == job["ID"] and d["Namespace"] == job["Namespace"]
        ]
        deps.sort(key=lambda d: d["CreateIndex"], reverse=True)
        return deps

    def job_deployments(request: web.Request, job_id: str) -> tuple[Any, int]:
        deps = deployments_of(job_or_404(sim, request, job_id))
        return deps, max_index(deps, state.table_index["deployment"])

    def job_latest_deployment(request: web.Request, job_id: str) -> tuple[Any, int]:
        deps = deployments_of(job_or_404(sim, request, job_id))
        if not deps:
            return None, state.table_index["deployment"]
        return deps[0], deps[0]["ModifyIndex"]

    def job_summary(request: web.Request, job_id: str) -> tuple[Any, int]:
        summary = summary_of(sim, job_or_404(sim, request, job_id))
        return summary, summary["ModifyIndex"]

    def job_versions(request: web.Request, job_id: str) -> tuple[Any, int]:
        job = job_or_404(sim, request, job_id)
        versions = state.job_versions[(job["Namespace"], job_id)]
        diffs = None
        if query_bool(request, "diffs"):
            diffs = [shapes.job_diff(older, newer) for newer, older in itertools.pairwise(versions)]
        index = max(v["ModifyIndex"] for v in versions)
        return shapes.job_versions_body(versions, diffs, index), index

    def job_scale(request: web.Request, job_id: str) -> tuple[Any, int]:
        job = job_or_404(sim, request, job_id)
        allocs = state.allocs_of_job(job["Namespace"], job_id)
        return shapes.job_scale_status(job, allocs), job["ModifyIndex"]

    def job_submission(request: web.Request, job_id: str) -> tuple[Any, int]:
        job = job_or_404(sim, request, job_id)
        raw = request.query.get("version", str(job["Version"]))
        try:
            version = int(raw)
        except ValueError:
            raise ApiError(400, f"Failed to parse value of 'version' ({raw})") from None
        sub = state.submissions.get((job["Namespace"], job_id, version))
        if sub is None:
            raise ApiError(404, "job source not found")
        return sub, job["ModifyIndex"]

    def job_services(request: web.Request, job_id: str) -> tuple[Any, int]:
        # Demo services register in Consul (provider "consul"); Nomad-native ones would be here.
        job_or_404(sim, request, job_id)
        return [], state.table_index["services"]

    async def list_allocs(request: web.Request) -> web.Response:
        ns = namespace_param(request)
        prefix = uuid_prefix(request)
        resources = query_bool(request, "resources")
        task_states = query_bool(request, "task_states", default=True)
        descending = reverse_param(request)

        def stub(alloc: Json) -> Json:
            return shapes.alloc_stub(alloc, resources=resources, task_states=task_states)

        def compute() -> tuple[Any, int]:
            allocs = state.allocs.sorted_by_id()
            if ns != "*":
                allocs = [a for a in allocs if a.get("Namespace", "default") == ns]
            if prefix:
                allocs = [a for a in allocs if a["ID"].startswith(prefix)]
            if descending:
                allocs = allocs[::-1]
            items = sim.answers.fragments[("alloc_stub", resources, task_states)].many(allocs, stub)
            items = filter_items(request, items, lambda i: i[0])
            page, token = paginate(request, items, lambda i: i[0]["ID"], descending=descending)
            if token:
                request[NEXT_TOKEN] = token
            return join_array(data for _, data in page), state.table_index["allocs"]

        return with_next_token(request, await blocking(request, sim, compute, tables=("allocs",)))

    def alloc_or_404(alloc_id: str) -> Json:
        alloc = state.allocs.get(alloc_id)
        if alloc is None:
            raise ApiError(404, "alloc not found")
        return alloc

    async def alloc_get(request: web.Request) -> web.StreamResponse:
        alloc_id = request.match_info["alloc_id"]
        sub = request.match_info.get("sub", "")
        if sub == "":

            def compute() -> tuple[Any, int]:
                alloc = alloc_or_404(alloc_id)
                return with_job(sim, alloc), alloc["ModifyIndex"]

            return await blocking(request, sim, compute, tables=ALLOC_READ)
        if sub == "services":
            alloc_or_404(alloc_id)
            return json_response(request, sim, [], state.table_index["services"])
        if sub == "checks":
            alloc_or_404(alloc_id)
            return json_response(request, sim, {}, state.table_index["allocs"])
        return error(404, "resource not found")

    app.router.add_get("/v1/jobs", list_jobs)
    app.router.add_get("/v1/job/{tail:.+}", job_get)
    app.router.add_get("/v1/allocations", list_allocs)
    app.router.add_get("/v1/allocation/{alloc_id}", alloc_get)
    app.router.add_get("/v1/allocation/{alloc_id}/{sub}", alloc_get)


def with_next_token(request: web.Request, resp: web.Response) -> web.Response:
    token = request.get(NEXT_TOKEN)
    if token:
        resp.headers["X-Nomad-Nexttoken"] = token
    return resp
