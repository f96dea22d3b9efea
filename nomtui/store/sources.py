"""Which watches feed which view, and the client watch behind each.

A `Source` names one client watch; equal sources are one watch in the store however
many views use them. `plan(view)` lists a view's sources, its main one first (its index
becomes the view's index), and the pure function that builds the view's data from them.

What each allocation and node watch asks for is chosen for sharing at scale (10,000
allocations: ~14 MB with task states, ~8 MB without, +5 MB with `resources=true`):
- `ALLOCS_BRIEF`, every allocation without task states but with its resources: the
  header's counts, the services join, the jobs' versions and the node, nodes and
  topology screens all read this one list;
- `allocs` of a namespace, with task states and resources: the allocations screen and
  the check panel (tasks, restarts, CPU and memory allocated);
- one job's allocations with resources: `/v1/allocations?filter=JobID == ...`, as
  `/v1/job/:id/allocations` cannot carry resources;
- the job and allocation lists are read whole once, then kept by the event stream with
  reads of the changed items only (`nomtui.client.event_fed`): under churn a blocking
  query would send the whole 14 MB list again for every change;
- `NODES`, always with resources: node lists are small, and one shared watch is cheaper
  than two.

Nothing here is polled: the header's agent, token and leader are read once and again
when the watches give a reason (`nomtui.store.signals`, `nomtui.store.info`); Consul's
reachability is the state of the catalog watch the services view shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from nomtui.store import snapshots
from nomtui.store.info import watch_cluster_info, watch_consul_leader
from nomtui.store.signals import Observer, Signals
from nomtui.store.views import (
    AllocsView,
    AllocView,
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


@dataclass(frozen=True)
class Plan:
    sources: tuple[Source, ...]
    build: Build
    optional: tuple[Source, ...] = ()
    """Sources whose states (failures included) are data for `build`, after the values
    of `sources`; they neither hold the view back nor make it reconnecting."""


JOBS_ALL = Source("jobs", ("*",))
ALLOCS_BRIEF = Source("allocs_brief", ("*",))
NODES = Source("nodes")
CLUSTER_INFO = Source("cluster_info")
CONSUL_SERVICES = Source("consul_services")
CONSUL_CHECKS = Source("consul_checks")
CONSUL_LEADER = Source("consul_leader")

_NOMAD_WATCHES = frozenset(
    {
        "jobs",
        "job",
        "job_allocs",
        "latest_deployment",
        "allocs",
        "allocs_brief",
        "job_allocs_sized",
        "alloc",
        "nodes",
        "deployments",
    }
)
_CONSUL_WATCHES = frozenset({"consul_services", "consul_checks"})


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
        case AllocsView(namespace=ns, job_id=str(job)):
            source = Source("job_allocs_sized", (ns, job))
            return Plan((source,), lambda v: snapshots.allocs_table(v[0]))
        case AllocsView(namespace=ns, task_states=False):
            source = Source("allocs_brief", (ns,))
            return Plan((source,), lambda v: snapshots.allocs_table(v[0]))
        case AllocsView(namespace=ns):
            return Plan((Source("allocs", (ns,)),), lambda v: snapshots.allocs_table(v[0]))
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
                (CONSUL_SERVICES, CONSUL_CHECKS, ALLOCS_BRIEF),
                lambda v: snapshots.services_data(v[0], v[1], v[2]),
            )
        case ClusterView():
            # The job list first: its index is the one worth showing.
            sources = (JOBS_ALL, CLUSTER_INFO, ALLOCS_BRIEF, NODES)
            if not has_consul:
                off = ConsulStatus(enabled=False)
                return Plan(sources, lambda v: snapshots.cluster_data(v[1], v[0], v[2], v[3], off))
            return Plan(
                sources,
                lambda v: snapshots.cluster_data(
                    v[1], v[0], v[2], v[3], snapshots.consul_status(v[4], v[5])
                ),
                optional=(CONSUL_SERVICES, CONSUL_LEADER),
            )
    raise TypeError(f"not a view the store knows: {view!r}")


def open_watch(
    source: Source,
    nomad: NomadClient,
    consul: ConsulClient | None,
    opts: WatchOptions,
    signals: Signals,
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
            return nomad.follow_jobs(args[0], **kw)
        case "job":
            return nomad.watch_job(args[1], args[0], **kw)
        case "job_allocs":
            return nomad.watch_job_allocations(args[1], args[0], **kw)
        case "job_allocs_sized":
            return nomad.follow_allocations(args[0], resources=True, job_id=args[1], **kw)
        case "latest_deployment":
            return nomad.watch_latest_deployment(args[1], args[0], **kw)
        case "allocs":
            return nomad.follow_allocations(args[0], resources=True, **kw)
        case "allocs_brief":
            return nomad.follow_allocations(args[0], task_states=False, resources=True, **kw)
        case "alloc":
            return nomad.watch_allocation(args[0], **kw)
        case "nodes":
            return nomad.watch_nodes(resources=True, **kw)
        case "deployments":
            return nomad.watch_deployments(args[0], **kw)
        case "cluster_info":
            return watch_cluster_info(nomad, signals.nomad)
        case "consul_services" if consul is not None:
            return consul.watch_services()
        case "consul_checks" if consul is not None:
            return consul.watch_health_state("any")
        case "consul_leader" if consul is not None:
            return watch_consul_leader(consul, signals.consul)
    raise TypeError(f"no watch for {source!r}")


def observer_for(source: Source, signals: Signals) -> Observer | None:
    """Who hears about `source`'s reconnects and leader hints (`nomtui.store.signals`)."""
    if source.kind in _NOMAD_WATCHES:
        return signals.nomad_watches.observe
    if source.kind in _CONSUL_WATCHES:
        return signals.consul_watches.observe
    return None


__all__ = [
    "ALLOCS_BRIEF",
    "CLUSTER_INFO",
    "CONSUL_CHECKS",
    "CONSUL_LEADER",
    "CONSUL_SERVICES",
    "JOBS_ALL",
    "NODES",
    "Plan",
    "Source",
    "WatchOptions",
    "observer_for",
    "open_watch",
    "plan",
]
