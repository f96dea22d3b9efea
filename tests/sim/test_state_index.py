"""What keeps the sim cheap at scale, checked for correctness: the allocation indexes,
the lifecycle's awake set, and list answers built from cached items."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from nomtui.sim import emit, lifecycle
from nomtui.sim.clock import FixedClock
from nomtui.sim.ids import IdSource
from nomtui.sim.server import Sim, SimConfig
from nomtui.sim.state import AllocTable, Json, State


def alloc(alloc_id: str, job: str, node: str, ns: str = "default") -> Json:
    return {"ID": alloc_id, "JobID": job, "NodeID": node, "Namespace": ns, "ModifyIndex": 1}


# -- AllocTable --------------------------------------------------------------------------


def test_alloc_table_indexes_by_job_and_node_in_creation_order() -> None:
    table = AllocTable()
    for i, (job, node) in enumerate([("a", "n1"), ("b", "n1"), ("a", "n2"), ("a", "n1")]):
        table[f"id{i}"] = alloc(f"id{i}", job, node)
    assert list(table.by_job[("default", "a")]) == ["id0", "id2", "id3"]
    assert list(table.by_node["n1"]) == ["id0", "id1", "id3"]
    # replacing an entry keeps its place; a moved one changes index
    table["id0"] = alloc("id0", "a", "n1") | {"ModifyIndex": 5}
    assert list(table.by_job[("default", "a")]) == ["id0", "id2", "id3"]
    assert table.job_index[("default", "a")] == 5
    table["id2"] = alloc("id2", "b", "n2")
    assert list(table.by_job[("default", "a")]) == ["id0", "id3"]
    assert list(table.by_job[("default", "b")]) == ["id1", "id2"]
    del table["id1"]
    assert table.pop("id3")["ID"] == "id3"
    assert list(table.by_job[("default", "b")]) == ["id2"]
    assert list(table.by_node["n1"]) == ["id0"]
    assert [a["ID"] for a in table.sorted_by_id()] == ["id0", "id2"]
    with pytest.raises(TypeError):
        table.update({"x": alloc("x", "a", "n1")})


def test_state_reads_use_the_indexes() -> None:
    state = State(FixedClock(), IdSource(1))
    state.allocs["x"] = alloc("x", "web", "n1", ns="ops")
    state.allocs["y"] = alloc("y", "web", "n1")
    assert [a["ID"] for a in state.allocs_of_job("ops", "web")] == ["x"]
    assert [a["ID"] for a in state.allocs_of_node("n1")] == ["x", "y"]
    assert state.allocs_of_job("default", "nope") == []


# -- the lifecycle visits only what can move --------------------------------------------


@pytest.fixture
def sim_config(tmp_path: Path) -> SimConfig:
    return SimConfig(
        jobs=20,
        allocs_per_job=3,
        nodes=6,
        clock=FixedClock(),
        lifecycle=False,
        data_dir=tmp_path / "sim-data",
        log_lines_per_s=0,
    )


async def test_settled_allocations_sleep_until_something_moves_them(sim: Sim) -> None:
    clock = sim.clock
    assert isinstance(clock, FixedClock)
    lifecycle.tick(sim)
    assert not sim.state.allocs.awake  # a settled cluster: nothing to step
    node = next(iter(sim.state.nodes.values()))
    on_node = {a["ID"] for a in sim.state.allocs_of_node(node["ID"])}
    assert on_node
    with sim.state.write() as txn:
        node["Status"] = "down"
        emit.node(sim, txn, node, "NodeRegistration")
    assert on_node <= sim.state.allocs.awake
    clock.advance(1)
    lifecycle.tick(sim)
    statuses = {sim.state.allocs[i]["ClientStatus"] for i in on_node}
    assert statuses == {"lost"}
    # the reschedule step replaces them on the nodes still up
    clock.advance(10)
    lifecycle.tick(sim)
    replaced = [a for a in sim.state.allocs.values() if a["ID"] not in on_node]
    assert len(replaced) == 20 * 3
    assert all(a["NodeID"] != node["ID"] for a in replaced if a["ClientStatus"] != "lost")


async def test_job_list_summaries_follow_their_allocations(sim: Sim) -> None:
    """The job list is joined from cached stubs; after changes each one must still say
    what the job's own summary says."""
    headers = {"X-Nomad-Token": sim.management_token}
    async with httpx.AsyncClient(base_url=sim.nomad_addr, headers=headers) as c:
        await c.get("/v1/jobs")  # fills the cache
        sim.config.churn_per_min = 0.2
        for _ in range(40):
            await c.post("/v1/sim/advance", params={"seconds": 5})
        assert sim.churn.touched > 0
        stubs = (await c.get("/v1/jobs")).json()
        for stub in stubs:
            summary = (await c.get(f"/v1/job/{stub['ID']}/summary")).json()
            assert stub["JobSummary"] == summary, stub["ID"]
        allocs = (await c.get("/v1/allocations")).json()
    assert {a["ID"]: a["ModifyIndex"] for a in allocs} == {
        a["ID"]: a["ModifyIndex"] for a in sim.state.allocs.values()
    }
