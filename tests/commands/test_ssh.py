"""`nomtui ssh` / `sshn`: an interactive shell through a real PTY (tmux), commands over
pipes with their exit codes, argv passed as is, the Nth allocation, the error paths."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.commands import BAD_TOKEN, Ran, base_env, closed_port, invoke, one_error_line

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

JOB = "www-nomad"
NOMTUI = Path(sys.executable).with_name("nomtui")


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    sim_config.log_lines_per_s = 0
    return sim_config


def running(sim: Sim, job: str = JOB) -> list[str]:
    allocs = [
        a
        for a in sim.state.allocs.values()
        if a["JobID"] == job and a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
    ]
    allocs.sort(key=lambda a: (a["CreateIndex"], a["ID"]), reverse=True)
    return [a["ID"] for a in allocs]


def run(
    env: Mapping[str, str | None], *args: str, stdin: bytes = b"", cwd: Path | None = None
) -> Ran:
    """`python -m nomtui ARGS` with `stdin` piped in (the bridge reads the real fd 0)."""
    full = {k: v for k, v in os.environ.items() if k not in env}
    full.update({k: v for k, v in env.items() if v is not None})
    proc = subprocess.run(
        [sys.executable, "-m", "nomtui", *args],
        input=stdin,
        capture_output=True,
        env=full,
        cwd=cwd,
        timeout=60,
    )
    return Ran(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


# -- a real terminal --------------------------------------------------------------------


class Tmux:
    """A private tmux server (own socket): the tests never touch the user's sessions."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
        return done.stdout

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.run("capture-pane", "-p", "-t", "ssh")
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the pane shows:\n{screen}")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed, so there is no real terminal to test in")
    server = Tmux(f"nomtui-ssh-test-{os.getpid()}")
    try:
        yield server
    finally:
        server.run("kill-server")


def test_an_interactive_shell_in_a_real_terminal(
    sim_thread: Sim, tmp_path: Path, tmux: Tmux
) -> None:
    env = {
        "NOMAD_ADDR": sim_thread.nomad_addr,
        "NOMAD_TOKEN": sim_thread.management_token,
        "HOME": str(tmp_path),
    }
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    # The pane's shell prints the exit status once nomtui ends, then stays to be read.
    pane = f"env {assignments} {shlex.quote(str(NOMTUI))} ssh {JOB}; echo EXIT=$?; sleep 60"
    tmux.run("new-session", "-d", "-x", "120", "-y", "30", "-s", "ssh", pane)
    tmux.wait_for("nomad alloc exec -i -t -task http")  # announced, then the shell's prompt
    time.sleep(0.5)
    tmux.run("send-keys", "-t", "ssh", "echo hi-$((40+2))", "Enter")
    tmux.wait_for("hi-42")
    tmux.run("send-keys", "-t", "ssh", "stty size", "Enter")
    tmux.wait_for("30 120")  # the pane's size reached the remote terminal
    tmux.run("send-keys", "-t", "ssh", "exit 7", "Enter")
    tmux.wait_for("EXIT=7")


# -- pipes ------------------------------------------------------------------------------


def test_without_a_terminal_commands_run_over_pipes(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    script = "cat; echo to-stderr >&2; exit 5"
    ran = run(env, "ssh", JOB, "--", "sh", "-c", script, stdin=b"piped in\n")
    assert ran.code == 5
    assert ran.out == "piped in\n"  # no \r\n: no TTY was asked for
    assert ran.err == "to-stderr\n"


def test_argv_reaches_the_command_as_is(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    words = ["it's", 'a "b"', "new\nline", "$HOME", "-n"]
    ran = run(env, "ssh", JOB, "--", "printf", "[%s]", *words)
    assert ran.code == 0, ran.err
    assert ran.out == "".join(f"[{w}]" for w in words)


def test_the_old_nom_ssh_form_job_task_command(sim_thread: Sim, tmp_path: Path) -> None:
    # nom-ssh JOB TASK CMD ARGS...: options nomtui does not know belong to the command.
    ran = run(base_env(tmp_path, sim_thread), "ssh", JOB, "http", "ls", "-a", "-1")
    assert ran.code == 0, ran.err
    assert "local" in ran.out.split() and "." in ran.out.split()


def test_the_job_comes_from_the_checkout(sim_thread: Sim, tmp_path: Path) -> None:
    from tests.unit.test_repo import make_checkout

    repo = make_checkout(tmp_path / "nomad")  # www/nomad on main: job www-nomad
    show = ["--", "sh", "-c", "echo $NOMAD_JOB_NAME"]
    ran = run(base_env(tmp_path, sim_thread), "ssh", *show, cwd=repo)
    assert ran.code == 0, ran.err
    assert ran.out == "www-nomad\n"


def test_sshn_picks_the_nth_allocation(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    allocs = running(sim_thread, "services-pyhi")
    show = ["--", "sh", "-c", "echo $NOMAD_ALLOC_ID"]
    assert run(env, "sshn", "2", "services-pyhi", *show).out == f"{allocs[1]}\n"
    assert run(env, "ssh", "--alloc", "3", "services-pyhi", *show).out == f"{allocs[2]}\n"
    assert run(env, "ssh", "services-pyhi", *show).out == f"{allocs[0]}\n"


# -- error paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ssh", "no-such-job"], "job no-such-job not found in any namespace"),
        (["ssh", "services-nightly-backup"], "has no running allocation"),
        (["sshn", "4", "services-pyhi"], "has 3 running allocations, so there is no number 4"),
        (["ssh", JOB, "nope", "--", "true"], "has no task nope; its tasks are http"),
        (["ssh", "--bogus", JOB], "No such option: --bogus"),
        (["ssh", JOB, "http", "extra", "--", "true"], "extra arguments before --"),
        (["--read-only", "ssh", JOB], "read-only"),
    ],
)
def test_errors(sim_thread: Sim, tmp_path: Path, args: list[str], expected: str) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), *args)
    assert ran.code in (1, 2)
    assert expected in one_error_line(ran.err)


def test_refused_token_and_unreachable(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread, NOMAD_TOKEN=BAD_TOKEN), "ssh", JOB)
    assert ran.code == 1
    assert "403" in one_error_line(ran.err) and BAD_TOKEN not in ran.err
    addr = f"http://127.0.0.1:{closed_port()}"
    ran = invoke(base_env(tmp_path, NOMAD_ADDR=addr), "ssh", JOB, "--", "true")
    assert ran.code == 1
    assert f"Cannot reach Nomad at {addr}" in one_error_line(ran.err)
