"""The one place where flags, environment, files and defaults meet.

Precedence, highest first (each setting is decided on its own):

1. command-line flags (`flag --addr`);
2. the cluster named by `--cluster` (`config.toml cluster prod (--cluster)`): asking
   for a cluster by name is more specific than whatever NOMAD_ADDR/NOMAD_TOKEN the
   shell happens to export, so it beats the environment;
3. the environment (`env NOMAD_ADDR`);
4. `~/.config/nomad` (`~/.config/nomad (NOMAD_ADDR)`): it is what the environment
   would hold had the user sourced it, so a variable really exported wins over it, and
   it wins over config.toml, which is nomtui's own and newer convention;
5. a cluster chosen implicitly: by the git branch map (`(branch production)`), by
   `default_cluster`, or because its address equals the address from 1-4;
6. `https://$BASE_DOMAIN`, when no layer sets NOMAD_ADDR and BASE_DOMAIN is set
   (environment first, then ~/.config/nomad);
7. defaults (`default`).

An implicitly chosen cluster is dropped altogether (with a warning) when layers 1-4
name another address: taking only its token, banner or `production` mark while talking
to some other address would make the banner lie.

A token is taken by the same order as the address, so it can come from another layer
than the address. When the token's layer named a different address, a warning says so:
the token was most likely meant for that other cluster.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Mapping
from pathlib import Path

from nomtui.config import clusters
from nomtui.config.addresses import (
    parse_consul_address,
    parse_nomad_address,
    same_address,
    with_consul_scheme,
)
from nomtui.config.checks import check_tls_files, token_crossing
from nomtui.config.env import BASE_DOMAIN, env_layer, relative_to
from nomtui.config.files import (
    expand_path,
    load_token,
    permission_warning,
    read_text,
    show_path,
)
from nomtui.config.git import current_branch
from nomtui.config.layer import (
    Invalid,
    Layer,
    Raw,
    Value,
    as_bool,
    as_path,
    as_secret,
    as_text,
    as_token_ref,
    first,
)
from nomtui.config.model import (
    DEFAULT_CONSUL_ADDR,
    DEFAULT_NOMAD_ADDR,
    DEFAULT_REGISTRY,
    ConsulSettings,
    Flags,
    NomadSettings,
    Settings,
)
from nomtui.config.secret import Secret
from nomtui.config.shellfile import parse_assignments
from nomtui.errors import ConfigError

DEFAULT = "default"
AUDIT_LOG_ENV = "NOMTUI_AUDIT_LOG"
_CONFIG_TOML = "config.toml"


def resolve(
    flags: Flags,
    env: Mapping[str, str] = os.environ,
    home: Path | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Settings from all sources; raises ConfigError with one sentence on bad input.

    `home` and `cwd` default to the real ones at call time (not import time).
    """
    home = home if home is not None else Path.home()
    cwd = cwd if cwd is not None else Path.cwd()
    warnings: list[str] = []

    shell_vars = _shell_file(home / ".config" / "nomad", env, home, warnings)
    shell_shown = show_path(home / ".config" / "nomad", home)
    config_file = clusters.config_path(env, home)
    config = clusters.load(config_file, show_path(config_file, home), home)
    if config is not None:
        warnings += config.warnings

    flag_layer = Layer("flags", _flag_values(flags, cwd))
    env_l = Layer("env", env_layer(env, lambda name: f"env {name}", cwd))
    file_l = Layer("file", env_layer(shell_vars, lambda name: f"{shell_shown} ({name})", cwd))
    above = [flag_layer, env_l, file_l]

    chosen = _choose_cluster(flags.cluster, config, above, cwd, warnings)
    cluster_l = _cluster_layer(*chosen) if chosen else None
    if chosen and chosen[1] == "--cluster":
        layers = [flag_layer, cluster_l, env_l, file_l]
    else:
        layers = [flag_layer, env_l, file_l, cluster_l]
    layers += [_base_domain_layer(env_l, file_l), _defaults()]
    stack = [layer for layer in layers if layer is not None]

    sources: dict[str, str] = {}
    lookup = ChainMap(dict(env), shell_vars)

    def pick(key: str) -> Raw | None:
        found = first(stack, key)
        sources[key] = found[1].source if found else DEFAULT
        return found[1] if found else None

    def token(key: str) -> Secret | None:
        found = first(stack, key)
        if found is None:
            sources[key] = DEFAULT
            return None
        layer, raw = found
        sources[key] = raw.source
        if layer is cluster_l and isinstance(raw.value, Secret):
            warnings.append(
                f"{raw.source} is a token written into config.toml; prefer token_env, "
                "token_file or token_command."
            )
        secret, notes = load_token(as_token_ref(raw), raw.source, lookup=lookup, env=env, home=home)
        warnings.extend(notes)
        return secret

    nomad = NomadSettings(
        address=as_text(pick("nomad.address")) or DEFAULT_NOMAD_ADDR,
        token=token("nomad.token"),
        region=as_text(pick("nomad.region")),
        namespace=as_text(pick("nomad.namespace")),
        ca_cert=as_path(pick("nomad.ca_cert")),
        ca_path=as_path(pick("nomad.ca_path")),
        client_cert=as_path(pick("nomad.client_cert")),
        client_key=as_path(pick("nomad.client_key")),
        tls_server_name=as_text(pick("nomad.tls_server_name")),
        skip_verify=as_bool(pick("nomad.skip_verify")),
        http_auth=as_secret(pick("nomad.http_auth")),
    )
    consul = ConsulSettings(
        address=_consul_address(as_text(pick("consul.address")), stack, sources),
        token=token("consul.token"),
        namespace=as_text(pick("consul.namespace")),
        ca_cert=as_path(pick("consul.ca_cert")),
        ca_path=as_path(pick("consul.ca_path")),
        client_cert=as_path(pick("consul.client_cert")),
        client_key=as_path(pick("consul.client_key")),
        tls_server_name=as_text(pick("consul.tls_server_name")),
        skip_verify=as_bool(pick("consul.skip_verify")),
        http_auth=as_secret(pick("consul.http_auth")),
    )
    check_tls_files("nomad", nomad, sources, home)
    check_tls_files("consul", consul, sources, home)
    for service, address in (("nomad", nomad.address), ("consul", consul.address)):
        if (note := token_crossing(service, stack, address)) is not None:
            warnings.append(note)
    warnings += _overridden_invalid(stack)
    for name, given in (("--token", flags.token), ("--consul-token", flags.consul_token)):
        if given:
            warnings.append(
                f"{name} puts the token in the process list and shell history; prefer "
                "the environment or token_command in config.toml."
            )
    audit_log = _audit_log(env, home, cwd, config, sources)
    return _finish(flags, nomad, consul, chosen, config, config_file, audit_log, sources, warnings)


