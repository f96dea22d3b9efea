"""`nomtui cp` through the node's Docker engine when exec cannot do it: a token that may
not exec (the sim refuses it with 1008 "Permission denied", as Nomad does) or a task
without the tools (exit 127). Everything lands in the sim's allocation directory and is
checked there byte for byte."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nomtui.actions.cp import VerifyFailed, prepare
from nomtui.actions.cp_docker import copy_via_docker
from nomtui.client.docker import DockerClient
from tests.commands import base_env, invoke, one_error_line
from tests.commands.test_cp import AWKWARD, running, task_dir
from tests.docker_support import socket_dir, with_docker

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

READ_BACK = "size and sha256 checked by reading it back from the Docker engine"


@pytest.fixture
def docker_dir() -> Iterator[Path]:
    yield from socket_dir()


@pytest.fixture
def sim_config(sim_config: SimConfig, docker_dir: Path) -> SimConfig:
    return with_docker(sim_config, docker_dir)


def no_exec_env(tmp_path: Path, sim: Sim, **extra: str) -> dict[str, str | None]:
    """The read-only token: it lists jobs, but exec is refused."""
    env = {"NOMAD_TOKEN": sim.read_token, "DOCKER_HOST": f"unix://{sim.config.docker_socket}"}
    return base_env(tmp_path, sim, **{**env, **extra})


def test_exec_refused_copies_through_docker(sim_thread: Sim, tmp_path: Path) -> None:
    env = no_exec_env(tmp_path, sim_thread)
    for i, name in enumerate(AWKWARD):
        local = tmp_path / name
        local.write_bytes(os.urandom(2000 + i) + name.encode())
        ran = invoke(env, "cp", "--job", "www-nomad", str(local), f"in dir/{name}")
        assert ran.code == 0, ran.err
        assert READ_BACK in ran.out
        address = f"unix://{sim_thread.config.docker_socket}"
        assert ran.err == f"exec not permitted; copied through the Docker engine at {address}\n"
        assert (task_dir(sim_thread) / "in dir" / name).read_bytes() == local.read_bytes()


def test_the_docker_road_is_in_the_audit_log(sim_thread: Sim, tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    local = tmp_path / "conf.txt"
    local.write_bytes(b"x" * 100)
    env = no_exec_env(tmp_path, sim_thread, NOMTUI_AUDIT_LOG=str(log))
    ran = invoke(env, "cp", "--job", "www-nomad", str(local), "conf.txt")
    assert ran.code == 0, ran.err
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    # The refused exec road, then the Docker road that did the copy.
    assert [line["action"] for line in lines][-1] == "copy in through the Docker engine"
    last = lines[-1]
    assert last["result"].startswith("ok") and last["target"]["path"] == "conf.txt"
    assert sim_thread.read_token not in log.read_text()


def test_a_directory_with_its_modes(sim_thread: Sim, tmp_path: Path) -> None:
    src = tmp_path / "site"
    (src / "deep" / "er").mkdir(parents=True)
    (src / "empty").mkdir()
    files = {name: os.urandom(700) for name in AWKWARD}
    files["deep/er/app.py"] = b"print('hi')\n"
    for rel, data in files.items():
        (src / rel).write_bytes(data)
    (src / "deep" / "run.sh").write_bytes(b"#!/bin/sh\n")
    (src / "deep" / "run.sh").chmod(0o750)
    (src / "deep" / "er" / "app.py").chmod(0o640)
    ran = invoke(no_exec_env(tmp_path, sim_thread), "cp", "--job", "www-nomad", str(src), "pub")
    assert ran.code == 0, ran.err
    assert ", 6 files;" in ran.out and READ_BACK in ran.out
    there = task_dir(sim_thread) / "pub"
    for rel, data in files.items():
        assert (there / rel).read_bytes() == data
    assert (there / "empty").is_dir()
    assert stat.S_IMODE((there / "deep" / "run.sh").stat().st_mode) == 0o750
    assert stat.S_IMODE((there / "deep" / "er" / "app.py").stat().st_mode) == 0o640


def test_a_file_bigger_than_memory_spools_and_every_alloc(sim_thread: Sim, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024))  # past the 8 MiB in-memory spool
    env = no_exec_env(tmp_path, sim_thread)
    ran = invoke(env, "cp", "--job", "services-pyhi", "--all-allocs", str(big), "/srv/big.bin")
    assert ran.code == 0, ran.err
    assert ran.out.count("Copied ") == 3 and ran.err.count("exec not permitted") == 1
    want = hashlib.sha256(big.read_bytes()).hexdigest()
    for n in range(3):
        landed = task_dir(sim_thread, "services-pyhi", n) / "srv" / "big.bin"
        assert hashlib.sha256(landed.read_bytes()).hexdigest() == want


def test_a_task_without_the_tools_copies_through_docker(sim_thread: Sim, tmp_path: Path) -> None:
    # The sim runs exec with this process' PATH, which `invoke` sets for its duration: an
    # empty PATH is an image without mkdir, head or cat, so the copy's shell exits 127.
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    local = tmp_path / "conf.txt"
    local.write_bytes(b"no shell tools\n")
    env = base_env(
        tmp_path,
        sim_thread,
        PATH=str(empty),
        DOCKER_HOST=f"unix://{sim_thread.config.docker_socket}",
    )
    ran = invoke(env, "cp", "--job", "www-nomad", str(local), "etc/conf.txt")
    assert ran.code == 0, ran.err
    assert ran.err.startswith("exec cannot run the copy in this task (no shell or tools);")
    assert (task_dir(sim_thread) / "etc" / "conf.txt").read_bytes() == b"no shell tools\n"


async def test_what_arrived_differs_is_a_failure(sim: Sim, tmp_path: Path) -> None:
    local = tmp_path / "moving.txt"
    local.write_bytes(b"before\n")
    alloc = running(sim, "www-nomad")[0]
    docker = DockerClient(address="sim", socket=str(sim.config.docker_socket))
    async with docker:
        with prepare(local) as payload:
            local.write_bytes(b"after!\n")  # same size, other bytes: hashed before
            with pytest.raises(VerifyFailed, match=r"/m.txt in allocation \w{8} has 7 bytes"):
                await copy_via_docker(docker, alloc, "http", payload, "m.txt")


def test_neither_way_is_one_sentence_with_both_reasons(sim_thread: Sim, tmp_path: Path) -> None:
    local = tmp_path / "f"
    local.write_bytes(b"x")
    args = ("cp", "--job", "www-nomad", str(local), "f")
    nowhere = no_exec_env(tmp_path, sim_thread, DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    ran = invoke(nowhere, *args)
    assert ran.code == 1
    line = one_error_line(ran.err)
    assert "exec not permitted, and the Docker fallback failed too: no Docker engine" in line
    # An engine that is not the allocation's node's: it has no such container.
    assert sim_thread.docker is not None
    alloc = running(sim_thread, "www-nomad")[0]
    other = next(
        n["Name"]
        for n in sim_thread.state.nodes.values()
        if n["ID"] != sim_thread.state.allocs[alloc]["NodeID"]
    )
    sim_thread.docker.node = other
    ran = invoke(no_exec_env(tmp_path, sim_thread), *args)
    assert ran.code == 1
    line = one_error_line(ran.err)
    assert f"there is no container http-{alloc} on the Docker engine at unix://" in line
    assert f"runs on node {sim_thread.state.allocs[alloc]['NodeName']}" in line
    assert not (task_dir(sim_thread) / "f").exists()


def test_a_file_never_replaces_a_directory(sim_thread: Sim, tmp_path: Path) -> None:
    (task_dir(sim_thread) / "keep").mkdir()
    (task_dir(sim_thread) / "keep" / "inside").write_bytes(b"precious")
    local = tmp_path / "keep"
    local.write_bytes(b"x")
    ran = invoke(no_exec_env(tmp_path, sim_thread), "cp", "--job", "www-nomad", str(local), "keep")
    assert ran.code == 1
    assert "cannot overwrite directory" in one_error_line(ran.err)
    assert (task_dir(sim_thread) / "keep" / "inside").read_bytes() == b"precious"
    ran = invoke(
        no_exec_env(tmp_path, sim_thread),
        "cp",
        "--job",
        "www-nomad",
        str(local),
        "local/app.conf/below",
    )
    assert ran.code == 1
    assert "/local/app.conf in container http-" in one_error_line(ran.err)
    assert "is not a directory" in ran.err
