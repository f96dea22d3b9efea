"""`/v1/client/fs/*`: ls, stat, cat, readat, stream and logs over the sim's alloc dirs.

Validation order, texts and status codes follow Nomad's agent (`command/agent/fs_endpoint.go`)
and client (`client/fs_endpoint.go`, `allocdir`), see PROTOCOLS §5 and §7. Everything that
can fail is checked before the response starts, so failures are ordinary HTTP errors; once a
stream has started (status 200 sent) a failure can only append its text and end the body.
ACLs are enforced by the sim's middleware (any valid token may read).
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nomtui.sim import traffic
from nomtui.sim.faults import StreamCut
from nomtui.sim.fs_info import file_info, parse_go_bool, parse_go_int, sniff_content_type
from nomtui.sim.fs_stream import FRAME_SIZE, FrameSink, LogsError, list_logs, stream_file
from nomtui.sim.fs_stream import stream_logs as run_logs
from nomtui.sim.http import ApiError, json_response

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

Json = dict[str, Any]
log = logging.getLogger(__name__)

ZERO_TIME = "0001-01-01T00:00:00Z"
_DOWN = ("down", "disconnected")


def add_routes(app: web.Application, sim: Sim) -> None:
    handlers = {
        "ls": _ls,
        "stat": _stat,
        "cat": _cat,
        "readat": _readat,
        "stream": _stream,
        "logs": _logs,
    }
    for name, fn in handlers.items():
        app.router.add_get(f"/v1/client/fs/{name}/{{alloc_id}}", _bind(fn, sim))
        app.router.add_get(f"/v1/client/fs/{name}/", _no_alloc_id)


FsHandler = Callable[[web.Request, "Sim"], Awaitable[web.StreamResponse]]
StreamBody = Callable[[FrameSink], Awaitable[None]]


def _bind(fn: FsHandler, sim: Sim) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await fn(request, sim)

    return handler


async def _no_alloc_id(request: web.Request) -> web.StreamResponse:
    raise ApiError(400, "must provide a valid alloc id")


# -- parameter parsing (Go's strconv semantics) -------------------------------------------


def _bool_param(request: web.Request, name: str, default: bool, status: int) -> bool:
    raw = request.query.get(name, "")
    if raw == "":
        return default
    try:
        return parse_go_bool(raw)
    except ValueError as exc:
        raise ApiError(status, f"failed to parse {name} field to boolean: {exc}") from None


def _offset_param(request: web.Request, status: int) -> int:
    raw = request.query.get("offset", "")
    if raw == "":
        return 0
    try:
        return parse_go_int(raw)
    except ValueError as exc:
        raise ApiError(status, f"error parsing offset: {exc}") from None


def _origin_param(request: web.Request) -> str:
    origin = request.query.get("origin", "") or "start"
    if origin not in ("start", "end"):
        raise ApiError(400, "origin must be start or end")
    return origin


def _path_param(request: web.Request) -> str:
    path = request.query.get("path", "")
    if not path:
        raise ApiError(400, "must provide a file name")
    return path


# -- allocation and path resolution -------------------------------------------------------


def client_alloc(sim: Sim, alloc_id: str) -> Json:
    """The alloc, if its client is reachable: the server-side checks of a client RPC."""
    alloc = sim.state.allocs.get(alloc_id)
    if alloc is None:
        raise ApiError(404, f'Unknown allocation "{alloc_id}"')
    node_id = alloc.get("NodeID", "")
    node = sim.state.nodes.get(node_id)
    if node is None:
        raise ApiError(500, f"Unknown node {node_id}")
    if node.get("Status") in _DOWN:
        raise ApiError(404, "No path to node")
    return alloc


def alloc_dir(sim: Sim, alloc: Json) -> Path:
    """The alloc's directory; built on first use when nothing created it yet."""
    base = sim.files.path(alloc["ID"])
    if not base.is_dir():
        sim.files.create(alloc, list(alloc.get("TaskStates") or {}))
    return base


