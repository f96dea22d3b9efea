"""Consul's read API over the sim's catalog: catalog, health, agent and status endpoints.

Everything is computed at request time from `sim.state.consul_*` (see consul_sync), so a
blocking query re-runs the same function after every write, as Consul re-runs its query
when a watched table changes. The app's middleware (server.py) adds latency, 5xx and
leader-loss faults; this module only answers. Consul here runs with ACLs disabled
(default policy allow), so no token is looked at.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nomtui.sim import consul_shapes as shapes
from nomtui.sim.consul_shapes import DATACENTER, Json
from nomtui.sim.http import ApiError, blocking, error, json_response, query_bool

if TYPE_CHECKING:
    from nomtui.sim.server import Sim

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CATALOG = ("consul_catalog",)
HEALTH = ("consul_health", "consul_catalog")
ALLOW = "OPTIONS,GET"


def add_routes(app: web.Application, sim: Sim) -> None:
    api = _ConsulApi(sim)
    routes: list[tuple[str, Handler]] = [
        ("/v1/catalog/services", api.catalog_services),
        ("/v1/catalog/service/{service}", api.catalog_service),
        ("/v1/catalog/nodes", api.catalog_nodes),
        ("/v1/catalog/datacenters", api.catalog_datacenters),
        ("/v1/health/service/{service}", api.health_service),
        ("/v1/health/checks/{service}", api.health_checks),
        ("/v1/health/node/{node}", api.health_node),
        ("/v1/health/state/{state}", api.health_state),
        ("/v1/agent/self", api.agent_self),
        ("/v1/agent/members", api.agent_members),
        ("/v1/status/leader", api.status_leader),
        ("/v1/status/peers", api.status_peers),
    ]
    for path, handler in routes:
        app.router.add_route("*", path, _get_only(handler))
    # Consul routes by prefix, so an empty path parameter reaches the handler and fails there.
    for path, text in (
        ("/v1/catalog/service/", "Missing service name"),
        ("/v1/health/service/", "Missing service name"),
        ("/v1/health/checks/", "Missing service name"),
        ("/v1/health/node/", "Missing node name"),
        ("/v1/health/state/", "Missing check state"),
    ):
        app.router.add_route("*", path, _get_only(_fail(400, text)))


def _fail(status: int, text: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise ApiError(status, text)

    return handler


def _get_only(handler: Handler) -> Handler:
    """Consul's endpoint wrapper: OPTIONS answers the allowed methods, others get 405."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return web.Response(status=200, headers={"Allow": ALLOW})
        if request.method != "GET":
            resp = error(405, f"method {request.method} not allowed")
            resp.headers["Allow"] = ALLOW
            return resp
        dc = request.query.get("dc", "")
        if dc and dc != DATACENTER:
            raise ApiError(500, "No path to datacenter")
        return await handler(request)

    return wrapped


