"""Where a request goes and who it says it is: the address, the token, proxy basic auth.

The token and the basic-auth pair stay in `Secret`s and are put on each request as it
is sent, so no long-lived headers mapping (shown in reprs and in tracebacks with locals)
ever holds them.
"""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

from nomtui.config.addresses import redact_url
from nomtui.config.secret import Secret, split_basic_auth
from nomtui.errors import ConfigError


class RequestAuth(httpx.Auth):
    """Adds the token header (and proxy basic auth) at send time."""

    def __init__(self, header: str, token: Secret | None, basic: Secret | None) -> None:
        self._header = header
        self._token = token
        self._basic = basic

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token:
            request.headers[self._header] = self._token.reveal()
        if self._basic:
            # For an authenticating proxy in front of the agent; it consumes
            # `Authorization`, which is why the token travels in its own header.
            user, password = split_basic_auth(self._basic)
            pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            request.headers["Authorization"] = f"Basic {pair}"
        yield request

    def __repr__(self) -> str:
        return f"RequestAuth({self._header!r}, {self._token!r})"


def parse_address(address: str, service: str) -> tuple[httpx.URL, str | None, Secret | None]:
    """(base URL without user info, unix socket path or None, user info as basic auth).

    User info in the address (allowed by NOMAD_ADDR) becomes basic auth for a proxy and
    is dropped from the URL that messages show.
    """
    if address.startswith("unix://") and len(address) > len("unix://"):
        # The socket path is the whole rest; requests go to a placeholder host.
        return httpx.URL("http://localhost"), address[len("unix://") :], None
    try:
        url = httpx.URL(address.rstrip("/")) if "://" in address else None
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        shown = redact_url(address)
        raise ConfigError(
            f"{service} address {shown!r} is not an http://, https:// or unix:// URL; "
            "set it like http://127.0.0.1:4646."
        )
    basic = None
    if url.userinfo:
        user, password = url.username, url.password
        basic = Secret(f"{user}:{password}" if password else user)
    return url.copy_with(userinfo=b""), None, basic


__all__ = ["RequestAuth", "parse_address"]
