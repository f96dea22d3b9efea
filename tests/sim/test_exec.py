"""The sim's alloc exec websocket over real loopback sockets (PROTOCOLS §6).

Commands really run (in the task dir, in their own session); the client is the `websockets`
library, as a stand-in for any non-Go client.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import signal
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from nomtui.sim import exec_api
from nomtui.sim.acl import Acl
from nomtui.sim.allocfs import AllocFiles
from nomtui.sim.answers import Answers
from nomtui.sim.clock import SystemClock
from nomtui.sim.faults import FaultInjector, Faults
from nomtui.sim.http import ApiError, error
from nomtui.sim.ids import IdSource
from nomtui.sim.state import State
from nomtui.sim.traffic import Traffic

ALLOC = "5fc98185-17ff-26bc-a802-0c74fa471c99"
NODE = "f7476465-4d6e-c0de-26d0-e383c49be941"


@dataclass
class FakeConfig:
    seed: int = 42
    log_lines_per_s: float = 0.0
    log_max_file_bytes: int = 1024 * 1024
    frame_heartbeat_s: float = 1.0


class FakeSim:
    """The parts of `Sim` the exec module uses, for when the full sim cannot import."""

    def __init__(self, root: Path) -> None:
        self.config = FakeConfig()
        self.clock = SystemClock()
        self.ids = IdSource(self.config.seed)
        self.state = State(self.clock, self.ids)
        self.acl = Acl(self.ids, self.clock.now_ns(), None, None)
        self.injector = FaultInjector(Faults(), self.config.seed)
        self.answers = Answers()
        self.traffic = Traffic()
        self.files = AllocFiles(root, self)  # type: ignore[arg-type]

    @property
    def management_token(self) -> str:
        return self.acl.management.secret_id

    @property
    def read_token(self) -> str:
        return self.acl.read_only.secret_id


def make_sim(root: Path) -> Any:
    """A real, never started `Sim` when the whole sim imports; else the fake."""
    try:
        from nomtui.sim.server import Sim, SimConfig
    except ImportError:
        return FakeSim(root)
    return Sim(SimConfig(data_dir=root, lifecycle=False, log_lines_per_s=0))


@dataclass
class Exec:
    sim: Any
    base: str

    def url(self, command: list[str] | str, alloc: str = ALLOC, **params: str) -> str:
        cmd = command if isinstance(command, str) else json.dumps(command)
        query = urllib.parse.urlencode({"task": "web", "command": cmd, **params})
        return f"{self.base}/v1/client/allocation/{alloc}/exec?{query}"

    def connect(self, url: str, token: str | None = "mgmt") -> Any:
        if token == "mgmt":
            token = self.sim.management_token
        headers = {"X-Nomad-Token": token} if token else {}
        return connect(url, additional_headers=headers, proxy=None, compression=None, max_size=None)


@pytest.fixture
async def ex(tmp_path: Path) -> AsyncIterator[Exec]:
    sim = make_sim(tmp_path / "allocs")
    sim.state.nodes[NODE] = {"ID": NODE, "Name": "node-1", "Status": "ready"}
    sim.state.allocs[ALLOC] = {
        "ID": ALLOC,
        "Name": "web.web[0]",
        "JobID": "web",
        "Namespace": "default",
        "NodeID": NODE,
        "TaskGroup": "web",
        "JobVersion": 0,
        "ClientStatus": "running",
        "DesiredStatus": "run",
        "TaskStates": {
            "web": {"State": "running", "StartedAt": "2025-11-25T09:00:00Z"},
            "init": {"State": "pending", "StartedAt": "0001-01-01T00:00:00Z"},
            "done": {"State": "dead", "StartedAt": "2025-11-25T09:00:00Z"},
        },
    }
    sim.files.create(sim.state.allocs[ALLOC], ["web", "init", "done"])

    @web.middleware
    async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except ApiError as exc:
            return error(exc.status, exc.text)
        return response

    app = web.Application(middlewares=[errors])
    exec_api.add_routes(app, sim)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Exec(sim, str(server.make_url("")).replace("http://", "ws://"))
    finally:
        await server.close()


@dataclass
class Result:
    stdout: bytes
    stderr: bytes
    frames: list[dict[str, Any]]
    exit_code: int | None
    close_code: int | None
    close_reason: str


async def collect(ws: ClientConnection, timeout: float = 5.0) -> Result:
    """Read frames until the server closes the websocket."""
    out, err, frames = b"", b"", []
    exit_code = None
    try:
        async with asyncio.timeout(timeout):
            async for raw in ws:
                frame = json.loads(raw)
                frames.append(frame)
                if "data" in frame.get("stdout", {}):
                    out += base64.b64decode(frame["stdout"]["data"])
                if "data" in frame.get("stderr", {}):
                    err += base64.b64decode(frame["stderr"]["data"])
                if frame.get("exited"):
                    exit_code = frame["result"]["exit_code"]
    except ConnectionClosed:
        pass  # a non-1000 close: its code and reason are checked by the caller
    return Result(out, err, frames, exit_code, ws.close_code, ws.close_reason or "")


def same_file(a: str | Path, b: str | Path) -> bool:
    return os.path.samefile(a, b)


def stdin(data: bytes) -> str:
    return json.dumps({"stdin": {"data": base64.b64encode(data).decode()}})


STDIN_CLOSE = json.dumps({"stdin": {"close": True}})


# -- running commands ------------------------------------------------------------------------


async def test_echo(ex: Exec) -> None:
    async with ex.connect(ex.url(["echo", "hello", "world"])) as ws:
        res = await collect(ws)
    assert res.stdout == b"hello world\n"
    assert res.exit_code == 0
    assert res.close_code == 1000
    assert res.frames[-3:] == [
        {"stdout": {"close": True}},
        {"stderr": {"close": True}},
        {"exited": True, "result": {"exit_code": 0}},
    ] or res.frames[-3:] == [
        {"stderr": {"close": True}},
        {"stdout": {"close": True}},
        {"exited": True, "result": {"exit_code": 0}},
    ]


async def test_exit_code_stderr_and_env(ex: Exec) -> None:
    script = 'echo "$NOMAD_TASK_NAME $NOMAD_ALLOC_ID $NOMAD_GROUP_NAME"; pwd; echo oops >&2; exit 3'
    async with ex.connect(ex.url(["/bin/sh", "-c", script])) as ws:
        res = await collect(ws)
    lines = res.stdout.decode().splitlines()
    assert lines[0] == f"web {ALLOC} web"
    assert same_file(lines[1], ex.sim.files.task_dir(ALLOC, "web"))
    assert res.stderr == b"oops\n"
    assert res.exit_code == 3


async def test_killed_by_signal_reports_128_plus_signal(ex: Exec) -> None:
    async with ex.connect(ex.url(["/bin/sh", "-c", "kill -TERM $$"])) as ws:
        res = await collect(ws)
    assert res.exit_code == 128 + signal.SIGTERM


async def test_stdin_then_close_ends_cat(ex: Exec) -> None:
    async with ex.connect(ex.url(["cat"])) as ws:
        await ws.send(stdin(b"hello "))
        await ws.send(json.dumps({}))  # client heartbeat: ignored
        await ws.send(stdin(b"exec\n"))
        await ws.send(STDIN_CLOSE)
        res = await collect(ws)
    assert res.stdout == b"hello exec\n"
    assert res.exit_code == 0


async def test_tty_mode(ex: Exec) -> None:
    script = "tty; echo TERM=$TERM; read line; stty size; echo got:$line"
    async with ex.connect(ex.url(["/bin/sh", "-c", script], tty="true")) as ws:
        await ws.send(json.dumps({"tty_size": {"height": 40, "width": 120}}))
        await ws.send(stdin(b"go\r"))
        res = await collect(ws)
    text = res.stdout.decode()
    assert "/dev/pts/" in text
    assert "TERM=xterm-256color" in text
    assert "40 120" in text
    assert "got:go" in text
    assert res.exit_code == 0
    assert res.stderr == b""
    assert {"stderr": {"close": True}} not in res.frames  # one stream on a terminal


async def test_tty_stdin_close_sends_eof_character(ex: Exec) -> None:
    async with ex.connect(ex.url(["cat"], tty="true")) as ws:
        await ws.send(stdin(b"abc\r"))
        await ws.send(STDIN_CLOSE)
        res = await collect(ws)
    assert b"abc" in res.stdout
    assert res.exit_code == 0


async def test_ignored_stdin_close_fault_and_disconnect_kills(ex: Exec) -> None:
    ex.sim.injector.faults.exec_ignore_stdin_close = True
    async with ex.connect(ex.url(["/bin/sh", "-c", "echo $$; exec cat"])) as ws:
        first = json.loads(await ws.recv())
        pid = int(base64.b64decode(first["stdout"]["data"]))
        await ws.send(STDIN_CLOSE)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.7):
                async for raw in ws:
                    assert not json.loads(raw).get("exited")
        os.kill(pid, 0)  # still running: the close never reached it
    # The client went away: the server kills the process group and reaps it.
    async with asyncio.timeout(3):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.05)


async def test_missing_binary(ex: Exec) -> None:
    async with ex.connect(ex.url(["no-such-binary-xyz", "--flag"])) as ws:
        res = await collect(ws)
    assert res.stderr == b'exec: "no-such-binary-xyz": executable file not found in $PATH\n'
    assert res.exit_code == 127
    assert res.close_code == 1000
    not_exec = ex.sim.files.task_dir(ALLOC, "web") / "local" / "app.conf"
    async with ex.connect(ex.url([str(not_exec)])) as ws:
        res = await collect(ws)
    assert res.exit_code == 126


async def test_large_stdin_to_file(ex: Exec) -> None:
    payload = os.urandom(20 * 1024 * 1024)
    async with ex.connect(ex.url(["/bin/sh", "-c", "cat > big.bin"])) as ws:
        for i in range(0, len(payload), 64 * 1024):
            await ws.send(stdin(payload[i : i + 64 * 1024]))
        await ws.send(STDIN_CLOSE)
        res = await collect(ws, timeout=30)
    assert res.exit_code == 0
    written = (ex.sim.files.task_dir(ALLOC, "web") / "big.bin").read_bytes()
    assert hashlib.sha256(written).hexdigest() == hashlib.sha256(payload).hexdigest()


# -- auth and errors -------------------------------------------------------------------------


async def closed_with(ex: Exec, url: str, token: str | None = "mgmt", first: str = "") -> Result:
    async with ex.connect(url, token) as ws:
        if first:
            await ws.send(first)
        return await collect(ws)


async def test_acl(ex: Exec) -> None:
    url = ex.url(["echo", "hi"])
    res = await closed_with(ex, url, ex.sim.read_token)
    assert (res.close_code, res.close_reason) == (1008, "Permission denied")
    res = await closed_with(ex, url, None)
    assert (res.close_code, res.close_reason) == (1008, "Permission denied")
    res = await closed_with(ex, url, "6b3c4a7e-0000-0000-0000-000000000000")
    assert (res.close_code, res.close_reason) == (1008, "ACL token not found")
    assert res.exit_code is None


async def test_ws_handshake(ex: Exec) -> None:
    url = ex.url(["echo", "hi"], ws_handshake="true")
    auth = json.dumps({"version": 1, "auth_token": ex.sim.management_token})
    res = await closed_with(ex, url, None, auth)
    assert (res.stdout, res.exit_code, res.close_code) == (b"hi\n", 0, 1000)
    bad = json.dumps({"version": 2, "auth_token": ex.sim.management_token})
    res = await closed_with(ex, url, None, bad)
    assert (res.close_code, res.close_reason) == (1008, "unexpected handshake value: 2")
    readonly = json.dumps({"version": 1, "auth_token": ex.sim.read_token})
    res = await closed_with(ex, url, None, readonly)
    assert (res.close_code, res.close_reason) == (1008, "Permission denied")


async def test_unknown_alloc_node_down_and_task_state(ex: Exec) -> None:
    other = "00000000-1111-2222-3333-444444444444"
    res = await closed_with(ex, ex.url(["echo"], alloc=other))
    assert (res.close_code, res.close_reason) == (1008, f'Unknown allocation "{other}"')
    res = await closed_with(ex, ex.url(["echo"], task="nope"))
    assert (res.close_code, res.close_reason) == (1008, "task not found")
    res = await closed_with(ex, ex.url(["echo"], task="init"))
    assert (res.close_code, res.close_reason) == (1008, 'task "init" not started yet.')
    res = await closed_with(ex, ex.url(["echo"], task="done"))
    assert (res.close_code, res.close_reason) == (1008, 'task "done" is not running.')
    res = await closed_with(ex, ex.url([]))
    assert (res.close_code, res.close_reason) == (1008, "command is not present")
    ex.sim.state.nodes[NODE]["Status"] = "down"
    res = await closed_with(ex, ex.url(["echo"]))
    assert (res.close_code, res.close_reason) == (1008, "No path to node")


async def test_bad_command_is_http_500(ex: Exec) -> None:
    for command in ('"echo hi"', "[1, 2]", "", "{"):
        with pytest.raises(InvalidStatus) as info:
            async with ex.connect(ex.url(command)):
                pass
        assert info.value.response.status_code == 500, command
        assert info.value.response.body.startswith(b"failed to marshal command into json")
    with pytest.raises(InvalidStatus) as info:
        async with ex.connect(ex.url(["echo"], tty="maybe")):
            pass
    assert info.value.response.status_code == 500


async def test_malformed_frame_ends_session_with_1011(ex: Exec) -> None:
    async with ex.connect(ex.url(["cat"])) as ws:
        await ws.send("this is not json")
        res = await collect(ws)
    assert res.close_code == 1011
    assert res.close_reason.startswith("invalid exec frame")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def has_children() -> bool:
    """True while this process has a child, running or zombie (reaping it if it is one)."""
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return False
    return True


async def test_no_leaked_fds_or_zombies(ex: Exec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exec_api, "EXIT_GRACE_S", 0.2)

    async def run(url: str, *frames: str) -> None:
        async with ex.connect(url) as ws:
            for f in frames:
                await ws.send(f)
            await collect(ws)

    await run(ex.url(["true"]))  # warm up lazily opened fds (child watcher, selectors)
    before = open_fds()
    for _ in range(3):
        await run(ex.url(["echo", "x"]))
        await run(ex.url(["cat"], tty="true"), stdin(b"x\r"), STDIN_CLOSE)
        await run(ex.url(["missing-binary-xyz"]))
        await run(ex.url(["/bin/sh", "-c", "sleep 5 & echo started"]))
        async with ex.connect(ex.url(["sleep", "30"])):
            await asyncio.sleep(0.05)  # leave while it runs
    await asyncio.sleep(0.3)
    assert open_fds() <= before
    assert not has_children()  # nothing left running, not even a zombie
