"""`nomtui serve`: the real server in a subprocess, a real page and websocket, the sim
behind the app; and the pure parts (the child's command line, origins) on their own.

The token is recognisable and must show up nowhere but in the app's environment: not in
the page, not in any command line of the server or its children, not in their output.
"""

from __future__ import annotations

import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from nomtui.cli import cli
from nomtui.commands.serve import (
    allowed_origins,
    apply_env,
    child_launch,
    origin_allowed,
    origin_of,
)
from nomtui.config import Flags
from tests.commands import base_env, closed_port, invoke, one_error_line, run_module

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig

TOKEN = "5e12fe00-70ce-4b1d-a11c-5ec12e7ba5e5"
EVIL = "http://evil.example"
START_S = 20.0
FRAMES_S = 30.0


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.token = TOKEN
    return sim_config


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int
    out: Path
    err: Path
    apps_seen: set[int] = field(default_factory=set)
    """The server's descendants when it was told to stop (to clean up after a failure)."""

    def output(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM, as a service manager (or Ctrl-C) would stop it."""
        if self.proc.poll() is None:
            self.apps_seen.update(_descendants(self.proc.pid))
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@contextmanager
def serving(env: dict[str, str | None], tmp_path: Path, *global_args: str) -> Iterator[Served]:
    """`python -m nomtui GLOBAL_ARGS serve` on a free port, until the block ends."""
    port = closed_port()
    full = {k: v for k, v in os.environ.items() if k not in env}
    full.update({k: v for k, v in env.items() if v is not None})
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as out_f, err.open("wb") as err_f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nomtui", *global_args, "serve", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out_f,
            stderr=err_f,
            env=full,
        )
    served = Served(proc, port, out, err)
    try:
        deadline = time.monotonic() + START_S
        while not _answers(port):
            assert proc.poll() is None, f"serve exited {proc.returncode}:\n{served.output()}"
            assert time.monotonic() < deadline, f"no answer in {START_S} s:\n{served.output()}"
            time.sleep(0.1)
        yield served
    finally:
        served.stop()
        # An app outlives a server that had to be killed (Textual's web driver does not
        # exit when its input closes): never leave one running after a failed test.
        for pid in _alive(sorted(served.apps_seen)):
            if b"nomtui" in _read(pid, "cmdline"):  # and not a new process with its pid
                os.kill(pid, signal.SIGKILL)


def _alive(pids: list[int]) -> list[int]:
    """Those of `pids` still running (not gone, not a zombie)."""
    running = []
    for pid in pids:
        stat = _read(pid, "stat")
        if stat and stat.rsplit(b")", 1)[1].split()[0] != b"Z":
            running.append(pid)
    return running


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`, from the parent ids in /proc/*/stat."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        todo += children
    return found


def _read(pid: int, name: str) -> bytes:
    try:
        return (Path("/proc") / str(pid) / name).read_bytes()
    except OSError:
        return b""


@contextmanager
def _tab(served: Served) -> Iterator[ClientConnection]:
    """The app's websocket, opened as the page opens it."""
    url = f"ws://127.0.0.1:{served.port}/ws?width=140&height=40"
    origin = Origin(f"http://127.0.0.1:{served.port}")
    with connect(url, origin=origin, open_timeout=10) as ws:
        yield ws


def _read_until(ws: ClientConnection, wanted: bytes) -> bytes:
    """The bytes the app sent until `wanted` shows up (or FRAMES_S passed)."""
    received = b""
    deadline = time.monotonic() + FRAMES_S
    while wanted not in received and time.monotonic() < deadline:
        try:
            message = ws.recv(timeout=1)
        except TimeoutError:
            continue
        if isinstance(message, bytes):
            received += message
    return received


def _apps(pids: list[int]) -> list[int]:
    return [pid for pid in pids if b"-m\x00nomtui" in _read(pid, "cmdline")]


def _assert_no_token_anywhere(served: Served, pids: list[int]) -> None:
    for pid in pids:
        assert TOKEN.encode() not in _read(pid, "cmdline"), _read(pid, "cmdline")
    assert TOKEN not in served.output(), served.output()


@pytest.mark.timeout(90)
def test_serves_the_page_and_the_app_without_showing_the_token(
    sim_thread: Sim, tmp_path: Path
) -> None:
    env = base_env(tmp_path, sim_thread)
    assert env["NOMAD_TOKEN"] == TOKEN
    with serving(env, tmp_path) as served:
        port = served.port
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page.text
        assert "<div>nomtui</div>" in page.text
        assert TOKEN not in page.text and TOKEN not in str(page.url)
        url = f"ws://127.0.0.1:{port}/ws"

        # A page of another site may not drive the app (browsers allow the attempt).
        with pytest.raises(InvalidStatus) as refused, connect(url, origin=Origin(EVIL)):
            pass
        assert refused.value.response.status_code == 403
        assert _descendants(served.proc.pid) == []

        with _tab(served) as ws:
            # The jobs show only if the app reached the sim with the token.
            frames = _read_until(ws, b"www-nomad")
            assert b"www-nomad" in frames, frames[-2000:]
            children = _descendants(served.proc.pid)
            apps = _apps(children)
            assert apps, [_read(pid, "cmdline") for pid in children]
            # It came through the environment, the one place meant for it.
            assert any(f"NOMAD_TOKEN={TOKEN}".encode() in _read(pid, "environ") for pid in apps)
            _assert_no_token_anywhere(served, [served.proc.pid, *children])
            # Stopped while a tab is open, the server takes the tab's app with it.
            served.stop()
            assert served.proc.returncode == 0, served.output()
            deadline = time.monotonic() + 15
            while _alive(children) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert _alive(children) == [], [_read(pid, "cmdline") for pid in _alive(children)]
    assert f"open http://127.0.0.1:{port} in a browser" in served.output()
    _assert_no_token_anywhere(served, [])


@pytest.mark.timeout(90)
def test_a_token_flag_moves_into_the_apps_environment(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread, NOMAD_TOKEN="")
    with serving(env, tmp_path, "--token", TOKEN, "--read-only") as served, _tab(served) as ws:
        frames = _read_until(ws, b"www-nomad")
        assert b"www-nomad" in frames, frames[-2000:]
        children = _descendants(served.proc.pid)
        apps = _apps(children)
        assert apps and all(b"--read-only" in _read(pid, "cmdline") for pid in apps)
        # The server's own command line has it: the user typed it there.
        _assert_no_token_anywhere(served, children)
    err = served.err.read_text()
    assert "warning: --token puts the token in the process list" in err, err


@pytest.mark.timeout(90)
def test_an_app_dies_with_a_server_killed_hard(sim_thread: Sim, tmp_path: Path) -> None:
    env = base_env(tmp_path, sim_thread)
    with serving(env, tmp_path) as served, _tab(served) as ws:
        frames = _read_until(ws, b"www-nomad")
        assert b"www-nomad" in frames, frames[-2000:]
        apps = _apps(_descendants(served.proc.pid))
        assert apps
        served.apps_seen.update(apps)
        served.proc.kill()  # SIGKILL: no chance to close the tabs
        served.proc.wait(5)
        deadline = time.monotonic() + 15
        while _alive(apps) and time.monotonic() < deadline:
            time.sleep(0.1)
        # Left running, the app would keep the token in its environment with nobody to
        # stop it.
        assert _alive(apps) == [], [_read(pid, "cmdline") for pid in _alive(apps)]


def test_a_host_off_loopback_is_refused_without_the_flag(tmp_path: Path) -> None:
    for host in ("0.0.0.0", "192.0.2.10", "example.org"):
        ran = invoke(base_env(tmp_path), "serve", "--host", host)
        assert ran.code == 1 and ran.out == ""
        line = one_error_line(ran.err)
        assert line.startswith(f"Error: --host {host} is not a loopback address"), line
        assert "--allow-non-loopback" in line


def test_a_port_in_use_is_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = run_module(base_env(tmp_path), "serve", "--port", str(port))
    assert ran.code == 1
    assert one_error_line(ran.err) == f"Error: port {port} is in use; pick another with --port."
    assert ran.out == ""


def test_missing_textual_serve_is_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes the import fail, as when the package is not installed.
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    ran = invoke(base_env(tmp_path), "serve", "--demo")
    assert ran.code == 1
    assert one_error_line(ran.err).startswith("Error: textual-serve is not installed")


def test_a_token_flag_is_refused_when_the_cluster_sets_its_own(tmp_path: Path) -> None:
    config = tmp_path / ".config" / "nomtui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        '[clusters.prod]\naddress = "http://127.0.0.1:1"\ntoken_env = "PROD_NOMAD_TOKEN"\n'
    )
    env = base_env(tmp_path, PROD_NOMAD_TOKEN="from-the-cluster")
    ran = invoke(env, "--cluster", "prod", "--token", TOKEN, "serve")
    assert ran.code == 1
    warnings = [line for line in ran.err.splitlines() if line.startswith("warning: --token")]
    line = one_error_line(ran.err.replace(warnings[0], ""))
    assert line.startswith("Error: cluster prod sets its own nomad.token"), line
    assert TOKEN not in ran.err


