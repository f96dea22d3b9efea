"""DOCKER_HOST=ssh://: the engine's socket forwarded by the system ssh, against a real sshd
on loopback (the fixture of `test_tunnel`) and the sim's Docker engine as the remote
socket. The forward's socket lives in a private directory that goes with it."""

from __future__ import annotations

import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nomtui.actions import procs
from nomtui.actions.docker_host import docker_engine, start_forward
from nomtui.actions.tunnel import free_port
from nomtui.client.docker import REMOTE_SOCKET, DockerClient, DockerUnreachable, parse_host
from tests.actions.test_tunnel import SSH, Sshd, sshd
from tests.docker_support import socket_dir, with_docker

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

__all__ = ["sshd"]  # the fixture, used by name below


@pytest.fixture
def docker_dir() -> Iterator[Path]:
    yield from socket_dir()


@pytest.fixture
def sim_config(sim_config: SimConfig, docker_dir: Path) -> SimConfig:
    return with_docker(sim_config, docker_dir)


def keyed_ssh(server: Sshd) -> str:
    """An ssh that logs in with the fixture's key and ignores the machine's config."""
    opts = [o for o in server.opts if o not in ("-p", str(server.port))]
    wrapper = server.ssh.parent / "ssh-keyed"
    wrapper.write_text(f'#!/bin/sh\nexec {SSH} -F /dev/null {" ".join(opts)} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


async def test_the_engine_through_an_ssh_forward(sim: Sim, sshd: Sshd) -> None:
    host = parse_host(f"ssh://root@127.0.0.1:{sshd.port}")
    forward = start_forward(host, ssh=keyed_ssh(sshd), remote_socket=str(sim.config.docker_socket))
    try:
        assert stat.S_IMODE(forward.directory.stat().st_mode) == 0o700
        async with DockerClient(address=host.url, socket=str(forward.socket)) as docker:
            listed = await docker.list_containers()
        assert {c.name for c in listed} == {
            f"{task}-{a['ID']}"
            for a in sim.state.allocs.values()
            for task, s in (a.get("TaskStates") or {}).items()
            if s.get("State") == "running" and s.get("StartedAt")
        }
    finally:
        forward.stop()
    assert not forward.directory.exists()
    assert not procs.running(forward.pid, forward.start)


def test_a_failed_forward_is_one_sentence_and_leaves_nothing(sshd: Sshd) -> None:
    host = parse_host(f"ssh://root@127.0.0.1:{free_port()}")  # nothing listens there
    before = set(Path(tempfile.gettempdir()).glob("nomtui-docker-*"))
    with pytest.raises(DockerUnreachable) as caught:
        start_forward(host, ssh=keyed_ssh(sshd), timeout=15)
    message = str(caught.value)
    assert message.startswith(f"No Docker engine at ssh://root@127.0.0.1:{host.ssh_port} (ssh")
    assert "\n" not in message
    assert set(Path(tempfile.gettempdir()).glob("nomtui-docker-*")) == before


def _forward_sockets() -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob("nomtui-docker-*/docker.sock"))


@pytest.mark.skipif(
    Path(REMOTE_SOCKET).exists(), reason=f"this machine has an engine at {REMOTE_SOCKET}"
)
async def test_a_node_without_an_engine(sshd: Sshd) -> None:
    # The forward comes up, but nothing answers behind the node's socket: sshd resets
    # the channel, which is the engine being unreachable, said in one sentence.
    url = f"ssh://root@127.0.0.1:{sshd.port}"
    with pytest.raises(DockerUnreachable) as caught:
        async with docker_engine({"DOCKER_HOST": url}, ssh=keyed_ssh(sshd)):
            pass
    assert str(caught.value).startswith(f"No Docker engine at {url} (")
    assert "\n" not in str(caught.value)
    assert not _forward_sockets()  # the forward and its directory are gone
