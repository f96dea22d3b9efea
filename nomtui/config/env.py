"""The environment variables of the official Nomad and Consul CLIs, read as one layer.

The same reader serves the real environment and the variables of `~/.config/nomad`;
only the source label differs. As in the Go clients, an empty variable counts as unset.
Values are parsed here; one that does not parse becomes `Invalid`, which is an error
only if it wins and a warning if something above overrides it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from nomtui.config.addresses import parse_consul_address, parse_nomad_address
from nomtui.config.layer import Invalid, Raw, TokenFile
from nomtui.config.secret import Secret
from nomtui.errors import ConfigError

# strconv.ParseBool, exactly: anything else is an error, not "false".
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})

_NOMAD_STRINGS = {
    "NOMAD_REGION": "nomad.region",
    "NOMAD_NAMESPACE": "nomad.namespace",
    "NOMAD_TLS_SERVER_NAME": "nomad.tls_server_name",
}
_NOMAD_PATHS = {
    "NOMAD_CACERT": "nomad.ca_cert",
    "NOMAD_CAPATH": "nomad.ca_path",
    "NOMAD_CLIENT_CERT": "nomad.client_cert",
    "NOMAD_CLIENT_KEY": "nomad.client_key",
}
_CONSUL_PATHS = {
    "CONSUL_CACERT": "consul.ca_cert",
    "CONSUL_CAPATH": "consul.ca_path",
    "CONSUL_CLIENT_CERT": "consul.client_cert",
    "CONSUL_CLIENT_KEY": "consul.client_key",
}

NOMAD_VARS = (
    "NOMAD_ADDR",
    "NOMAD_TOKEN",
    "NOMAD_HTTP_AUTH",
    "NOMAD_SKIP_VERIFY",
    *_NOMAD_STRINGS,
    *_NOMAD_PATHS,
)
CONSUL_VARS = (
    "CONSUL_HTTP_ADDR",
    "CONSUL_HTTP_TOKEN",
    "CONSUL_HTTP_TOKEN_FILE",
    "CONSUL_HTTP_AUTH",
    "CONSUL_HTTP_SSL",
    "CONSUL_HTTP_SSL_VERIFY",
    "CONSUL_NAMESPACE",
    "CONSUL_TLS_SERVER_NAME",
    *_CONSUL_PATHS,
)
BASE_DOMAIN = "BASE_DOMAIN"


def parse_go_bool(value: str, where: str) -> bool:
    """Go's strconv.ParseBool; `where` names the setting and its source for the error."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        f"{where} is {value!r}, which is not a boolean; use true or false (or 1/0, t/f)."
    )


def relative_to(value: str, base: Path) -> Path:
    """A path from a variable, made absolute the way the process would open it."""
    path = Path(value)
    return path if path.is_absolute() else base / path


def _address(
    out: dict[str, Raw],
    service: str,
    parse: Callable[[str, str], tuple[str, Secret | None]],
    text: str,
    where: str,
) -> None:
    try:
        address, auth = parse(text, where)
    except ConfigError as exc:
        out[f"{service}.address"] = Raw(Invalid(exc.message), where)
        return
    out[f"{service}.address"] = Raw(address, where)
    if auth is not None:
        # The Go client prefers user info in the URL over NOMAD_HTTP_AUTH.
        out[f"{service}.http_auth"] = Raw(auth, f"{where} user info")


def _bool(text: str, where: str, *, negate: bool = False) -> Raw:
    try:
        return Raw(parse_go_bool(text.strip(), where) != negate, where)
    except ConfigError as exc:
        return Raw(Invalid(exc.message), where)


def env_layer(vars: Mapping[str, str], label: Callable[[str], str], cwd: Path) -> dict[str, Raw]:
    """The Nomad and Consul settings found in `vars`, keyed like `Settings.sources`.

    Values that do not parse are kept as `Invalid`: an error only if they win.
    """
    out: dict[str, Raw] = {}

    def get(name: str) -> str | None:
        value = vars.get(name, "")
        return value if value.strip() else None

    if (auth_text := get("NOMAD_HTTP_AUTH")) is not None:
        out["nomad.http_auth"] = Raw(Secret(auth_text), label("NOMAD_HTTP_AUTH"))
    if (addr := get("NOMAD_ADDR")) is not None:
        _address(out, "nomad", parse_nomad_address, addr, label("NOMAD_ADDR"))
    if (token := get("NOMAD_TOKEN")) is not None:
        out["nomad.token"] = Raw(Secret(token.strip()), label("NOMAD_TOKEN"))
    if (skip := get("NOMAD_SKIP_VERIFY")) is not None:
        out["nomad.skip_verify"] = _bool(skip, label("NOMAD_SKIP_VERIFY"))
    for name, key in _NOMAD_STRINGS.items():
        if (text := get(name)) is not None:
            out[key] = Raw(text.strip(), label(name))
    for name, key in (_NOMAD_PATHS | _CONSUL_PATHS).items():
        if (text := get(name)) is not None:
            out[key] = Raw(relative_to(text, cwd), label(name))

    if (auth_text := get("CONSUL_HTTP_AUTH")) is not None:
        out["consul.http_auth"] = Raw(Secret(auth_text), label("CONSUL_HTTP_AUTH"))
    if (addr := get("CONSUL_HTTP_ADDR")) is not None:
        _address(out, "consul", parse_consul_address, addr, label("CONSUL_HTTP_ADDR"))
    # The token file wins over CONSUL_HTTP_TOKEN in the same layer (Go reads it last).
    if (token_file := get("CONSUL_HTTP_TOKEN_FILE")) is not None:
        path = relative_to(token_file, cwd)
        out["consul.token"] = Raw(TokenFile(path), label("CONSUL_HTTP_TOKEN_FILE"))
    elif (token := get("CONSUL_HTTP_TOKEN")) is not None:
        out["consul.token"] = Raw(Secret(token.strip()), label("CONSUL_HTTP_TOKEN"))
    if (ssl := get("CONSUL_HTTP_SSL")) is not None:
        out["consul.ssl"] = _bool(ssl, label("CONSUL_HTTP_SSL"))
    if (verify := get("CONSUL_HTTP_SSL_VERIFY")) is not None:
        out["consul.skip_verify"] = _bool(verify, label("CONSUL_HTTP_SSL_VERIFY"), negate=True)
    if (ns := get("CONSUL_NAMESPACE")) is not None:
        out["consul.namespace"] = Raw(ns.strip(), label("CONSUL_NAMESPACE"))
    if (server := get("CONSUL_TLS_SERVER_NAME")) is not None:
        # The Go client strips a port: the name is compared with the certificate.
        server = server.strip()
        host = server.rsplit(":", 1)[0] if server.count(":") == 1 else server
        out["consul.tls_server_name"] = Raw(host, label("CONSUL_TLS_SERVER_NAME"))
    if (domain := get(BASE_DOMAIN)) is not None:
        out["base_domain"] = Raw(domain.strip(), label(BASE_DOMAIN))
    return out
