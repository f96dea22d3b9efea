"""`$XDG_CONFIG_HOME/nomtui/config.toml`: named clusters and nomtui's own options.

    default_cluster = "dev"
    registry = "registry.archive.org"        # or [registry] host = "..."
    audit_log = "~/.local/state/nomtui/audit.log"

    [branches]                               # merged over production→prod, staging→staging;
    main = "dev"                             # "" switches a branch's mapping off

    [keys]                                   # binding id -> key, applied by the TUI
    "app.quit" = "ctrl+q"

    [clusters.prod]
    address = "https://nomad.prod.example:4646"
    token_command = "pass show nomad/prod"   # or token_env / token_file / token (discouraged)
    consul_address = "https://consul.prod.example:8501"
    consul_token_env = "CONSUL_TOKEN_PROD"
    ca_cert = "~/certs/prod-ca.pem"
    read_only = false
    production = true
    color = "red"

Relative paths are relative to the directory of config.toml. Every cluster key that
names a Consul thing starts with `consul_`; the rest are Nomad's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nomtui.config.addresses import parse_consul_address, parse_nomad_address
from nomtui.config.files import expand_path, permission_warning, read_text
from nomtui.config.layer import TokenCommand, TokenEnv, TokenFile, Value
from nomtui.config.model import DEFAULT_BRANCHES
from nomtui.config.secret import Secret
from nomtui.errors import ConfigError

_STRINGS = {
    "region": "nomad.region",
    "namespace": "nomad.namespace",
    "tls_server_name": "nomad.tls_server_name",
    "consul_namespace": "consul.namespace",
    "consul_tls_server_name": "consul.tls_server_name",
}
_PATHS = {
    "ca_cert": "nomad.ca_cert",
    "ca_path": "nomad.ca_path",
    "client_cert": "nomad.client_cert",
    "client_key": "nomad.client_key",
    "consul_ca_cert": "consul.ca_cert",
    "consul_ca_path": "consul.ca_path",
    "consul_client_cert": "consul.client_cert",
    "consul_client_key": "consul.client_key",
}
_BOOLS = {"skip_verify": "nomad.skip_verify", "consul_skip_verify": "consul.skip_verify"}
_TOKEN_FORMS = ("token", "token_env", "token_file", "token_command")
_CLUSTER_KEYS = frozenset(
    {
        "address",
        "consul_address",
        "read_only",
        "production",
        "color",
        *_STRINGS,
        *_PATHS,
        *_BOOLS,
        *_TOKEN_FORMS,
        *(f"consul_{form}" for form in _TOKEN_FORMS),
    }
)
_TOP_KEYS = frozenset({"default_cluster", "branches", "keys", "registry", "audit_log", "clusters"})


@dataclass(frozen=True)
class Cluster:
    name: str
    values: dict[str, tuple[Value, str]]
    """Setting key -> (value, what in the file gave it: "" or e.g. "token_command")."""
    read_only: bool = False
    production: bool = False
    color: str | None = None
    literal_token: bool = False
    """A token (or a password in an address) is written in config.toml itself."""

    @property
    def address(self) -> str:
        value = self.values["nomad.address"][0]
        assert isinstance(value, str)  # parse() always stores the address as a str
        return value


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    shown: str
    clusters: dict[str, Cluster] = field(default_factory=dict)
    default_cluster: str | None = None
    branches: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_BRANCHES))
    keys: dict[str, str] = field(default_factory=dict)
    registry: str | None = None
    audit_log: Path | None = None
    warnings: list[str] = field(default_factory=list)


def config_path(env: Mapping[str, str], home: Path) -> Path:
    """XDG: $XDG_CONFIG_HOME when set to an absolute path, else ~/.config."""
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / "nomtui" / "config.toml"


class _Checker:
    """Type checks with messages that say where in the file the problem is."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def fail(self, where: str, wanted: str, got: object) -> ConfigError:
        return ConfigError(
            f"In {self.shown}, {where} must be {wanted}, not {_toml_type(got)}; fix that entry."
        )

    def string(self, where: str, value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "a non-empty string", value)
        return value.strip()

    def boolean(self, where: str, value: object) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "true or false", value)
        return value

    def table(self, where: str, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "a table", value)
        return value

    def string_table(
        self, where: str, value: object, *, allow_empty: bool = False
    ) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, item in self.table(where, value).items():
            if allow_empty and item == "":
                out[key] = ""
            else:
                out[key] = self.string(f"{where}.{key}", item)
        return out


def _toml_type(value: object) -> str:
    names = {bool: "a boolean", str: "a string", int: "a number", float: "a number"}
    names |= {dict: "a table", list: "an array"}
    if isinstance(value, str) and not value.strip():
        return "an empty string"
    return names.get(type(value), type(value).__name__)


