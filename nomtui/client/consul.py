"""`ConsulClient`: Consul catalog and health (PROTOCOLS.md §2.2, §10) over py-consul.

py-consul is synchronous, so every call runs on a small pool of daemon threads and is
awaited from the event loop (`consul_transport` explains the adaptations). Answers are
py-consul's parsed JSON, turned into `nomtui.models.consul` Structs with the models'
`convert`, so a body of the wrong shape fails as `BadResponse` here, not in a screen.

Watches are blocking queries with a bounded `wait` (30 s by default, 60 s at most): a
thread is never parked for Consul's default 5 minutes, so a watch the store abandons
frees its thread soon. The index, backoff and rate-limit rules are the Nomad watches'
own (`nomtui.client.blocking.watch_loop`), which follow Consul's guide.

    async with ConsulClient.from_settings(settings.consul) as consul:
        entries = await consul.service_health("web")
        by_alloc = health_by_alloc(entries)
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import urllib3

from nomtui.client.base import Watch
from nomtui.client.blocking import Backoff, watch_loop
from nomtui.client.consul_transport import (
    SERVICE,
    ConsulApi,
    ConsulTarget,
    DaemonPool,
    parse_consul_url,
    transport_error,
)
from nomtui.client.retry import RetryPolicy, retried
from nomtui.config.secret import Secret
from nomtui.errors import BadResponse, NomtuiError
from nomtui.models.base import ModelError, convert
from nomtui.models.consul import (
    CatalogServices,
    ConsulCheck,
    ConsulNode,
    HealthEntry,
    aggregate_status,
    alloc_id_of_service_id,
)

if TYPE_CHECKING:
    from nomtui.config.model import ConsulSettings

T = TypeVar("T")

DEFAULT_ADDRESS = "http://127.0.0.1:8500"
DEFAULT_WAIT_S = 30.0
MAX_WAIT_S = 60.0
"""Upper bound of a watch's `wait`: how long an abandoned query may hold its thread."""
DEFAULT_MIN_INTERVAL_S = 0.5
DEFAULT_THREADS = 16
HEALTH_STATES = ("any", "passing", "warning", "critical")


