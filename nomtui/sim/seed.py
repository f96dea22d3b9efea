"""Building the demo cluster and the big synthetic clusters used by benchmarks.

The demo is built through the same write paths the API uses (register, deploy, promote,
drain), with the clock set back so that ages look like a cluster that has been running for
days; then time returns to the sim's clock and the lifecycle loop carries on from there.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from nomtui.sim import (
    cluster_ops,
    consul_sync,
    demo_jobs,
    emit,
    jobs_ops,
    lifecycle,
    scheduler,
    shapes,
)
from nomtui.sim.clock import Clock
from nomtui.sim.state import Json, Txn

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

DAY = 86_400 * 10**9
HOUR = 3_600 * 10**9
MINUTE = 60 * 10**9
CPU_MHZ = 2400
NODE_HTTP_PORT = 4646
DEMO_NAMESPACES = (("default", "Default shared namespace"), ("ops", "Observability stack"))


class OffsetClock:
    def __init__(self, base: Clock, offset_ns: int) -> None:
        self.base = base
        self.offset_ns = offset_ns

    def now_ns(self) -> int:
        return self.base.now_ns() - self.offset_ns


def at(sim: Sim, ago_ns: int) -> None:
    """Make the following writes happen `ago_ns` before the sim's clock."""
    sim.state.clock = OffsetClock(sim.clock, ago_ns)


def add_namespaces(sim: Sim, spaces: tuple[tuple[str, str], ...]) -> None:
    with sim.state.write(quiet=True) as txn:
        for name, description in spaces:
            sim.state.namespaces[name] = shapes.namespace(
                name, description, create_index=txn.index, modify_index=txn.index
            )
        txn.touch("namespaces")


def node_json(
    sim: Sim, txn: Txn, name: str, dc: str, node_class: str, cores: int, memory_mb: int, ip: str
) -> Json:
    return shapes.node(
        node_id=sim.ids.uuid(),
        name=name,
        datacenter=dc,
        node_class=node_class,
        address=ip,
        http_port=NODE_HTTP_PORT,
        cpu_mhz_total=cores * CPU_MHZ,
        cores=cores,
        memory_mb=memory_mb,
        disk_mb=200_000,
        status="ready",
        eligibility="eligible",
        drain=False,
        drain_strategy=None,
        now_ns=txn.now_ns,
        create_index=txn.index,
    )


def add_node(sim: Sim, name: str, node_class: str, cores: int, memory_mb: int, ip: str) -> Json:
    with sim.state.write(quiet=True) as txn:
        node = node_json(sim, txn, name, "dc1", node_class, cores, memory_mb, ip)
        sim.state.nodes[node["ID"]] = node
        emit.node(sim, txn, node, "NodeRegistration")
    return node


def register(sim: Sim, spec: Json, namespace: str = "default") -> Json:
    job = shapes.canonical_job(copy.deepcopy(spec), namespace=namespace)
    with sim.state.write(quiet=True) as txn:
        _, job = jobs_ops.register_in(sim, txn, job)
    return job


def settle(sim: Sim, steps: int = 6, step_ns: int = 15 * 10**9) -> None:
    """Run the lifecycle forward in clock-offset steps until things come to rest."""
    assert isinstance(sim.state.clock, OffsetClock)
    for _ in range(steps):
        sim.state.clock.offset_ns -= step_ns
        lifecycle.tick(sim)


def build_demo(sim: Sim) -> None:
    add_namespaces(sim, DEMO_NAMESPACES)
    at(sim, 30 * DAY)
    nodes = [
        add_node(sim, name, cls, cores, mem, f"127.0.1.{11 + i}")
        for i, (name, cls, cores, mem) in enumerate(demo_jobs.NODES)
    ]
    sim.runtime.behaviour[("default", "services-scribe-api")] = "crash"

    at(sim, 12 * DAY)
    for spec in (
        demo_jobs.www_nomad(),
        demo_jobs.services_pyhi(),
        demo_jobs.wiki_with_db(),
        demo_jobs.kv_app(),
    ):
        register(sim, spec)
    settle(sim)
    at(sim, 9 * DAY)
    register(sim, demo_jobs.grafana(), "ops")
    register(sim, demo_jobs.prometheus(), "ops")
    backup_job = register(sim, demo_jobs.backup())
    # seeding launches its children by hand; the lifecycle takes over at the end
    sim.runtime.periodic_next_ns[("default", backup_job["ID"])] = 2**62
    register(sim, demo_jobs.thumbnailer())
    settle(sim)

    at(sim, 3 * DAY)
    register(sim, demo_jobs.hello_js("v1.4.0"))
    register(sim, demo_jobs.hello_js_branch())
    settle(sim)
    # one node fails: its allocations are lost and rescheduled elsewhere
    at(sim, 2 * DAY)
    with sim.state.write(quiet=True) as txn:
        nodes[3]["Status"] = "down"
        nodes[3]["StatusDescription"] = "node heartbeat missed"
        emit.node(sim, txn, nodes[3], "NodeRegistration")
    settle(sim)

    at(sim, 6 * HOUR)
    backup = sim.state.job("default", "services-nightly-backup")
    thumbs = sim.state.job("default", "services-thumbnailer")
    assert backup is not None and thumbs is not None
    for _ in range(3):
        with sim.state.write(quiet=True) as txn:
            jobs_ops.launch_periodic(sim, txn, backup)
        settle(sim, steps=2, step_ns=30 * MINUTE)
    jobs_ops.dispatch(sim, "default", "services-thumbnailer", None, {"identifier": "gd-1977"})
    settle(sim, steps=2)

    at(sim, 40 * MINUTE)
    register(sim, demo_jobs.crashy())
    settle(sim, steps=8)
    at(sim, 20 * MINUTE)
    cluster_ops.drain(sim, nodes[2]["ID"], {"Deadline": 2 * HOUR}, False, {"reason": "disk"})
    settle(sim, steps=4)
    at(sim, 10 * MINUTE)
    register(sim, demo_jobs.hello_js("v1.5.0"))
    settle(sim, steps=6)
    sim.state.clock = sim.clock
    sim.runtime.periodic_next_ns[("default", "services-nightly-backup")] = (
        sim.clock.now_ns() + 2 * MINUTE
    )