def load(path: Path, shown: str, home: Path) -> ConfigFile | None:
    """config.toml parsed and checked, or None when there is no such file."""
    if not path.exists():
        return None
    text = read_text(path, shown).removeprefix("\ufeff")  # a BOM is not TOML, but harmless
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The message has the line and column, never the value found there.
        raise ConfigError(f"{shown} is not valid TOML: {exc}; fix that line.") from None
    check = _Checker(shown)
    base = path.parent
    warnings = [
        f"{shown}: unknown key {key!r} ignored (known: {', '.join(sorted(_TOP_KEYS))})."
        for key in data
        if key not in _TOP_KEYS
    ]
    clusters = {
        name: _cluster(name, check.table(f"clusters.{name}", table), check, home, base, warnings)
        for name, table in check.table("clusters", data.get("clusters", {})).items()
    }
    default = data.get("default_cluster")
    if default is not None:
        default = check.string("default_cluster", default)
        if default not in clusters:
            raise ConfigError(
                f"In {shown}, default_cluster is {default!r}, but no [clusters.{default}] "
                "table exists; add it or change default_cluster."
            )
    branches = dict(DEFAULT_BRANCHES)
    if "branches" in data:
        own = check.string_table("branches", data["branches"], allow_empty=True)
        for branch, name in own.items():
            if name and name not in clusters:
                raise ConfigError(
                    f"In {shown}, branches.{branch} names cluster {name!r}, which is not "
                    "defined; add [clusters." + name + "] or remove the mapping."
                )
        branches |= own
    if any(c.literal_token for c in clusters.values()):
        warning = permission_warning(path, shown, "a token")
        if warning:
            warnings.append(warning)
    return ConfigFile(
        path=path,
        shown=shown,
        clusters=clusters,
        default_cluster=default,
        branches={b: c for b, c in branches.items() if c},
        keys=check.string_table("keys", data.get("keys", {})),
        registry=_registry(check, data.get("registry")),
        audit_log=(
            expand_path(check.string("audit_log", data["audit_log"]), home, base)
            if "audit_log" in data
            else None
        ),
        warnings=warnings,
    )


def _registry(check: _Checker, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return check.string("registry.host", value.get("host"))
    return check.string("registry", value)


def _cluster(
    name: str,
    table: dict[str, Any],
    check: _Checker,
    home: Path,
    base: Path,
    warnings: list[str],
) -> Cluster:
    at = f"clusters.{name}"
    for key in table:
        if key not in _CLUSTER_KEYS:
            warnings.append(f"{check.shown}: unknown key {at}.{key} ignored.")
    if "address" not in table:
        raise ConfigError(f'In {check.shown}, {at} has no address; add address = "https://...".')
    values: dict[str, tuple[Value, str]] = {}
    shown_at = f"{check.shown} {at}"
    address, auth = parse_nomad_address(
        check.string(f"{at}.address", table["address"]), f"{shown_at}.address"
    )
    values["nomad.address"] = (address, "")
    if auth is not None:
        values["nomad.http_auth"] = (auth, "address user info")
    literal = auth is not None
    if "consul_address" in table:
        raw = check.string(f"{at}.consul_address", table["consul_address"])
        consul, consul_auth = parse_consul_address(raw, f"{shown_at}.consul_address")
        values["consul.address"] = (consul, "")
        if consul_auth is not None:
            values["consul.http_auth"] = (consul_auth, "consul_address user info")
            literal = True
    for key, setting in _STRINGS.items():
        if key in table:
            values[setting] = (check.string(f"{at}.{key}", table[key]), "")
    for key, setting in _PATHS.items():
        if key in table:
            values[setting] = (expand_path(check.string(f"{at}.{key}", table[key]), home, base), "")
    for key, setting in _BOOLS.items():
        if key in table:
            values[setting] = (check.boolean(f"{at}.{key}", table[key]), "")
    for prefix, setting in (("", "nomad.token"), ("consul_", "consul.token")):
        token = _token(prefix, table, check, at, home, base)
        if token is not None:
            values[setting] = token
            literal = literal or token[1] == f"{prefix}token"
    color = check.string(f"{at}.color", table["color"]) if "color" in table else None
    return Cluster(
        name=name,
        values=values,
        read_only=check.boolean(f"{at}.read_only", table.get("read_only", False)),
        production=check.boolean(f"{at}.production", table.get("production", False)),
        color=color,
        literal_token=literal,
    )


def _token(
    prefix: str, table: dict[str, Any], check: _Checker, at: str, home: Path, base: Path
) -> tuple[Value, str] | None:
    given = [f"{prefix}{form}" for form in _TOKEN_FORMS if f"{prefix}{form}" in table]
    if not given:
        return None
    if len(given) > 1:
        raise ConfigError(
            f"In {check.shown}, {at} sets {' and '.join(given)}; keep only one way to get "
            "the token."
        )
    key = given[0]
    text = check.string(f"{at}.{key}", table[key])
    form = key.removeprefix(prefix)
    value: Value
    if form == "token":
        value = Secret(text)
    elif form == "token_env":
        value = TokenEnv(text)
    elif form == "token_file":
        value = TokenFile(expand_path(text, home, base))
    else:
        value = TokenCommand(text, base)
    return value, key
