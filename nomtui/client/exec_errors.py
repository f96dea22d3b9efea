"""How an exec session fails, in `nomtui.errors` terms (PROTOCOLS.md §6.3).

A refused upgrade has an HTTP status and is classified by it like any request. After
the upgrade Nomad reports failures as a close frame: 1011 when its code was 500
(`ServerError`), else 1008 with the error text as the reason. 1008 covers 400, 403 and
404 alike, so there, and only there, the reason decides the class, using the texts
Nomad's agent itself maps to 403 (PROTOCOLS.md §3.1) and its 404 texts for a missing
allocation, node or task; any other 1008 is a `BadRequest`. A normal close before the
exit frame is `StreamDropped` ("websocket closed before receiving exit code"), as in the
Go client.
"""

from __future__ import annotations

import httpx
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.frames import Close

from nomtui.client.failures import status_error
from nomtui.client.tls import failure_reason, ssl_failure
from nomtui.errors import (
    BadRequest,
    BadResponse,
    ClusterError,
    ConfigError,
    NomtuiError,
    NotFound,
    ServerError,
    StreamDropped,
    TlsError,
    Unauthorized,
    Unreachable,
)

# Nomad's agent rewrites errors ending in these to 403 (PROTOCOLS.md §3.1).
_AUTH_TEXTS = ("Permission denied", "ACL token not found", "ACL token expired")
_NOT_FOUND_PREFIXES = ("Unknown allocation", "No path to node", "Unknown node")
_NOT_FOUND_PARTS = ("not started yet", "is not running")


class ExecTimeout(ClusterError):
    """`wait(timeout=...)` ran out while the command was still running."""

    title = "Command still running"

    def __init__(self, address: str, alloc_id: str, timeout_s: float, stdin_closed: bool) -> None:
        hint = (
            "its input was closed, but Nomad 1.9.0 may not pass that on "
            "(hashicorp/nomad#24171): upgrade Nomad, or end the command another way "
            "(Ctrl-D with a TTY)"
            if stdin_closed
            else "it may be waiting for input or still working"
        )
        super().__init__(
            f"The command in allocation {alloc_id} on Nomad at {address} did not exit "
            f"within {timeout_s:g} s; {hint}.",
            address=address,
        )


def close_error(rcvd: Close | None, addr: str, path: str) -> NomtuiError:
    """The error for a session that ended with `rcvd` (None: no close frame) before
    its exit frame."""
    if rcvd is None:
        return StreamDropped(addr, path, "connection lost before the exit code")
    reason = rcvd.reason
    if rcvd.code in (1000, 1001):
        return StreamDropped(addr, path, "websocket closed before receiving exit code")
    if rcvd.code == 1011:
        return ServerError(addr, path, reason, status=500)
    if rcvd.code == 1008:
        # Nomad gives no code for these beyond "not 500": the text is all there is.
        if reason.endswith(_AUTH_TEXTS) or reason == "ACL token is invalid":
            return Unauthorized(addr, path, reason)
        if reason.startswith(_NOT_FOUND_PREFIXES) or any(p in reason for p in _NOT_FOUND_PARTS):
            return NotFound(addr, path, reason)
        return BadRequest(addr, path, reason)
    return StreamDropped(addr, path, f"closed with code {rcvd.code} {reason}".strip())


def open_error(
    exc: Exception, address: str, path: str, timeout_s: float, secret: str | None
) -> NomtuiError:
    """The error for an upgrade that failed with `exc` (nothing was started)."""
    if isinstance(exc, InvalidStatus):
        resp = exc.response
        fake = httpx.Response(
            resp.status_code,
            headers=list(resp.headers.raw_items()),
            content=bytes(resp.body or b""),
        )
        return status_error(fake, address=address, service="Nomad", path=path, secret=secret)
    if isinstance(exc, InvalidURI):
        return ConfigError(f"Cannot open an exec session at {address}; fix the address.")
    tls = ssl_failure(exc)
    if tls is not None:
        return TlsError(address, failure_reason(tls))
    if isinstance(exc, TimeoutError):
        return Unreachable(address, f"no connection within {timeout_s:g} s")
    if isinstance(exc, ConnectionRefusedError):
        return Unreachable(address, "connection refused")
    if isinstance(exc, InvalidHandshake):
        return BadResponse(address, path, "the agent did not accept a WebSocket")
    if isinstance(exc, OSError):
        return Unreachable(address, exc.strerror or type(exc).__name__)
    return Unreachable(address, type(exc).__name__)


__all__ = ["ExecTimeout", "close_error", "open_error"]