def _resolve(base: Path, rel: str) -> Path:
    """filepath.Join(allocDir, path), refusing anything that ends up outside the alloc dir."""
    joined = Path(os.path.normpath(os.path.join(base, rel.lstrip("/"))))
    real, root = os.path.realpath(joined), os.path.realpath(base)
    if real != root and not real.startswith(root + os.sep):
        raise ApiError(400, "Path escapes the alloc directory")
    return joined


def _refuse_secrets(base: Path, rel: str) -> None:
    """allocdir.ReadAt: task secrets (and private) dirs are never readable over the API."""
    parts = Path(os.path.normpath(rel.lstrip("/") or ".")).parts
    if len(parts) >= 2 and parts[0] != "alloc" and (base / parts[0]).is_dir():
        if parts[1].lower() == "secrets":
            raise ApiError(500, f"Reading secret file prohibited: {rel}")
        if parts[1].lower() == "private":
            raise ApiError(500, f"Reading private file prohibited: {rel}")


# -- ls / stat / cat / readat -------------------------------------------------------------


async def _ls(request: web.Request, sim: Sim) -> web.StreamResponse:
    alloc = client_alloc(sim, request.match_info["alloc_id"])
    rel = request.query.get("path", "") or "/"
    target = _resolve(alloc_dir(sim, alloc), rel)
    try:
        names = sorted(os.listdir(target))
    except FileNotFoundError:
        raise ApiError(404, f"open {target}: no such file or directory") from None
    except NotADirectoryError:
        raise ApiError(500, f"readdirent {target}: not a directory") from None
    files = []
    for name in names:
        try:
            files.append(file_info(target / name, content_type=False))
        except FileNotFoundError:
            continue  # removed while listing (rotation)
    return json_response(request, sim, files)


async def _stat(request: web.Request, sim: Sim) -> web.StreamResponse:
    rel = _path_param(request)
    alloc = client_alloc(sim, request.match_info["alloc_id"])
    target = _resolve(alloc_dir(sim, alloc), rel)
    try:
        return json_response(request, sim, file_info(target, content_type=True))
    except FileNotFoundError:
        raise ApiError(404, f"stat {target}: no such file or directory") from None


def _open_for_stream(sim: Sim, request: web.Request, rel: str) -> tuple[Path, Path, int, str]:
    """Stat + directory check done by the Stream RPC before anything is sent (400s)."""
    alloc = client_alloc(sim, request.match_info["alloc_id"])
    base = alloc_dir(sim, alloc)
    target = _resolve(base, rel)
    try:
        st = target.stat()
    except FileNotFoundError:
        raise ApiError(400, f"stat {target}: no such file or directory") from None
    if stat.S_ISDIR(st.st_mode):
        raise ApiError(400, f'file "{rel}" is a directory')
    _refuse_secrets(base, rel)
    return base, target, st.st_size, os.path.normpath(rel.lstrip("/"))


async def _cat(request: web.Request, sim: Sim) -> web.StreamResponse:
    rel = _path_param(request)
    _, target, _, _ = _open_for_stream(sim, request, rel)
    return await _send_raw(request, sim, target, 0, 0)


async def _readat(request: web.Request, sim: Sim) -> web.StreamResponse:
    rel = _path_param(request)
    try:
        offset = parse_go_int(request.query.get("offset", ""))
    except ValueError as exc:
        raise ApiError(500, f"error parsing offset: {exc}") from None
    limit = 0
    if request.query.get("limit", ""):
        try:
            limit = parse_go_int(request.query["limit"])
        except ValueError as exc:
            raise ApiError(500, f"error parsing limit: {exc}") from None
    _, target, _, _ = _open_for_stream(sim, request, rel)
    if offset < 0:
        raise ApiError(500, f"can't seek to offset {offset}: invalid argument")
    return await _send_raw(request, sim, target, offset, limit)