def test_a_broken_setting_fails_before_serving(tmp_path: Path) -> None:
    """Not once per browser tab, after the server has started."""
    ran = run_module(base_env(tmp_path), "--cluster", "nope", "serve", "--port", "1")
    assert ran.code == 1 and ran.out == ""
    assert "nope" in one_error_line(ran.err)


# -- the pure parts ------------------------------------------------------------------


def _parsed(argv: list[str]) -> dict[str, object]:
    """The global options the child's command line gives `nomtui`, as click reads them."""
    ctx = cli.make_context("nomtui", argv[3:], resilient_parsing=True)
    return dict(ctx.params)


def test_the_child_command_line_has_every_setting_but_the_secrets() -> None:
    flags = Flags(
        token=TOKEN,
        consul_token="consul-" + TOKEN,
        addr="https://ops:hunter2@nomad.example:4646",
        consul_addr="http://consul.example:8500",
        cluster="dev",
        read_only=True,
        namespace="-odd",
        region="eu",
        ca_cert="ca.pem",
        skip_verify=True,
    )
    launch = child_launch(flags, demo=False, python="/py")
    line = " ".join(launch.argv)
    for secret in (TOKEN, "hunter2"):
        assert secret not in line and secret not in repr(launch)
    assert launch.argv[:3] == ["/py", "-m", "nomtui"]
    params = _parsed(launch.argv)
    assert params["cluster"] == "dev" and params["read_only"] is True
    assert (params["namespace"], params["region"], params["ca_cert"]) == ("-odd", "eu", "ca.pem")
    assert params["consul_addr"] == "http://consul.example:8500"
    assert params["tls_skip_verify"] is True
    assert params["token"] is None and params["consul_token"] is None and params["addr"] is None
    assert launch.env == {
        "NOMAD_TOKEN": TOKEN,
        "CONSUL_HTTP_TOKEN": "consul-" + TOKEN,
        "NOMAD_ADDR": "https://ops:hunter2@nomad.example:4646",
    }
    # CONSUL_HTTP_TOKEN_FILE would win over CONSUL_HTTP_TOKEN in the child.
    assert launch.unset == ("CONSUL_HTTP_TOKEN_FILE",)
    assert set(launch.moved) == {"--token", "--consul-token", "--addr"}


