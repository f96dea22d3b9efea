"""Tests of the one-shot subcommands, run through the real CLI against the sim.

`invoke` runs `nomtui` in-process with click's CliRunner (the CLI runs its own
`asyncio.run`, so the sim must live in another thread: use the `sim_thread` fixture);
`run_module` runs `python -m nomtui` in a subprocess for the end-to-end cases.

The environment is built from scratch for every call: HOME points at the test's tmp_path
(no ~/.config/nomad, no config.toml), and every NOMAD_*/CONSUL_*/CI_* variable of the
developer's shell that could change the answer is removed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from click.testing import CliRunner

from nomtui.cli import cli

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

BAD_TOKEN = "b1e55ed5-0bad-70ce-0000-5ec12e7ba5e5"
"""A recognisable token that the sim does not know: it must never be printed."""

_SCRUBBED_PREFIXES = ("NOMAD_", "CONSUL_", "CI_", "NOM_", "NOMTUI_")
_SCRUBBED = ("NO_COLOR", "BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "XDG_CONFIG_HOME")


class Ran(NamedTuple):
    code: int
    out: str
    err: str


def base_env(home: Path, sim: Sim | None = None, **extra: str) -> dict[str, str | None]:
    """An environment for the CLI: HOME at `home`, addresses and token of `sim`."""
    env: dict[str, str | None] = {
        name: None
        for name in os.environ
        if name.startswith(_SCRUBBED_PREFIXES) or name in _SCRUBBED
    }
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".state"),
        }
    )
    if sim is not None:
        env.update(
            {
                "NOMAD_ADDR": sim.nomad_addr,
                "NOMAD_TOKEN": sim.management_token,
                "CONSUL_HTTP_ADDR": sim.consul_addr,
            }
        )
    env.update(extra)
    return env


def invoke(env: Mapping[str, str | None], *args: str, input: str | None = None) -> Ran:
    """`nomtui ARGS` in-process; exit code, stdout and stderr kept apart."""
    result = CliRunner().invoke(cli, list(args), env=dict(env), input=input, prog_name="nomtui")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def run_module(env: Mapping[str, str | None], *args: str, cwd: Path | None = None) -> Ran:
    """`python -m nomtui ARGS` in a subprocess (real start-up, real exit code)."""
    full = {k: v for k, v in os.environ.items() if k not in env}
    full.update({k: v for k, v in env.items() if v is not None})
    proc = subprocess.run(
        [sys.executable, "-m", "nomtui", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        timeout=60,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def one_error_line(err: str) -> str:
    """The single `Error: ...` line of stderr; fails when there is more or a traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: "), err
    return lines[0]


__all__ = [
    "BAD_TOKEN",
    "Ran",
    "base_env",
    "closed_port",
    "invoke",
    "one_error_line",
    "run_module",
]
