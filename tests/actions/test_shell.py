"""The interactive exec bridge in a real pseudo-terminal, against the sim's exec socket.

A small driver program runs `run_shell` under `pty.fork()`, exactly as a user's terminal
would run `nomtui ssh`: raw mode, keys typed into the PTY, output read back from it,
window size changes delivered as SIGWINCH by the kernel.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import struct
import sys
import termios
import time
from typing import TYPE_CHECKING

import pytest

from nomtui.actions.shell import exec_command_line, shell_from_probe

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

DRIVER = """
import asyncio, sys
from nomtui.actions.shell import run_shell
from nomtui.client.http import HttpClient

async def main() -> int:
    http = HttpClient(sys.argv[1], sys.argv[2])
    try:
        return await run_shell(http, sys.argv[3], "http")
    finally:
        await http.aclose()

sys.exit(asyncio.run(main()))
"""

BLOCKING_DRIVER = """
import asyncio, sys
from nomtui.actions.shell import run_shell_blocking
from nomtui.client.http import HttpClient

async def main() -> int:
    # As in the TUI: an event loop is running and is blocked for the whole session.
    http = HttpClient(sys.argv[1], sys.argv[2])
    try:
        return run_shell_blocking(http, sys.argv[3], "http")
    finally:
        await http.aclose()

sys.exit(asyncio.run(main()))
"""
DRIVERS = pytest.mark.parametrize("driver", [DRIVER, BLOCKING_DRIVER], ids=["async", "blocking"])


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    from nomtui.sim.clock import FixedClock

    sim_config.clock = FixedClock()
    sim_config.lifecycle = False
    sim_config.log_lines_per_s = 0
    return sim_config


def running_alloc(sim: Sim) -> str:
    return str(
        next(
            a["ID"]
            for a in sim.state.allocs.values()
            if (a.get("TaskStates") or {}).get("http", {}).get("State") == "running"
        )
    )


class Terminal:
    """The parent side of a PTY running the driver."""

    def __init__(
        self, sim: Sim, alloc_id: str, driver: str, rows: int = 24, cols: int = 80
    ) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: becomes the driver, the PTY is its terminal
            os.execv(
                sys.executable,
                [sys.executable, "-c", driver, sim.nomad_addr, sim.management_token, alloc_id],
            )
        self.pid, self.fd = pid, fd
        self.output = bytearray()
        self.resize(rows, cols)

    def resize(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def read_until(self, needle: bytes, timeout: float = 10.0) -> bytes:
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{needle!r} not seen; got {bytes(self.output)!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready and not self._read():
                raise AssertionError(f"EOF before {needle!r}; got {bytes(self.output)!r}")
        return bytes(self.output)

    def read_prompt(self, timeout: float = 10.0) -> None:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        assert ready and self._read(), "the shell printed no prompt"
        time.sleep(0.2)  # the rest of a prompt zsh draws in pieces

    def _read(self) -> bool:
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        self.output += data
        return bool(data)

    def wait(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                self._read()
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        raise AssertionError(f"the driver did not exit; output {bytes(self.output)!r}")


def test_shell_from_probe_takes_the_printed_path_not_the_status() -> None:
    assert shell_from_probe(b"/usr/bin/zsh\n") == "/usr/bin/zsh"
    assert shell_from_probe(b"/bin/bash\n") == "/bin/bash"
    assert shell_from_probe(b"") == "/bin/sh"
    assert shell_from_probe(b"sh: command not found\n") == "/bin/sh"


def test_exec_command_line_is_quoted() -> None:
    line = exec_command_line("abc", "http", ["/bin/sh", "-c", "echo hi; ls"])
    assert line == "nomad alloc exec -i -t -task http abc /bin/sh -c 'echo hi; ls'"


@DRIVERS
def test_typed_command_runs_and_the_exit_code_comes_back(sim_thread: Sim, driver: str) -> None:
    term = Terminal(sim_thread, running_alloc(sim_thread), driver)
    # Any output is the remote shell's prompt (zsh, bash or sh: whichever the machine
    # has); raw mode is on by then, so nothing typed is echoed twice or lost.
    term.read_prompt()
    term.type("echo h''i; exit 3\r")
    term.read_until(b"hi\r\n")
    assert term.wait() == 3


@DRIVERS
def test_window_size_reaches_the_remote_terminal(sim_thread: Sim, driver: str) -> None:
    term = Terminal(sim_thread, running_alloc(sim_thread), driver, rows=30, cols=100)
    term.read_prompt()
    term.type("stty size\r")
    term.read_until(b"30 100")
    term.resize(41, 123)  # the kernel sends the driver SIGWINCH
    time.sleep(0.3)
    term.type("stty size; exit\r")
    term.read_until(b"41 123")
    assert term.wait() == 0


async def test_the_probe_picks_the_first_shell_that_exists(sim: Sim) -> None:
    from nomtui.actions.shell import detect_shell
    from nomtui.client.http import HttpClient

    # The sim runs commands on this machine, so its shells are the task's shells.
    expected = shutil.which("zsh") or shutil.which("bash") or "/bin/sh"
    http = HttpClient(sim.nomad_addr, sim.management_token)
    try:
        found = await detect_shell(http, running_alloc(sim), "http")
    finally:
        await http.aclose()
    assert same_file(found, expected)


def same_file(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)
