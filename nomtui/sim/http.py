"""HTTP helpers shared by the sim's Nomad and Consul handlers: errors, headers, blocking."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

MAX_WAIT_S = {"X-Nomad": 300.0, "X-Consul": 600.0}
DEFAULT_WAIT_S = 300.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_jitter = random.Random(0)


def error(status: int, text: str) -> web.Response:
    """Nomad and Consul answer errors as plain text, without a trailing newline."""
    return web.Response(status=status, text=text)


class ApiError(Exception):
    """Raised inside a handler to answer with a plain-text error."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def parse_duration(value: str) -> float:
    """Go's time.ParseDuration, enough of it for `wait=`: `10s`, `1m30s`, `1500ms`, `0`."""
    if value == "0":
        return 0.0
    pos = 0
    total = 0.0
    for match in _DURATION.finditer(value):
        if match.start() != pos:
            raise ValueError(value)
        total += float(match.group(1)) * _UNIT_S[match.group(2)]
        pos = match.end()
    if pos != len(value) or not value:
        raise ValueError(value)
    return total


def query_bool(request: web.Request, name: str, default: bool = False) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return default
    if raw == "":
        return True
    lowered = raw.lower()
    if lowered in ("1", "t", "true"):
        return True
    if lowered in ("0", "f", "false"):
        return False
    raise ApiError(400, f"Failed to parse value of {name!r} ({raw}) as a bool")


def encode(body: Any, request: web.Request) -> bytes:
    pretty = request.query.get("pretty")
    if pretty is not None and pretty != "0":
        return (json.dumps(body, indent=4) + "\n").encode()
    return json.dumps(body, separators=(",", ":")).encode()


def json_response(
    request: web.Request,
    sim: Sim,
    body: Any,
    index: int | None = None,
    *,
    prefix: str = "X-Nomad",
    status: int = 200,
) -> web.Response:
    resp = web.Response(status=status, body=encode(body, request), content_type="application/json")
    if index is not None:
        set_meta(resp, sim, index, prefix)
    return resp


def set_meta(resp: web.StreamResponse, sim: Sim, index: int, prefix: str = "X-Nomad") -> None:
    """Index and staleness headers, Go-canonicalised as they are on the wire."""
    leader = not sim.injector.faults.leader_lost
    resp.headers[f"{prefix}-Index"] = str(max(index, 1))
    resp.headers[f"{prefix}-Knownleader"] = "true" if leader else "false"
    resp.headers[f"{prefix}-Lastcontact"] = "0"
    if prefix == "X-Consul":
        resp.headers["X-Consul-Effective-Consistency"] = "leader"
        resp.headers["X-Consul-Default-Acl-Policy"] = "allow"


def parse_blocking(request: web.Request, prefix: str) -> tuple[int, float]:
    raw_index = request.query.get("index", "0")
    try:
        min_index = int(raw_index)
        if min_index < 0:
            raise ValueError(raw_index)
    except ValueError:
        raise ApiError(400, "Invalid index") from None
    wait = DEFAULT_WAIT_S
    raw_wait = request.query.get("wait")
    if raw_wait is not None:
        try:
            wait = parse_duration(raw_wait)
        except ValueError:
            raise ApiError(400, "Invalid wait time") from None
        if wait <= 0:
            wait = DEFAULT_WAIT_S
    return min_index, min(wait, MAX_WAIT_S[prefix])


async def blocking(
    request: web.Request,
    sim: Sim,
    compute: Callable[[], tuple[Any, int]],
    *,
    prefix: str = "X-Nomad",
) -> web.Response:
    """Answer now when the data is newer than `index`, else when it changes or `wait` ends.

    `compute` returns (body, index) and raises ApiError for 4xx answers; it is re-run
    after every write, as the real servers re-run the query when watched state changes.
    """
    min_index, wait = parse_blocking(request, prefix)
    body, index = compute()
    if min_index > 0 and index <= min_index:
        wait += _jitter.uniform(0, wait / 16)
        deadline = time.monotonic() + wait
        while index <= min_index:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await sim.state.wait_change(remaining)
            body, index = compute()
    return json_response(request, sim, body, index, prefix=prefix)
