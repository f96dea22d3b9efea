"""One error family for everything nomtui shows a user.

Every error carries a short `title` (for a dialog or status bar) and a `message`: one
sentence that names the address involved and what to check. The client classifies
failures by HTTP status code and exception type, never by matching message text, so the
server's words only ever appear as a quoted detail.

Tokens never reach these objects: callers pass addresses and server texts, and
`scrub()` exists for the rare text that might echo a secret back.
"""

from __future__ import annotations

from typing import ClassVar

from nomtui.sanitize import clean

# Where a user fixes each kind of problem, per service (PROTOCOLS.md §11).
_ADDR_VAR = {"Nomad": "NOMAD_ADDR", "Consul": "CONSUL_HTTP_ADDR"}
_TOKEN_VAR = {"Nomad": "NOMAD_TOKEN", "Consul": "CONSUL_HTTP_TOKEN"}
_CA_VAR = {"Nomad": "NOMAD_CACERT", "Consul": "CONSUL_CACERT"}

# Server texts are quoted in messages; a runaway body must not flood the status bar.
_MAX_DETAIL = 200


def _detail(text: str) -> str:
    """A server's answer squeezed onto one short, control-free line for a message."""
    one_line = " ".join(clean(text, newlines=True).split())
    if len(one_line) > _MAX_DETAIL:
        one_line = one_line[: _MAX_DETAIL - 1] + "…"
    return one_line


def _with(detail: str) -> str:
    return f" ({_detail(detail)})" if detail.strip() else ""


def scrub(text: str, *secrets: str | None) -> str:
    """`text` with every non-empty secret replaced by `***` (for texts a server echoes)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class NomtuiError(Exception):
    """Base of every error nomtui reports to a user."""

    title: ClassVar[str] = "Error"
    transient: ClassVar[bool] = False
    """True when retrying the same request later may well succeed (watch loops retry)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigError(NomtuiError):
    """A setting or flag is wrong; nothing was sent anywhere."""

    title = "Configuration problem"


class ReadOnlyRefused(NomtuiError):
    """A write was refused locally because the cluster is configured read-only."""

    title = "Read-only cluster"

    def __init__(self, action: str, cluster: str) -> None:
        self.action = action
        self.cluster = cluster
        super().__init__(
            f"Cluster {cluster} is configured read-only, so nomtui will not {action}; "
            "remove read_only from its settings to allow writes."
        )


class ClusterError(NomtuiError):
    """Something went wrong talking to a cluster at `address`."""

    def __init__(self, message: str, *, address: str, service: str = "Nomad") -> None:
        self.address = address
        self.service = service
        super().__init__(message)


class Unreachable(ClusterError):
    title = "Cluster unreachable"
    transient = True

    def __init__(self, address: str, reason: str = "", *, service: str = "Nomad") -> None:
        self.reason = reason
        var = _ADDR_VAR.get(service, "the address")
        super().__init__(
            f"Cannot reach {service} at {address}{_with(reason)}; "
            f"check {var} and that the agent is running.",
            address=address,
            service=service,
        )


class TlsError(ClusterError):
    title = "TLS failure"

    def __init__(self, address: str, reason: str = "", *, service: str = "Nomad") -> None:
        self.reason = reason
        ca = _CA_VAR.get(service, "the CA certificate")
        super().__init__(
            f"TLS with {service} at {address} failed{_with(reason)}; "
            f"check the https:// address, {ca} and the client certificate.",
            address=address,
            service=service,
        )


class HttpStatusError(ClusterError):
    """The cluster answered, with a status code that is not success."""

    def __init__(
        self,
        message: str,
        *,
        address: str,
        status: int,
        path: str,
        detail: str = "",
        service: str = "Nomad",
    ) -> None:
        self.status = status
        self.path = path
        self.detail = detail
        super().__init__(message, address=address, service=service)


class Unauthorized(HttpStatusError):
    title = "Permission denied"

    def __init__(
        self,
        address: str,
        path: str,
        detail: str = "",
        *,
        status: int = 403,
        service: str = "Nomad",
    ) -> None:
        token = _TOKEN_VAR.get(service, "the token")
        super().__init__(
            f"{service} at {address} refused {path} with {status}{_with(detail)}; "
            f"check that {token} is set and its policy allows this.",
            address=address,
            status=status,
            path=path,
            detail=detail,
            service=service,
        )


class NotFound(HttpStatusError):
    title = "Not found"

    def __init__(
        self, address: str, path: str, detail: str = "", *, service: str = "Nomad"
    ) -> None:
        super().__init__(
            f"{service} at {address} has nothing at {path}{_with(detail)}; "
            "check the name and the namespace (it may have been purged).",
            address=address,
            status=404,
            path=path,
            detail=detail,
            service=service,
        )


class Conflict(HttpStatusError):
    title = "Conflict"

    def __init__(
        self, address: str, path: str, detail: str = "", *, service: str = "Nomad"
    ) -> None:
        super().__init__(
            f"{service} at {address} rejected {path} because it changed meanwhile"
            f"{_with(detail)}; reload it and try again.",
            address=address,
            status=409,
            path=path,
            detail=detail,
            service=service,
        )


class BadRequest(HttpStatusError):
    """Any other 4xx: the request itself was wrong (400 validation, 405 method, ...)."""

    title = "Request rejected"

    def __init__(
        self,
        address: str,
        path: str,
        detail: str = "",
        *,
        status: int = 400,
        service: str = "Nomad",
    ) -> None:
        super().__init__(
            f"{service} at {address} rejected {path} with {status}{_with(detail)}; "
            "check the values given.",
            address=address,
            status=status,
            path=path,
            detail=detail,
            service=service,
        )


class ServerError(HttpStatusError):
    title = "Server error"
    transient = True

    def __init__(
        self,
        address: str,
        path: str,
        detail: str = "",
        *,
        status: int = 500,
        service: str = "Nomad",
    ) -> None:
        super().__init__(
            f"{service} at {address} failed on {path} with {status}{_with(detail)}; "
            "check the servers' health and leader, then retry.",
            address=address,
            status=status,
            path=path,
            detail=detail,
            service=service,
        )


class BadResponse(ClusterError):
    """The answer came with success but cannot be understood (not JSON, wrong shape)."""

    title = "Unexpected answer"

    def __init__(self, address: str, path: str, reason: str, *, service: str = "Nomad") -> None:
        self.path = path
        self.reason = reason
        var = _ADDR_VAR.get(service, "the address")
        super().__init__(
            f"{service} at {address} sent an answer to {path} that nomtui cannot read"
            f"{_with(reason)}; check that {var} points at a {service} agent "
            "and not at a proxy or login page.",
            address=address,
            service=service,
        )


class StreamDropped(ClusterError):
    """A long-lived stream (logs, events, exec) ended before it was meant to."""

    title = "Stream dropped"
    transient = True

    def __init__(
        self, address: str, path: str, reason: str = "", *, service: str = "Nomad"
    ) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"The stream {path} from {service} at {address} was cut{_with(reason)}; "
            "check the network and the agent, nomtui will reconnect.",
            address=address,
            service=service,
        )


__all__ = [
    "BadRequest",
    "BadResponse",
    "ClusterError",
    "ConfigError",
    "Conflict",
    "HttpStatusError",
    "NomtuiError",
    "NotFound",
    "ReadOnlyRefused",
    "ServerError",
    "StreamDropped",
    "TlsError",
    "Unauthorized",
    "Unreachable",
    "scrub",
]