class ConsulClient:
    """One Consul agent. Use as `async with ConsulClient(addr, token) as consul:`."""

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        token: str | Secret | None = None,
        *,
        ca_cert: str | None = None,
        ca_path: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        skip_verify: bool = False,
        http_auth: Secret | None = None,
        namespace: str | None = None,
        datacenter: str | None = None,
        timeout_s: float = 10.0,
        wait_s: float = DEFAULT_WAIT_S,
        min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
        max_threads: int = DEFAULT_THREADS,
        rng: random.Random | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """`wait_s`: the blocking `wait` of watches (clamped to 60 s); `min_interval_s`: the
        fastest a watch re-queries data that changes all the time; `retry`: how a read
        that got a 5xx is tried again (`nomtui.client.retry`)."""
        secret = token if isinstance(token, Secret) or token is None else Secret(token)
        del token  # no plain-text secret in a local a traceback could show
        scheme, host, port, prefix = parse_consul_url(address)  # ConfigError now, not later
        netloc = f"[{host}]" if ":" in host else host
        verify: bool | str = (ca_cert or ca_path or True) if not skip_verify else False
        if skip_verify:
            # urllib3 would warn on stderr at every request, through the TUI's screen;
            # the user asked for this, and `nomtui config` shows the setting.
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        cert: tuple[str, str] | str | None = None
        if client_cert:
            cert = (client_cert, client_key) if client_key else client_cert
        self.target = ConsulTarget(
            address=f"{scheme}://{netloc}:{port}{prefix}",
            token=secret,
            basic_auth=http_auth,
            verify=verify,
            cert=cert,
            namespace=namespace,
            datacenter=datacenter,
            timeout_s=timeout_s,
        )
        self.wait_s = min(wait_s, MAX_WAIT_S)
        self.min_interval_s = min_interval_s
        self._rng = rng or random.Random()
        self.retry = retry or RetryPolicy()
        self._pool = DaemonPool(max_threads, "nomtui-consul")
        self._apis: list[ConsulApi] = []
        self._local = _ThreadApis(self)

    @classmethod
    def from_settings(cls, settings: ConsulSettings, **kwargs: Any) -> ConsulClient:
        """A client for resolved settings (`nomtui.config.resolve(...).consul`)."""

        def path(value: object) -> str | None:
            return str(value) if value is not None else None

        return cls(
            settings.address,
            settings.token,
            ca_cert=path(settings.ca_cert),
            ca_path=path(settings.ca_path),
            client_cert=path(settings.client_cert),
            client_key=path(settings.client_key),
            skip_verify=settings.skip_verify,
            http_auth=settings.http_auth,
            namespace=settings.namespace,
            **kwargs,
        )

    @property
    def address(self) -> str:
        return self.target.address

    def __repr__(self) -> str:
        token = "***" if self.target.token else None
        return f"ConsulClient(address={self.address!r}, token={token})"

    async def aclose(self) -> None:
        """Stop the threads; a thread inside a blocking query ends with its bounded wait."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        for api in self._apis:
            api.http.close()

    async def __aenter__(self) -> ConsulClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def threads(self) -> int:
        """Threads started so far (for tests and diagnostics)."""
        return self._pool.threads

    # -- running py-consul off the loop -------------------------------------------------

    async def _run(self, path: str, call: Callable[[ConsulApi], T], *, retry: bool = True) -> T:
        """`call` on a pool thread; a read that got a 5xx is tried again (`self.retry`)
        unless `retry` is False (watches, which retry in their own loop)."""
        if not retry:
            return await self._run_once(path, call)
        return await retried(
            lambda: self._run_once(path, call), self.retry, sleep=asyncio.sleep, rng=self._rng
        )

    async def _run_once(self, path: str, call: Callable[[ConsulApi], T]) -> T:
        def work() -> T:
            api = self._local.get()
            try:
                return call(api)
            except NomtuiError:
                raise
            except Exception as exc:
                failure = transport_error(exc, self.target, path)
            # Raised outside the handler, so no chain keeps the request (and its token
            # header) alive in a traceback.
            raise failure

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, work)

    def _decode(self, type_: Any, data: Any, path: str) -> Any:
        try:
            return convert(type_, data)
        except ModelError as exc:
            failure = BadResponse(self.address, path, str(exc), service=SERVICE)
        raise failure

    def _index(self, raw: Any, path: str) -> int:
        try:
            return int(raw)
        except (TypeError, ValueError):
            failure = BadResponse(
                self.address, path, "X-Consul-Index is not a number", service=SERVICE
            )
        raise failure

    async def _query(
        self,
        path: str,
        type_: Any,
        call: Callable[[ConsulApi], tuple[Any, Any]],
        *,
        retry: bool = True,
    ) -> tuple[Any, bytes, int]:
        """(decoded value, canonical bytes for change detection, index) of one query."""
        index_raw, data = await self._run(path, call, retry=retry)
        value = self._decode(type_, data, path)
        return value, msgspec.json.encode(data), self._index(index_raw, path)

    def _watch(
        self,
        path: str,
        type_: Any,
        call: Callable[[ConsulApi, int | None, str | None], tuple[Any, Any]],
        wait_s: float | None,
    ) -> Watch[Any]:
        async def fetch(query: dict[str, str], timeout_s: float | None) -> tuple[Any, bytes, int]:
            # py-consul derives the read timeout from `wait` itself (wait + wait/16 +
            # its connection timeout), so `timeout_s` needs no passing on.
            index = int(query["index"]) if "index" in query else None
            wait = query.get("wait")
            return await self._query(path, type_, lambda api: call(api, index, wait), retry=False)

        return watch_loop(
            fetch,
            None,
            wait_s=min(wait_s if wait_s is not None else self.wait_s, MAX_WAIT_S),
            min_interval_s=self.min_interval_s,
            backoff=Backoff(rng=self._rng),
        )

    # -- reads --------------------------------------------------------------------------

    async def services(self) -> CatalogServices:
        """Every service name with the union of its instances' tags."""
        value, _, _ = await self._query(
            "/v1/catalog/services", CatalogServices, lambda api: api.catalog.services()
        )
        return dict(value)

    async def service_health(self, name: str, passing: bool = False) -> list[HealthEntry]:
        """Instances of `name` with their node and service checks; `passing`: only those
        whose checks all pass (warning counts as not passing)."""
        path = f"/v1/health/service/{name}"
        value, _, _ = await self._query(
            path, list[HealthEntry], lambda api: api.health.service(name, passing=passing)
        )
        return list(value)

    async def checks(self, name: str) -> list[ConsulCheck]:
        path = f"/v1/health/checks/{name}"
        value, _, _ = await self._query(
            path, list[ConsulCheck], lambda api: api.health.checks(name)
        )
        return list(value)

    async def node_health(self, node: str) -> list[ConsulCheck]:
        path = f"/v1/health/node/{node}"
        value, _, _ = await self._query(path, list[ConsulCheck], lambda api: api.health.node(node))
        return list(value)

    async def nodes(self) -> list[ConsulNode]:
        value, _, _ = await self._query(
            "/v1/catalog/nodes", list[ConsulNode], lambda api: api.catalog.nodes()
        )
        return list(value)

    async def health_state(self, state: str = "any") -> list[ConsulCheck]:
        """Every check in `state` (`any`, `passing`, `warning`, `critical`)."""
        _check_state(state)
        path = f"/v1/health/state/{state}"
        value, _, _ = await self._query(
            path, list[ConsulCheck], lambda api: api.health.state(state)
        )
        return list(value)

    async def leader(self) -> str:
        """`ip:port` of the Raft leader, "" when there is none: a cheap reachability probe."""
        path = "/v1/status/leader"
        leader = await self._run(path, lambda api: api.status.leader())
        return leader if isinstance(leader, str) else ""

    # -- watches --------------------------------------------------------------------------

    def watch_services(self, *, wait_s: float | None = None) -> Watch[CatalogServices]:
        return self._watch(
            "/v1/catalog/services",
            CatalogServices,
            lambda api, index, wait: api.catalog.services(index=index, wait=wait),
            wait_s,
        )

    def watch_service_health(
        self, name: str, passing: bool = False, *, wait_s: float | None = None
    ) -> Watch[list[HealthEntry]]:
        return self._watch(
            f"/v1/health/service/{name}",
            list[HealthEntry],
            lambda api, index, wait: api.health.service(
                name, index=index, wait=wait, passing=passing
            ),
            wait_s,
        )

    def watch_health_state(
        self, state: str = "any", *, wait_s: float | None = None
    ) -> Watch[list[ConsulCheck]]:
        """Every check in `state` as it changes: one query covers the whole catalog."""
        _check_state(state)
        return self._watch(
            f"/v1/health/state/{state}",
            list[ConsulCheck],
            lambda api, index, wait: api.health.state(state, index=index, wait=wait),
            wait_s,
        )


