"""`nomtui demo` for real: in a detached tmux session, read off the screen, quit with q."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

WIDTH, HEIGHT = 160, 50
START_TIMEOUT_S = 60.0

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


def _wait_for(check: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.25)
    return False


@pytest.mark.timeout(120)
def test_demo_shows_jobs_and_quits_on_q(tmux: Tmux, tmp_path: Path) -> None:
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
    seen = _wait_for(lambda: "www-nomad" in tmux.capture("demo"), START_TIMEOUT_S)
    screen = tmux.capture("demo")
    assert seen, f"no jobs table after {START_TIMEOUT_S} s; screen:\n{screen}"
    assert "Namespace" in screen and "Status" in screen, screen
    assert "leader 127.0.0.1" in screen, screen
    assert "live" in screen

    tmux.run("send-keys", "-t", "demo", "q")
    assert _wait_for(rc_file.exists, 30), f"demo did not exit; screen:\n{tmux.capture('demo')}"
    assert rc_file.read_text().strip() == "0"
    assert _wait_for(lambda: not tmux.alive("demo"), 10)