class _ConsulApi:
    def __init__(self, sim: Sim) -> None:
        self.sim = sim

    # -- reads of the stored catalog ------------------------------------------------------

    def _rows(self, request: web.Request, name: str | None = None) -> list[tuple[Json, Json]]:
        """(registration, node) pairs, in Consul's order: node name, then service ID."""
        state = self.sim.state
        tags = request.query.getall("tag", [])
        pairs = []
        for reg in state.consul_services.values():
            if name is not None and reg["ServiceName"] != name:
                continue
            node = state.consul_nodes.get(reg["Node"])
            if node is None or not _node_meta_ok(request, node):
                continue
            if all(t in reg["ServiceTags"] for t in tags):
                pairs.append((reg, node))
        pairs.sort(key=lambda p: (p[1]["Node"], p[0]["ServiceID"]))
        return pairs

    def _checks(self, keep: Callable[[Json], bool]) -> list[Json]:
        found = [c for c in self.sim.state.consul_checks.values() if keep(c)]
        found.sort(key=lambda c: (c["Node"], c["CheckID"].lower()))
        return found

    def _index(self, tables: tuple[str, ...]) -> int:
        return self.sim.state.max_index(*tables)

    async def _blocking(
        self, request: web.Request, compute: Callable[[], Any], tables: tuple[str, ...]
    ) -> web.Response:
        expr = _parse_filter(request.query.get("filter", ""))

        def run() -> tuple[Any, int]:
            body = compute()
            if expr is not None:
                body = [item for item in body if expr(item)]
            return body, self._index(tables)

        return await blocking(request, self.sim, run, prefix="X-Consul", tables=tables)

    # -- catalog --------------------------------------------------------------------------

    async def catalog_services(self, request: web.Request) -> web.StreamResponse:
        expr = _parse_filter(request.query.get("filter", ""))

        def compute() -> tuple[Json, int]:
            tags: dict[str, set[str]] = {}
            for reg, node in self._rows(request):
                if expr is None or expr(shapes.catalog_service_row(reg, node)):
                    tags.setdefault(reg["ServiceName"], set()).update(reg["ServiceTags"])
            body = {name: sorted(tags[name]) for name in sorted(tags)}
            return body, self._index(CATALOG)

        return await blocking(request, self.sim, compute, prefix="X-Consul", tables=CATALOG)

    async def catalog_service(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["service"]

        def compute() -> list[Json]:
            return [shapes.catalog_service_row(r, n) for r, n in self._rows(request, name)]

        return await self._blocking(request, compute, CATALOG)

    async def catalog_nodes(self, request: web.Request) -> web.StreamResponse:
        def compute() -> list[Json]:
            nodes = self.sim.state.consul_nodes
            return [dict(nodes[n]) for n in sorted(nodes) if _node_meta_ok(request, nodes[n])]

        return await self._blocking(request, compute, CATALOG)

    async def catalog_datacenters(self, request: web.Request) -> web.StreamResponse:
        return json_response(request, self.sim, [DATACENTER])

    # -- health ---------------------------------------------------------------------------

    async def health_service(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["service"]
        passing = _passing_param(request)

        def compute() -> list[Json]:
            rows = self._rows(request, name)
            wanted = {reg["Node"] for reg, _ in rows}
            by_node: dict[str, list[Json]] = {}
            for c in self._checks(lambda c: c["Node"] in wanted):
                by_node.setdefault(c["Node"], []).append(c)
            out = []
            for reg, node in rows:
                # the node's own checks (serfHealth) count for every instance on it
                checks = [
                    c
                    for c in by_node.get(reg["Node"], [])
                    if c["ServiceID"] in ("", reg["ServiceID"])
                ]
                if passing and any(c["Status"] != "passing" for c in checks):
                    continue
                out.append(shapes.health_entry(reg, node, checks))
            return out

        return await self._blocking(request, compute, HEALTH)

    async def health_checks(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["service"]
        return await self._blocking(
            request, lambda: self._checks(lambda c: c["ServiceName"] == name), HEALTH
        )

    async def health_node(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["node"]

        def compute() -> list[Json]:
            node = self.sim.state.consul_nodes.get(name)
            # The documented node listing carries the node's ID on every check.
            extra = {"ID": node["ID"]} if node else {}
            return [{**extra, **c} for c in self._checks(lambda c: c["Node"] == name)]

        return await self._blocking(request, compute, HEALTH)

    async def health_state(self, request: web.Request) -> web.StreamResponse:
        wanted = request.match_info["state"]
        # Consul does not validate the state: an unknown one simply matches no check.
        return await self._blocking(
            request,
            lambda: self._checks(lambda c: wanted == "any" or c["Status"] == wanted),
            HEALTH,
        )

    # -- agent and status -----------------------------------------------------------------

    def _server(self) -> tuple[str, str, str]:
        node = self.sim.state.consul_nodes.get(shapes.SERVER_NODE)
        node_id = node["ID"] if node else shapes.derived_uuid("consul-node", shapes.SERVER_NODE)
        return shapes.SERVER_NODE, shapes.SERVER_ADDRESS, node_id

    async def agent_self(self, request: web.Request) -> web.StreamResponse:
        return json_response(request, self.sim, shapes.agent_self(*self._server()))

    async def agent_members(self, request: web.Request) -> web.StreamResponse:
        name, address, node_id = self._server()
        members = [shapes.member(name, address, node_id, server=True, alive=True)]
        state = self.sim.state
        for node_name in sorted(state.consul_nodes):
            if node_name == name:
                continue
            node = state.consul_nodes[node_name]
            serf = state.consul_checks.get(f"{node_name}/{shapes.SERF_CHECK_ID}")
            alive = serf is None or serf["Status"] == "passing"
            members.append(
                shapes.member(node_name, node["Address"], node["ID"], server=False, alive=alive)
            )
        return json_response(request, self.sim, members)

    async def status_leader(self, request: web.Request) -> web.StreamResponse:
        leader = "" if self.sim.injector.faults.leader_lost else _raft_addr()
        return json_response(request, self.sim, leader)

    async def status_peers(self, request: web.Request) -> web.StreamResponse:
        return json_response(request, self.sim, [_raft_addr()])


def _raft_addr() -> str:
    return f"{shapes.SERVER_ADDRESS}:{shapes.SERVER_RPC_PORT}"


def _passing_param(request: web.Request) -> bool:
    try:
        return query_bool(request, "passing")
    except ApiError:
        raise ApiError(400, "Invalid value for ?passing") from None


def _node_meta_ok(request: web.Request, node: Json) -> bool:
    """`node-meta=key:value` (repeatable, all must match)."""
    meta = node.get("Meta") or {}
    for pair in request.query.getall("node-meta", []):
        key, _, value = pair.partition(":")
        if meta.get(key) != value:
            return False
    return True


# -- filter: the part of go-bexpr clients actually send ----------------------------------------

Predicate = Callable[[Any], bool]
_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:\\.|[^"\\])*")|(?P<raw>`[^`]*`)|(?P<op>==|!=|\(|\))"""
    r"""|(?P<word>[A-Za-z0-9_\-.]+))"""
)
_MISSING = object()


def _parse_filter(text: str) -> Predicate | None:
    """Compile `filter=`: ==, !=, in, not in, contains, not contains, is (not) empty,
    matches, and/or/not, parentheses. Anything else is a 400, never silently ignored."""
    if not text.strip():
        return None
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _filter_error(f"unexpected input at {pos}: {text[pos:]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind in ("str", "raw"):
            kind, value = "value", value[1:-1].replace('\\"', '"')
        tokens.append((kind, value))
        pos = m.end()
    parser = _FilterParser(tokens)
    pred = parser.expr()
    if parser.pos != len(tokens):
        raise _filter_error(f"unexpected {tokens[parser.pos][1]!r}")
    return pred


def _filter_error(detail: str) -> ApiError:
    return ApiError(400, f"Failed to create boolean expression evaluator: {detail}")


def _select(obj: Any, selector: str) -> Any:
    for part in selector.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


def _equals(field: Any, literal: str) -> bool:
    if isinstance(field, bool):
        return literal.lower() == str(field).lower()
    if isinstance(field, (int, float)):
        try:
            return float(literal) == field
        except ValueError:
            return False
    return field is not _MISSING and str(field if field is not None else "") == literal


def _contains(field: Any, literal: str) -> bool:
    if isinstance(field, (list, dict)):
        return literal in field
    return isinstance(field, str) and literal in field


def _matches(field: Any, pattern: re.Pattern[str]) -> bool:
    return isinstance(field, str) and pattern.search(field) is not None


def _empty(field: Any) -> bool:
    return field is _MISSING or field is None or (hasattr(field, "__len__") and not len(field))


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda x: a(x) or b(x)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda x: a(x) and b(x)


def _negated(a: Predicate) -> Predicate:
    return lambda x: not a(x)


class _FilterParser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def keyword(self, offset: int = 0) -> str:
        """The token at pos+offset when it is a bare word or operator (not a quoted value)."""
        i = self.pos + offset
        if i < len(self.tokens) and self.tokens[i][0] != "value":
            return self.tokens[i][1]
        return ""

    def take(self, expected: str | None = None) -> str:
        if self.pos >= len(self.tokens):
            raise _filter_error("unexpected end of expression")
        value = self.tokens[self.pos][1]
        if expected is not None and value != expected:
            raise _filter_error(f"expected {expected!r}, found {value!r}")
        self.pos += 1
        return value

    def expr(self) -> Predicate:
        left = self.conj()
        while self.keyword() == "or":
            self.take()
            left = _either(left, self.conj())
        return left

    def conj(self) -> Predicate:
        left = self.unary()
        while self.keyword() == "and":
            self.take()
            left = _both(left, self.unary())
        return left

    def unary(self) -> Predicate:
        if self.keyword() == "not":
            self.take()
            return _negated(self.unary())
        if self.keyword() == "(":
            self.take()
            inner = self.expr()
            self.take(")")
            return inner
        return self.match()

    def match(self) -> Predicate:
        first = self.take()
        negate = self.keyword() == "not"
        if negate:
            self.take()
        op = self.take()
        pred: Predicate
        if op == "in":  # "value" in Selector
            sel = self.take()
            pred = lambda x: _contains(_select(x, sel), first)  # noqa: E731
        elif op == "contains":  # Selector contains "value"
            lit = self.take()
            pred = lambda x: _contains(_select(x, first), lit)  # noqa: E731
        elif op == "matches":
            pattern = re.compile(self.take())
            pred = lambda x: _matches(_select(x, first), pattern)  # noqa: E731
        elif op in ("==", "!=") and not negate:
            lit, want = self.take(), op == "=="
            return lambda x: _equals(_select(x, first), lit) == want
        elif op == "is" and not negate:
            word = self.take()
            if word == "not":
                self.take("empty")
            elif word != "empty":
                raise _filter_error(f"expected 'empty', found {word!r}")
            want_empty = word == "empty"
            return lambda x: _empty(_select(x, first)) == want_empty
        else:
            raise _filter_error(f"unknown operator {op!r}")
        return _negated(pred) if negate else pred
