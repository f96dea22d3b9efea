"""Open the Docker engine that DOCKER_HOST names, forwarding it over ssh when it says so.

    async with docker_engine(os.environ) as docker:      # pinged, API version agreed
        await docker.list_containers()

`unix://` (the default, /var/run/docker.sock) and plain `tcp://` are used directly. For
`ssh://[user@]host[:port]` the system `ssh` forwards the remote /var/run/docker.sock to
a socket in a private (0700) temporary directory, with the same rules as `nomtui tunnel`
(BatchMode, ExitOnForwardFailure, no connection sharing, its own session so Ctrl-C in
the shell reaches us, not it); the forward ends, and the directory goes, with the block.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from nomtui.actions import procs
from nomtui.client.docker import (
    REMOTE_SOCKET,
    DockerClient,
    DockerHost,
    DockerUnreachable,
    parse_host,
)
from nomtui.sanitize import clean

SSH_READY_S = 20.0
# Forced first (ssh keeps the first value it gets), as for `nomtui tunnel`.
_SSH_OPTS = (
    "-o",
    "BatchMode=yes",
    "-o",
    "ExitOnForwardFailure=yes",
    "-o",
    "ControlPath=none",
    "-o",
    "ServerAliveInterval=15",
)


@dataclass
class SshForward:
    """A running `ssh -N -L <local socket>:/var/run/docker.sock host`."""

    host: DockerHost
    directory: Path
    socket: Path
    pid: int
    start: str

    def stop(self) -> None:
        try:
            procs.terminate(self.pid, self.start)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_forward(
    host: DockerHost,
    *,
    ssh: str = "ssh",
    timeout: float = SSH_READY_S,
    remote_socket: str = REMOTE_SOCKET,
) -> SshForward:
    """Start the forward and wait until its socket accepts a connection.

    Raises DockerUnreachable (leaving nothing behind) when ssh fails or is too slow.
    """
    directory = Path(tempfile.mkdtemp(prefix="nomtui-docker-"))  # 0700 by mkdtemp
    local = directory / "docker.sock"
    log = directory / "ssh.log"
    port = ["-p", str(host.ssh_port)] if host.ssh_port else []
    argv = [ssh, "-N", *_SSH_OPTS, *port, "-L", f"{local}:{remote_socket}", "--", host.ssh_target]
    try:
        child = procs.spawn_detached(argv, log)
    except OSError as exc:
        shutil.rmtree(directory, ignore_errors=True)
        raise DockerUnreachable(host.url, f"cannot run {ssh}: {exc.strerror or exc}") from None
    forward = SshForward(host, directory, local, child.pid, procs.process_start(child.pid) or "")
    try:
        failure = _wait_ready(child.poll, local, timeout)
    except BaseException:
        forward.stop()
        raise
    if failure is not None:
        said = _last_line(log)
        forward.stop()
        raise DockerUnreachable(host.url, failure + (f": {said}" if said else ""))
    return forward


def _wait_ready(poll: Callable[[], int | None], local: Path, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while True:
        code = poll()
        if code is not None:
            return f"ssh exited with {code}"
        if local.exists():
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(str(local))
                except OSError:
                    pass  # bound but not listening yet
                else:
                    return None
        if time.monotonic() >= deadline:
            return f"ssh forward not ready within {timeout:g} s"
        time.sleep(0.05)


def _last_line(log: Path) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    said = [" ".join(clean(line).split()) for line in lines if line.strip()]
    return said[-1][:200] if said else ""


@asynccontextmanager
async def docker_engine(
    env: Mapping[str, str] = os.environ, *, ssh: str = "ssh"
) -> AsyncIterator[DockerClient]:
    """The engine DOCKER_HOST names, pinged. Raises ConfigError for a DOCKER_HOST nomtui
    cannot use, DockerUnreachable when nothing answers."""
    host = parse_host(env.get("DOCKER_HOST"))
    forward: SshForward | None = None
    if host.kind == "ssh":
        forward = await asyncio.to_thread(start_forward, host, ssh=ssh)
    socket_path = str(forward.socket) if forward is not None else host.socket
    try:
        async with DockerClient(
            address=host.url, socket=socket_path, base_url=host.base_url
        ) as docker:
            await docker.ping()
            yield docker
    finally:
        if forward is not None:
            await asyncio.to_thread(forward.stop)


__all__ = ["SshForward", "docker_engine", "start_forward"]
