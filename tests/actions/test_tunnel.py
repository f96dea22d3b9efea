"""Managed ssh tunnels against a real sshd on loopback, forwarding to the sim's Consul.

The sshd runs from a config and keys generated into tmp_path (as root it needs
/run/sshd, which is created). The ssh client is the system one, run through a wrapper
that adds `-F /dev/null`, so the machine's own ssh config cannot change the outcome.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner

from nomtui.actions import procs
from nomtui.actions.tunnel import (
    ALL,
    TunnelError,
    free_port,
    list_tunnels,
    port_is_free,
    start_tunnel,
    stop_tunnel,
)
from nomtui.cli import NomtuiGroup
from nomtui.commands.tunnel import register

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
KEYGEN = shutil.which("ssh-keygen")
SSH = shutil.which("ssh")


@dataclass
class Sshd:
    port: int
    key: Path
    ssh: Path
    """An ssh wrapper that ignores the machine's ssh config."""

    @property
    def opts(self) -> list[str]:
        return [
            "-i",
            str(self.key),
            "-p",
            str(self.port),
            *("-o", "StrictHostKeyChecking=no"),
            *("-o", "UserKnownHostsFile=/dev/null"),
            *("-o", "IdentitiesOnly=yes"),
            *("-o", "LogLevel=ERROR"),
        ]


