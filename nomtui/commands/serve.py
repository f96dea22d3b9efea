"""`nomtui serve`: the UI in a browser, through textual-serve.

textual-serve starts one `python -m nomtui ...` per browser tab, as a shell command that
`ps` shows and the server prints on start. So that command carries only settings that
are not secret: a token (or an address with a password) given as a flag moves into the
child's environment, which only its user and root can read (/proc/PID/environ is 0400),
and NOMAD_TOKEN and friends already there are simply inherited.

The server listens on loopback unless told otherwise, and refuses websockets opened by
pages of another web origin: a browser lets any site open a websocket to 127.0.0.1, and
this one drives the cluster with the operator's token.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from nomtui.errors import ConfigError

if TYPE_CHECKING:
    from textual_serve.server import Server

    from nomtui.config.model import Flags
    from nomtui.config.secret import Secret

DEFAULT_PORT = 8000
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Launch:
    """How the server starts the app for each browser tab."""

    argv: list[str]
    """`python -m nomtui [flags] [demo]`: nothing secret in it."""
    env: dict[str, str] = field(default_factory=dict, repr=False)
    """Variables to set for the child: the secrets moved out of the flags."""
    unset: tuple[str, ...] = ()
    """Variables to remove, because in the same layer they would win over a moved secret."""
    moved: dict[str, str] = field(default_factory=dict)
    """Each flag moved into the environment -> the settings key it sets (`nomad.token`)."""


# Flag -> (its Flags attribute, the variable that carries it to the child, the settings
# key it sets, variables that would win over that one in the environment layer).
_SECRET_FLAGS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "--token": ("token", "NOMAD_TOKEN", "nomad.token", ()),
    "--consul-token": (
        "consul_token",
        "CONSUL_HTTP_TOKEN",
        "consul.token",
        ("CONSUL_HTTP_TOKEN_FILE",),
    ),
    "--addr": ("addr", "NOMAD_ADDR", "nomad.address", ()),
    "--consul-addr": ("consul_addr", "CONSUL_HTTP_ADDR", "consul.address", ()),
}
_PLAIN_FLAGS = {
    "--region": "region",
    "--namespace": "namespace",
    "--ca-cert": "ca_cert",
    "--client-cert": "client_cert",
    "--client-key": "client_key",
    "--tls-server-name": "tls_server_name",
}


def _reveal(value: str | Secret) -> str:
    return value if isinstance(value, str) else value.reveal()


def child_launch(flags: Flags, *, demo: bool, python: str) -> Launch:
    """The child's command line and environment for these global flags.

    With `demo` the child is `nomtui demo`, which reads no cluster settings, so only
    --read-only is passed on.
    """
    argv = [python, "-m", "nomtui"]
    if flags.read_only:
        argv.append("--read-only")
    if demo:
        return Launch(argv=[*argv, "demo"])
    env: dict[str, str] = {}
    unset: list[str] = []
    moved: dict[str, str] = {}
    if flags.cluster is not None:
        argv.append(f"--cluster={flags.cluster}")
    for flag, (attr, variable, key, losers) in _SECRET_FLAGS.items():
        given: str | Secret | None = getattr(flags, attr)
        if given is None:
            continue
        value = _reveal(given)
        # An address is secret only when it carries user info (`https://user:pw@host`).
        if flag.endswith("-token") or "@" in value:
            env[variable] = value
            unset += losers
            moved[flag] = key
        else:
            # `--flag=value`: a value that starts with `-` must not read as another flag.
            argv.append(f"{flag}={value}")
    for flag, attr in _PLAIN_FLAGS.items():
        plain: str | None = getattr(flags, attr)
        if plain is not None:
            argv.append(f"{flag}={plain}")
    if flags.skip_verify:
        argv.append("--tls-skip-verify")
    return Launch(argv=argv, env=env, unset=tuple(unset), moved=moved)


def apply_env(launch: Launch, environ: MutableMapping[str, str]) -> None:
    """Put the launch's variables into `environ` (textual-serve copies it per child)."""
    for name in launch.unset:
        environ.pop(name, None)
    environ.update(launch.env)


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may well resolve to anything