async def _send_raw(
    request: web.Request, sim: Sim, target: Path, offset: int, limit: int
) -> web.StreamResponse:
    """cat/readat: raw bytes, with a Content-Type a browser will not render (noxssrw)."""
    try:
        fh = target.open("rb")
    except OSError as exc:  # gone or unreadable since the stat: still before any byte
        raise ApiError(500, str(exc)) from None
    with fh:
        fh.seek(offset)
        first = fh.read(min(limit, FRAME_SIZE) if limit > 0 else FRAME_SIZE)
        ctype = sniff_content_type(first[:512])
        if ctype.startswith("text/html"):
            ctype = "text/plain; charset=utf-8"
        resp = web.StreamResponse(headers={"Content-Type": ctype})
        await resp.prepare(request)
        guard = traffic.guard(sim, request, resp)
        remaining = limit - len(first) if limit > 0 else -1
        chunk = first
        try:
            while chunk:
                await guard.write(chunk)
                if remaining == 0:
                    break
                want = FRAME_SIZE if remaining < 0 else min(remaining, FRAME_SIZE)
                chunk = fh.read(want)
                if remaining > 0:
                    remaining -= len(chunk)
            await resp.write_eof()
        except (StreamCut, ConnectionResetError) as exc:
            # Cut by the fault injector or the client went away: the body just ends.
            log.debug("fs %s ended early: %r", request.path, exc)
    return resp


# -- stream / logs --------------------------------------------------------------------------


def _alive(request: web.Request) -> Callable[[], bool]:
    def alive() -> bool:
        transport = request.transport
        return transport is not None and not transport.is_closing()

    return alive


async def _run_stream(
    request: web.Request,
    sim: Sim,
    content_type: str,
    plain: bool,
    body: StreamBody,
) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": content_type})
    await resp.prepare(request)
    guard = traffic.guard(sim, request, resp)
    sink = FrameSink(
        guard, plain=plain, heartbeat_s=sim.config.frame_heartbeat_s, alive=_alive(request)
    )
    try:
        try:
            await body(sink)
            await sink.close()
        except (LogsError, OSError) as exc:
            if isinstance(exc, ConnectionResetError):
                raise
            # Status 200 is out already: like Nomad's agent, append the error text and end.
            await sink.close()
            await guard.write(str(exc).encode())
        await resp.write_eof()
    except (StreamCut, ConnectionResetError) as exc:
        # Cut by the fault injector or the client went away: the stream just ends.
        log.debug("fs %s ended early: %r", request.path, exc)
    except asyncio.CancelledError:
        log.debug("fs stream cancelled: %s", request.path)
        raise
    return resp


async def _stream(request: web.Request, sim: Sim) -> web.StreamResponse:
    rel = _path_param(request)
    follow = _bool_param(request, "follow", True, 500)
    offset = _offset_param(request, 500)
    origin = _origin_param(request)
    base, _, size, rel_clean = _open_for_stream(sim, request, rel)
    if origin == "end":
        offset = max(size - offset, 0)
    if offset < 0:
        raise ApiError(500, f"can't seek to offset {offset}: invalid argument")

    async def body(sink: FrameSink) -> None:
        await stream_file(sink, base, rel_clean, offset, follow=follow)

    # The agent sets no Content-Type here; Go sniffs the first frame as text.
    return await _run_stream(request, sim, "text/plain; charset=utf-8", False, body)


async def _logs(request: web.Request, sim: Sim) -> web.StreamResponse:
    alloc_id = request.match_info["alloc_id"]
    task = request.query.get("task", "")
    if not task:
        raise ApiError(400, "must provide task name")
    follow = _bool_param(request, "follow", False, 400)
    plain = _bool_param(request, "plain", False, 400)
    log_type = request.query.get("type", "")
    if log_type not in ("stdout", "stderr"):
        raise ApiError(400, "must provide log type (stdout/stderr)")
    offset = _offset_param(request, 400)
    origin = _origin_param(request)
    alloc = client_alloc(sim, alloc_id)
    state = (alloc.get("TaskStates") or {}).get(task)
    if state is None:
        raise ApiError(400, f'unknown task name "{task}"')
    if state.get("StartedAt") in (None, "", ZERO_TIME):
        raise ApiError(404, f'task "{task}" not started yet. No logs available')
    base = alloc_dir(sim, alloc)
    try:
        list_logs(base, task, log_type)
    except LogsError as exc:
        raise ApiError(exc.status, exc.text) from None

    async def body(sink: FrameSink) -> None:
        await run_logs(sink, base, task, log_type, offset=offset, origin=origin, follow=follow)

    ctype = "text/plain" if plain else "application/json"
    return await _run_stream(request, sim, ctype, plain, body)
