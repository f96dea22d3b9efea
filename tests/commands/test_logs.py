"""`nomtui logs`: exactly what the task wrote, also when the sim cuts the stream mid-way
and the log rotates; stderr, both, tail, --all prefixes, sanitising, Ctrl-C, error paths."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from click.testing import CliRunner

from nomtui.cli import cli
from nomtui.sanitize import clean
from tests.commands import BAD_TOKEN, base_env, closed_port, invoke, one_error_line

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

JOB = "www-nomad"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False
    sim_config.log_lines_per_s = 0  # only what the tests write
    sim_config.log_max_file_bytes = 256 * 1024  # rotate, but keep every file (max 10)
    return sim_config


def running(sim: Sim, job: str = JOB) -> list[str]:
    allocs = [
        a
        for a in sim.state.allocs.values()
        if a["JobID"] == job and a["ClientStatus"] == "running" and a["DesiredStatus"] == "run"
    ]
    allocs.sort(key=lambda a: (a["CreateIndex"], a["ID"]), reverse=True)
    return [a["ID"] for a in allocs]


def logged(sim: Sim, alloc_id: str, stream: str = "stdout") -> bytes:
    """Everything in the task's log files, oldest first (what the task wrote)."""
    logs = sim.files.path(alloc_id) / "alloc" / "logs"
    files = sorted(logs.glob(f"http.{stream}.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    return b"".join(f.read_bytes() for f in files)


def lines(start: int, count: int, tag: str = "line") -> bytes:
    return b"".join(f"{tag} {i:06d} {'x' * (i % 90)}\n".encode() for i in range(start, count))


def set_faults(sim: Sim, faults: dict[str, object]) -> None:
    httpx.put(
        f"{sim.nomad_addr}/v1/sim/faults",
        json=faults,
        headers={"X-Nomad-Token": sim.management_token},
        timeout=10,
    ).raise_for_status()


def stdout_bytes(env: dict[str, str | None], *args: str) -> bytes:
    """`nomtui ARGS` in-process, its stdout as bytes (`Ran.out` is text with CRLF folded)."""
    result = CliRunner().invoke(cli, list(args), env=env, prog_name="nomtui")
    assert result.exit_code == 0, result.stderr
    return result.stdout_bytes


def test_the_whole_log_is_printed_as_written(sim_thread: Sim, tmp_path: Path) -> None:
    alloc = running(sim_thread)[0]
    sim_thread.files.write_log(alloc, "http", "stdout", lines(0, 3000))
    assert stdout_bytes(base_env(tmp_path, sim_thread), "logs", JOB) == logged(sim_thread, alloc)


class Follower:
    """`nomtui logs ... -f` in a subprocess, its stdout collected by a thread."""

    def __init__(self, env: dict[str, str | None], *args: str) -> None:
        full = {k: v for k, v in os.environ.items() if k not in env}
        full.update({k: v for k, v in env.items() if v is not None})
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nomtui", "logs", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full,
        )
        self.out = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while data := os.read(self.proc.stdout.fileno(), 65536):
            self.out += data

    def wait_for(self, size: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.out) < size and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.out) >= size, f"got {len(self.out)} of {size} bytes"

    def interrupt(self) -> tuple[int, bytes]:
        """Ctrl-C; the exit code and stderr."""
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=10)
        self._reader.join(5)
        return self.proc.returncode, err


def test_follow_through_cut_streams_and_rotation_loses_nothing(
    sim_thread: Sim, tmp_path: Path
) -> None:
    alloc = running(sim_thread)[0]
    sim_thread.files.write_log(alloc, "http", "stdout", lines(0, 8000))
    # Every response is cut after 60 kB, mid-line: the follower must resume at the exact
    # byte, across the rotations (256 KiB files) that happen meanwhile.
    set_faults(sim_thread, {"stream_cut_bytes": 60_000})
    follower = Follower(base_env(tmp_path, sim_thread), JOB, "-f")
    try:
        follower.wait_for(len(logged(sim_thread, alloc)))
        for batch in range(5):  # written while following, across rotations
            sim_thread.files.write_log(
                alloc, "http", "stdout", lines(batch * 400, batch * 400 + 400, "new")
            )
            time.sleep(0.05)
        expected = logged(sim_thread, alloc)
        follower.wait_for(len(expected))
        time.sleep(0.3)  # anything duplicated would arrive now
    finally:
        code, err = follower.interrupt()
    assert code == 0, err
    assert bytes(follower.out) == expected
    assert sim_thread.injector.cut_streams >= 8
    assert b"Traceback" not in err


