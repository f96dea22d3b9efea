"""Checks on the resolved values that no single layer can make on its own."""

from __future__ import annotations

import os
from pathlib import Path

from nomtui.config.addresses import same_address
from nomtui.config.files import show_path
from nomtui.config.layer import Layer, first
from nomtui.config.model import ConsulSettings, NomadSettings
from nomtui.errors import ConfigError

_VARS = {
    "nomad": ("NOMAD_CLIENT_CERT", "NOMAD_CLIENT_KEY"),
    "consul": ("CONSUL_CLIENT_CERT", "CONSUL_CLIENT_KEY"),
}


def check_tls_files(
    service: str, settings: NomadSettings | ConsulSettings, sources: dict[str, str], home: Path
) -> None:
    """Client cert and key come as a pair; every TLS file must be there to read.

    Checked now rather than at the first request, so the message can say which setting
    and which source to fix instead of an SSL library's complaint.
    """
    cert_var, key_var = _VARS[service]
    cert, key = settings.client_cert, settings.client_key
    if (cert is None) != (key is None):
        have, lack = (cert_var, key_var) if cert is not None else (key_var, cert_var)
        given = sources[f"{service}.client_cert" if cert is not None else f"{service}.client_key"]
        raise ConfigError(
            f"A client certificate needs both {cert_var} and {key_var}, but only {have} is set "
            f"({given}); set {lack} too, or neither."
        )
    for name in ("ca_cert", "client_cert", "client_key"):
        path = getattr(settings, name)
        if path is not None and not (path.is_file() and os.access(path, os.R_OK)):
            raise ConfigError(
                f"{service}.{name} ({sources[f'{service}.{name}']}) is "
                f"{show_path(path, home)}, which is not a readable file; check the path."
            )
    if settings.ca_path is not None and not settings.ca_path.is_dir():
        raise ConfigError(
            f"{service}.ca_path ({sources[f'{service}.ca_path']}) is "
            f"{show_path(settings.ca_path, home)}, which is not a directory; check the path."
        )


def token_crossing(service: str, stack: list[Layer], address: str) -> str | None:
    """A warning when the token came from a layer that named a different address.

    Example: --cluster prod sets prod's address but no token, so NOMAD_TOKEN from the
    environment (which goes with the environment's NOMAD_ADDR) would be sent to prod.
    It is sent anyway, as the official CLI would; the warning makes it visible.
    """
    token = first(stack, f"{service}.token")
    if token is None:
        return None
    token_layer, token_raw = token
    own_raw = token_layer.get(f"{service}.address")
    own = own_raw.value if own_raw is not None else None
    if not isinstance(own, str) or same_address(own, address):
        return None
    name = service.capitalize()
    return (
        f"The {name} token ({token_raw.source}) goes with {own}, but the {name} address is "
        f"{address}; give that address its own token if this is not meant."
    )
