"""HTTP helpers shared by the sim's Nomad and Consul handlers: errors, headers, blocking."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nomtui.sim.answers import Answer, Answers, RawJson

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

MAX_WAIT_S = {"X-Nomad": 300.0, "X-Consul": 600.0}
DEFAULT_WAIT_S = 300.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_jitter = random.Random(0)
# where a list handler leaves the X-Nomad-NextToken value for the response
NEXT_TOKEN = web.RequestKey("next_token", str)


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
        if isinstance(body, RawJson):
            body = json.loads(body.data)
        return (json.dumps(body, indent=4) + "\n").encode()
    if isinstance(body, RawJson):
        return body.data
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
    tables: tuple[str, ...] | None = None,
) -> web.Response:
    """Answer now when the data is newer than `index`, else when it changes or `wait` ends.

    `compute` returns (body, index) and raises ApiError for 4xx answers; it is re-run
    when watched state changes, as the real servers re-run the query. `tables` are the
    state tables the answer is read from: only writes to them wake the query, and equal
    queries at equal table indexes share one computed answer. Without `tables`, every
    write wakes the query and it is computed afresh each time.
    """
    min_index, wait = parse_blocking(request, prefix)
    if min_index > 0:
        sim.traffic.blocking[sim.traffic.key(request)] += 1
    answer = _answer(request, sim, compute, tables)
    if min_index > 0 and answer.index <= min_index:
        wait += _jitter.uniform(0, wait / 16)
        deadline = time.monotonic() + wait
        key = sim.traffic.key(request)
        sim.traffic.blocked[key] += 1
        while answer.index <= min_index:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sim.traffic.parked[key] += 1
            try:
                await sim.state.wait_change(remaining, tables)
            finally:
                sim.traffic.parked[key] -= 1
            # A server whose leader went away fails the queries it holds, parked or not.
            server_side = not request.path.startswith(("/v1/client/", "/v1/agent/"))
            if server_side and sim.injector.refuses_for_leader(request.path):
                raise ApiError(500, "No cluster leader")
            answer = _answer(request, sim, compute, tables)
    if answer.next_token:
        request[NEXT_TOKEN] = answer.next_token
    return json_response(request, sim, answer.body, answer.index, prefix=prefix)


def _answer(
    request: web.Request,
    sim: Sim,
    compute: Callable[[], tuple[Any, int]],
    tables: tuple[str, ...] | None,
) -> Answer:
    def run() -> Answer:
        request.pop(NEXT_TOKEN, None)
        sim.traffic.computed[sim.traffic.key(request)] += 1
        body, index = compute()
        return Answer(body, index, request.get(NEXT_TOKEN))

    key = None if tables is None else Answers.key(request, sim.state, tables)
    return sim.answers.get(key, run)