def test_stderr_and_both(sim_thread: Sim, tmp_path: Path) -> None:
    alloc = running(sim_thread)[0]
    sim_thread.files.write_log(alloc, "http", "stdout", b"to stdout\n")
    sim_thread.files.write_log(alloc, "http", "stderr", b"to stderr\n")
    env = base_env(tmp_path, sim_thread)
    ran = invoke(env, "logs", "--stderr", JOB)
    assert ran.code == 0 and ran.out.endswith("to stderr\n") and "to stdout" not in ran.out
    ran = invoke(env, "logs", "--both", JOB)
    assert ran.code == 0
    assert ran.out.endswith("to stdout\n") and ran.err.endswith("to stderr\n")


def test_tail(sim_thread: Sim, tmp_path: Path) -> None:
    alloc = running(sim_thread)[0]
    sim_thread.files.write_log(alloc, "http", "stdout", lines(0, 500))
    ran = invoke(base_env(tmp_path, sim_thread), "logs", "--tail", "3", JOB)
    assert ran.code == 0
    assert ran.out.encode() == lines(497, 500)


def test_tail_then_follow(sim_thread: Sim, tmp_path: Path) -> None:
    alloc = running(sim_thread)[0]
    sim_thread.files.write_log(alloc, "http", "stdout", lines(0, 500) + b"half a li")
    follower = Follower(base_env(tmp_path, sim_thread), JOB, "-f", "--tail", "3")
    try:
        # Two whole lines and the unfinished one make three.
        follower.wait_for(len(lines(498, 500)))
        sim_thread.files.write_log(alloc, "http", "stdout", b"ne\n" + lines(500, 502))
        follower.wait_for(len(lines(498, 502) + b"half a line\n"))
    finally:
        code, _ = follower.interrupt()
    assert code == 0
    assert bytes(follower.out) == lines(498, 500) + b"half a line\n" + lines(500, 502)


def test_all_allocations_are_merged_with_prefixes(sim_thread: Sim, tmp_path: Path) -> None:
    allocs = running(sim_thread, "services-pyhi")
    assert len(allocs) == 3
    for alloc in allocs:
        sim_thread.files.write_log(alloc, "http", "stdout", f"hello from {alloc}\n".encode())
    env = base_env(tmp_path, sim_thread)
    ran = invoke(env, "logs", "--all", "services-pyhi")
    assert ran.code == 0, ran.err
    for alloc in allocs:
        assert f"[{alloc[:8]}] hello from {alloc}\n" in ran.out
    assert all(line.startswith("[") for line in ran.out.splitlines())
    ran = invoke(env, "logs", "--alloc", "2", "services-pyhi")
    assert f"hello from {allocs[1]}" in ran.out and allocs[0] not in ran.out


def test_control_sequences_are_removed_unless_raw(sim_thread: Sim, tmp_path: Path) -> None:
    alloc = running(sim_thread)[0]
    evil = b"\x1b]0;pwned\x07\x1b[2Jred \x1b[31malert\x1b[0m\r\nok\n"
    sim_thread.files.write_log(alloc, "http", "stdout", evil)
    env = base_env(tmp_path, sim_thread)
    ran = invoke(env, "logs", JOB)
    assert ran.out.endswith("red alert\nok\n") and "\x1b" not in ran.out
    assert stdout_bytes(env, "logs", "--raw", JOB).endswith(evil)


# Terminal attacks that must not survive, each on its own line of an otherwise plain log:
# OSC 52 (write the clipboard), clear screen, 8-bit CSI as a raw byte (invalid UTF-8) and
# as UTF-8 (U+009B), a bidi override, a title change, a CRLF line.
EVIL_LINES = [
    b"copy \x1b]52;c;ZXZpbA==\x07me\n",
    b"\x1b[2Jcleared\n",
    b"raw \x9b31mC1\n",
    b"utf8 \xc2\x9b31mC1\n",
    b"bidi \xe2\x80\xaeevil\n",
    b"\x1b]0;pwned\x1b\\title\r\n",
]
FORBIDDEN = [b"\x1b", b"\x9b", b"\x07", b"\r", b"\xe2\x80\xae"]


