"""py-consul under nomtui's rules: its own threads, our token handling, our error family.

py-consul is synchronous (requests), so `ConsulClient` runs every call on `DaemonPool`
threads, each with its own `consul.Consul` (a requests session is not documented as
thread-safe). This module adapts py-consul rather than wrapping it from outside:

- the HTTP layer is subclassed so the status of every answer is classified by its code
  (py-consul turns a 500 into a bare `ConsulException` whose only trace of the code is
  its message text, and DESIGN.md forbids classifying by text);
- the token stays in a `Secret` and becomes a header per request; py-consul's own
  `CONSUL_HTTP_TOKEN` lookup (which would override the resolved settings) is dropped;
- the base URI keeps a path prefix and IPv6 brackets, which py-consul's
  `scheme://host:port` cannot express.
"""

from __future__ import annotations

import concurrent.futures
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import SimpleQueue
from typing import Any, TypeVar
from urllib.parse import urlsplit

import consul
import consul.std
import httpx
import requests

from nomtui.client.failures import status_error
from nomtui.client.tls import failure_reason
from nomtui.config.addresses import redact_url
from nomtui.config.secret import Secret, split_basic_auth
from nomtui.errors import (
    BadResponse,
    ConfigError,
    NomtuiError,
    NotFound,
    TlsError,
    Unauthorized,
    Unreachable,
    scrub,
)

T = TypeVar("T")

SERVICE = "Consul"


@dataclass(frozen=True)
class ConsulTarget:
    """Where and how to reach one Consul agent; safe to print (secrets are `Secret`s)."""

    address: str
    """Scheme, host, port and path prefix, without user info: what messages show."""
    token: Secret | None = field(default=None, repr=False)
    basic_auth: Secret | None = field(default=None, repr=False)
    verify: bool | str = True
    """requests' form: False, True (system/certifi roots) or a CA bundle file/directory."""
    cert: tuple[str, str] | str | None = None
    namespace: str | None = None
    datacenter: str | None = None
    timeout_s: float = 10.0
    """Connect/read timeout; a blocking query adds its wait and jitter on top."""

    @property
    def secret_text(self) -> str | None:
        return self.token.reveal() if self.token else None


