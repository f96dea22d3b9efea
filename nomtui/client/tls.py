"""TLS for the HTTP clients, with the options the official Go clients take (PROTOCOLS.md §11).

- CA: a bundle file (`NOMAD_CACERT`) wins over a directory (`NOMAD_CAPATH`); with neither,
  the system roots plus certifi's bundle are trusted (httpx alone would trust only
  certifi, and a company CA installed in the system store would then fail).
- A CA directory is read file by file, as Go does, rather than through OpenSSL's
  `capath`, which only finds certificates under hashed names (`c_rehash`) that
  `NOMAD_CAPATH` directories usually lack.
- Client certificate and key for mTLS; an encrypted key is refused, never prompted for
  (OpenSSL would read a password from the terminal, under a running TUI).
- Server name: the name sent as SNI and checked against the certificate, for agents
  reached by IP or through a tunnel. httpx takes it per request, as the `sni_hostname`
  extension, so `HttpClient` adds it to every request.
- `skip_verify` turns verification off, and only then. TLS 1.2 is the minimum, as in
  the Go client.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from nomtui.errors import ConfigError

_PEM_CERT = "-----BEGIN CERTIFICATE-----"

# Where a user sets each option, per service, so a message can name the variable.
_VARS = {
    "Nomad": {
        "ca_cert": "NOMAD_CACERT",
        "ca_path": "NOMAD_CAPATH",
        "client_cert": "NOMAD_CLIENT_CERT",
        "client_key": "NOMAD_CLIENT_KEY",
    },
    "Consul": {
        "ca_cert": "CONSUL_CACERT",
        "ca_path": "CONSUL_CAPATH",
        "client_cert": "CONSUL_CLIENT_CERT",
        "client_key": "CONSUL_CLIENT_KEY",
    },
}


@dataclass(frozen=True)
class TlsOptions:
    """What `NomadSettings`/`ConsulSettings` say about TLS; all optional."""

    ca_cert: Path | None = None
    ca_path: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    server_name: str | None = None
    skip_verify: bool = False


class _EncryptedKey(Exception):
    """Raised from the password callback: there is no one to ask for the password."""


def _no_password() -> str:
    raise _EncryptedKey


def _var(service: str, option: str) -> str:
    return _VARS.get(service, _VARS["Nomad"])[option]


def ssl_context(opts: TlsOptions, *, service: str = "Nomad") -> ssl.SSLContext:
    """A client context for `opts`; `ConfigError` naming the setting when a file is unusable."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if opts.skip_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        _load_trust(ctx, opts, service)
    if opts.client_cert is not None:
        _load_client_cert(ctx, opts.client_cert, opts.client_key, service)
    return ctx


def _load_trust(ctx: ssl.SSLContext, opts: TlsOptions, service: str) -> None:
    if opts.ca_cert is not None:
        try:
            ctx.load_verify_locations(cafile=str(opts.ca_cert))
        except (OSError, ssl.SSLError) as exc:
            raise _file_error(service, "ca_cert", opts.ca_cert, exc, "a PEM CA bundle") from None
        return
    if opts.ca_path is not None:
        _load_ca_dir(ctx, opts.ca_path, service)
        return
    ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    try:
        import certifi
    except ImportError:  # httpx depends on certifi; without it the system roots remain
        return
    ctx.load_verify_locations(cafile=certifi.where())


def _load_ca_dir(ctx: ssl.SSLContext, directory: Path, service: str) -> None:
    found = 0
    try:
        entries = sorted(p for p in directory.iterdir() if p.is_file())
    except OSError as exc:
        raise _file_error(service, "ca_path", directory, exc, "a directory of PEM files") from None
    for path in entries:
        try:
            text = path.read_text(encoding="ascii", errors="replace")
        except OSError:
            continue  # an unreadable stray file must not hide the readable CAs beside it
        if _PEM_CERT not in text:
            continue  # READMEs, keys, hash links to non-certs: Go skips these too
        try:
            ctx.load_verify_locations(cadata=text)
        except ssl.SSLError as exc:
            raise _file_error(service, "ca_path", path, exc, "a PEM certificate") from None
        found += 1
    if not found:
        var = _var(service, "ca_path")
        raise ConfigError(
            f"{var} is {directory}, which holds no PEM certificate; "
            f"point it at a directory of CA certificates or use {_var(service, 'ca_cert')}."
        )


def _load_client_cert(ctx: ssl.SSLContext, cert: Path, key: Path | None, service: str) -> None:
    try:
        ctx.load_cert_chain(str(cert), str(key) if key else None, password=_no_password)
    except _EncryptedKey:
        raise ConfigError(
            f"The client key {key or cert} ({_var(service, 'client_key')}) is encrypted; "
            "nomtui cannot ask for its password, so give it an unencrypted key."
        ) from None
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"The client certificate {cert} ({_var(service, 'client_cert')}) and key "
            f"{key or cert} ({_var(service, 'client_key')}) cannot be loaded "
            f"({_reason(exc)}); check that they are PEM files that belong together."
        ) from None


def _file_error(service: str, option: str, path: Path, exc: Exception, what: str) -> ConfigError:
    return ConfigError(
        f"{_var(service, option)} is {path}, which cannot be loaded ({_reason(exc)}); "
        f"check that it is {what}."
    )


def _reason(exc: BaseException) -> str:
    """A short lower-case reason from an ssl/OS error, without OpenSSL's bracketed codes."""
    # Hand-made instances (and some paths in ssl) lack these attributes.
    verify_message = getattr(exc, "verify_message", None)
    if isinstance(exc, ssl.SSLCertVerificationError) and verify_message:
        return f"certificate verify failed: {str(verify_message).rstrip('.')}"
    reason = getattr(exc, "reason", None)
    if isinstance(exc, ssl.SSLError) and reason:
        return str(reason).replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def ssl_failure(exc: BaseException) -> ssl.SSLError | ssl.CertificateError | None:
    """The TLS error httpx wrapped, if any (it raises ConnectError with it as cause)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (ssl.SSLError, ssl.CertificateError)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


CLIENT_CERT_HINT = "the agent may want a client certificate ({var})"


def failure_reason(exc: ssl.SSLError | ssl.CertificateError, service: str = "Nomad") -> str:
    """What went wrong in a handshake, in words a user can act on.

    The class (TlsError) is already decided by the exception type; the reason text only
    adds a hint for the failures whose OpenSSL wording says nothing to most people.
    """
    reason = _reason(exc)
    hint = CLIENT_CERT_HINT.format(var=_var(service, "client_cert"))
    if reason in ("wrong version number", "record layer failure", "packet length too long"):
        # OpenSSL's words when the other end does not speak TLS at all.
        return f"{reason}: the agent may serve plain http:// on this port"
    if "alert certificate required" in reason or "alert bad certificate" in reason:
        return f"{reason}: {hint}"
    if isinstance(exc, ssl.SSLEOFError):
        # TLS 1.2 servers that refuse a client without a certificate just hang up.
        return f"the agent closed the connection during the handshake; {hint}"
    return reason


def client_cert_hint(service: str = "Nomad") -> str:
    return CLIENT_CERT_HINT.format(var=_var(service, "client_cert"))


__all__ = ["TlsOptions", "client_cert_hint", "failure_reason", "ssl_context", "ssl_failure"]
