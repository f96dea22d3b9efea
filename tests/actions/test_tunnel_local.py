"""Managed ssh tunnels without an sshd: argv, errors, ports, records and the CLI's usage.

A fake `ssh` (a Python script) records its argv and fails like the real one, so the
exact command line and the one-line error are checked without any network.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nomtui.actions.tunnel import (
    ALL,
    TunnelError,
    default_state_dir,
    free_port,
    port_is_free,
    preferred_port,
    start_tunnel,
    stop_tunnel,
)
from nomtui.cli import NomtuiGroup
from nomtui.commands.tunnel import parse_forward, register
from nomtui.errors import ConfigError


def _fake_ssh(tmp_path: Path, script: str) -> Path:
    fake = tmp_path / "fake-ssh"
    fake.write_text(f"#!{sys.executable}\n{script}")
    fake.chmod(0o755)
    return fake


def test_argv_defaults_to_the_nomad_host_and_loopback(tmp_path: Path) -> None:
    argv_file = tmp_path / "argv.json"
    fake = _fake_ssh(
        tmp_path,
        "import json, sys\n"
        f"json.dump(sys.argv[1:], open({str(argv_file)!r}, 'w'))\n"
        "print('warning: something first', file=sys.stderr)\n"
        "print('ssh: connect to host dev.archive.org port 22: \\x1b[31mNo route\\x1b[0m.',"
        " file=sys.stderr)\n"
        "sys.exit(255)\n",
    )
    group = NomtuiGroup("nomtui")
    register(group)
    env = {
        "XDG_STATE_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path),
        "NOMAD_ADDR": "https://dev.archive.org:4646",
    }
    with socket.socket() as busy:  # 8500 taken: the preset moves to a free port
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            busy.bind(("127.0.0.1", 8500))
            busy.listen()
        except OSError:
            pass  # 8500 is already busy on this machine, which is the same case
        result = CliRunner().invoke(group, ["tunnel", "--ssh", str(fake)], env=env)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: The tunnel to dev.archive.org failed (ssh exited with 255): "
        "ssh: connect to host dev.archive.org port 22: No route."
    )
    argv = json.loads(argv_file.read_text())
    assert argv[0] == "-N" and argv[-2:] == ["--", "dev.archive.org"]
    local, rest = argv[2].split(":", 1)[1].split(":", 1)
    assert argv[1] == "-L" and argv[2].startswith("127.0.0.1:") and rest == "127.0.0.1:8500"
    assert int(local) != 8500
    for option in ("BatchMode=yes", "ExitOnForwardFailure=yes", "ControlPath=none"):
        assert option in argv
    assert "-A" not in argv
    assert list((tmp_path / "xdg" / "nomtui" / "tunnels").iterdir()) == []


def test_no_host_without_nomad_addr(tmp_path: Path) -> None:
    group = NomtuiGroup("nomtui")
    register(group)
    env = {"HOME": str(tmp_path), "NOMAD_ADDR": "", "XDG_STATE_HOME": str(tmp_path)}
    result = CliRunner().invoke(group, ["tunnel", "--nomad"], env={**env, "NOMAD_ADDR": None})
    assert result.exit_code == 1
    assert "No host to tunnel through: pass --host HOST" in result.stderr


def test_cli_usage_errors(tmp_path: Path) -> None:
    group = NomtuiGroup("nomtui")
    register(group)
    runner = CliRunner()
    env = {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path)}
    assert runner.invoke(group, ["tunnel", "stop"], env=env).exit_code == 2
    assert runner.invoke(group, ["tunnel", "--consul", "list"], env=env).exit_code == 2
    both = runner.invoke(group, ["tunnel", "--consul", "-L", "1:2"], env=env)
    assert both.exit_code == 2 and "exclude each other" in both.stderr
    nothing = runner.invoke(group, ["tunnel", "stop", "deadbeef"], env=env)
    assert nothing.exit_code == 1 and "No running tunnel" in nothing.stderr
    assert runner.invoke(group, ["tunnel", "stop", "--all"], env=env).stdout == (
        "No tunnels running.\n"
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("8500:8500", (8500, "127.0.0.1", 8500)),
        ("0:4646", (0, "127.0.0.1", 4646)),
        ("9000:consul.service:8500", (9000, "consul.service", 8500)),
        ("9000:[::1]:8500", (9000, "::1", 8500)),
    ],
)
def test_parse_forward(spec: str, expected: tuple[int, str, int]) -> None:
    assert parse_forward(spec) == expected


@pytest.mark.parametrize("spec", ["8500", "a:b", "1:2:3:4", "70000:80", "1:0", "-1:80"])
def test_parse_forward_rejects(spec: str) -> None:
    with pytest.raises(ConfigError):
        parse_forward(spec)


def test_preferred_port() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        other = preferred_port(taken)
        assert other != taken and port_is_free(other)
    free = free_port()
    assert preferred_port(free) == free


def test_dead_records_are_pruned_and_a_recycled_pid_is_never_signalled(tmp_path: Path) -> None:
    state = tmp_path / "tunnels"
    state.mkdir()
    me = {
        "id": "cafebabe",
        "pid": os.getpid(),  # a live pid, but not the process that was recorded
        "process_start": "not-my-start-time",
        "host": "h",
        "local_port": 1,
        "remote_host": "127.0.0.1",
        "remote_port": 2,
        "started_at": 0.0,
        "log": str(state / "cafebabe.log"),
    }
    (state / "cafebabe.json").write_text(json.dumps(me))
    (state / "cafebabe.log").write_text("old")
    (state / "broken.json").write_text("{not json")
    assert stop_tunnel(state, ALL) == []  # and this test process is still alive
    assert list(state.iterdir()) == []


@pytest.mark.parametrize(
    ("host", "remote"), [("-oProxyCommand=x", "127.0.0.1"), ("h", "-x"), ("a b", "127.0.0.1")]
)
def test_option_injection_is_refused(tmp_path: Path, host: str, remote: str) -> None:
    with pytest.raises(TunnelError):
        start_tunnel(host, 0, remote, 80, state_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_default_state_dir_follows_xdg(tmp_path: Path) -> None:
    xdg = {"XDG_STATE_HOME": str(tmp_path / "xdg")}
    assert default_state_dir(xdg, tmp_path) == tmp_path / "xdg" / "nomtui" / "tunnels"
    # A relative XDG path is invalid by the spec, so it is ignored.
    relative = {"XDG_STATE_HOME": "rel"}
    assert default_state_dir(relative, tmp_path) == tmp_path / ".local/state/nomtui/tunnels"
