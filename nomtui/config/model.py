"""The shapes of the settings layer: what the command line gives, what `resolve` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nomtui.config.secret import Secret

DEFAULT_NOMAD_ADDR = "http://127.0.0.1:4646"
DEFAULT_CONSUL_ADDR = "http://127.0.0.1:8500"
DEFAULT_REGISTRY = "registry.archive.org"
DEFAULT_BRANCHES = {"production": "prod", "staging": "staging"}


@dataclass(frozen=True)
class Flags:
    """Command-line options; None means "not given" (so lower layers decide)."""

    addr: str | None = None
    token: str | Secret | None = field(default=None, repr=False)
    region: str | None = None
    namespace: str | None = None
    cluster: str | None = None
    read_only: bool = False
    """A flag can only turn read-only on: a cluster marked read_only stays read-only."""
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    tls_server_name: str | None = None
    skip_verify: bool | None = None
    consul_addr: str | None = None
    consul_token: str | Secret | None = field(default=None, repr=False)


@dataclass(frozen=True)
class NomadSettings:
    address: str = DEFAULT_NOMAD_ADDR
    """http(s):// URL without user info (that moved to `http_auth`), or a unix:// socket."""
    token: Secret | None = None
    region: str | None = None
    """None: the parameter is left out and the agent's own region answers."""
    namespace: str | None = None
    """None: the parameter is left out and the server uses `default`."""
    ca_cert: Path | None = None
    ca_path: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    tls_server_name: str | None = None
    skip_verify: bool = False
    http_auth: Secret | None = None
    """`user[:pass]` for an authenticating proxy; see `secret.split_basic_auth`."""


@dataclass(frozen=True)
class ConsulSettings:
    address: str = DEFAULT_CONSUL_ADDR
    """Always with a scheme here: a bare host:port was given http or https by CONSUL_HTTP_SSL."""
    token: Secret | None = None
    namespace: str | None = None
    ca_cert: Path | None = None
    ca_path: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    tls_server_name: str | None = None
    skip_verify: bool = False
    http_auth: Secret | None = None


@dataclass(frozen=True)
class Settings:
    """Everything nomtui needs to know before it talks to a cluster.

    `sources` maps each field path ("nomad.address", "consul.token", "read_only", ...)
    to where its value came from, for `nomtui config` and for error messages.
    """

    nomad: NomadSettings
    consul: ConsulSettings
    cluster: str | None
    read_only: bool
    production: bool
    """Destructive confirmations ask for the job name to be typed."""
    color: str | None
    """Banner colour of the cluster (a Textual colour name or #hex), None for the default."""
    keys: dict[str, str]
    """Binding id -> key, from config.toml [keys]; applied by the TUI."""
    registry: str
    audit_log: Path
    config_file: Path
    """Where config.toml was looked for (it may not exist)."""
    sources: dict[str, str]
    warnings: list[str]

    @property
    def exposed_secrets(self) -> list[str]:
        """The warnings about files with a secret that others can read: every command
        shows these on stderr, where other warnings are for `nomtui config`."""
        from nomtui.config.files import ExposedSecret

        return [w for w in self.warnings if isinstance(w, ExposedSecret)]
