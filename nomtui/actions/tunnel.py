"""Managed ssh tunnels: start one, list them, stop them.

The old `nom-tunnel` ran `ssh -fNA -L 8500:localhost:8500 $HOST`: it always took local
port 8500 (a second cluster's tunnel failed, or worse, the first one kept answering),
forwarded the ssh agent to the node for no reason, and left a backgrounded ssh that
nothing could list or stop. Here:

- the system `ssh` runs `-N -L 127.0.0.1:<local>:<host>:<port>`, so the user's whole ssh
  config (jump hosts, keys, users) applies, but the forward never listens beyond
  loopback; BatchMode means it fails instead of prompting where nobody can answer;
  ExitOnForwardFailure makes a failed bind an exit, not a tunnel that forwards nothing;
- connection multiplexing is off by default (ControlPath=none): through a shared master
  the forward would belong to the master, and stopping "the tunnel" would stop nothing;
- it runs in its own session (it outlives the command; Ctrl-C in the shell does not
  reach it), with stderr in a log file so a failure can be reported;
- it counts as started only once the local port accepts a connection;
- each tunnel is a JSON file under `$XDG_STATE_HOME/nomtui/tunnels/`, with the pid and
  the process's start time, so a recycled pid is never mistaken for (or killed as) it.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from nomtui.actions import procs
from nomtui.errors import NomtuiError
from nomtui.sanitize import clean

LOOPBACK: Final = "127.0.0.1"
ALL: Final = "all"
"""`stop_tunnel(state_dir, ALL)` stops every tunnel."""

PRESETS: Final[Mapping[str, tuple[str, int]]] = {
    "consul": ("127.0.0.1", 8500),
    "nomad": ("127.0.0.1", 4646),
}
"""Named forwards: remote host and port as seen from the ssh host."""

# ssh applies the first value it gets for an option: these come first so nothing the
# caller adds can turn them off.
_FORCED_OPTS: Final = ("-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes")
# These come after the caller's options, so the caller may override them.
_DEFAULT_OPTS: Final = (
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=3",
    "-o",
    "ControlPath=none",
)


class TunnelError(NomtuiError):
    """A tunnel could not be started or found."""

    title = "Tunnel"


@dataclass(frozen=True)
class Tunnel:
    id: str
    pid: int
    process_start: str
    """Start time of `pid` (from /proc or ps): tells our ssh from a recycled pid."""
    host: str
    local_port: int
    remote_host: str
    remote_port: int
    started_at: float
    """Seconds since the epoch."""
    log: str
    """ssh's stderr."""

    @property
    def local(self) -> str:
        return f"{LOOPBACK}:{self.local_port}"

    @property
    def remote(self) -> str:
        host = f"[{self.remote_host}]" if ":" in self.remote_host else self.remote_host
        return f"{host}:{self.remote_port}"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def default_state_dir(env: Mapping[str, str] = os.environ, home: Path | None = None) -> Path:
    """`$XDG_STATE_HOME/nomtui/tunnels` (`~/.local/state/...` when unset or relative)."""
    base = env.get("XDG_STATE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else (home or Path.home()) / ".local/state"
    return root / "nomtui" / "tunnels"


# -- ports -------------------------------------------------------------------------------


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:`port` can be listened on right now (as ssh would bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # ssh sets SO_REUSEADDR too, so a port in TIME_WAIT counts as free for both.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
    return port


def preferred_port(port: int) -> int:
    """`port` when it is free, else any free port: for presets, where the number is a nicety."""
    return port if port_is_free(port) else free_port()


# -- state files -------------------------------------------------------------------------


def _state_file(state_dir: Path, tunnel_id: str) -> Path:
    return state_dir / f"{tunnel_id}.json"


def _save(state_dir: Path, tunnel: Tunnel) -> None:
    target = _state_file(state_dir, tunnel.id)
    partial = target.with_suffix(".tmp")
    partial.write_text(json.dumps(tunnel.to_json(), indent=2), encoding="utf-8")
    os.replace(partial, target)  # readers never see half a file


def _load(path: Path) -> Tunnel | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Tunnel(
            id=str(data["id"]),
            pid=int(data["pid"]),
            process_start=str(data["process_start"]),
            host=str(data["host"]),
            local_port=int(data["local_port"]),
            remote_host=str(data["remote_host"]),
            remote_port=int(data["remote_port"]),
            started_at=float(data["started_at"]),
            log=str(data["log"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or from another version: pruned like a dead tunnel


def _forget(state_dir: Path, tunnel_id: str) -> None:
    for leftover in (_state_file(state_dir, tunnel_id), state_dir / f"{tunnel_id}.log"):
        leftover.unlink(missing_ok=True)


# -- the three actions -------------------------------------------------------------------


def start_tunnel(
    host: str,
    local_port: int | None,
    remote_host: str,
    remote_port: int,
    *,
    ssh: str = "ssh",
    extra_opts: Sequence[str] = (),
    state_dir: Path,
    timeout: float = 15.0,
) -> Tunnel:
    """Start `ssh -N -L 127.0.0.1:<local>:<remote_host>:<remote_port> <host>` and wait.

    `local_port` None or 0 picks a free port. Returns once the local port accepts a
    connection; raises TunnelError (and leaves nothing running) otherwise.
    """
    _check_target(host, remote_host, remote_port)
    _check_options(extra_opts)
    if local_port:
        if not 0 < local_port < 65536:
            raise TunnelError(f"Local port {local_port} is not a port number (1-65535).")
        if not port_is_free(local_port):
            raise TunnelError(
                f"Local port {local_port} is already in use on {LOOPBACK}; "
                "pick another local port or stop what holds it (`nomtui tunnel list`)."
            )
    else:
        local_port = free_port()

    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tunnel_id = secrets.token_hex(4)
    log = state_dir / f"{tunnel_id}.log"
    target = f"[{remote_host}]" if ":" in remote_host else remote_host
    argv = [
        ssh,
        "-N",
        "-L",
        f"{LOOPBACK}:{local_port}:{target}:{remote_port}",
        *_FORCED_OPTS,
        *extra_opts,
        *_DEFAULT_OPTS,
        "--",
        host,
    ]
    try:
        child = procs.spawn_detached(argv, log)
    except OSError as exc:
        log.unlink(missing_ok=True)
        raise TunnelError(
            f"Cannot run {ssh} ({exc.strerror or exc}); install OpenSSH or pass --ssh PATH."
        ) from exc
    process_start = procs.process_start(child.pid) or ""
    tunnel = Tunnel(
        id=tunnel_id,
        pid=child.pid,
        process_start=process_start,
        host=host,
        local_port=local_port,
        remote_host=remote_host,
        remote_port=remote_port,
        started_at=time.time(),
        log=str(log),
    )
    # Recorded before the wait, so a tunnel is never running without a record.
    _save(state_dir, tunnel)
    try:
        failure = _wait_ready(child, local_port, timeout)
    except BaseException:
        # Ctrl-C (or anything else) while waiting: a half-started tunnel is not left behind.
        _terminate(tunnel)
        _forget(state_dir, tunnel_id)
        raise
    if failure is not None:
        _terminate(tunnel)
        reason = _last_line(log)
        _forget(state_dir, tunnel_id)
        detail = f": {reason}" if reason else ""
        raise TunnelError(f"The tunnel to {clean(host)} {failure}{detail}.")
    return tunnel


def _check_target(host: str, remote_host: str, remote_port: int) -> None:
    # A value starting with "-" would be read by ssh as an option (-oProxyCommand=...).
    if not host or host.startswith("-") or any(c.isspace() for c in host):
        raise TunnelError(f"{host!r} is not an ssh host name; pass --host HOST.")
    if not remote_host or remote_host.startswith("-") or any(c.isspace() for c in remote_host):
        raise TunnelError(f"{remote_host!r} is not a host to forward to.")
    if not 0 < remote_port < 65536:
        raise TunnelError(f"Remote port {remote_port} is not a port number (1-65535).")


# Options that would open listeners beyond the one loopback forward (or let the forward
# listen on other interfaces): the caller's -o may not add them.
_BINDING_OPTIONS: Final = frozenset(
    {"localforward", "remoteforward", "dynamicforward", "gatewayports"}
)


def _check_options(extra_opts: Sequence[str]) -> None:
    for option in extra_opts:
        words = option.replace("=", " ").split(maxsplit=1)
        if words and words[0].lower() in _BINDING_OPTIONS:
            raise TunnelError(
                f"The ssh option {clean(option)} could listen beyond {LOOPBACK}; nomtui "
                "tunnels bind to loopback only, so leave it out."
            )


def _wait_ready(child: subprocess.Popen[bytes], port: int, timeout: float) -> str | None:
    """None once `port` accepts a connection; else why not, as the end of a sentence."""
    deadline = time.monotonic() + timeout
    while True:
        code = child.poll()
        if code is not None:
            return f"failed (ssh exited with {code})"
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                pass
        except OSError as exc:
            if exc.errno not in (errno.ECONNREFUSED, errno.ECONNRESET, None):
                return f"failed (connecting to {LOOPBACK}:{port}: {exc.strerror or exc})"
        else:
            # Whatever answered must be ssh: another program on the port makes ssh exit
            # (ExitOnForwardFailure) a moment later, and that failure is what to report.
            if procs.listens_on(child.pid, port) is not False:
                code = child.poll()
                return None if code is None else f"failed (ssh exited with {code})"
        if time.monotonic() >= deadline:
            return f"was not ready within {timeout:g} s (ssh still connecting)"
        time.sleep(0.05)


def _terminate(tunnel: Tunnel) -> None:
    try:
        procs.terminate(tunnel.pid, tunnel.process_start)
    except PermissionError as exc:
        raise TunnelError(
            f"Not allowed to stop process {tunnel.pid} of tunnel {tunnel.id}; "
            "it belongs to another user."
        ) from exc


def _last_line(log: Path) -> str:
    """What ssh said last, made safe to print (it can echo the remote side's text).

    A failed bind ends with "Could not request local forwarding."; the reason (port in
    use, permission) is on ssh's earlier `bind ...` line, so that line is added.
    """
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    lines = [" ".join(clean(line).split()) for line in text.splitlines()]
    lines = [line.rstrip(".") for line in lines if line]
    if not lines:
        return ""
    last = lines[-1]
    binds = [line for line in lines if line.startswith("bind ")]
    if binds and "forwarding" in last.lower():
        last = f"{last} ({binds[-1]})"
    return last[:300]


def list_tunnels(state_dir: Path) -> list[Tunnel]:
    """The running tunnels, oldest first; records of dead ones are removed."""
    if not state_dir.is_dir():
        return []
    alive: list[Tunnel] = []
    for path in sorted(state_dir.glob("*.json")):
        tunnel = _load(path)
        if tunnel is not None and procs.running(tunnel.pid, tunnel.process_start):
            alive.append(tunnel)
        else:
            _forget(state_dir, path.stem)
    return sorted(alive, key=lambda t: t.started_at)


def stop_tunnel(state_dir: Path, which: str | int) -> list[Tunnel]:
    """Stop the tunnel with id or local port `which`, or every one for `ALL`.

    SIGTERM, a short wait, then SIGKILL. Returns what was stopped; raises TunnelError
    when nothing matches (but `ALL` with nothing running is an empty list).
    """
    running = list_tunnels(state_dir)
    if which == ALL:
        chosen = running
    else:
        key = str(which)
        chosen = [t for t in running if t.id == key or str(t.local_port) == key]
        if not chosen:
            raise TunnelError(
                f"No running tunnel has the id or local port {key}; "
                "`nomtui tunnel list` shows them."
            )
    for tunnel in chosen:
        _terminate(tunnel)
        _forget(state_dir, tunnel.id)
    return chosen


__all__ = [
    "ALL",
    "LOOPBACK",
    "PRESETS",
    "Tunnel",
    "TunnelError",
    "default_state_dir",
    "free_port",
    "list_tunnels",
    "port_is_free",
    "preferred_port",
    "start_tunnel",
    "stop_tunnel",
]
