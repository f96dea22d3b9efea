"""`nomtui containers` (alias `d`) and `nomtui overview` (alias `nom`) against the sim's
Nomad API and its Docker engine on a real unix socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from nomtui.actions.containers import alloc_filters, nomad_identity
from nomtui.commands.containers import ports_text
from nomtui.sim.docker_shapes import Container
from tests.commands import base_env, closed_port, invoke, one_error_line
from tests.docker_support import socket_dir, with_docker

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

NODE = "nomad-dc1-02"


@pytest.fixture
def docker_dir() -> Iterator[Path]:
    yield from socket_dir()


@pytest.fixture
def sim_config(sim_config: SimConfig, docker_dir: Path) -> SimConfig:
    with_docker(sim_config, docker_dir).docker_node = NODE
    return sim_config


def env_for(tmp_path: Path, sim: Sim, **extra: str) -> dict[str, str | None]:
    return base_env(tmp_path, sim, **{"DOCKER_HOST": f"unix://{sim.config.docker_socket}", **extra})


def on_node(sim: Sim, *, running_only: bool) -> dict[str, tuple[str, dict[str, Any]]]:
    """Container name -> (task, alloc) for the docker tasks on NODE that started."""
    found = {}
    for alloc in sim.state.allocs.values():
        if alloc["NodeName"] != NODE:
            continue
        for task, state in (alloc.get("TaskStates") or {}).items():
            if state.get("StartedAt") and (state["State"] == "running" or not running_only):
                found[f"{task}-{alloc['ID']}"] = (task, alloc)
    return found


def table(out: str) -> list[list[str]]:
    """Rows split on the runs of 2+ spaces the table puts between columns."""
    import re

    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines() if line.strip()]


# -- containers ------------------------------------------------------------------------


def test_running_containers_mapped_to_their_allocations(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(env_for(tmp_path, sim_thread), "containers")
    assert ran.code == 0, ran.err
    rows = table(ran.out)
    header = ["CONTAINER", "IMAGE", "STATUS", "JOB", "GROUP", "TASK", "ALLOC", "NOMAD", "PORTS"]
    assert rows[0] == header
    expected = on_node(sim_thread, running_only=True)
    assert {r[0] for r in rows[1:]} == set(expected)
    for row in rows[1:]:
        task, alloc = expected[row[0]]
        assert row[2].startswith("Up ")
        assert row[3:8] == [alloc["JobID"], alloc["TaskGroup"], task, alloc["ID"][:8], "running v0"]
    assert "->5000/tcp+udp" in ran.out
    assert ran.err == ""


def test_all_groups_by_state_and_json_is_data(sim_thread: Sim, tmp_path: Path) -> None:
    env = env_for(tmp_path, sim_thread)
    ran = invoke(env, "containers", "--all")
    assert ran.code == 0, ran.err
    states = [r[2].split()[0] for r in table(ran.out)[1:]]
    assert "Exited" in states and "Up" in states
    assert states == sorted(states, key=lambda s: s != "Up")  # running first, as `d` did
    data = json.loads(invoke(env, "containers", "--all", "--json").out)
    expected = on_node(sim_thread, running_only=False)
    assert {c["name"] for c in data} == set(expected)
    for c in data:
        task, alloc = expected[c["name"]]
        assert (c["alloc_id"], c["task"], c["job"], c["node"]) == (
            alloc["ID"],
            task,
            alloc["JobID"],
            NODE,
        )
        assert c["alloc_status"] == alloc["ClientStatus"]
        assert c["state"] in ("running", "exited")


def test_without_nomads_labels_the_name_and_nomad_tell(sim_thread: Sim, tmp_path: Path) -> None:
    assert sim_thread.docker is not None
    sim_thread.docker.extra_labels = ()  # a client without `extra_labels`: alloc_id only
    env = env_for(tmp_path, sim_thread)
    data = json.loads(invoke(env, "containers", "--json").out)
    expected = on_node(sim_thread, running_only=True)
    assert data and all(c["job"] == expected[c["name"]][1]["JobID"] for c in data)
    # Nomad out of reach: the listing still comes, with what the engine knows, and a note.
    down = env_for(tmp_path, sim_thread, NOMAD_ADDR=f"http://127.0.0.1:{closed_port()}")
    ran = invoke(down, "containers", "--json")
    assert ran.code == 0
    assert "note: without Nomad's allocation status: Cannot reach Nomad" in ran.err
    offline = json.loads(ran.out)
    assert {c["name"] for c in offline} == {c["name"] for c in data}
    assert all(c["job"] is None and c["task"] == expected[c["name"]][0] for c in offline)
    assert all(c["alloc_status"] is None for c in offline)


def test_foreign_and_hostile_containers(sim_thread: Sim, tmp_path: Path) -> None:
    assert sim_thread.docker is not None
    hostile = Container(
        id="f" * 64,
        name="evil\x1b]0;pwned\x07-proxy",
        image="evil/\x1b[2Jimage:1",
        command=[],
        created_ns=1,
        started_ns=1,
        finished_ns=0,
        running=True,
        exit_code=0,
        root=tmp_path / "foreign",
    )
    sim_thread.docker.foreign.append(hostile)
    ran = invoke(env_for(tmp_path, sim_thread), "containers")
    assert ran.code == 0, ran.err
    assert "\x1b" not in ran.out and "\x07" not in ran.out
    row = next(r for r in table(ran.out) if r[0].startswith("evil"))
    assert row[0] == "evil-proxy" and row[3:8] == ["-", "-", "-", "-", "-"]


def test_no_engine_is_one_error_line(sim_thread: Sim, tmp_path: Path) -> None:
    env = env_for(tmp_path, sim_thread, DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    ran = invoke(env, "containers")
    assert ran.code == 1
    line = one_error_line(ran.err)
    assert f"No Docker engine at unix://{tmp_path}/none.sock (no such socket)" in line
    ran = invoke(env_for(tmp_path, sim_thread, DOCKER_HOST="npipe:////./pipe/x"), "containers")
    assert ran.code == 1 and "npipe://" in one_error_line(ran.err)


def test_identity_and_filters() -> None:
    alloc = "c0398710-8976-e334-e281-7efdae849217"
    assert nomad_identity(f"http-{alloc}", {}) == (alloc, "http")
    assert nomad_identity(f"my-task-{alloc}", {}) == (alloc, "my-task")
    labelled = {"com.hashicorp.nomad.alloc_id": alloc, "com.hashicorp.nomad.task_name": "web"}
    assert nomad_identity("renamed", labelled) == (alloc, "web")
    assert nomad_identity("postgres", {}) is None
    assert alloc_filters([alloc, alloc]) == [f'ID == "{alloc}"']
    many = alloc_filters([f"{i:08x}-0000-0000-0000-000000000000" for i in range(400)])
    assert len(many) > 1 and all(len(f) <= 6000 for f in many)
    assert ports_text(["1.2.3.4:80->8/tcp", "1.2.3.4:80->8/udp", "9/tcp"]) == (
        "1.2.3.4:80->8/tcp+udp, 9/tcp"
    )


# -- overview --------------------------------------------------------------------------


def test_overview_has_the_three_sections(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(env_for(tmp_path, sim_thread), "overview")
    assert ran.code == 0, ran.err
    containers, servers, jobs = ran.out.split("_" * 100 + "\n\n")
    assert containers.startswith(f"Containers (Docker at unix://{sim_thread.config.docker_socket})")
    assert set(on_node(sim_thread, running_only=False)) <= {r[0] for r in table(containers)}
    member = table(servers)
    assert member[0] == ["Servers"]
    assert member[1][:5] == ["NAME", "ADDRESS", "PORT", "STATUS", "LEADER"]
    assert member[2][3:5] == ["alive", "true"]  # the sim's one server leads
    job_rows = table(jobs)
    assert job_rows[1] == ["ID", "NAMESPACE", "TYPE", "PRIORITY", "STATUS", "SUBMIT DATE"]
    ids = {r[0] for r in job_rows[2:]}
    assert {job_id for _, job_id in sim_thread.state.jobs} == ids


def test_overview_json_and_without_docker(sim_thread: Sim, tmp_path: Path) -> None:
    env = env_for(tmp_path, sim_thread, DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    ran = invoke(env, "overview")
    assert ran.code == 0, ran.err
    first = ran.out.splitlines()[:2]
    assert first[1].startswith(f"No Docker engine at unix://{tmp_path}/none.sock")
    data = json.loads(invoke(env, "overview", "--json").out)
    assert data["containers"] == [] and "no such socket" in data["docker_error"]
    assert data["members"][0]["leader"] is True and data["members"][0]["region"] == "global"
    www = next(j for j in data["jobs"] if j["id"] == "www-nomad")
    assert (www["type"], www["status"], www["priority"]) == ("service", "running", 50)


def test_overview_needs_nomad(sim_thread: Sim, tmp_path: Path) -> None:
    addr = f"http://127.0.0.1:{closed_port()}"
    ran = invoke(env_for(tmp_path, sim_thread, NOMAD_ADDR=addr), "overview")
    assert ran.code == 1
    assert f"Cannot reach Nomad at {addr}" in one_error_line(ran.err)