def _consul_address(address: str | None, stack: list[Layer], sources: dict[str, str]) -> str:
    """A bare host:port gets https when CONSUL_HTTP_SSL (from any layer) says so."""
    address = address or DEFAULT_CONSUL_ADDR
    ssl = first(stack, "consul.ssl")
    use_ssl = ssl is not None and as_bool(ssl[1])
    if use_ssl and ssl is not None and "://" not in address:
        sources["consul.address"] += f", https by {ssl[1].source}"
    return with_consul_scheme(address, use_ssl)


def _finish(
    flags: Flags,
    nomad: NomadSettings,
    consul: ConsulSettings,
    chosen: tuple[clusters.Cluster, str] | None,
    config: clusters.ConfigFile | None,
    config_file: Path,
    audit_log: Path,
    sources: dict[str, str],
    warnings: list[str],
) -> Settings:
    """The cluster-wide and nomtui-only settings around the two services' settings."""
    cluster, how = chosen if chosen else (None, "")
    where = f"{_CONFIG_TOML} cluster {cluster.name} ({how})" if cluster else DEFAULT
    sources["cluster"] = where
    if flags.read_only:
        sources["read_only"] = "flag --read-only"
    else:
        sources["read_only"] = where if cluster and cluster.read_only else DEFAULT
    sources["production"] = where if cluster and cluster.production else DEFAULT
    sources["color"] = where if cluster and cluster.color else DEFAULT
    registry = config.registry if config and config.registry else None
    sources["registry"] = f"{_CONFIG_TOML} registry" if registry else DEFAULT
    sources["keys"] = f"{_CONFIG_TOML} [keys]" if config and config.keys else DEFAULT
    return Settings(
        nomad=nomad,
        consul=consul,
        cluster=cluster.name if cluster else None,
        read_only=flags.read_only or bool(cluster and cluster.read_only),
        production=bool(cluster and cluster.production),
        color=cluster.color if cluster else None,
        keys=dict(config.keys) if config else {},
        registry=registry or DEFAULT_REGISTRY,
        audit_log=audit_log,
        config_file=config_file,
        sources=sources,
        warnings=warnings,
    )