def test_plain_flags_stay_flags() -> None:
    launch = child_launch(Flags(addr="http://nomad:4646"), demo=False, python="/py")
    assert launch.argv == ["/py", "-m", "nomtui", "--addr=http://nomad:4646"]
    assert launch.env == {} and launch.moved == {}


def test_the_demo_child_runs_nomtui_demo() -> None:
    launch = child_launch(Flags(token=TOKEN, read_only=True), demo=True, python="/py")
    assert launch.argv == ["/py", "-m", "nomtui", "--read-only", "demo"]
    assert launch.env == {}


def test_origins() -> None:
    assert origin_of("http://127.0.0.1:8000/ws?x=1") == "http://127.0.0.1:8000"
    assert origin_of("HTTPS://Nomtui.Example:443/") == "https://nomtui.example"
    assert origin_of("http://[::1]:8000") == "http://[::1]:8000"
    for bad in ("null", "file:///tmp/x.html", "http://", "http://host:port"):
        with pytest.raises(ValueError):
            origin_of(bad)

    local = allowed_origins("127.0.0.1", 8000, "http://127.0.0.1:8000")
    for ok in (None, "http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"):
        assert origin_allowed(ok, local), ok
    for refused in ("http://evil.example", "http://127.0.0.1:8001", "null", "https://x\x1b["):
        assert not origin_allowed(refused, local), refused

    proxied = allowed_origins("10.0.0.5", 8000, "https://nomtui.example/")
    assert proxied == frozenset({"https://nomtui.example"})
    assert not origin_allowed("http://10.0.0.5:8000", proxied)


def test_the_command_is_registered_and_described() -> None:
    assert "serve" in cli.commands
    assert re.search(r"loopback", cli.commands["serve"].help or "")


def test_apply_env_drops_what_would_win_over_a_moved_token() -> None:
    launch = child_launch(Flags(consul_token="c-" + TOKEN), demo=False, python="/py")
    environ = {"CONSUL_HTTP_TOKEN_FILE": "/elsewhere", "PATH": "/bin"}
    apply_env(launch, environ)
    assert environ == {"CONSUL_HTTP_TOKEN": "c-" + TOKEN, "PATH": "/bin"}


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_a_logged_error_shows_no_local_variables() -> None:
    """textual-serve logs a failed app start with its traceback; the environment it built
    for the app, token included, is a local variable there."""
    from rich.console import Console

    from nomtui.commands.serve import _server_class

    server = _server_class(frozenset())(
        "cmd", host="127.0.0.1", port=1, title="t", public_url="http://127.0.0.1:1"
    )
    out = io.StringIO()
    server.console = Console(file=out, width=200)
    server.initialize_logging()

    def spawn(environment: dict[str, str]) -> None:
        raise RuntimeError(f"cannot start the app ({len(environment)} variables)")

    try:
        spawn({"NOMAD_TOKEN": TOKEN})
    except RuntimeError as exc:
        logging.getLogger("textual-serve").exception(exc)
    assert "cannot start the app (1 variables)" in out.getvalue()
    assert TOKEN not in out.getvalue()