def parse_consul_url(address: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path prefix) of an http(s) Consul address; `ConfigError` else."""
    shown = redact_url(address)
    parts = urlsplit(address.strip() if "://" in address else f"http://{address.strip()}")
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
        scheme = ""  # reported below as an unusable address
    if scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"Consul address {shown!r} is not an http:// or https:// URL; "
            "set CONSUL_HTTP_ADDR like http://127.0.0.1:8500."
        )
    default_port = 443 if scheme == "https" else 80
    return scheme, parts.hostname, port or default_port, parts.path.rstrip("/")


class DaemonPool(concurrent.futures.Executor):
    """A tiny thread pool whose threads are daemons.

    `ThreadPoolExecutor` joins its threads at interpreter exit, so one thread inside a
    blocking query would hold `nomtui` open for the rest of the query's wait. Daemon
    threads let the process leave at once; the bounded `wait` keeps an abandoned query
    from occupying its thread for long while the program runs on.
    """

    def __init__(self, max_workers: int, name: str) -> None:
        self._max = max_workers
        self._name = name
        self._queue: SimpleQueue[tuple[concurrent.futures.Future[Any], Callable[[], Any]] | None]
        self._queue = SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the Consul client is closed")
            self._queue.put((future, lambda: fn(*args, **kwargs)))
            # `_idle` counts idle threads minus queued items no thread has claimed yet.
            if self._idle <= 0 and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1  # an idle thread takes this item
        return future

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, call = item
            if future.set_running_or_notify_cancel():
                try:
                    result = call()
                except BaseException as exc:  # handed to the awaiting coroutine
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, call, item  # no result or exception outlives the call in this frame
            with self._lock:
                if self._closed:
                    return
                self._idle += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        if cancel_futures:
            while not self._queue.empty():
                item = self._queue.get_nowait()
                if item is not None:
                    item[0].cancel()
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join()

    @property
    def threads(self) -> int:
        return len(self._threads)


class _Http(consul.std.HTTPClient):  # type: ignore[misc]  # py-consul is untyped
    """py-consul's requests transport with our base URI, basic auth and status mapping."""

    def __init__(self, target: ConsulTarget, base_uri: str, **kwargs: Any) -> None:
        super().__init__(**kwargs, connections_timeout=target.timeout_s)
        self.base_uri = base_uri
        self._target = target
        # Proxies from the environment would surprise people pointing at 127.0.0.1
        # (the Nomad client makes the same choice).
        self.session.trust_env = False
        # Never follow a redirect: requests strips only Authorization on the way, so the
        # X-Consul-Token header would go wherever a proxy points (a 3xx is reported).
        self.session.get_redirect_target = lambda response: None
        if target.basic_auth:
            self.session.auth = split_basic_auth(target.basic_auth)

    def get(
        self,
        callback: Callable[[Any], Any],
        path: str,
        params: Any = None,
        headers: dict[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        return super().get(_checked(callback, self._target, path), path, params, headers, raw)

    def close(self) -> None:
        self.session.close()


def _checked(
    callback: Callable[[Any], Any], target: ConsulTarget, path: str
) -> Callable[[Any], Any]:
    """py-consul's callback, behind a check of the status code (see the module notes)."""

    def check(response: Any) -> Any:
        code = int(response.code)
        if not 200 <= code < 300:
            body = response.body if isinstance(response.body, str) else ""
            resp = httpx.Response(code, headers=dict(response.headers), text=body)
            raise status_error(
                resp, address=target.address, service=SERVICE, path=path, secret=target.secret_text
            )
        ctype = str(response.headers.get("Content-Type", "")).split(";")[0].strip().lower()
        if ctype != "application/json" and not ctype.endswith("+json"):
            reason = f"content type {ctype or 'missing'}, not JSON"
            raise BadResponse(target.address, path, reason, service=SERVICE)
        try:
            return callback(response)
        except (consul.ConsulException, RecursionError):
            # After a success status only the body can be wrong (not JSON, no index;
            # arrays nested thousands deep overflow the json module's recursion).
            reason = "a body that is not the JSON expected"
            failure = BadResponse(target.address, path, reason, service=SERVICE)
        raise failure  # outside the handler: no chain back into py-consul's frames

    return check


class ConsulApi(consul.Consul):  # type: ignore[misc]  # py-consul is untyped
    """One thread's py-consul client for `target`."""

    def __init__(self, target: ConsulTarget) -> None:
        self._target = target
        scheme, host, port, prefix = parse_consul_url(target.address)
        netloc = f"[{host}]" if ":" in host else host
        self._base_uri = f"{scheme}://{netloc}:{port}{prefix}"
        super().__init__(
            host=host,
            port=port,
            scheme=scheme,
            verify=target.verify,
            cert=target.cert,
            dc=target.datacenter,
            connections_timeout=target.timeout_s,
        )
        self.token = None  # py-consul read CONSUL_HTTP_TOKEN itself; the settings decide

    def http_connect(
        self, host: str, port: int, scheme: str, verify: bool | str = True, cert: Any = None
    ) -> _Http:
        return _Http(
            self._target,
            self._base_uri,
            host=host,
            port=port,
            scheme=scheme,
            verify=verify,
            cert=cert,
        )

    def prepare_headers(self, token: str | None = None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self._target.token:
            headers["X-Consul-Token"] = self._target.token.reveal()
        if self._target.namespace:
            headers["X-Consul-Namespace"] = self._target.namespace
        return headers


def transport_error(exc: BaseException, target: ConsulTarget, path: str) -> NomtuiError:
    """The nomtui error for a py-consul/requests failure that had no usable status."""
    addr = target.address
    if isinstance(exc, NomtuiError):
        return exc
    if isinstance(exc, requests.exceptions.SSLError):
        return TlsError(addr, _short_reason(exc), service=SERVICE)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Unreachable(addr, f"no connection within {target.timeout_s:g} s", service=SERVICE)
    if isinstance(exc, requests.exceptions.Timeout):
        return Unreachable(addr, "no answer in time", service=SERVICE)
    if isinstance(exc, requests.exceptions.ConnectionError):
        return Unreachable(addr, _short_reason(exc), service=SERVICE)
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return ConfigError(f"Cannot use Consul address {addr} for {path}; fix CONSUL_HTTP_ADDR.")
    if isinstance(exc, (consul.ACLPermissionDenied, consul.ACLDisabled)):
        return Unauthorized(addr, path, scrub(str(exc), target.secret_text), service=SERVICE)
    if isinstance(exc, consul.NotFound):
        return NotFound(addr, path, scrub(str(exc), target.secret_text), service=SERVICE)
    if isinstance(exc, (requests.exceptions.RequestException, consul.ConsulException)):
        return Unreachable(addr, scrub(str(exc), target.secret_text)[:120], service=SERVICE)
    raise exc


def _short_reason(exc: BaseException) -> str:
    """A few words for a requests failure; its own text repeats the URL and a pool repr."""
    tls = _inner(exc, (ssl.SSLError, ssl.CertificateError))
    if isinstance(tls, (ssl.SSLError, ssl.CertificateError)):
        return failure_reason(tls)
    if _inner(exc, (ConnectionRefusedError,)) is not None:
        return "connection refused"
    os_error = _inner(exc, (OSError,))
    if isinstance(os_error, OSError) and os_error.strerror:
        return os_error.strerror.lower()
    return type(exc).__name__


def _inner(exc: BaseException, types: tuple[type[BaseException], ...]) -> BaseException | None:
    """The first exception of `types` in the chain requests and urllib3 build.

    They nest by `reason` attributes and constructor arguments as well as by cause and
    context, so all four links are followed.
    """
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, types):
            return current
        links = [getattr(current, "reason", None), current.__cause__, current.__context__]
        links += list(current.args)
        todo += [link for link in links if isinstance(link, BaseException)]
    return None


__all__ = [
    "SERVICE",
    "ConsulApi",
    "ConsulTarget",
    "DaemonPool",
    "parse_consul_url",
    "transport_error",
]
