"""`/v1/client/allocation/:alloc/exec`: Nomad's exec websocket, running real local commands.

Protocol per PROTOCOLS §6 and Nomad's agent bridge (`allocExec`/`execStreamImpl`): `command`
and `tty` are parsed before the upgrade (failures are plain HTTP 500s); the optional auth
handshake, existence, ACL and task checks happen after it and end in a close frame whose
reason is the error text (1011 for what Nomad codes 500, else 1008). Output frames are
`{"stdout":{"data":b64}}` / `{"stderr":...}`, then `{"stdout":{"close":true}}` (and stderr
without a TTY), then `{"exited":true,"result":{"exit_code":N}}` and close 1000.

A command that cannot be started behaves like `docker exec`: an error line on the output and
exit code 127 (not found) or 126 (found but not executable), not a protocol error.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from nomtui.sim.exec_proc import ExecProcess, ExecSpec
from nomtui.sim.fs_api import ZERO_TIME, alloc_dir
from nomtui.sim.fs_info import parse_go_bool
from nomtui.sim.http import ApiError

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

Json = dict[str, Any]
log = logging.getLogger(__name__)

HEARTBEAT_S = 10.0
"""Server heartbeat `{}` period (the Go client heartbeats every 10 s too)."""
EXIT_GRACE_S = 2.0
"""After the command exits, how long output from leftover children may still drain."""
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_MSG = 8 * 1024 * 1024
_DOWN = ("down", "disconnected")


class Close(Exception):
    """End the session with a websocket close frame (code, reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.code = 1011 if status == 500 else 1008
        self.reason = reason


def add_routes(app: web.Application, sim: Sim) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _exec(request, sim)

    app.router.add_get("/v1/client/allocation/{alloc_id}/exec", handler, allow_head=False)


def _parse_command(raw: str) -> list[str] | None:
    """json.Unmarshal into []string, with Go-like error texts."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        msg = "unexpected end of JSON input" if not raw.strip() else "invalid character"
        raise ApiError(500, f"failed to marshal command into json: {msg}") from None
    if value is None:
        return None
    if not isinstance(value, list):
        kind = {str: "string", bool: "bool", dict: "object"}.get(type(value), "number")
        raise ApiError(
            500,
            f"failed to marshal command into json: json: cannot unmarshal {kind} "
            "into Go value of type []string",
        )
    for item in value:
        if not isinstance(item, str):
            raise ApiError(
                500,
                "failed to marshal command into json: json: cannot unmarshal "
                "non-string into Go value of type string",
            )
    return value


async def _exec(request: web.Request, sim: Sim) -> web.StreamResponse:
    alloc_id = request.match_info["alloc_id"]
    task = request.query.get("task", "")
    command = _parse_command(request.query.get("command", ""))
    tty = False
    if request.query.get("tty", ""):
        try:
            tty = parse_go_bool(request.query["tty"])
        except ValueError as exc:
            raise ApiError(500, f"tty value is not a boolean: {exc}") from None

    # No permessage-deflate: Nomad's gorilla upgrader does not negotiate compression.
    ws = web.WebSocketResponse(autoping=True, max_msg_size=MAX_MSG, compress=False)
    await ws.prepare(request)
    try:
        token = await _handshake(ws, request, sim)
        alloc = _authorize(sim, alloc_id, token)
        argv, state = _validate(alloc, task, command)
        if state.get("State") != "running":
            raise Close(404, f'task "{task}" is not running.')
        await Session(ws, sim, alloc, task, argv, tty).run()
    except Close as exc:
        await _close(ws, exc.code, exc.reason)
    return ws


async def _close(ws: web.WebSocketResponse, code: int, reason: str) -> None:
    with contextlib.suppress(ConnectionResetError):  # the client may already be gone
        await ws.close(code=code, message=reason.encode()[:123])


async def _handshake(ws: web.WebSocketResponse, request: web.Request, sim: Sim) -> str | None:
    """The token: from the first frame when `ws_handshake` is true, else from the headers."""
    header_token = sim.acl.token_of(request)
    raw = request.query.get("ws_handshake", "")
    if not raw:
        return header_token
    try:
        wanted = parse_go_bool(raw)
    except ValueError as exc:
        raise Close(400, f"ws_handshake value is not a boolean: {exc}") from None
    if not wanted:
        return header_token
    msg = await ws.receive()
    if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
        raise Close(400, "EOF")
    try:
        frame = json.loads(msg.data)
        version, auth = frame.get("version", 0), frame.get("auth_token", "")
    except (ValueError, AttributeError):
        raise Close(400, "invalid handshake frame") from None
    if header_token and header_token != auth:
        raise Close(400, "handshake auth token mismatched auth header token")
    if version != 1:
        raise Close(400, f"unexpected handshake value: {version}")
    return str(auth)


def _authorize(sim: Sim, alloc_id: str, secret: str | None) -> Json:
    """The server's checks, in its order: alloc, ACL (alloc-exec = write here), node."""
    alloc = sim.state.allocs.get(alloc_id)
    if alloc is None:
        raise Close(404, f'Unknown allocation "{alloc_id}"')
    if not secret:
        raise Close(403, "Permission denied")
    token = sim.acl.lookup(secret)
    if token is None:
        raise Close(403, "ACL token not found")
    if token.type != "management":
        raise Close(403, "Permission denied")
    node_id = alloc.get("NodeID", "")
    node = sim.state.nodes.get(node_id)
    if node is None:
        raise Close(400, f'Unknown node "{node_id}"')
    if node.get("Status") in _DOWN:
        raise Close(404, "No path to node")
    return alloc


def _validate(alloc: Json, task: str, command: list[str] | None) -> tuple[list[str], Json]:
    """The client's checks (`execImpl`), in its order."""
    if not task:
        raise Close(400, "must provide task name")
    if not command:
        raise Close(400, "command is not present")
    state = (alloc.get("TaskStates") or {}).get(task)
    if state is None:
        # The alloc runner has no such task (GetTaskDriverCapabilities). Nomad codes this
        # 500 (close 1011); the sim answers 1008 like the other "bad request" cases.
        raise Close(400, "task not found")
    if state.get("StartedAt") in (None, "", ZERO_TIME):
        raise Close(404, f'task "{task}" not started yet.')
    return command, state


class Session:
    """One exec: the process plus the pumps between it and the websocket."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        sim: Sim,
        alloc: Json,
        task: str,
        argv: list[str],
        tty: bool,
    ) -> None:
        self.ws = ws
        self.sim = sim
        self.alloc = alloc
        self.task = task
        self.argv = argv
        self.tty = tty
        self._send_lock = asyncio.Lock()

    def _spec(self) -> ExecSpec:
        base = alloc_dir(self.sim, self.alloc)
        task_dir = self.sim.files.task_dir(self.alloc["ID"], self.task)
        for sub in ("local", "secrets", "tmp"):
            (task_dir / sub).mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", DEFAULT_PATH),
            "HOME": str(task_dir),
            "NOMAD_ALLOC_DIR": str(base / "alloc"),
            "NOMAD_TASK_DIR": str(task_dir / "local"),
            "NOMAD_SECRETS_DIR": str(task_dir / "secrets"),
            "NOMAD_ALLOC_ID": self.alloc["ID"],
            "NOMAD_ALLOC_NAME": self.alloc.get("Name", ""),
            "NOMAD_TASK_NAME": self.task,
            "NOMAD_JOB_NAME": self.alloc.get("JobID", ""),
            "NOMAD_GROUP_NAME": self.alloc.get("TaskGroup", ""),
            "NOMAD_NAMESPACE": self.alloc.get("Namespace", "default"),
        }
        if self.tty:
            env["TERM"] = "xterm-256color"
        return ExecSpec(argv=self.argv, cwd=str(task_dir), env=env, tty=self.tty)

    async def send(self, frame: Json) -> None:
        async with self._send_lock:
            await self.ws.send_str(json.dumps(frame, separators=(",", ":")))

    async def run(self) -> None:
        try:
            proc = await ExecProcess.spawn(self._spec())
        except OSError as exc:
            try:
                await self._not_started(exc)
            except ConnectionResetError:
                log.debug("exec client went away before the start error was sent")
            return
        tasks: list[asyncio.Task[Any]] = []
        try:
            readers = [self._pump(proc.stdout.read, "stdout")]
            if proc.stderr is not None:
                readers.append(self._pump(proc.stderr.read, "stderr"))
            outputs = [asyncio.create_task(r) for r in readers]
            client = asyncio.create_task(self._input(proc))
            waiter = asyncio.create_task(proc.wait())
            tasks = [*outputs, client, waiter, asyncio.create_task(self._heartbeat())]
            await asyncio.wait([waiter, client], return_when=asyncio.FIRST_COMPLETED)
            if not waiter.done():
                # Client gone or protocol error: take the command and its children down.
                proc.kill_group()
                await asyncio.wait([waiter])
                failure = client.result() if not client.cancelled() else None
                if failure is not None:
                    await _close(self.ws, 1011, failure)
                return
            _, pending = await asyncio.wait(outputs, timeout=EXIT_GRACE_S)
            if pending:
                # Leftover children hold the output open; they keep the group alive, so the
                # group id cannot have been reused yet.
                proc.kill_group()
                await asyncio.wait(pending, timeout=EXIT_GRACE_S)
            await self.send({"exited": True, "result": {"exit_code": waiter.result()}})
            await self.ws.close(code=1000)
        except ConnectionResetError:
            log.debug("exec client went away while output was being sent")
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                    await t  # only collecting: the outcome was handled above
            if proc.proc.returncode is None:
                # Kill only before reaping: afterwards the group id could name someone else.
                proc.kill_group()
                await proc.proc.wait()  # reap: never leave a zombie
            proc.close()

    async def _not_started(self, exc: OSError) -> None:
        name = self.argv[0]
        if isinstance(exc, FileNotFoundError):
            text, code = f'exec: "{name}": executable file not found in $PATH', 127
        else:
            text, code = f'exec: "{name}": {exc.strerror or exc}', 126
        stream = "stdout" if self.tty else "stderr"
        data = (text + ("\r\n" if self.tty else "\n")).encode()
        await self.send({stream: {"data": base64.b64encode(data).decode()}})
        await self.send({"stdout": {"close": True}})
        if not self.tty:
            await self.send({"stderr": {"close": True}})
        await self.send({"exited": True, "result": {"exit_code": code}})
        await self.ws.close(code=1000)

    async def _pump(self, read: Callable[[], Awaitable[bytes]], stream: str) -> None:
        while True:
            try:
                data = await read()
            except OSError as exc:
                log.debug("exec %s read failed: %s", stream, exc)
                data = b""
            if not data:
                await self.send({stream: {"close": True}})
                return
            await self.send({stream: {"data": base64.b64encode(data).decode()}})

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            await self.send({})

    async def _input(self, proc: ExecProcess) -> str | None:
        """Client frames into the process; returns when the client is gone (None) or on a
        malformed frame (its error text, ending the session with 1011 like Nomad)."""
        while True:
            msg = await self.ws.receive()
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                return None  # close, closing, closed or transport error
            try:
                frame = json.loads(msg.data)
                if not isinstance(frame, dict):
                    raise ValueError("frame is not an object")
                stdin = frame.get("stdin") or {}
                data = base64.b64decode(stdin.get("data") or "", validate=True)
                size = frame.get("tty_size")
            except (ValueError, AttributeError, binascii.Error) as exc:
                return f"invalid exec frame: {exc}"
            if data:
                await proc.write_stdin(data)
            if stdin.get("close") and not self.sim.injector.faults.exec_ignore_stdin_close:
                # The fault reproduces Nomad 1.9.0 (#24171): the close never reaches the process.
                await proc.end_stdin()
            if isinstance(size, dict):
                try:
                    proc.resize(int(size.get("height", 0)), int(size.get("width", 0)))
                except (OSError, TypeError, ValueError, OverflowError) as exc:
                    log.debug("exec: ignoring tty_size %r: %s", size, exc)