class _ThreadApis:
    """One py-consul client per pool thread; each has its own requests session."""

    def __init__(self, owner: ConsulClient) -> None:
        self._owner = owner
        self._local = threading.local()

    def get(self) -> ConsulApi:
        api: ConsulApi | None = getattr(self._local, "api", None)
        if api is None:
            api = ConsulApi(self._owner.target)
            self._local.api = api
            self._owner._apis.append(api)  # list.append is atomic; closed in aclose()
        return api


def _check_state(state: str) -> None:
    if state not in HEALTH_STATES:
        raise ValueError(f"state must be one of {', '.join(HEALTH_STATES)}, not {state!r}")


# -- joining health to allocations ------------------------------------------------------------


def health_by_alloc(entries: Iterable[HealthEntry]) -> dict[str, list[ConsulCheck]]:
    """Checks per Nomad allocation ID, from `service_health` answers.

    Nomad registers services as `_nomad-task-<allocID>-...`; instances of other origins
    are left out. An allocation with several services gets all their checks; the node's
    own checks (serfHealth) come along, as Consul counts them for every instance.
    """
    found: dict[str, list[ConsulCheck]] = {}
    for entry in entries:
        alloc = entry.alloc_id
        if alloc is None:
            continue
        checks = found.setdefault(alloc, [])
        known = {(c.Node, c.CheckID) for c in checks}
        checks.extend(c for c in entry.Checks or () if (c.Node, c.CheckID) not in known)
    return found


def checks_by_alloc(checks: Iterable[ConsulCheck]) -> dict[str, list[ConsulCheck]]:
    """Checks per allocation ID from a `health_state("any")` answer (one flat list).

    Each allocation also gets the node-level checks of the nodes its services run on,
    the same set `health_by_alloc` gives for the instance.
    """
    node_checks: dict[str, list[ConsulCheck]] = {}
    per_alloc: dict[str, list[ConsulCheck]] = {}
    alloc_nodes: dict[str, set[str]] = {}
    for check in checks:
        if not check.ServiceID:
            node_checks.setdefault(check.Node, []).append(check)
            continue
        alloc = alloc_id_of_service_id(check.ServiceID)
        if alloc is not None:
            per_alloc.setdefault(alloc, []).append(check)
            alloc_nodes.setdefault(alloc, set()).add(check.Node)
    for alloc, nodes in alloc_nodes.items():
        for node in sorted(nodes):
            per_alloc[alloc].extend(node_checks.get(node, ()))
    return per_alloc


def status_by_alloc(by_alloc: dict[str, list[ConsulCheck]]) -> dict[str, str]:
    """One status per allocation (`passing`, `warning`, `critical`, `maintenance`, "")."""
    return {alloc: aggregate_status(checks) for alloc, checks in by_alloc.items()}


__all__ = [
    "DEFAULT_ADDRESS",
    "DEFAULT_WAIT_S",
    "HEALTH_STATES",
    "MAX_WAIT_S",
    "ConsulClient",
    "checks_by_alloc",
    "health_by_alloc",
    "status_by_alloc",
]