def check_host(host: str, allow_non_loopback: bool) -> None:
    """Refuse a non-loopback address unless asked for (as `nomtui sim` does)."""
    if not allow_non_loopback and not _is_loopback(host):
        raise ConfigError(
            f"--host {host} is not a loopback address, and whoever reaches it drives the UI "
            "with your token; pass --allow-non-loopback if you really mean it."
        )


def origin_of(url: str) -> str:
    """The web origin of `url` as a browser writes it in an Origin header.

    Raises ValueError when `url` is not an http(s) URL with a host.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname
    port = parts.port  # raises ValueError on a port that is not a number
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValueError(url)
    shown = f"[{host}]" if ":" in host else host
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{shown}"
    return f"{scheme}://{shown}:{port}"


def public_url_for(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def allowed_origins(host: str, port: int, public_url: str) -> frozenset[str]:
    """The origins whose pages may open the app's websocket.

    The page's own origin, and on loopback every loopback name for this port: a user may
    type localhost where the server printed 127.0.0.1.
    """
    origins = {origin_of(public_url)}
    if _is_loopback(host):
        origins |= {f"http://{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")}
    return frozenset(origins)


def origin_allowed(origin: str | None, allowed: frozenset[str]) -> bool:
    """True for a request without Origin (not a browser page) or from an allowed one."""
    if origin is None:
        return True
    try:
        return origin_of(origin) in allowed
    except ValueError:
        return False  # `null` (a sandboxed page or a file://) and anything malformed


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--allow-non-loopback", is_flag=True, help="Allow a --host other than loopback.")
@click.option(
    "--public-url",
    help="The URL browsers reach this server at, e.g. behind a proxy (default http://HOST:PORT).",
)
@click.option("--demo", is_flag=True, help="Serve `nomtui demo`: a simulated cluster per tab.")
@click.pass_obj
def serve_cmd(
    flags: Flags,
    host: str,
    port: int,
    allow_non_loopback: bool,
    public_url: str | None,
    demo: bool,
) -> None:
    """Serve the UI to a web browser (textual-serve); Ctrl-C stops it.

    Each browser tab runs its own `nomtui` with the global flags given before `serve`
    (e.g. `nomtui --cluster prod --read-only serve`). The server listens on 127.0.0.1
    unless --host and --allow-non-loopback say otherwise; anyone who can reach the port
    drives the UI with your token. Tokens never go into a URL, the page or the command
    line of the app: pass them in NOMAD_TOKEN / CONSUL_HTTP_TOKEN.
    """
    import os
    import shlex
    import sys

    check_host(host, allow_non_loopback)
    url = public_url if public_url is not None else public_url_for(host, port)
    try:
        origins = allowed_origins(host, port, url)
    except ValueError:
        raise ConfigError(
            f"--public-url {url} is not an http:// or https:// URL with a host; fix it."
        ) from None
    launch = child_launch(flags, demo=demo, python=sys.executable)
    server_class = _server_class(origins)
    if not demo:
        _check_settings(flags, launch)
    for flag in launch.moved:
        # The settings already warn about token flags; an address with a password is
        # as visible, for as long as the server runs.
        if not flag.endswith("-token"):
            click.echo(
                f"warning: {flag} with a password shows in the process list as long as this "
                "server runs; prefer the environment.",
                err=True,
            )
    apply_env(launch, os.environ)
    server = server_class(
        # textual-serve runs this through `sh -c`; `exec` makes the app the server's own
        # child, so it can die with the server (see `cli._exit_with_parent`).
        "exec " + shlex.join(launch.argv),
        host=host,
        port=port,
        # The title goes into the page; textual-serve's default is the whole command.
        title="nomtui demo" if demo else "nomtui",
        public_url=url,
    )
    _run(server, host, port)


def _check_settings(flags: Flags, launch: Launch) -> None:
    """Resolve the settings now, so a broken config fails here and not in each tab.

    A flag moved into the environment ranks below `--cluster` in the child, so a cluster
    that sets the same thing would silently win there: that is refused.
    """
    import os
    from pathlib import Path

    from nomtui.config import clusters, resolve
    from nomtui.config.files import show_path

    settings = resolve(flags)
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)
    if flags.cluster is None or not launch.moved:
        return
    home = Path.home()
    path = clusters.config_path(os.environ, home)
    config = clusters.load(path, show_path(path, home), home)
    cluster = config.clusters.get(flags.cluster) if config is not None else None
    for flag, key in launch.moved.items():
        if cluster is not None and key in cluster.values:
            raise ConfigError(
                f"cluster {flags.cluster} sets its own {key}, which would win over {flag} "
                f"in the served app (it can only get {flag} from its environment); drop "
                f"{flag} or --cluster."
            )


def _server_class(origins: frozenset[str]) -> type[Server]:
    """textual-serve's server, made safe to hand a token to.

    It refuses websockets from pages of other origins, logs tracebacks without their
    local variables, and closes the open tabs (so their apps quit) when it stops.
    """
    import logging

    try:
        from aiohttp import WSCloseCode, web
        from textual_serve.app_service import AppService
        from textual_serve.server import Server
    except ImportError:
        raise ConfigError(
            "textual-serve is not installed, so nomtui cannot serve the UI; install it "
            "with `pip install textual-serve`."
        ) from None

    from nomtui.sanitize import clean

    log = logging.getLogger("nomtui.serve")

    tabs: set[web.WebSocketResponse] = set()

    class OriginCheckedServer(Server):
        def initialize_logging(self) -> None:
            # textual-serve's handler prints tracebacks with their local variables, and
            # the environment it builds for each app (NOMAD_TOKEN included) is one.
            from rich.logging import RichHandler

            handler = RichHandler(show_path=False, show_time=False, console=self.console)
            logging.basicConfig(level="INFO", format="%(message)s", handlers=[handler], force=True)

        async def on_startup(self, app: web.Application) -> None:
            # Instead of textual-serve's banner: where to point the browser.
            self.console.print(
                f"nomtui serve: open {self.public_url} in a browser; each tab runs "
                f"{self.command}. Ctrl-C stops it.",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )

        async def on_shutdown(self, app: web.Application) -> None:
            # Close the open tabs: each handler then tells its app to quit and waits for
            # it, where aiohttp would otherwise wait for the browsers to hang up.
            for websocket in list(tabs):
                await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")

        async def _process_messages(
            self, websocket: web.WebSocketResponse, app_service: AppService
        ) -> None:
            tabs.add(websocket)
            try:
                await super()._process_messages(websocket, app_service)
            finally:
                tabs.discard(websocket)

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            origin = request.headers.get("Origin")
            if not origin_allowed(origin, origins):
                log.warning("refused a websocket from the page of %s", clean(origin or ""))
                raise web.HTTPForbidden(text="Only this server's own page may connect.\n")
            return await super().handle_websocket(request)

    return OriginCheckedServer


def _run(server: Server, host: str, port: int) -> None:
    _probe_port(host, port)
    try:
        server.serve()
    except OSError as exc:
        # Lost a race with another program after the probe: same message.
        raise _listen_error(exc, host, port) from None


def _probe_port(host: str, port: int) -> None:
    """Fail before the server starts: it prints where to browse before it binds."""
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                # As asyncio's server does, so a port in TIME_WAIT is not "in use".
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
    except OSError as exc:
        raise _listen_error(exc, host, port) from None


def _listen_error(exc: OSError, host: str, port: int) -> ConfigError:
    import errno

    if exc.errno == errno.EADDRINUSE:
        return ConfigError(f"port {port} is in use; pick another with --port.")
    reason = exc.strerror or type(exc).__name__
    return ConfigError(f"cannot listen on {host}:{port} ({reason}); pick another --host or --port.")


def register(group: click.Group) -> None:
    group.add_command(serve_cmd)


__all__ = [
    "Launch",
    "allowed_origins",
    "apply_env",
    "check_host",
    "child_launch",
    "origin_allowed",
    "origin_of",
    "register",
]
