"""A small async HTTP base for the Nomad (and Consul) API over httpx.

What it does for every area client built on it:
- base address (http://, https:// or unix://), token header, basic auth for a proxy,
  TLS (`nomtui.client.tls`), `region`/`namespace` query parameters;
- JSON decoding into models (`nomtui.models.base.decode`), the index header
  (case-insensitive), `X-Nomad-NextToken` paging;
- one mapping of failures to `nomtui.errors` (`nomtui.client.failures`);
- blocking-query watches (`watch`; the rules live in `nomtui.client.blocking`), woken
  from their backoff when the servers answer again (`nomtui.client.recovery`);
- a `stream` context for long answers (logs, events) with the same error mapping;
- a short, bounded retry of plain reads that got a 5xx (`nomtui.client.retry`);
- a cap on the size of a whole answer (`max_body_bytes`, `NOMTUI_MAX_BODY_BYTES`): a
  proxy or a broken agent that sends an endless body gets a clear `BadResponse`, not
  all of the machine's memory. Error answers are only quoted, so only their first
  `ERROR_BODY_BYTES` are read.

The token lives in a `Secret` and is put on the request by an httpx auth hook, so it is
never in this object's repr, a headers dict in a traceback's locals, or an error message.
Errors are raised outside the `except` block that caught httpx's exception, so neither
`__cause__` nor `__context__` keeps the request (whose headers hold the token) alive.
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
import msgspec

from nomtui.client.auth import RequestAuth, parse_address
from nomtui.client.blocking import Answer, Backoff, QueryMeta, Retrying, Snapshot, watch_loop
from nomtui.client.failures import (
    CONNECT_TIMEOUT_S,
    content_type,
    is_json,
    shown_path,
    status_error,
    transport_error,
)
from nomtui.client.recovery import Recovery, answered_by_servers
from nomtui.client.retry import RetryPolicy, retried
from nomtui.client.streaming import HttpStream
from nomtui.config.secret import Secret
from nomtui.errors import BadResponse, ConfigError, NomtuiError
from nomtui.models.base import ModelError, decode

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0
"""Read timeout of a non-blocking request."""
NEXT_TOKEN_HEADER = "X-Nomad-NextToken"
DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024
"""Largest answer read whole: ~100x the job list of a 10,000-job cluster, far below RAM."""
MAX_BODY_ENV = "NOMTUI_MAX_BODY_BYTES"
ERROR_BODY_BYTES = 64 * 1024
"""How much of an error answer is read: messages quote at most a line of it."""
IDEMPOTENT = frozenset({"GET", "HEAD"})


def max_body_from_env(env: Mapping[str, str] = os.environ) -> int:
    """The answer size cap: `NOMTUI_MAX_BODY_BYTES` when set (empty is unset), else the
    default. Raises ConfigError for a value that is not a positive whole number."""
    raw = env.get(MAX_BODY_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_BODY_BYTES
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(
            f"{MAX_BODY_ENV} is {raw!r}, not a number of bytes; set it to e.g. 268435456."
        )
    return int(raw)


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB" if n >= 1024 * 1024 else f"{n} bytes"


EventHooks = Mapping[str, Sequence[Callable[..., Any]]]


class HttpClient:
    """Async JSON-over-HTTP with the Nomad conventions; one instance per cluster."""

    def __init__(
        self,
        address: str,
        token: str | Secret | None = None,
        *,
        service: str = "Nomad",
        token_header: str = "X-Nomad-Token",
        index_header: str = "X-Nomad-Index",
        region: str | None = None,
        namespace: str | None = None,
        verify: ssl.SSLContext | bool = True,
        server_name: str | None = None,
        basic_auth: Secret | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: EventHooks | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        max_body_bytes: int | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """`max_body_bytes`: the largest answer read whole (None: `max_body_from_env()`);
        `retry`: how a plain read that got a 5xx is tried again (`nomtui.client.retry`)."""
        # First, so no plain-text secret stays in a local that a traceback could show.
        secret = token if isinstance(token, Secret) or token is None else Secret(token)
        del token
        url, uds, url_basic = parse_address(address, service)
        self.address = f"unix://{uds}" if uds else str(url)
        self.service = service
        self.region = region
        self.namespace = namespace
        self.index_header = index_header
        self.timeout_s = timeout_s
        self.max_body_bytes = max_body_bytes or max_body_from_env()
        self.server_name = server_name
        self.ssl_context = verify if isinstance(verify, ssl.SSLContext) else None
        self._token = secret
        self._basic = basic_auth or url_basic
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.retry = retry or RetryPolicy()
        self.recovery = Recovery(sleep, self._rng)
        # httpx has no client-wide extensions; every request carries this one.
        self._extensions = {"sni_hostname": server_name} if server_name else {}
        if transport is None and (uds is not None or url.scheme == "http"):
            # No TLS: loop-driven sockets (3x the stream throughput, no SSL context).
            from nomtui.client.plain_transport import PlainTransport

            transport = PlainTransport(uds=uds)
        self._http = httpx.AsyncClient(
            base_url=url,
            auth=RequestAuth(token_header, self._token, self._basic),
            verify=verify,
            transport=transport,
            # Proxies from the environment would surprise people pointing at 127.0.0.1.
            trust_env=False,
            headers={"Accept": "application/json", "User-Agent": "nomtui"},
            event_hooks={k: list(v) for k, v in (event_hooks or {}).items()},
        )

    def __repr__(self) -> str:
        token = "***" if self._token else None
        return f"{type(self).__name__}(address={self.address!r}, token={token})"

    @property
    def token(self) -> Secret | None:
        """For other transports (the exec WebSocket) that must send the same token."""
        return self._token

    @property
    def basic_auth(self) -> Secret | None:
        return self._basic

    @property
    def has_token(self) -> bool:
        return bool(self._token)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- requests -----------------------------------------------------------------------

    def _params(self, params: Mapping[str, str] | None) -> dict[str, str]:
        merged: dict[str, str] = {}
        if self.region:
            merged["region"] = self.region
        if self.namespace:
            merged["namespace"] = self.namespace
        merged.update(params or {})
        return merged

    def _secret_text(self) -> str | None:
        return self._token.reveal() if self._token else None

    def _timeout(self, read_s: float | None) -> httpx.Timeout:
        return httpx.Timeout(read_s, connect=CONNECT_TIMEOUT_S)

    def _transport_error(self, exc: httpx.HTTPError, path: str, read_s: float) -> NomtuiError:
        return transport_error(
            exc,
            address=self.address,
            service=self.service,
            path=path,
            read_s=read_s,
            secret=self._secret_text(),
        )

    def _check(
        self,
        resp: httpx.Response,
        path: str,
        namespace: str | None,
        *,
        json: bool = True,
        allow: Collection[int] = (),
    ) -> None:
        """Raise the mapped error unless `resp` is a (JSON, when `json`) success."""
        shown = shown_path(path, namespace)
        ok = 200 <= resp.status_code < 300 or (resp.status_code in allow and is_json(resp))
        if not ok:
            raise status_error(
                resp,
                address=self.address,
                service=self.service,
                path=shown,
                secret=self._secret_text(),
            )
        if json and not is_json(resp):
            reason = f"content type {content_type(resp) or 'missing'}, not JSON"
            raise BadResponse(self.address, shown, reason, service=self.service)

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        body: Any = None,
        timeout_s: float | None = None,
        allow: Collection[int] = (),
        retry: bool = True,
    ) -> httpx.Response:
        """Send a request and return its checked answer (2xx, or a JSON one in `allow`).

        `body` is encoded as JSON when not None. Every failure is a `NomtuiError`. A GET
        that is not a blocking query is tried again after a 5xx (`self.retry`), unless
        `retry` is False.
        """

        def once() -> Awaitable[httpx.Response]:
            return self._request_once(method, path, params, body, timeout_s, allow)

        blocking = "index" in (params or {})
        if not retry or method not in IDEMPOTENT or blocking:
            resp = await once()
        else:
            resp = await retried(once, self.retry, sleep=self._sleep, rng=self._rng)
        if answered_by_servers(path):
            self.recovery.answered()
        return resp

    async def _request_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Any,
        timeout_s: float | None,
        allow: Collection[int],
    ) -> httpx.Response:
        read = timeout_s if timeout_s is not None else self.timeout_s
        query = self._params(params)
        content = msgspec.json.encode(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        request = self._http.build_request(
            method,
            path,
            params=query,
            content=content,
            headers=headers,
            timeout=self._timeout(read),
            extensions=self._extensions,
        )
        error: NomtuiError | None = None
        fits = True
        try:
            resp = await self._http.send(request, stream=True)
            try:
                fits = await self._read_body(resp, allow)
            finally:
                await resp.aclose()
        except httpx.HTTPError as exc:
            error = self._transport_error(exc, path, read)
        if error is not None:
            raise error
        if not fits:
            raise self._too_big(path)
        # Only a namespace the caller named is worth showing: node and allocation paths
        # carry the client's default one, which does not matter for them.
        self._check(resp, path, (params or {}).get("namespace"), allow=allow)
        return resp

    async def get_raw(
        self, path: str, params: Mapping[str, str] | None = None, *, timeout_s: float | None = None
    ) -> tuple[bytes, int]:
        """GET `path`; the JSON body undecoded and the index header (0 when absent)."""
        resp = await self.request("GET", path, params, timeout_s=timeout_s)
        return resp.content, self.index_of(resp, path)

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> tuple[Any, int]:
        """GET `path`; the decoded JSON (untyped) and the index header."""
        raw, index = await self.get_raw(path, params)
        return self.decode(raw, Any, path), index

    async def get(
        self, path: str, type_: type[T], params: Mapping[str, str] | None = None
    ) -> tuple[T, int]:
        """GET `path`; the body decoded into `type_` and the index header."""
        raw, index = await self.get_raw(path, params)
        value: T = self.decode(raw, type_, path)
        return value, index

    async def send(
        self,
        method: str,
        path: str,
        type_: type[T],
        body: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> T:
        """A write (PUT/POST/DELETE): the answer decoded into `type_`."""
        resp = await self.request(method, path, params, body=body)
        value: T = self.decode(resp.content, type_, path)
        return value

    async def paginate(
        self,
        path: str,
        item: type[T],
        params: Mapping[str, str] | None = None,
        *,
        per_page: int,
    ) -> tuple[list[T], int]:
        """Every page of a list (`per_page` items a request); the items and the highest index.

        Follows `X-Nomad-NextToken` as the Go client does: copied verbatim, never parsed.
        """
        query = dict(params or {})
        query["per_page"] = str(per_page)
        items: list[T] = []
        index = 0
        seen: set[str] = set()
        while True:
            resp = await self.request("GET", path, query)
            items.extend(self.decode(resp.content, list[item], path))  # type: ignore[valid-type]
            index = max(index, self.index_of(resp, path))
            token = resp.headers.get(NEXT_TOKEN_HEADER)
            if not token:
                return items, index
            if token in seen:  # a server that hands out the same page forever
                reason = f"{NEXT_TOKEN_HEADER} repeats {token!r}"
                raise BadResponse(self.address, path, reason, service=self.service)
            seen.add(token)
            query["next_token"] = token

    async def _read_body(self, resp: httpx.Response, allow: Collection[int]) -> bool:
        """Read `resp`'s body into it, bounded; False when it broke the cap.

        A success (or an allowed status, which is decoded too) may be as large as
        `max_body_bytes`; any other answer is only quoted in a message, so its body is cut
        at `ERROR_BODY_BYTES` without failing.
        """
        whole = 200 <= resp.status_code < 300 or resp.status_code in allow
        limit = self.max_body_bytes if whole else ERROR_BODY_BYTES
        declared = resp.headers.get("Content-Length", "")
        if whole and declared.isdigit() and int(declared) > limit:
            return False
        body = bytearray()
        async for chunk in resp.aiter_bytes():
            body += chunk
            if len(body) > limit:
                if whole:
                    return False
                del body[limit:]
                break
        # What `Response.aread()` stores; set here because the read had to be bounded.
        resp._content = bytes(body)
        return True

    def _too_big(self, path: str) -> BadResponse:
        reason = f"it is larger than {_mib(self.max_body_bytes)}; {MAX_BODY_ENV} raises the limit"
        return BadResponse(self.address, shown_path(path, None), reason, service=self.service)

    def decode(self, raw: bytes, type_: Any, path: str) -> Any:
        problem: ModelError | None = None
        try:
            return decode(type_, raw)
        except ModelError as exc:
            problem = exc
        assert problem is not None
        detail = problem.detail[:1].lower() + problem.detail[1:]
        reason = f"{problem.path} does not fit {problem.target}: {detail}"
        # Raised here, not in the except block, so the error carries no __context__.
        raise BadResponse(self.address, shown_path(path, None), reason, service=self.service)

    def index_of(self, resp: httpx.Response, path: str) -> int:
        raw = resp.headers.get(self.index_header)
        if raw is None:
            return 0
        try:
            return int(raw)
        except ValueError:
            reason = f"{self.index_header} is not a number"
            raise BadResponse(self.address, path, reason, service=self.service) from None

    # -- streams ----------------------------------------------------------------------------

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        read_timeout_s: float | None = None,
    ) -> AsyncIterator[HttpStream]:
        """An open streaming answer (2xx checked, body unread), for logs and events.

        `read_timeout_s` bounds the silence between chunks (None: no bound); reading the
        body through `HttpStream.chunks()`/`lines()` raises `StreamDropped` when it breaks.
        """
        query = self._params(params)
        request = self._http.build_request(
            method,
            path,
            params=query,
            timeout=self._timeout(read_timeout_s),
            extensions=self._extensions,
        )
        error: NomtuiError | None = None
        try:
            resp = await self._http.send(request, stream=True)
            if not 200 <= resp.status_code < 300:
                try:
                    await self._read_body(resp, ())
                finally:
                    await resp.aclose()
        except httpx.HTTPError as exc:
            error = self._transport_error(exc, path, read_timeout_s or 0.0)
        if error is not None:
            raise error
        try:
            self._check(resp, path, (params or {}).get("namespace"), json=False)
            yield HttpStream(
                resp,
                address=self.address,
                path=path,
                service=self.service,
                read_timeout_s=read_timeout_s,
            )
        finally:
            await resp.aclose()

    # -- blocking-query watch ---------------------------------------------------------------

    def watch(
        self,
        path: str,
        type_: type[T],
        params: Mapping[str, str] | None = None,
        *,
        wait_s: float = 60.0,
        min_interval_s: float = 0.5,
        backoff: Backoff | None = None,
    ) -> AsyncGenerator[Snapshot[T] | Retrying, None]:
        """Yield a `Snapshot` whenever the answer changes, a `Retrying` after each failure
        (the loop and its rules: `nomtui.client.blocking.watch_loop`)."""

        prefix = self.index_header.removesuffix("Index")

        async def fetch(query: dict[str, str], timeout_s: float | None) -> Answer[T]:
            # The response itself, not get_raw: its leader headers go to the watch too.
            # No retry here: the watch loop retries, and tells its consumer it does.
            resp = await self.request("GET", path, query, timeout_s=timeout_s, retry=False)
            value: T = self.decode(resp.content, type_, path)
            meta = QueryMeta.from_headers(resp.headers, prefix)
            return value, resp.content, self.index_of(resp, path), meta

        return watch_loop(
            fetch,
            params,
            wait_s=wait_s,
            min_interval_s=min_interval_s,
            backoff=backoff or Backoff(rng=self._rng),
            sleep=self._sleep,
            backoff_sleep=self.recovery.pause,
        )


__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_TIMEOUT_S",
    "ERROR_BODY_BYTES",
    "MAX_BODY_ENV",
    "NEXT_TOKEN_HEADER",
    "EventHooks",
    "HttpClient",
    "Secret",
    "max_body_from_env",
]
