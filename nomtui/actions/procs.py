"""Detached helper processes (ssh tunnels) that outlive the command that started them.

A pid alone cannot name such a process later: once it exits, the kernel may hand the
same pid to anything. So a process is named by (pid, start time), and every signal is
sent only after checking that the pair still matches.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

# Processes started by this interpreter. Holding the Popen lets us reap a child when it
# ends (a long-lived TUI would otherwise collect zombies, which still have a pid).
_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn_detached(argv: Sequence[str], stderr_log: Path) -> subprocess.Popen[bytes]:
    """Run `argv` in its own session: no terminal, stdin/stdout on /dev/null.

    Its own session means Ctrl-C or a closed terminal in the shell that started it does
    not reach it, and it leads its own process group (see `terminate`).
    """
    with stderr_log.open("wb") as stderr:
        child = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
            close_fds=True,
        )
    _children[child.pid] = child
    return child


def process_start(pid: int) -> str | None:
    """An identity for the live process `pid` that changes if the pid is reused; None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None  # Linux, and the process is gone
        return _ps_start(pid)
    except OSError:
        return None  # unreadable: not a process of ours
    # Field 2 (comm) may contain spaces and parentheses; the rest follows the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    if len(fields) < 20 or fields[0] == "Z":
        return None  # a zombie has exited; only its exit status is left to collect
    return fields[19]  # starttime, in clock ticks since boot


def _ps_start(pid: int) -> str | None:
    # macOS and the BSDs have no /proc: ask ps for the start time instead.
    try:
        done = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None  # cannot tell: treated as gone, so it is never signalled blindly
    started = done.stdout.strip()
    return started if done.returncode == 0 and started else None


def listens_on(pid: int, port: int) -> bool | None:
    """Whether process `pid` holds a listening TCP socket on `port`; None if we cannot tell.

    A connection to the port proves only that *something* listens there; had another
    program taken the port first, ssh would exit (ExitOnForwardFailure) while our
    connection test succeeded against the other program.
    """
    if Path("/proc/net/tcp").exists():
        return _proc_listens_on(pid, port)
    lsof = shutil.which("lsof")
    if lsof is None:
        return None
    try:
        done = subprocess.run(
            [lsof, "-nP", "-a", "-p", str(pid), f"-iTCP:{port}", "-sTCP:LISTEN", "-t"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None  # cannot tell; the caller falls back to the connection test
    return done.returncode == 0 and str(pid) in done.stdout.split()


def _proc_listens_on(pid: int, port: int) -> bool:
    listening: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue  # no IPv6 in this kernel, say
        for row in rows:
            fields = row.split()
            # local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 the inode.
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                listening.add(f"socket:[{fields[9]}]")
    if not listening:
        return False
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False  # gone (or not ours): it holds nothing we can use
    for fd in fds:
        try:
            if os.readlink(fd) in listening:
                return True
        except OSError:
            continue  # closed while we looked
    return False


def running(pid: int, start: str) -> bool:
    """Whether the process (`pid`, `start`) still runs."""
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]
        return False
    return bool(start) and process_start(pid) == start


def _signal(pid: int, sig: signal.Signals) -> None:
    # A detached child leads its own process group, which also holds anything it started
    # (an ssh ProxyCommand, say): signal the group so none of those outlive it.
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return  # already gone, which is what the caller wanted


def _wait_gone(pid: int, start: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid, start):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def terminate(pid: int, start: str, grace: float = 3.0) -> None:
    """SIGTERM the process (`pid`, `start`), then SIGKILL after `grace` seconds.

    Does nothing when that process is no longer running (the pid may be someone else's
    by now). Raises PermissionError for another user's process.
    """
    if not running(pid, start):
        return
    _signal(pid, signal.SIGTERM)
    if not _wait_gone(pid, start, grace):
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, start, 2.0)
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1.0)  # reap it; after SIGKILL this returns at once


__all__ = ["listens_on", "process_start", "running", "spawn_detached", "terminate"]
