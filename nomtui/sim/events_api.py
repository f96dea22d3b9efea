"""Nomad's event stream, `GET /v1/event/stream`: the sim's event buffer as ndjson.

The scheduler records events through `Txn.event(...)`; every write appends one batch
`{"Index", "Events"}` to `sim.state.event_batches`. This module only replays and follows
that buffer (PROTOCOLS.md §4): a `{}` heartbeat at once and every `event_heartbeat_s`,
then one line per batch with at least one event left after the topic and namespace
filters. Every byte goes through the fault injector's StreamGuard (and is counted).

ACL (the spec leaves it to Nomad's per-topic check, which we follow): the management
token may subscribe to anything. Other valid tokens (the sim's read-only token) may read
`Job`, `Evaluation`, `Allocation`, `Deployment` and `Service` (Nomad: read-job in the
namespace) and `Node`, `NodeDrain`, `NodePool` (Nomad: node:read, which the read-only
policy grants). Everything else, including no topic at all (`*:*`), needs management.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Reversible
from typing import TYPE_CHECKING

from aiohttp import web

from nomtui.sim import traffic
from nomtui.sim.faults import StreamCut
from nomtui.sim.http import ApiError
from nomtui.sim.state import Json

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

READ_JOB_TOPICS = frozenset({"Job", "Evaluation", "Allocation", "Deployment", "Service"})
NODE_READ_TOPICS = frozenset({"Node", "NodeDrain", "NodePool"})
HEARTBEAT = b"{}\n"
# An idle stream looks at its socket at least this often, so a client that went away is
# noticed (and its handler ends) without waiting for the next 30 s heartbeat.
IDLE_POLL_S = 1.0
_ATOI = re.compile(r"[+-]?[0-9]+")
_INT_MAX = 2**63 - 1

Topics = dict[str, list[str]]


def add_routes(app: web.Application, sim: Sim) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await stream(request, sim)

    app.router.add_route("*", "/v1/event/stream", handler)


def parse_index(raw: str) -> int:
    """Go's strconv.Atoi, with its error text (Nomad quotes it in the 400)."""
    raw = raw or "0"
    quoted = json.dumps(raw)  # Go's %q, close enough for what a query string holds
    if not _ATOI.fullmatch(raw):
        raise ApiError(
            400, f"Unable to parse index: strconv.Atoi: parsing {quoted}: invalid syntax"
        )
    value = int(raw)
    if abs(value) > _INT_MAX:
        raise ApiError(
            400, f"Unable to parse index: strconv.Atoi: parsing {quoted}: value out of range"
        )
    return value


def parse_topics(raw: list[str]) -> Topics:
    """`Topic` or `Topic:Key`, repeatable; none at all means everything (`*:*`)."""
    if not raw:
        return {"*": ["*"]}
    topics: Topics = {}
    for item in raw:
        parts = item.split(":")
        if len(parts) > 2:
            raise ApiError(
                400,
                "Invalid topic query: error parsing topics: "
                f"Invalid key value pair for topic, topic: {item}",
            )
        topic, key = (parts[0], parts[1]) if len(parts) == 2 else (item, "*")
        topics.setdefault(topic, []).append(key)
    return topics


def acl_denial(sim: Sim, request: web.Request, topics: Topics) -> str | None:
    """None when the caller may subscribe to `topics`, else the 403 text."""
    secret = sim.acl.token_of(request)
    token = sim.acl.lookup(secret)
    if token is None:
        return "ACL token not found" if secret else "Permission denied"
    if token.type == "management":
        return None
    allowed = READ_JOB_TOPICS | NODE_READ_TOPICS
    if any(topic not in allowed for topic in topics):
        return "Permission denied"
    return None


def event_filter(topics: Topics, namespace: str) -> Callable[[Json], bool]:
    """Nomad's subscription filter: namespace first, then topic keys (or `*`)."""
    wildcard = topics.get("*", [])

    def keep(event: Json) -> bool:
        ns = event.get("Namespace") or ""
        # Events of cluster-wide objects (nodes) carry no namespace and pass any filter.
        if namespace != "*" and ns and ns != namespace:
            return False
        keys = wildcard + topics.get(event["Topic"], [])
        if "*" in keys:
            return True
        candidates = {event.get("Key")} | set(event.get("FilterKeys") or [])
        return any(k in candidates for k in keys)

    return keep


def start_cursor(batches: list[Json], index: int) -> int:
    """The Index after which replay starts: the batch == index, else the next newer one,
    else (index newer than the buffer) the newest; index <= 0 replays the whole buffer."""
    if not batches:
        return 0
    if index > 0:
        for batch in batches:
            if batch["Index"] >= index:
                return int(batch["Index"]) - 1
        return int(batches[-1]["Index"]) - 1
    return int(batches[0]["Index"]) - 1


def _encode(index: int, events: list[Json]) -> bytes:
    body = json.dumps({"Index": index, "Events": events}, separators=(",", ":"))
    return body.encode() + b"\n"


async def stream(request: web.Request, sim: Sim) -> web.StreamResponse:
    if request.method != "GET":
        raise ApiError(405, "Invalid method")
    index = parse_index(request.query.get("index", ""))
    topics = parse_topics(request.query.getall("topic", []))
    namespace = request.query.get("namespace") or "default"
    denied = acl_denial(sim, request, topics)
    if denied:
        raise ApiError(403, denied)
    keep = event_filter(topics, namespace)

    resp = web.StreamResponse(
        status=200, headers={"Content-Type": "application/json", "Cache-Control": "no-cache"}
    )
    await resp.prepare(request)
    guard = traffic.guard(sim, request, resp)
    state = sim.state
    loop = asyncio.get_running_loop()
    period = sim.config.event_heartbeat_s
    cursor = start_cursor(list(state.event_batches), index)
    try:
        await guard.write(HEARTBEAT)
        next_beat = loop.time() + period
        while not _gone(request):
            if loop.time() >= next_beat:
                await guard.write(HEARTBEAT)
                next_beat = loop.time() + period
            pending = _after(state.event_batches, cursor)
            for batch in pending:
                cursor = batch["Index"]
                events = [e for e in batch["Events"] if keep(e)]
                if events:
                    await guard.write(_encode(cursor, events))
            if not pending:
                # No await between reading the buffer and arming the wait: a write
                # cannot slip in unseen.
                timeout = min(max(next_beat - loop.time(), 0.0), IDLE_POLL_S)
                await state.wait_change(timeout)
    except StreamCut:
        return resp  # the injector already closed the connection, as a dropped link would
    except ConnectionResetError:
        return resp  # the client went away mid-write; nothing left to tell it
    return resp


def _after(batches: Reversible[Json], cursor: int) -> list[Json]:
    """Batches newer than `cursor`, oldest first (scans from the new end of the deque)."""
    newer: list[Json] = []
    for batch in reversed(batches):
        if batch["Index"] <= cursor:
            break
        newer.append(batch)
    newer.reverse()
    return newer


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()
