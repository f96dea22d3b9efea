"""Which watches feed which view, and the two polled sources (cluster info, Consul probe).

A `Source` names one client watch; equal sources are one watch in the store however
many views use them. `plan(view)` lists a view's sources, its main one first (its index
becomes the view's index), and the pure function that builds the view's data from them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from nomtui.client.blocking import Backoff, Retrying, Snapshot
from nomtui.errors import ConfigError, NomtuiError
from nomtui.models.cluster import AclToken
from nomtui.store import snapshots
from nomtui.store.views import (
    AllocsView,
    AllocView,
    ClusterInfo,
    ClusterView,
    ConsulStatus,
    DeploymentsView,
    JobsView,
    JobView,
    NodesView,
    ServicesView,
    ViewKey,
)
from nomtui.store.watches import Build, SourceWatch

if TYPE_CHECKING:
    from nomtui.client.consul import ConsulClient
    from nomtui.client.nomad import NomadClient

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """One watch: `kind` plus its arguments (namespace, job ID, ...)."""

    kind: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class WatchOptions:
    wait_s: float | None = None
    """Blocking `wait` of Nomad watches; None keeps the client's default."""
    min_interval_s: float | None = None
    poll_s: float = 15.0
    """How often the cluster header re-reads leader, agent and token, and probes Consul."""


@dataclass(frozen=True)
class Plan:
    sources: tuple[Source, ...]
    build: Build


JOBS_ALL = Source("jobs", ("*",))
ALLOCS_ALL = Source("allocs", ("*",))
NODES = Source("nodes")
CLUSTER_INFO = Source("cluster_info")
CONSUL_SERVICES = Source("consul_services")
CONSUL_CHECKS = Source("consul_checks")
CONSUL_PROBE = Source("consul_probe")


def plan(view: ViewKey[Any], has_consul: bool) -> Plan:
    match view:
        case JobsView(namespace=ns):
            return Plan((Source("jobs", (ns,)),), lambda v: snapshots.jobs_table(v[0]))
        case JobView(namespace=ns, job_id=job):
            return Plan(
                (
                    Source("job", (ns, job)),
                    Source("job_allocs", (ns, job)),
                    Source("latest_deployment", (ns, job)),
                ),
                lambda v: snapshots.job_detail(v[0], v[1], v[2]),
            )
        case AllocsView(namespace=ns, job_id=None):
            return Plan((Source("allocs", (ns,)),), lambda v: snapshots.allocs_table(v[0]))
        case AllocsView(namespace=ns, job_id=str(job)):
            return Plan((Source("job_allocs", (ns, job)),), lambda v: snapshots.allocs_table(v[0]))
        case AllocView(alloc_id=alloc):
            return Plan((Source("alloc", (alloc,)),), lambda v: v[0])
        case NodesView():
            return Plan((NODES,), lambda v: snapshots.nodes_table(v[0]))
        case DeploymentsView(namespace=ns):
            return Plan(
                (Source("deployments", (ns,)),), lambda v: snapshots.deployments_table(v[0])
            )
        case ServicesView():
            if not has_consul:
                return Plan((), lambda v: snapshots.services_data(None, None, None))
            return Plan(
                (CONSUL_SERVICES, CONSUL_CHECKS, ALLOCS_ALL),
                lambda v: snapshots.services_data(v[0], v[1], v[2]),
            )
        case ClusterView():
            # The job list first: its index is the one worth showing.
            sources = (JOBS_ALL, CLUSTER_INFO, ALLOCS_ALL, NODES)
            if not has_consul:
                return Plan(
                    sources,
                    lambda v: snapshots.cluster_data(
                        v[1], v[0], v[2], v[3], ConsulStatus(enabled=False)
                    ),
                )
            return Plan(
                (*sources, CONSUL_PROBE),
                lambda v: snapshots.cluster_data(v[1], v[0], v[2], v[3], v[4]),
            )
    raise TypeError(f"not a view the store knows: {view!r}")


def open_watch(
    source: Source,
    nomad: NomadClient,
    consul: ConsulClient | None,
    opts: WatchOptions,
) -> SourceWatch:
    """The client watch behind `source` (a fresh async generator)."""
    kw: dict[str, Any] = {}
    if opts.wait_s is not None:
        kw["wait_s"] = opts.wait_s
    if opts.min_interval_s is not None:
        kw["min_interval_s"] = opts.min_interval_s
    args = source.args
    match source.kind:
        case "jobs":
            return nomad.watch_jobs(args[0], **kw)
        case "job":
            return nomad.watch_job(args[1], args[0], **kw)
        case "job_allocs":
            return nomad.watch_job_allocations(args[1], args[0], **kw)
        case "latest_deployment":
            return nomad.watch_latest_deployment(args[1], args[0], **kw)
        case "allocs":
            return nomad.watch_allocations(args[0], **kw)
        case "alloc":
            return nomad.watch_allocation(args[0], **kw)
        case "nodes":
            return nomad.watch_nodes(**kw)
        case "deployments":
            return nomad.watch_deployments(args[0], **kw)
        case "cluster_info":
            return poll(lambda: cluster_info(nomad), opts.poll_s)
        case "consul_services" if consul is not None:
            return consul.watch_services()
        case "consul_checks" if consul is not None:
            return consul.watch_health_state("any")
        case "consul_probe" if consul is not None:
            return poll(lambda: consul_status(consul), opts.poll_s)
    raise TypeError(f"no watch for {source!r}")


async def poll(
    fetch: Callable[[], Awaitable[T]],
    every_s: float,
    *,
    backoff: Backoff | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncGenerator[Snapshot[T] | Retrying, None]:
    """A watch for data without blocking queries: fetch every `every_s`, yield changes.

    Same contract as the blocking watches: `Retrying` after a failure (with backoff),
    the first answer after a failure always yielded, `ConfigError` raised.
    """
    backoff = backoff or Backoff()
    attempt = 0
    last: Any = None
    while True:
        failure: NomtuiError | None = None
        try:
            value = await fetch()
        except ConfigError:
            raise
        except NomtuiError as exc:
            failure = exc
        if failure is not None:
            attempt += 1
            delay = backoff.delay(attempt)
            yield Retrying(failure, delay, attempt)
            await sleep(delay)
            continue
        if attempt or last is None or value != last:
            yield Snapshot(value, 0)
        attempt, last = 0, value
        await sleep(every_s)


async def cluster_info(nomad: NomadClient) -> ClusterInfo:
    """Leader, agent and token, read together; the token is optional information."""
    leader, agent = await asyncio.gather(nomad.leader(), nomad.agent_self())
    token: AclToken | None = None
    try:
        token = await nomad.token_self()
    except NomtuiError as exc:
        # ACLs off (400), an anonymous or unreadable token (403/404): no token to show.
        # Anything that retrying may fix still fails the whole read.
        if exc.transient:
            raise
    return ClusterInfo(leader=leader, agent=agent, token=token)


async def consul_status(consul: ConsulClient) -> ConsulStatus:
    """Consul's reachability as data: an unreachable Consul must not make the Nomad
    cluster look disconnected, so its failure never becomes a `Retrying`."""
    try:
        leader = await consul.leader()
    except NomtuiError as exc:
        return ConsulStatus(enabled=True, reachable=False, error=exc)
    return ConsulStatus(enabled=True, reachable=True, leader=leader)


__all__ = [
    "Plan",
    "Source",
    "WatchOptions",
    "cluster_info",
    "consul_status",
    "open_watch",
    "plan",
    "poll",
]
