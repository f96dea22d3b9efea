"""`nomtui demo` for real, in a detached tmux session: walk the main screens with the
keyboard (:jobs, a job, an allocation, its logs, back, :topology, :services), read each off
`capture-pane`, quit with q."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

WIDTH, HEIGHT = 160, 50
START_TIMEOUT_S = 60.0
STEP_TIMEOUT_S = 20.0
PALETTE_HINT = "ns NAME · cluster NAME"
"""The placeholder of the `:` command box, shown while it is open and empty."""
SIM_LOG_LINE = re.compile(r"\S seq=\d+\b")
"""`nomtui.sim.allocfs` ends every log line it writes with ` seq=<n>`."""

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"
)


def _pane_env() -> dict[str, str]:
    """This environment, minus COLUMNS/LINES: something in a pytest run sets them to
    80x24, and the app would believe them over the pane's real size."""
    return {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


class Tmux:
    """A private tmux server (own socket), so tests never touch the user's sessions."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=check,
            stdin=subprocess.DEVNULL,
            env=_pane_env(),
        )

    def capture(self, target: str) -> str:
        done = self.run("capture-pane", "-p", "-t", target, check=False)
        return done.stdout

    def alive(self, target: str) -> bool:
        return self.run("has-session", "-t", target, check=False).returncode == 0


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    server = Tmux(f"nomtui-test-{os.getpid()}")
    try:
        yield server
    finally:
        server.run("kill-server", check=False)


def _wait_for(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


class Pane:
    """The demo's pane: keys in, screen text out, every wait with its own deadline."""

    def __init__(self, tmux: Tmux, target: str) -> None:
        self.tmux = tmux
        self.target = target
        self.last = ""

    def keys(self, *keys: str) -> None:
        self.tmux.run("send-keys", "-t", self.target, *keys)

    def literal(self, text: str) -> None:
        # -l: "jobs" is typed as four letters, never read as a tmux key name.
        self.tmux.run("send-keys", "-t", self.target, "-l", text)

    def wait(self, what: str, seen: Callable[[str], bool], timeout: float = STEP_TIMEOUT_S) -> str:
        """The screen once `seen(screen)` holds; fails with the last screen otherwise."""

        def check() -> bool:
            self.last = self.tmux.capture(self.target)
            return seen(self.last)

        assert _wait_for(check, timeout), f"{what}: not seen in {timeout} s; screen:\n{self.last}"
        return self.last

    def command(self, word: str, what: str, seen: Callable[[str], bool]) -> str:
        """`:word` Enter, then wait for the screen it opens."""
        self.keys(":")
        # Typing before the command box is up would send the letters to the screen below.
        self.wait(f":{word} box", lambda s: PALETTE_HINT in s)
        self.literal(word)
        self.wait(f":{word} typed", lambda s: PALETTE_HINT not in s)
        self.keys("Enter")
        return self.wait(what, lambda s: PALETTE_HINT not in s and seen(s))


def _row_names(screen: str, header: str) -> list[str]:
    """First column of the table under the line that starts with `header`."""
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header))
    names = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        names.append(line.split()[0])
    return names


@pytest.mark.timeout(300)
def test_demo_walk_through_the_main_screens(tmux: Tmux, tmp_path: Path) -> None:
    rc_file = tmp_path / "rc"
    demo = f"{shlex.quote(sys.executable)} -m nomtui demo"
    # The shell writes the exit status once the demo ends, so the test can read it.
    command = f"{demo}; echo $? > {shlex.quote(str(rc_file))}"
    tmux.run(
        "new-session",
        "-d",
        "-s",
        "demo",
        "-x",
        str(WIDTH),
        "-y",
        str(HEIGHT),
        "-e",
        "TERM=xterm-256color",
        "sh",
        "-c",
        command,
    )
    pane = Pane(tmux, "demo")
    screen = pane.wait("the jobs table", lambda s: "www-nomad" in s, START_TIMEOUT_S)
    assert "Namespace" in screen and "Status" in screen, screen
    assert "leader 127.0.0.1" in screen, screen
    assert "live" in screen, screen

    # :jobs, then Enter on the first row: the seeded demo lists a service job first.
    screen = pane.command("jobs", "the jobs screen", lambda s: "www-nomad" in s)
    job = _row_names(screen, "Name")[0]
    assert job == "internetarchive-hello-js", screen
    pane.keys("Enter")
    screen = pane.wait(
        f"job {job}",
        lambda s: f"{job}  service · ns default" in s and "Summary" in s and "Created" in s,
    )

    # The job screen opens with its allocations focused: Enter opens the first one.
    pane.keys("Enter")
    screen = pane.wait(
        "the allocation screen",
        lambda s: "Allocation " in s and "Events" in s and f"job {job}" in s,
    )
    assert f"job {job}" in screen, screen

    # l: the main task's stdout. The sim ends every line it writes with ` seq=N`.
    pane.keys("l")
    screen = pane.wait(
        "a log line the sim wrote",
        lambda s: "Logs  alloc" in s and SIM_LOG_LINE.search(s) is not None,
    )
    assert f"job {job} · task http · stdout" in screen, screen

    pane.keys("Escape")
    screen = pane.wait(
        "back on the allocation", lambda s: "Allocation " in s and "Logs  alloc" not in s
    )

    screen = pane.command(
        "topology",
        "the topology",
        lambda s: all(f"nomad-dc1-0{n}" in s for n in range(1, 5)) and "Legend" in s,
    )
    assert "dc1  4 nodes" in screen, screen
    bars = [line for line in screen.splitlines() if line.strip().startswith(("CPU █", "Mem █"))]
    assert len(bars) >= 6, screen  # CPU and memory of each node with allocations

    # grafana is the Consul service of the job ops-grafana: a name only Consul has.
    screen = pane.command(
        "services",
        "the Consul services",
        lambda s: re.search(r"^ grafana +passing", s, re.MULTILINE) is not None,
    )
    assert "Instances" in screen and "Passing" in screen, screen

    pane.keys("q")
    assert _wait_for(rc_file.exists, STEP_TIMEOUT_S), f"demo did not exit; screen:\n{pane.last}"
    assert rc_file.read_text().strip() == "0"
    assert _wait_for(lambda: not tmux.alive("demo"), 10)