def test_sanitised_in_the_fast_path_untouched_with_raw(sim_thread: Sim, tmp_path: Path) -> None:
    """A big log whose chunks are mostly clean (the fast path) with attacks in between:
    every attack is removed wherever it falls, everything else is byte for byte."""
    alloc = running(sim_thread)[0]
    log = b""
    for n, evil in enumerate(EVIL_LINES * 3):
        log += lines(n * 700, n * 700 + 700, "ok") + evil + "žluťoučký “kůň”\n".encode()
    sim_thread.files.write_log(alloc, "http", "stdout", log)
    env = base_env(tmp_path, sim_thread)
    out = stdout_bytes(env, "logs", JOB)
    assert out == clean(log.decode("utf-8", errors="replace"), newlines=True).encode()
    assert not [bad for bad in FORBIDDEN if bad in out]
    assert out.count(b"\n") == log.count(b"\n")  # no line lost or merged
    assert b"copy me\n" in out and b"raw \xef\xbf\xbd31mC1\n" in out
    assert stdout_bytes(env, "logs", "--raw", JOB) == log


def test_each_line_is_out_before_the_next_is_written(sim_thread: Sim, tmp_path: Path) -> None:
    """Line-buffered through a pipe: a complete line shows up while the task is still
    quiet (the follower would otherwise wait forever), a partial one once completed."""
    alloc = running(sim_thread)[0]
    follower = Follower(base_env(tmp_path, sim_thread), JOB, "-f")
    expected = b""
    try:
        for line in (b"first\n", b"second\n", b"thi", b"rd\n", b"\x1b[2Jfourth\n"):
            sim_thread.files.write_log(alloc, "http", "stdout", line)
            expected += line
            if line.endswith(b"\n"):
                follower.wait_for(len(expected.replace(b"\x1b[2J", b"")))
    finally:
        code, _ = follower.interrupt()
    assert code == 0
    assert bytes(follower.out) == b"first\nsecond\nthird\nfourth\n"


def test_all_merges_whole_lines_of_big_logs(sim_thread: Sim, tmp_path: Path) -> None:
    """`--all` over logs of many chunks: each allocation's lines, in order, each whole and
    prefixed, however the streams' chunks interleave."""
    allocs = running(sim_thread, "services-pyhi")
    for n, alloc in enumerate(allocs):
        sim_thread.files.write_log(alloc, "http", "stdout", lines(0, 3000, f"a{n}"))
    out = stdout_bytes(base_env(tmp_path, sim_thread), "logs", "--all", "services-pyhi")
    got: dict[bytes, list[bytes]] = {}
    for line in out.splitlines(keepends=True):
        prefix, _, rest = line.partition(b"] ")
        got.setdefault(prefix + b"] ", []).append(rest)
    assert got == {
        f"[{alloc[:8]}] ".encode(): lines(0, 3000, f"a{n}").splitlines(keepends=True)
        for n, alloc in enumerate(allocs)
    }


# -- error paths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["no-such-job"], "job no-such-job not found in any namespace"),
        (["services-nightly-backup"], "has no running allocation"),
        (["--alloc", "2", JOB], "there is no number 2"),
        (["--task", "nope", JOB], "has no task nope; its tasks are http"),
        (["--all", "--alloc", "1", JOB], "exclude each other"),
    ],
)
def test_errors(sim_thread: Sim, tmp_path: Path, args: list[str], expected: str) -> None:
    ran = invoke(base_env(tmp_path, sim_thread), "logs", *args)
    assert ran.code == 1
    assert expected in one_error_line(ran.err)


def test_refused_token_and_unreachable(sim_thread: Sim, tmp_path: Path) -> None:
    ran = invoke(base_env(tmp_path, sim_thread, NOMAD_TOKEN=BAD_TOKEN), "logs", "-f", JOB)
    assert ran.code == 1
    assert "403" in one_error_line(ran.err) and BAD_TOKEN not in ran.err
    addr = f"http://127.0.0.1:{closed_port()}"
    ran = invoke(base_env(tmp_path, NOMAD_ADDR=addr), "logs", JOB)
    assert ran.code == 1
    assert f"Cannot reach Nomad at {addr}" in one_error_line(ran.err)