def build_scale(sim: Sim) -> None:
    """A big settled cluster, built directly rather than through the scheduler for speed."""
    cfg = sim.config
    n_jobs = cfg.jobs or 0
    n_nodes = cfg.nodes or max(1, n_jobs // 4)
    add_namespaces(sim, DEMO_NAMESPACES)
    at(sim, 1 * DAY)
    nodes = []
    with sim.state.write(quiet=True) as txn:
        for i in range(n_nodes):
            ip = f"127.2.{i // 250}.{i % 250 + 1}"
            node = node_json(
                sim, txn, f"nomad-client-{i:04d}", f"dc{i % 3 + 1}", "general", 32, 131072, ip
            )
            sim.state.nodes[node["ID"]] = node
            nodes.append(node)
        txn.touch("nodes")
    consul_left = cfg.consul_instances if cfg.consul_instances is not None else 10**9
    with sim.state.write(quiet=True) as txn:
        for j in range(n_jobs):
            spec = demo_jobs.repo_service(f"scale-app-{j:05d}", count=cfg.allocs_per_job)
            if consul_left <= 0:
                spec["TaskGroups"][0]["Services"] = None
            consul_left -= cfg.allocs_per_job
            job = shapes.canonical_job(spec, namespace="default")
            job.update(
                Version=0,
                CreateIndex=txn.index,
                ModifyIndex=txn.index,
                JobModifyIndex=txn.index,
                SubmitTime=txn.now_ns,
                Status="running",
                Stable=True,
            )
            key = ("default", job["ID"])
            sim.state.jobs[key] = job
            sim.state.job_versions[key] = [job]
            ev = shapes.evaluation(
                eval_id=sim.ids.uuid(),
                namespace="default",
                job_id=job["ID"],
                job_type="service",
                triggered_by="job-register",
                status="complete",
                now_ns=txn.now_ns,
                create_index=txn.index,
                modify_index=txn.index,
            )
            sim.state.evals[ev["ID"]] = ev
            for k in range(cfg.allocs_per_job):
                node = nodes[(j * cfg.allocs_per_job + k) % len(nodes)]
                place_running(sim, txn, job, ev["ID"], node, k)
        txn.touch("jobs", "job_summary", "job_version", "allocs", "evals")
    sim.state.clock = sim.clock


def place_running(sim: Sim, txn: Txn, job: Json, eval_id: str, node: Json, index: int) -> None:
    group = job["TaskGroups"][0]
    alloc = shapes.allocation(
        alloc_id=sim.ids.uuid(),
        eval_id=eval_id,
        name=f"{job['ID']}.{group['Name']}[{index}]",
        namespace="default",
        node_id=node["ID"],
        node_name=node["Name"],
        job=job,
        task_group=group["Name"],
        now_ns=txn.now_ns,
        create_index=txn.index,
        ports=scheduler.allocate_ports(sim, node, group),
        node_ip=scheduler.node_ip(node),
    )
    for ts in alloc["TaskStates"].values():
        ts["State"] = "running"
    alloc["ClientStatus"] = "running"
    alloc["ClientDescription"] = "Tasks are running"
    sim.state.allocs[alloc["ID"]] = alloc
    sim.state.alloc_health[alloc["ID"]] = "passing"
    sim.runtime.started_ns[alloc["ID"]] = txn.now_ns
    if group.get("Services"):
        consul_sync.sync_alloc(sim, txn, alloc)
