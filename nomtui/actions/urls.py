"""Service URLs (`nomtui urls`, `nomtui app`) and Consul service summaries (`nomtui services`).

IA jobs publish their public URLs as service tags (`https://host`, canaries as
`https://canary-host`). Consul knows which instances carry which tags right now and
whether their checks pass, so it is asked first; the service IDs Nomad registers embed
the allocation ID, which leads to the job. When Consul cannot be asked (no tunnel, no
token), the job specs still list the tags, without health: `urls_from_specs`.

Older IA jobs carried fabio's `urlprefix-host:443/` tags; those are read as
`https://host/`, as the old `_nom-url` helper did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import msgspec

from nomtui.actions.status import consul_service_names

if TYPE_CHECKING:
    from nomtui.client.consul import ConsulClient
    from nomtui.client.nomad import NomadClient
    from nomtui.models.consul import HealthEntry
    from nomtui.models.job_spec import Job
    from nomtui.models.jobs import JobStub

T = TypeVar("T")

CONCURRENCY = 8
"""Parallel requests per command: enough to hide latency, few enough to be polite."""
_URL_SCHEMES = ("https://", "http://")
_FABIO_PREFIX = "urlprefix-"


class UrlRow(msgspec.Struct, kw_only=True):
    url: str
    service: str
    job: str
    """"" when the instance was not registered by Nomad (or its allocation is unknown)."""
    namespace: str
    canary: bool
    instances: int
    """Instances carrying the tag (0 when read from a job spec)."""
    passing: int
    status: str
    """`passing` (all instances), `critical` (none), `warning` (some), `-` (unknown)."""
    source: str
    """`consul` or `job` (the spec's tags: no health known)."""


class ServiceSummary(msgspec.Struct, kw_only=True):
    name: str
    tags: list[str]
    instances: int
    passing: int
    warning: int
    critical: int
    """Includes instances in maintenance: they serve nothing either."""


# -- pure rules ---------------------------------------------------------------------------


def url_of_tag(tag: str) -> str | None:
    """The URL a service tag publishes, or None for other tags."""
    tag = tag.strip()
    if tag.startswith(_URL_SCHEMES) and len(tag) > len("https://") and " " not in tag:
        return tag
    if tag.startswith(_FABIO_PREFIX):
        route = tag[len(_FABIO_PREFIX) :]
        # `urlprefix-/path` routes by path only and `... redirect=308,...` is an option.
        if not route or route.startswith("/") or " " in route or "=" in route:
            return None
        host, _, path = route.partition("/")
        return f"https://{host.removesuffix(':443')}/{path}"
    return None


def urls_of_tags(tags: Iterable[str] | None) -> list[str]:
    found: list[str] = []
    for tag in tags or ():
        url = url_of_tag(tag)
        if url is not None and url not in found:
            found.append(url)
    return found


def spec_urls(job: Job) -> list[tuple[str, str, bool]]:
    """(url, service, canary) of every URL tag in the job's services, in spec order.

    Canary URLs are the `CanaryTags` that are not also ordinary `Tags`.
    """
    found: list[tuple[str, str, bool]] = []
    for group in job.TaskGroups or ():
        for service in group.all_services:
            plain = urls_of_tags(service.Tags)
            canary = [u for u in urls_of_tags(service.CanaryTags) if u not in plain]
            found += [(u, service.Name, False) for u in plain]
            found += [(u, service.Name, True) for u in canary]
    return found


def first_url(job: Job) -> str | None:
    """The URL `nomtui app` opens: the first non-canary URL tag in spec order."""
    return next((url for url, _, canary in spec_urls(job) if not canary), None)


def health_word(instances: int, passing: int) -> str:
    if instances == 0:
        return "-"
    if passing == instances:
        return "passing"
    return "critical" if passing == 0 else "warning"


def sort_rows(rows: Iterable[UrlRow]) -> list[UrlRow]:
    return sorted(rows, key=lambda r: (r.url, r.namespace, r.job, r.service))


def rows_from_health(
    entries: Iterable[HealthEntry],
    jobs_by_alloc: dict[str, tuple[str, str]],
    canary_urls: dict[tuple[str, str], set[str]],
    *,
    only_known: bool,
) -> list[UrlRow]:
    """URL rows from Consul instances. `jobs_by_alloc`: alloc ID -> (namespace, job);
    `canary_urls`: (namespace, job) -> its canary URLs; `only_known`: drop instances whose
    allocation is not in `jobs_by_alloc` (a job was asked for, or a namespace pinned)."""
    counts: dict[tuple[str, str, str, str], list[int]] = {}
    for entry in entries:
        service = entry.Service
        if service is None:
            continue
        alloc = entry.alloc_id
        owner = jobs_by_alloc.get(alloc) if alloc else None
        if owner is None and only_known:
            continue
        namespace, job = owner or ("", "")
        passing = entry.status == "passing"
        for url in urls_of_tags(service.Tags):
            tally = counts.setdefault((url, service.Service, namespace, job), [0, 0])
            tally[0] += 1
            tally[1] += passing
    return sort_rows(
        UrlRow(
            url=url,
            service=name,
            job=job,
            namespace=namespace,
            canary=url in canary_urls.get((namespace, job), set()),
            instances=instances,
            passing=passing,
            status=health_word(instances, passing),
            source="consul",
        )
        for (url, name, namespace, job), (instances, passing) in counts.items()
    )


def rows_from_specs(jobs: Iterable[Job], *, canaries: bool = False) -> list[UrlRow]:
    """URL rows read from job specs (no health); canary URLs only when asked, since a
    spec cannot tell whether a canary runs."""
    rows = {
        (url, service, job.Namespace, job.ID): UrlRow(
            url=url,
            service=service,
            job=job.ID,
            namespace=job.Namespace,
            canary=canary,
            instances=0,
            passing=0,
            status="-",
            source="job",
        )
        for job in jobs
        for url, service, canary in spec_urls(job)
        if canaries or not canary
    }
    return sort_rows(rows.values())


# -- fetching -----------------------------------------------------------------------------


async def gather_limited(
    calls: Sequence[Callable[[], Awaitable[T]]], limit: int = CONCURRENCY
) -> list[T]:
    """Run `calls` with at most `limit` in flight; results in order; the first error raises."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(call) for call in calls)))


async def _specs(nomad: NomadClient, stubs: Iterable[JobStub]) -> list[Job]:
    return await gather_limited([partial(nomad.get_job, s.ID, s.Namespace) for s in stubs])


def _serves_urls(stub: JobStub) -> bool:
    """Jobs that can publish URLs now: long-running, not stopped, not a template."""
    return stub.Type in ("service", "system") and not stub.Stop


async def urls_from_specs(
    nomad: NomadClient, scope: JobStub | None, namespace: str | None
) -> list[UrlRow]:
    """URLs from the job specs: of `scope` only, else of every service job (in the
    pinned `namespace`, or all)."""
    if scope is not None:
        stubs = [scope]
    else:
        stubs = [s for s in await nomad.list_jobs(namespace or "*") if _serves_urls(s)]
    return rows_from_specs(await _specs(nomad, stubs))


async def urls_from_consul(
    nomad: NomadClient, consul: ConsulClient, scope: JobStub | None, namespace: str | None
) -> list[UrlRow]:
    """URLs from Consul's instances (with health), joined to jobs through Nomad.

    Raises the Consul client's errors, so the caller can fall back to the specs.
    """
    if scope is not None:
        job = await nomad.get_job(scope.ID, scope.Namespace)
        names = consul_service_names(job)
        allocs = await nomad.job_allocations(scope.ID, scope.Namespace)
    else:
        catalog = await consul.services()
        names = sorted(name for name, tags in catalog.items() if urls_of_tags(tags))
        allocs = await nomad.list_allocations(namespace or "*", task_states=False)
    answers = await gather_limited([partial(consul.service_health, name) for name in names])
    entries = [entry for answer in answers for entry in answer]
    jobs_by_alloc = {a.ID: (a.Namespace, a.JobID) for a in allocs}
    # Only jobs running a canary can publish canary URLs; their specs say which those are.
    with_canaries = {(a.Namespace, a.JobID) for a in allocs if a.is_canary and not a.is_terminal}
    if scope is not None:
        specs = [job] if (scope.Namespace, scope.ID) in with_canaries else []
    else:
        specs = await gather_limited(
            [partial(nomad.get_job, job_id, ns) for ns, job_id in sorted(with_canaries)]
        )
    canary_urls = {
        (spec.Namespace, spec.ID): {url for url, _, canary in spec_urls(spec) if canary}
        for spec in specs
    }
    only_known = scope is not None or namespace is not None
    return rows_from_health(entries, jobs_by_alloc, canary_urls, only_known=only_known)


async def service_summaries(consul: ConsulClient) -> list[ServiceSummary]:
    """Every Consul service with its tags and its instances counted by health."""
    catalog = await consul.services()
    names = sorted(catalog)
    answers = await gather_limited([partial(consul.service_health, name) for name in names])
    summaries = []
    for name, entries in zip(names, answers, strict=True):
        statuses = [entry.status for entry in entries]
        summaries.append(
            ServiceSummary(
                name=name,
                tags=sorted(catalog[name] or ()),
                instances=len(statuses),
                passing=statuses.count("passing"),
                warning=statuses.count("warning"),
                critical=len(statuses) - statuses.count("passing") - statuses.count("warning"),
            )
        )
    return summaries


__all__ = [
    "ServiceSummary",
    "UrlRow",
    "first_url",
    "gather_limited",
    "health_word",
    "rows_from_health",
    "rows_from_specs",
    "service_summaries",
    "spec_urls",
    "url_of_tag",
    "urls_from_consul",
    "urls_from_specs",
    "urls_of_tags",
]
