"""A small async HTTP base for the Nomad (and later Consul) API over httpx.

What it does for every area client built on it:
- base address, token header, `region`/`namespace` query parameters;
- JSON decoding with msgspec (typed or not), reading the index header (case-insensitive);
- one mapping of failures to `nomtui.errors`, by exception type and HTTP status only;
- blocking-query watches (`watch`; the rules live in `nomtui.client.blocking`).

The token lives in a `Secret` and is put on the request by an httpx auth hook, so it is
never in this object's repr, a headers dict in a traceback's locals, or an error message.
"""

from __future__ import annotations

import asyncio
import random
import re
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from typing import Any, TypeVar

import httpx
import msgspec

from nomtui.client.blocking import (
    MAX_WAIT_S,
    Backoff,
    BlockingIndex,
    RateLimiter,
    Retrying,
    Snapshot,
    blocking_timeout,
    go_duration,
)
from nomtui.errors import (
    BadRequest,
    BadResponse,
    ConfigError,
    Conflict,
    NomtuiError,
    NotFound,
    ServerError,
    TlsError,
    Unauthorized,
    Unreachable,
    scrub,
)

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0
"""Read timeout of a non-blocking request."""


class Secret:
    """A string that never shows itself in repr/str; `reveal()` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


class _TokenAuth(httpx.Auth):
    """Adds the token header at send time, so no long-lived headers mapping holds it."""

    def __init__(
        self, header: str, secret: Secret | None, basic: httpx.BasicAuth | None = None
    ) -> None:
        self._header = header
        self._secret = secret
        self._basic = basic

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._secret:
            request.headers[self._header] = self._secret.reveal()
        if self._basic is not None:
            # For an authenticating proxy; the Nomad token stays in its own header.
            yield from self._basic.auth_flow(request)
            return
        yield request

    def __repr__(self) -> str:
        return f"_TokenAuth({self._header!r}, {self._secret!r})"


def _parse_address(address: str, service: str) -> httpx.URL:
    shown = re.sub(r"//[^/@]*@", "//***@", address)  # never echo a password
    problem = f"{service} address {shown!r} is not an http:// or https:// URL"
    try:
        url = httpx.URL(address.rstrip("/")) if "://" in address else None
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"{problem}; set it like http://127.0.0.1:4646.")
    return url


def _ssl_failure(exc: BaseException) -> ssl.SSLError | ssl.CertificateError | None:
    """The TLS error httpx wrapped, if any (it raises ConnectError with it as cause)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (ssl.SSLError, ssl.CertificateError)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


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
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        # First, so no plain-text secret stays in a local that a traceback could show.
        secret = token if isinstance(token, Secret) or token is None else Secret(token)
        del token
        url = _parse_address(address, service)
        # user:password in the address (allowed by NOMAD_ADDR) becomes basic auth for a
        # proxy, and is dropped from the address that messages and the header show.
        basic = httpx.BasicAuth(url.username, url.password) if url.userinfo else None
        url = url.copy_with(userinfo=b"")
        self.address = str(url)
        self.service = service
        self.region = region
        self.namespace = namespace
        self.index_header = index_header
        self.timeout_s = timeout_s
        self._token = secret
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._http = httpx.AsyncClient(
            base_url=self.address,
            auth=_TokenAuth(token_header, self._token, basic),
            verify=verify,
            transport=transport,
            # Proxies from the environment would surprise people pointing at 127.0.0.1.
            trust_env=False,
            headers={"Accept": "application/json", "User-Agent": "nomtui"},
        )

    def __repr__(self) -> str:
        token = "***" if self._token else None
        return f"{type(self).__name__}(address={self.address!r}, token={token})"

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

    async def get_raw(
        self, path: str, params: Mapping[str, str] | None = None, *, timeout_s: float | None = None
    ) -> tuple[bytes, int]:
        """GET `path`; the JSON body undecoded and the index header (0 when absent)."""
        read = timeout_s if timeout_s is not None else self.timeout_s
        timeout = httpx.Timeout(read, connect=min(10.0, read))
        try:
            resp = await self._http.get(path, params=self._params(params), timeout=timeout)
        except httpx.HTTPError as exc:
            # `from None`: the httpx chain's frames hold the request, whose headers carry
            # the token, and Textual prints tracebacks with locals.
            raise self._transport_error(exc, path, read) from None
        self._check(resp, path)
        return resp.content, self._index(resp, path)

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> tuple[Any, int]:
        """GET `path`; the decoded JSON (untyped) and the index header."""
        raw, index = await self.get_raw(path, params)
        return self.decode(raw, Any, path), index

    async def get(
        self, path: str, type_: type[T], params: Mapping[str, str] | None = None
    ) -> tuple[T, int]:
        """GET `path`; the body decoded into `type_` and the index header."""
        raw, index = await self.get_raw(path, params)
        return self.decode(raw, type_, path), index

    def decode(self, raw: bytes, type_: Any, path: str) -> Any:
        try:
            return msgspec.json.decode(raw, type=type_)
        except msgspec.DecodeError as exc:  # ValidationError is a subclass
            raise BadResponse(self.address, path, str(exc), service=self.service) from None

    # -- failure mapping ------------------------------------------------------------------

    def _transport_error(self, exc: httpx.HTTPError, path: str, read_s: float) -> NomtuiError:
        addr, svc = self.address, self.service
        if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
            return ConfigError(f"Cannot use {svc} address {addr} for {path}; fix the URL.")
        tls = _ssl_failure(exc)
        if tls is not None:
            reason = getattr(tls, "reason", None) or type(tls).__name__
            return TlsError(addr, str(reason).replace("_", " ").lower(), service=svc)
        if isinstance(exc, httpx.ConnectTimeout):
            return Unreachable(addr, "no connection within 10 s", service=svc)
        if isinstance(exc, httpx.TimeoutException):
            return Unreachable(addr, f"no answer within {read_s:g} s", service=svc)
        if isinstance(exc, httpx.RemoteProtocolError):
            return Unreachable(addr, "connection closed before the answer", service=svc)
        reason = scrub(str(exc), self._secret_text()) or type(exc).__name__
        return Unreachable(addr, reason, service=svc)

    def _check(self, resp: httpx.Response, path: str) -> None:
        status = resp.status_code
        if 200 <= status < 300:
            ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json" and not ctype.endswith("+json"):
                reason = f"content type {ctype or 'missing'}, not JSON"
                raise BadResponse(self.address, path, reason, service=self.service)
            return
        detail = scrub(resp.text, self._secret_text())
        kw: dict[str, Any] = {"service": self.service}
        addr = self.address
        if status in (401, 403):
            raise Unauthorized(addr, path, detail, status=status, **kw)
        if status == 404:
            raise NotFound(addr, path, detail, **kw)
        if status == 409:
            raise Conflict(addr, path, detail, **kw)
        if 400 <= status < 500:
            raise BadRequest(addr, path, detail, status=status, **kw)
        if status >= 500:
            raise ServerError(addr, path, detail, status=status, **kw)
        # 1xx/3xx: a redirect usually means a login proxy, not Nomad.
        raise BadResponse(addr, path, f"unexpected status {status}", **kw)

    def _index(self, resp: httpx.Response, path: str) -> int:
        raw = resp.headers.get(self.index_header)
        if raw is None:
            return 0
        try:
            return int(raw)
        except ValueError:
            reason = f"{self.index_header} is not a number"
            raise BadResponse(self.address, path, reason, service=self.service) from None

    # -- blocking-query watch ---------------------------------------------------------------

    async def watch(
        self,
        path: str,
        type_: type[T],
        params: Mapping[str, str] | None = None,
        *,
        wait_s: float = 60.0,
        min_interval_s: float = 0.5,
        backoff: Backoff | None = None,
    ) -> AsyncIterator[Snapshot[T] | Retrying]:
        """Yield a `Snapshot` whenever the answer changes, a `Retrying` after each failure.

        Runs until the consumer stops iterating (or cancels). A `ConfigError` is raised:
        retrying cannot fix it. Any other `NomtuiError` is yielded as `Retrying` so a UI
        can show "reconnecting"; the next answer after a failure is always yielded, even
        when unchanged, so the UI learns the link is back.
        """
        wait_s = min(wait_s, MAX_WAIT_S)
        backoff = backoff or Backoff(rng=self._rng)
        limiter = RateLimiter(min_interval_s, sleep=self._sleep)
        index = BlockingIndex()
        last: bytes | None = None
        attempt = 0
        while True:
            await limiter.acquire()
            query = dict(params or {})
            blocking = index.value > 0
            if blocking:
                query["index"] = str(index.value)
                query["wait"] = go_duration(wait_s)
            try:
                raw, returned = await self.get_raw(
                    path, query, timeout_s=blocking_timeout(wait_s) if blocking else None
                )
                value: T = self.decode(raw, type_, path)
            except ConfigError:
                raise
            except NomtuiError as exc:
                attempt += 1
                delay = backoff.delay(attempt)
                # The cluster may have restarted with lower indexes; blocking on the old
                # one would hang for the whole wait, so ask afresh once it answers.
                index.reset()
                last = None
                yield Retrying(exc, delay, attempt)
                await self._sleep(delay)
                continue
            attempt = 0
            index.observe(returned)
            if raw != last:
                last = raw
                yield Snapshot(value, returned)


__all__ = ["HttpClient", "Secret"]