def _audit_log(
    env: Mapping[str, str],
    home: Path,
    cwd: Path,
    config: clusters.ConfigFile | None,
    sources: dict[str, str],
) -> Path:
    """NOMTUI_AUDIT_LOG (empty is unset, as with every variable), then config.toml's
    audit_log, then the XDG default."""
    given = env.get(AUDIT_LOG_ENV, "").strip()
    if given:
        sources["audit_log"] = f"env {AUDIT_LOG_ENV}"
        return expand_path(given, home, cwd)
    if config is not None and config.audit_log is not None:
        sources["audit_log"] = f"{_CONFIG_TOML} audit_log"
        return config.audit_log
    sources["audit_log"] = DEFAULT
    return _default_audit_log(env, home)


def _default_audit_log(env: Mapping[str, str], home: Path) -> Path:
    xdg = env.get("XDG_STATE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".local" / "state"
    return base / "nomtui" / "audit.log"


def _shell_file(
    path: Path, env: Mapping[str, str], home: Path, warnings: list[str]
) -> dict[str, str]:
    if not path.is_file():
        return {}  # absent, or a directory some other tool made: not the IA file
    shown = show_path(path, home)
    text = read_text(path, shown).removeprefix("\ufeff")  # editors on Windows add a BOM
    values, notes = parse_assignments(text, env, home, shown)
    warnings.extend(notes)
    if any("TOKEN" in name for name in values):
        note = permission_warning(path, shown, "a token")
        if note:
            warnings.append(note)
    return values


def _flag_values(flags: Flags, cwd: Path) -> dict[str, Raw]:
    out: dict[str, Raw] = {}
    if flags.addr:
        address, auth = parse_nomad_address(flags.addr, "flag --addr")
        out["nomad.address"] = Raw(address, "flag --addr")
        if auth is not None:
            out["nomad.http_auth"] = Raw(auth, "flag --addr user info")
    if flags.consul_addr:
        address, auth = parse_consul_address(flags.consul_addr, "flag --consul-addr")
        out["consul.address"] = Raw(address, "flag --consul-addr")
        if auth is not None:
            out["consul.http_auth"] = Raw(auth, "flag --consul-addr user info")
    for key, given, name in (
        ("nomad.token", flags.token, "--token"),
        ("consul.token", flags.consul_token, "--consul-token"),
    ):
        if given:
            secret = given if isinstance(given, Secret) else Secret(given.strip())
            out[key] = Raw(secret, f"flag {name}")
    for key, text, name in (
        ("nomad.region", flags.region, "--region"),
        ("nomad.namespace", flags.namespace, "--namespace"),
        ("nomad.tls_server_name", flags.tls_server_name, "--tls-server-name"),
    ):
        if text:
            out[key] = Raw(text.strip(), f"flag {name}")
    for key, text, name in (
        ("nomad.ca_cert", flags.ca_cert, "--ca-cert"),
        ("nomad.client_cert", flags.client_cert, "--client-cert"),
        ("nomad.client_key", flags.client_key, "--client-key"),
    ):
        if text:
            out[key] = Raw(relative_to(text, cwd), f"flag {name}")
    if flags.skip_verify is not None:
        out["nomad.skip_verify"] = Raw(flags.skip_verify, "flag --skip-verify")
    return out


def _choose_cluster(
    name: str | None,
    config: clusters.ConfigFile | None,
    above: list[Layer],
    cwd: Path,
    warnings: list[str],
) -> tuple[clusters.Cluster, str] | None:
    """The named cluster in use and how it was chosen ("--cluster", "branch main", ...)."""
    known = config.clusters if config else {}
    if name:
        if name in known:
            return known[name], "--cluster"
        listing = ", ".join(sorted(known)) if known else "none"
        where = config.shown if config else "config.toml (there is no such file)"
        raise ConfigError(f"Unknown cluster {name!r}; the clusters in {where} are: {listing}.")
    if config is None or not known:
        return None
    candidate: tuple[clusters.Cluster, str] | None = None
    branch = current_branch(cwd)
    if branch is not None and config.branches.get(branch) in known:
        candidate = known[config.branches[branch]], f"branch {branch}"
    elif config.default_cluster:
        candidate = known[config.default_cluster], "default_cluster"
    given = next((raw for layer in above if (raw := layer.get("nomad.address"))), None)
    if given is None:
        return candidate
    if not isinstance(given.value, str):
        return None  # an Invalid address: resolving it raises the user's error
    matches = [c for c in known.values() if same_address(c.address, given.value)]
    if candidate is not None and candidate[0] in matches:
        return candidate
    if len(matches) == 1:
        return matches[0], f"matches {given.source}"
    if candidate is not None:
        warnings.append(
            f"Cluster {candidate[0].name} ({candidate[1]}) is not used because {given.source} "
            f"sets another address; pass --cluster {candidate[0].name} to use it."
        )
    return None


def _cluster_layer(cluster: clusters.Cluster, how: str) -> Layer:
    label = f"{_CONFIG_TOML} cluster {cluster.name} ({how})"
    return Layer(
        "cluster",
        {
            key: Raw(value, f"{label} {detail}" if detail else label)
            for key, (value, detail) in cluster.values.items()
        },
    )


def _base_domain_layer(env_l: Layer, file_l: Layer) -> Layer | None:
    raw = env_l.get("base_domain") or file_l.get("base_domain")
    if raw is None:
        return None
    where = f"https://$BASE_DOMAIN from {raw.source}"
    try:
        address: Value = parse_nomad_address(f"https://{raw.value}", where)[0]
    except ConfigError as exc:
        address = Invalid(exc.message)
    return Layer(BASE_DOMAIN, {"nomad.address": Raw(address, where)})


def _overridden_invalid(stack: list[Layer]) -> list[str]:
    """Warnings for values that do not parse but lost to a higher layer anyway."""
    notes = []
    for layer in stack:
        for key, raw in layer.values.items():
            winner = first(stack, key)
            if isinstance(raw.value, Invalid) and winner is not None and winner[1] is not raw:
                notes.append(f"{raw.value.message} (Ignored: {winner[1].source} wins.)")
    return notes


def _defaults() -> Layer:
    """Only the settings that have a value by default; the rest stay None."""
    return Layer(
        DEFAULT,
        {
            "nomad.address": Raw(DEFAULT_NOMAD_ADDR, DEFAULT),
            # Bare, so that CONSUL_HTTP_SSL=true alone gives https://127.0.0.1:8500 as in Go.
            "consul.address": Raw(DEFAULT_CONSUL_ADDR.removeprefix("http://"), DEFAULT),
            "nomad.skip_verify": Raw(False, DEFAULT),
            "consul.skip_verify": Raw(False, DEFAULT),
        },
    )
