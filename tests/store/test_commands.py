"""Commands through the store: accepted writes whose effects come back through watches,
and read-only mode refusing every one of them before the client is touched."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from nomtui.errors import ReadOnlyRefused
from nomtui.store import COMMANDS, AllocsView, JobsView, JobView, NodesView, Store

from .conftest import Rig, data, loaded, until

PYHI = "services-pyhi"
HELLO = "internetarchive-hello-js"  # has a canary deployment waiting for promotion
THUMBS = "services-thumbnailer"  # parameterized
BACKUP = "services-nightly-backup"  # periodic
NODE_NAME = "nomad-dc1-01"


async def cluster_dump(rig: Rig) -> dict[str, Any]:
    """Everything a command could change, read with a separate plain HTTP client."""
    headers = {"X-Nomad-Token": rig.sim.management_token}
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=rig.sim.nomad_addr, headers=headers) as http:
        for path in ("/v1/jobs", "/v1/allocations", "/v1/nodes", "/v1/deployments"):
            resp = await http.get(path, params={"namespace": "*"})
            out[path] = resp.json()
            out[f"{path} index"] = resp.headers["X-Nomad-Index"]
    return out


async def ids(rig: Rig) -> dict[str, str]:
    alloc = (await rig.nomad.job_allocations(PYHI, "default"))[0].ID
    node = next(n.ID for n in await rig.nomad.list_nodes() if n.Name == NODE_NAME)
    deployment = await rig.nomad.job_latest_deployment(HELLO, "default")
    assert deployment is not None
    return {"alloc": alloc, "node": node, "deployment": deployment.ID}


def every_command(store: Store, i: dict[str, str]) -> dict[str, Callable[[], Awaitable[Any]]]:
    return {
        "stop_job": lambda: store.stop_job(PYHI, "default", purge=True),
        "start_job": lambda: store.start_job(PYHI, "default"),
        "scale": lambda: store.scale(PYHI, "default", PYHI, 5),
        "revert": lambda: store.revert(HELLO, "default", 0),
        "dispatch": lambda: store.dispatch(THUMBS, "default", payload=b"x"),
        "periodic_force": lambda: store.periodic_force(BACKUP, "default"),
        "stop_alloc": lambda: store.stop_alloc(i["alloc"]),
        "restart_alloc": lambda: store.restart_alloc(i["alloc"]),
        "signal_alloc": lambda: store.signal_alloc(i["alloc"], "SIGHUP"),
        "promote": lambda: store.promote(i["deployment"]),
        "fail_deployment": lambda: store.fail_deployment(i["deployment"]),
        "drain": lambda: store.drain(i["node"], deadline_s=-1),
        "undrain": lambda: store.undrain(i["node"]),
        "set_eligibility": lambda: store.set_eligibility(i["node"], False),
    }


def test_the_list_of_commands_is_complete() -> None:
    assert set(COMMANDS) == set(every_command(Store.__new__(Store), dict.fromkeys("x", "")))


async def test_read_only_refuses_every_command_before_any_request(rig: Rig) -> None:
    assert not rig.nomad.read_only  # the client alone would allow writes
    i = await ids(rig)
    store = rig.store(read_only=True, cluster="prod")
    before = await cluster_dump(rig)
    sent = sum(rig.requests.seen.values())
    for name, command in every_command(store, i).items():
        with pytest.raises(ReadOnlyRefused) as caught:
            await command()
        assert caught.value.cluster == "prod", name
        assert "read-only" in caught.value.message
    assert sum(rig.requests.seen.values()) == sent  # nothing reached the client
    assert rig.requests.writes() == 0
    assert await cluster_dump(rig) == before
    await store.aclose()


async def test_stop_then_start_a_job(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(JobView("default", PYHI)) as states:
        await until(states, lambda s: loaded(s) and not data(s).job.Stop)
        await store.stop_job(PYHI, "default")
        stopped = await until(states, lambda s: data(s).job.Stop)
        await store.start_job(PYHI, "default")
        started = await until(states, lambda s: not data(s).job.Stop)
    assert data(started).job.Version > data(stopped).job.Version
    # Re-registering from raw JSON kept the parts of the spec the model does not read.
    raw, _ = await rig.nomad.http.get_json(f"/v1/job/{PYHI}", {"namespace": "default"})
    assert raw["TaskGroups"][0]["Tasks"][0]["Config"]
    await store.aclose()


async def test_scale_and_revert(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(JobView("default", PYHI)) as states:
        await until(states, loaded)
        response = await store.scale(PYHI, "default", PYHI, 4, message="more")
        assert response.EvalID
        scaled = await until(states, lambda s: (data(s).job.TaskGroups or [])[0].Count == 4)
    assert scaled.data is not None
    assert (await store.revert(HELLO, "default", 0)).JobModifyIndex > 0
    await store.aclose()


async def test_alloc_commands(rig: Rig) -> None:
    store = rig.store()
    alloc = (await ids(rig))["alloc"]
    assert (await store.restart_alloc(alloc)) is not None
    assert (await store.signal_alloc(alloc, "SIGHUP")) is not None
    async with store.subscribe(AllocsView("default", PYHI)) as states:
        await until(states, loaded)
        await store.stop_alloc(alloc)
        await until(states, lambda s: data(s)[alloc].DesiredStatus == "stop")
    await store.aclose()


async def test_deployment_commands(rig: Rig) -> None:
    store = rig.store()
    deployment = (await ids(rig))["deployment"]
    assert (await store.promote(deployment)).EvalID
    assert (await store.fail_deployment(deployment)).DeploymentModifyIndex > 0
    await store.aclose()


async def test_node_commands(rig: Rig) -> None:
    store = rig.store()
    node = (await ids(rig))["node"]
    async with store.subscribe(NodesView()) as states:
        await until(states, loaded)
        await store.set_eligibility(node, False)
        await until(states, lambda s: not data(s)[node].eligible)
        await store.drain(node, deadline_s=600)
        await until(states, lambda s: data(s)[node].Drain)
        await store.undrain(node)
        await until(states, lambda s: not data(s)[node].Drain and data(s)[node].eligible)
    await store.aclose()


async def test_dispatch_and_periodic_force_create_children(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(JobsView("default")) as states:
        first = await until(states, loaded)
        dispatched = await store.dispatch(
            THUMBS, "default", payload=b"img", meta={"identifier": "item-1"}
        )
        assert dispatched.DispatchedJobID.startswith(f"{THUMBS}/dispatch-")
        forced = await store.periodic_force(BACKUP, "default")
        assert forced.EvalID
        key = f"default/{dispatched.DispatchedJobID}"
        await until(states, lambda s: key in data(s))
    assert first.data is not None and key not in first.data
    await store.aclose()
