"""Parsing the Nomad and Consul addresses the way the official Go clients read them."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

from nomtui.config.secret import Secret
from nomtui.errors import ConfigError

_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*://)?)[^/@]*@")


def redact_url(raw: str) -> str:
    """`raw` with any `user:pass@` replaced, for error messages about a bad address."""
    return _USERINFO.sub(r"\1***@", raw.strip())


def _split(url: str, shown: str, where: str) -> tuple[str, str, Secret | None]:
    """(scheme, url without user info, user info) of an http(s) URL; raises on junk."""
    parts = urlsplit(url)
    try:
        # .port raises on a non-numeric or out-of-range port; .hostname may be None.
        parts.port  # noqa: B018
    except ValueError:
        raise ConfigError(f"{where} is {shown!r}, whose port is not a number.") from None
    if not parts.hostname:
        raise ConfigError(f"{where} is {shown!r}, which names no host.")
    auth: Secret | None = None
    if parts.username is not None:
        user = unquote(parts.username)
        password = unquote(parts.password) if parts.password is not None else None
        auth = Secret(user if password is None else f"{user}:{password}")
    hostport = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme.lower(), hostport, parts.path.rstrip("/"), parts.query, ""))
    return parts.scheme.lower(), clean, auth


def parse_nomad_address(raw: str, where: str) -> tuple[str, Secret | None]:
    """NOMAD_ADDR: an http://, https:// or unix:// URL; user info becomes basic auth.

    Returns the address without user info, so it is always safe to show.
    """
    raw = raw.strip()
    shown = redact_url(raw)
    scheme, sep, _ = raw.partition("://")
    if not sep:
        raise ConfigError(
            f"{where} is {shown!r}, which lacks a scheme; "
            f"write it as http://{shown} or https://{shown}."
        )
    if scheme.lower() == "unix":
        return raw, None
    if scheme.lower() not in ("http", "https"):
        raise ConfigError(f"{where} is {shown!r}; it must start with http://, https:// or unix://.")
    _, clean, auth = _split(raw, shown, where)
    return clean, auth


def parse_consul_address(raw: str, where: str) -> tuple[str, Secret | None]:
    """CONSUL_HTTP_ADDR: `host:port`, or a URL with http://, https:// or unix://.

    A bare `host:port` is returned bare: its scheme is decided later by CONSUL_HTTP_SSL,
    which may come from another layer (`with_consul_scheme`).
    """
    raw = raw.strip()
    shown = redact_url(raw)
    scheme, sep, _ = raw.partition("://")
    if sep:
        if scheme.lower() == "unix":
            return raw, None
        if scheme.lower() not in ("http", "https"):
            raise ConfigError(
                f"{where} is {shown!r}; it must be host:port or start with http://, "
                "https:// or unix://."
            )
        _, clean, auth = _split(raw, shown, where)
        return clean, auth
    _, clean, auth = _split(f"http://{raw}", shown, where)
    return clean.removeprefix("http://"), auth


def with_consul_scheme(address: str, ssl: bool) -> str:
    """A scheme in the address wins over CONSUL_HTTP_SSL, as in the Go client."""
    if "://" in address:
        return address
    return f"{'https' if ssl else 'http'}://{address}"


def same_address(a: str, b: str) -> bool:
    """The same agent: equal up to case, a trailing slash and an http/https scheme
    (a bare Consul host:port and its https:// form are one agent)."""

    def key(address: str) -> str:
        address = address.strip().rstrip("/").lower()
        return address.removeprefix("http://").removeprefix("https://")

    return key(a) == key(b)
