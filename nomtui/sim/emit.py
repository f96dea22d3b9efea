"""Stamping changed objects with the write's index and announcing them on the event stream."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from nomtui.sim import consul_sync
from nomtui.sim.state import Json, Txn

if TYPE_CHECKING:
    from nomtui.sim.server import Sim


def stamp(txn: Txn, obj: Json, *, time_field: str | None = None) -> None:
    obj["ModifyIndex"] = txn.index
    if time_field:
        obj[time_field] = txn.now_ns


def alloc(sim: Sim, txn: Txn, a: Json, type_: str = "AllocationUpdated") -> None:
    """Every allocation change also moves the job summary and the Consul registrations."""
    stamp(txn, a, time_field="ModifyTime")
    txn.touch("allocs", "job_summary")
    sim.state.allocs.changed(a)
    filter_keys = [a["JobID"]]
    if a.get("DeploymentID"):
        filter_keys.append(a["DeploymentID"])
    if not txn.quiet:
        payload = {"Allocation": copy.deepcopy(a)}
        txn.event("Allocation", type_, a["ID"], a["Namespace"], payload, filter_keys)
    consul_sync.sync_alloc(sim, txn, a)


def job(txn: Txn, j: Json, type_: str = "JobRegistered") -> None:
    txn.touch("jobs", "job_summary")
    txn.event("Job", type_, j["ID"], j["Namespace"], {"Job": copy.deepcopy(j)}, [j["ID"]])


def evaluation(txn: Txn, ev: Json) -> None:
    txn.touch("evals")
    keys = [ev["JobID"]] + ([ev["DeploymentID"]] if ev.get("DeploymentID") else [])
    txn.event(
        "Evaluation",
        "EvaluationUpdated",
        ev["ID"],
        ev["Namespace"],
        {"Evaluation": copy.deepcopy(ev)},
        keys,
    )


def deployment(txn: Txn, d: Json, type_: str = "DeploymentStatusUpdate") -> None:
    stamp(txn, d)
    txn.touch("deployment")
    txn.event(
        "Deployment", type_, d["ID"], d["Namespace"], {"Deployment": copy.deepcopy(d)}, [d["JobID"]]
    )


def node(sim: Sim, txn: Txn, n: Json, type_: str) -> None:
    stamp(txn, n)
    txn.touch("nodes")
    txn.event("Node", type_, n["ID"], "", {"Node": copy.deepcopy(n)}, [])
    # what runs on a node that went down (or came back) has a step to take
    sim.state.allocs.awake.update(sim.state.allocs.by_node.get(n["ID"], ()))
    consul_sync.sync_node(sim, txn, n)
