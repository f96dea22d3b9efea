"""Tunnels listen on loopback only: the ssh command line always forwards from
127.0.0.1, and anything that would listen elsewhere is refused before ssh runs.

A fake `ssh` (a Python script) records its argv and really listens where `-L` says, so
the tunnel counts as started exactly as with the real one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nomtui.actions.tunnel import TunnelError, start_tunnel, stop_tunnel
from nomtui.cli import NomtuiGroup
from nomtui.commands.tunnel import register

FAKE_SSH = """\
import json, signal, socket, sys, time
argv = sys.argv[1:]
json.dump(argv, open(sys.argv[0] + ".argv", "w"))
bind, port = argv[argv.index("-L") + 1].split(":")[:2]
server = socket.socket()
server.bind((bind, int(port)))
server.listen()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    conn, _ = server.accept()
    conn.close()
"""


@pytest.fixture
def fake_ssh(tmp_path: Path) -> Path:
    fake = tmp_path / "fake-ssh"
    fake.write_text(f"#!{sys.executable}\n{FAKE_SSH}")
    fake.chmod(0o755)
    return fake


def argv_of(fake: Path) -> list[str]:
    recorded: list[str] = json.loads(Path(f"{fake}.argv").read_text())
    return recorded


def cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    group = NomtuiGroup("nomtui")
    register(group)
    env = {
        "HOME": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "NOMAD_ADDR": "https://nomad.example:4646",
    }
    ran = CliRunner().invoke(group, list(args), env=env)
    assert ran.exception is None or isinstance(ran.exception, SystemExit), ran.exception
    return ran.exit_code, ran.stdout, ran.stderr


@pytest.mark.parametrize(
    "how",
    [["--consul"], ["--nomad"], ["-L", "0:10.1.2.3:9090"], ["-L", "0:8500"]],
    ids=["consul", "nomad", "host-port", "port"],
)
def test_every_tunnel_forwards_from_loopback(
    tmp_path: Path, fake_ssh: Path, how: list[str]
) -> None:
    code, out, err = cli(tmp_path, "tunnel", "--ssh", str(fake_ssh), *how, "--json")
    assert code == 0, err
    try:
        started = json.loads(out)
        argv = argv_of(fake_ssh)
        forward = argv[argv.index("-L") + 1]
        assert forward.startswith(f"127.0.0.1:{started['local_port']}:")
        assert started["local"].startswith("127.0.0.1:")
        assert argv.count("-L") == 1 and "-D" not in argv and "-R" not in argv
        assert "GatewayPorts=yes" not in argv and "-g" not in argv
    finally:
        stop_tunnel(tmp_path / "state" / "nomtui" / "tunnels", "all")


@pytest.mark.parametrize(
    "args",
    [
        ["-L", "0.0.0.0:8500:127.0.0.1:8500"],
        ["-L", "*:8500:127.0.0.1:8500"],
        ["-o", "GatewayPorts=yes"],
        ["-o", "gatewayports yes"],
        ["-o", "LocalForward=0.0.0.0:9000 127.0.0.1:80"],
        ["-o", "RemoteForward=9000 127.0.0.1:80"],
        ["-o", "DynamicForward=0.0.0.0:1080"],
    ],
    ids=["bind-any", "bind-star", "gateway", "gateway-space", "local", "remote", "dynamic"],
)
def test_anything_that_could_listen_elsewhere_is_refused(
    tmp_path: Path, fake_ssh: Path, args: list[str]
) -> None:
    code, out, err = cli(tmp_path, "tunnel", "--ssh", str(fake_ssh), *args)
    assert code in (1, 2) and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    assert not Path(f"{fake_ssh}.argv").exists()  # ssh never ran


def test_the_action_refuses_too(tmp_path: Path, fake_ssh: Path) -> None:
    """The TUI's `t` calls the action directly: the check is there, not in the CLI."""
    with pytest.raises(TunnelError, match="loopback only"):
        start_tunnel(
            "nomad.example",
            0,
            "127.0.0.1",
            8500,
            ssh=str(fake_ssh),
            extra_opts=["-o", "DynamicForward=1080"],
            state_dir=tmp_path / "state",
        )
    assert not Path(f"{fake_ssh}.argv").exists()