def _keygen(path: Path) -> None:
    assert KEYGEN is not None
    subprocess.run([KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"sshd exited: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    pytest.fail("sshd did not listen within 10 s")


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    missing = [
        name for name, path in (("sshd", SSHD), ("ssh-keygen", KEYGEN), ("ssh", SSH)) if not path
    ]
    if missing:
        reason = f"{' and '.join(missing)} not installed (.ci/run installs openssh-server)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    assert SSHD is not None and SSH is not None
    home = tmp_path / "sshd"
    home.mkdir()
    _keygen(home / "host_key")
    _keygen(home / "user_key")
    shutil.copy(home / "user_key.pub", home / "authorized_keys")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege-separation dir
    port = free_port()
    config = home / "sshd_config"
    config.write_text(
        f"Port {port}\n"
        "ListenAddress 127.0.0.1\n"
        f"HostKey {home / 'host_key'}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\n"
        f"PidFile {home / 'sshd.pid'}\n"
        "UsePAM no\n"
        "StrictModes no\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "AllowTcpForwarding yes\n"
        "LogLevel ERROR\n"
    )
    wrapper = home / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {SSH} -F /dev/null "$@"\n')
    wrapper.chmod(0o755)
    log = home / "sshd.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL, stderr=err
        )
    try:
        _wait_listening(port, proc, log)
        yield Sshd(port, home / "user_key", wrapper)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    state_dir = tmp_path / "state" / "nomtui" / "tunnels"
    yield state_dir
    stop_tunnel(state_dir, ALL)  # nothing outlives a failing test


def _consul_port(sim_addr: str) -> int:
    port = urlsplit(sim_addr).port
    assert port is not None
    return port


def _processes_with(marker: str) -> list[int]:
    """Live (non-zombie) processes whose command line contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline and procs.process_start(int(entry.name)) is not None:
            found.append(int(entry.name))
    return found


needs_proc = pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc")


# -- through a real sshd ------------------------------------------------------------------


def test_tunnel_to_the_sims_consul(sshd: Sshd, sim_thread: Sim, state: Path) -> None:
    consul_port = _consul_port(sim_thread.consul_addr)
    started = time.monotonic()
    tunnel = start_tunnel(
        "127.0.0.1",
        None,
        "127.0.0.1",
        consul_port,
        ssh=str(sshd.ssh),
        extra_opts=sshd.opts,
        state_dir=state,
    )
    assert time.monotonic() - started < 10
    assert tunnel.local_port != consul_port and not port_is_free(tunnel.local_port)

    answer = httpx.get(f"http://127.0.0.1:{tunnel.local_port}/v1/status/leader", timeout=5)
    assert answer.status_code == 200
    assert answer.json() == httpx.get(f"{sim_thread.consul_addr}/v1/status/leader").json()

    assert list_tunnels(state) == [tunnel]
    record = json.loads((state / f"{tunnel.id}.json").read_text())
    assert record["pid"] == tunnel.pid and record["local_port"] == tunnel.local_port
    assert record["process_start"]

    assert stop_tunnel(state, str(tunnel.local_port)) == [tunnel]
    assert not procs.running(tunnel.pid, tunnel.process_start)
    with pytest.raises(ProcessLookupError):
        os.kill(tunnel.pid, 0)  # gone and reaped, not a zombie
    assert list_tunnels(state) == []
    assert list(state.iterdir()) == []
    assert port_is_free(tunnel.local_port)


def test_the_cli_starts_lists_and_stops(sshd: Sshd, sim_thread: Sim, tmp_path: Path) -> None:
    group = NomtuiGroup("nomtui")
    register(group)
    env = {"XDG_STATE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    runner = CliRunner()
    forward = f"0:127.0.0.1:{_consul_port(sim_thread.consul_addr)}"
    opts = [
        f"--ssh={sshd.ssh}",
        f"-oIdentityFile={sshd.key}",
        f"-oPort={sshd.port}",
        "-oStrictHostKeyChecking=no",
        "-oUserKnownHostsFile=/dev/null",
        "-oLogLevel=ERROR",
    ]
    try:
        started = runner.invoke(
            group, ["tunnel", "-L", forward, "--host", "127.0.0.1", *opts, "--json"], env=env
        )
        assert started.exit_code == 0, started.output
        tunnel = json.loads(started.stdout)
        answer = httpx.get(f"http://{tunnel['local']}/v1/status/leader", timeout=5)
        assert answer.status_code == 200

        listed = runner.invoke(group, ["tunnel", "list"], env=env)
        assert listed.exit_code == 0
        header, row = listed.stdout.splitlines()
        assert header.split() == ["ID", "LOCAL", "REMOTE", "VIA", "PID", "AGE"]
        assert row.split()[:5] == [
            tunnel["id"],
            tunnel["local"],
            tunnel["remote"],
            "127.0.0.1",
            str(tunnel["pid"]),
        ]
    finally:
        stopped = runner.invoke(group, ["tunnel", "stop", "--all"], env=env)
    assert stopped.exit_code == 0 and stopped.stdout.startswith(f"Stopped {tunnel['id']} ")
    assert runner.invoke(group, ["tunnel", "list", "--json"], env=env).stdout.strip() == "[]"


@needs_proc
def test_a_busy_local_port_fails_clearly_and_leaves_nothing(sshd: Sshd, state: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(TunnelError) as caught:
            start_tunnel(
                "127.0.0.1",
                port,
                "127.0.0.1",
                9,
                ssh=str(sshd.ssh),
                extra_opts=sshd.opts,
                state_dir=state,
            )
    message = str(caught.value)
    assert f"Local port {port} is already in use" in message
    assert message.count(". ") == 0 and "\n" not in message  # one sentence
    assert _processes_with(f"127.0.0.1:{port}:") == []
    assert not state.exists() or list(state.iterdir()) == []


@needs_proc
def test_ssh_exiting_on_forward_failure_is_reported(
    sshd: Sshd, state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Skip our own pre-check so ssh itself meets the busy port (the race it guards).
    monkeypatch.setattr("nomtui.actions.tunnel.port_is_free", lambda port: True)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(TunnelError) as caught:
            start_tunnel(
                "127.0.0.1",
                port,
                "127.0.0.1",
                9,
                ssh=str(sshd.ssh),
                extra_opts=sshd.opts,
                state_dir=state,
            )
    message = str(caught.value)
    assert message.startswith("The tunnel to 127.0.0.1 failed (ssh exited with 255)")
    assert "Address already in use" in message and "\n" not in message
    assert _processes_with(f"127.0.0.1:{port}:") == []
    assert list(state.iterdir()) == []


@needs_proc
def test_a_refused_key_is_reported_with_ssh_last_words(
    sshd: Sshd, state: Path, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger"
    _keygen(stranger)
    opts = [*sshd.opts, "-i", str(stranger)]
    opts[1] = str(stranger)  # replace the authorised key
    with pytest.raises(TunnelError) as caught:
        start_tunnel(
            "127.0.0.1", 0, "127.0.0.1", 9, ssh=str(sshd.ssh), extra_opts=opts, state_dir=state
        )
    assert "Permission denied (publickey)" in str(caught.value)
    assert _processes_with(str(stranger)) == []
    assert list(state.iterdir()) == []
