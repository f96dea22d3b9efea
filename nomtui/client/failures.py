"""One mapping of HTTP failures onto `nomtui.errors`, by exception type and status only.

Server texts are quoted as details, never used to decide the class (PROTOCOLS.md §3:
the agent itself picks the status; texts vary between versions). Everything that could
echo the token is scrubbed first.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx

from nomtui.client.tls import client_cert_hint, failure_reason, ssl_failure
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

CONNECT_TIMEOUT_S = 10.0
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def content_type(resp: httpx.Response) -> str:
    raw: str = resp.headers.get("content-type", "")
    return raw.split(";")[0].strip().lower()


def is_json(resp: httpx.Response) -> bool:
    ctype = content_type(resp)
    return ctype == "application/json" or ctype.endswith("+json")


def shown_path(path: str, namespace: str | None) -> str:
    """The path for a message: job IDs unescaped, and the namespace when one was asked.

    A job "not found" is most often a job in another namespace, so the message says
    which namespace was searched.
    """
    shown = unquote(path)
    if namespace and namespace != "*":
        shown += f" in namespace {namespace}"
    return shown


def transport_error(
    exc: httpx.HTTPError,
    *,
    address: str,
    service: str,
    path: str,
    read_s: float,
    secret: str | None,
) -> NomtuiError:
    """The error for a request that got no HTTP answer at all."""
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return ConfigError(f"Cannot use {service} address {address} for {path}; fix the URL.")
    tls = ssl_failure(exc)
    if tls is not None:
        return TlsError(address, failure_reason(tls, service), service=service)
    if isinstance(exc, httpx.ConnectTimeout):
        return Unreachable(
            address, f"no connection within {CONNECT_TIMEOUT_S:g} s", service=service
        )
    if isinstance(exc, httpx.TimeoutException):
        return Unreachable(address, f"no answer within {read_s:g} s", service=service)
    if isinstance(exc, httpx.RemoteProtocolError):
        return Unreachable(address, "connection closed before the answer", service=service)
    os_error = _os_error(exc)
    if isinstance(os_error, ConnectionRefusedError):
        return Unreachable(address, "connection refused", service=service)
    if isinstance(os_error, FileNotFoundError):  # a unix:// socket that is not there
        return Unreachable(address, "no such socket", service=service)
    if isinstance(os_error, ConnectionResetError):
        reason = "the agent reset the connection"
        if address.startswith("https://"):
            # TLS 1.3 agents that refuse a client certificate (or its absence) reset the
            # connection after the handshake; the reset alone cannot prove it, so the
            # class stays Unreachable and the reason says what is likely.
            reason += f"; over https:// {client_cert_hint(service)}"
        return Unreachable(address, reason, service=service)
    reason = scrub(str(exc), secret) or type(exc).__name__
    return Unreachable(address, reason, service=service)


def _os_error(exc: BaseException) -> OSError | None:
    """The innermost OSError under httpx's wrappers (anyio adds a generic one on top)."""
    found: OSError | None = None
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError):
            found = seen
        seen = seen.__cause__ or seen.__context__
    return found


def error_detail(resp: httpx.Response, secret: str | None) -> str:
    """The server's words for an error answer; a proxy's HTML page becomes its title."""
    text = scrub(resp.text, secret)
    if content_type(resp) == "text/html" or text.lstrip().lower().startswith(
        ("<!doctype", "<html")
    ):
        match = _TITLE.search(text)
        title = " ".join(match.group(1).split()) if match else ""
        return f"an HTML page{f' titled {title!r}' if title else ''}, likely from a proxy"
    return text


def status_error(
    resp: httpx.Response, *, address: str, service: str, path: str, secret: str | None
) -> NomtuiError:
    """The error for an answer whose status is not a success."""
    status = resp.status_code
    detail = error_detail(resp, secret)
    if status in (401, 403):
        return Unauthorized(address, path, detail, status=status, service=service)
    if status == 404:
        return NotFound(address, path, detail, service=service)
    if status == 409:
        return Conflict(address, path, detail, service=service)
    if 400 <= status < 500:
        return BadRequest(address, path, detail, status=status, service=service)
    if status >= 500:
        return ServerError(address, path, detail, status=status, service=service)
    # 1xx/3xx: a redirect usually means a login proxy, not the agent.
    return BadResponse(address, path, f"unexpected status {status}", service=service)


__all__ = [
    "CONNECT_TIMEOUT_S",
    "content_type",
    "error_detail",
    "is_json",
    "shown_path",
    "status_error",
    "transport_error",
]
