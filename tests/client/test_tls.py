"""TLS against the sim served over HTTPS with a throwaway CA (trustme): CA file and
directory, skip-verify, client certificates, and a server name other than the address."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nomtui.client.nomad import NomadClient
from nomtui.client.tls import TlsOptions, ssl_context
from nomtui.config.model import NomadSettings
from nomtui.config.secret import Secret
from nomtui.errors import ConfigError, TlsError, Unreachable
from nomtui.sim.clock import FixedClock
from nomtui.sim.server import Sim, SimConfig

trustme = pytest.importorskip("trustme")


@dataclass(frozen=True)
class Pki:
    ca: Any
    ca_file: Path
    client_cert: Path
    client_key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    client = ca.issue_cert("operator@nomtui.test")
    client.cert_chain_pems[0].write_to_path(str(root / "client.pem"))
    client.private_key_pem.write_to_path(str(root / "client-key.pem"))
    return Pki(ca, root / "ca.pem", root / "client.pem", root / "client-key.pem")


def server_context(pki: Pki, *names: str, client_certs: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    pki.ca.issue_cert(*(names or ("127.0.0.1",))).configure_cert(ctx)
    if client_certs:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=str(pki.ca_file))
    return ctx


@pytest.fixture
async def tls_sim(pki: Pki, tmp_path: Path) -> AsyncIterator[Sim]:
    config = SimConfig(
        clock=FixedClock(), lifecycle=False, data_dir=tmp_path / "d", tls=server_context(pki)
    )
    async with Sim(config) as sim:
        yield sim


def settings(sim: Sim, address: str | None = None, **tls: Any) -> NomadSettings:
    return NomadSettings(
        address=address or sim.nomad_addr, token=Secret(sim.management_token), **tls
    )


async def test_the_ca_file_makes_it_work(tls_sim: Sim, pki: Pki) -> None:
    assert tls_sim.nomad_addr.startswith("https://127.0.0.1:")
    async with NomadClient.from_settings(settings(tls_sim, ca_cert=pki.ca_file)) as client:
        assert await client.list_jobs()
        assert client.http.ssl_context is not None
        assert client.http.ssl_context.minimum_version == ssl.TLSVersion.TLSv1_2


async def test_a_ca_directory_works_without_hashed_names(
    tls_sim: Sim, pki: Pki, tmp_path: Path
) -> None:
    cas = tmp_path / "cas"
    cas.mkdir()
    (cas / "our-ca.crt").write_bytes(pki.ca_file.read_bytes())
    (cas / "README").write_text("not a certificate\n")
    async with NomadClient.from_settings(settings(tls_sim, ca_path=cas)) as client:
        assert await client.regions() == ["global"]


async def test_an_unknown_ca_is_a_tls_error(tls_sim: Sim) -> None:
    async with NomadClient.from_settings(settings(tls_sim)) as client:
        with pytest.raises(TlsError) as info:
            await client.list_jobs()
    message = info.value.message
    assert "\n" not in message and tls_sim.nomad_addr in message
    assert "certificate verify failed" in message and "NOMAD_CACERT" in message
    assert info.value.__context__ is None


async def test_skip_verify_works_and_is_off_by_default(tls_sim: Sim) -> None:
    async with NomadClient.from_settings(settings(tls_sim, skip_verify=True)) as client:
        assert await client.list_jobs()
    strict = ssl_context(TlsOptions())
    assert strict.verify_mode == ssl.CERT_REQUIRED and strict.check_hostname


@pytest.mark.parametrize("tls_max", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.MAXIMUM_SUPPORTED])
async def test_client_certificates(pki: Pki, tmp_path: Path, tls_max: ssl.TLSVersion) -> None:
    server_ctx = server_context(pki, client_certs=True)
    server_ctx.maximum_version = tls_max
    config = SimConfig(clock=FixedClock(), lifecycle=False, data_dir=tmp_path / "d", tls=server_ctx)
    async with Sim(config) as sim:
        mtls = settings(
            sim, ca_cert=pki.ca_file, client_cert=pki.client_cert, client_key=pki.client_key
        )
        async with NomadClient.from_settings(mtls) as client:
            assert await client.list_jobs()
        async with NomadClient.from_settings(settings(sim, ca_cert=pki.ca_file)) as client:
            with pytest.raises((TlsError, Unreachable)) as info:
                await client.list_jobs()
    # TLS 1.2 servers hang up in the handshake (TlsError); TLS 1.3 ones reset the
    # connection after it, which alone cannot prove a TLS problem (Unreachable).
    message = info.value.message
    assert "\n" not in message and sim.nomad_addr in message
    assert "client certificate (NOMAD_CLIENT_CERT)" in message


async def test_server_name_differs_from_the_address(pki: Pki, tmp_path: Path) -> None:
    server_ctx = server_context(pki, "nomad.example")
    sni: list[str | None] = []

    def record(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        sni.append(name)

    server_ctx.sni_callback = record
    config = SimConfig(clock=FixedClock(), lifecycle=False, data_dir=tmp_path / "d", tls=server_ctx)
    async with Sim(config) as sim:
        named = settings(sim, ca_cert=pki.ca_file, tls_server_name="nomad.example")
        async with NomadClient.from_settings(named) as client:
            assert await client.list_jobs()
        # Sent as SNI too, not only used to check the certificate.
        assert sni == ["nomad.example"]
        async with NomadClient.from_settings(settings(sim, ca_cert=pki.ca_file)) as client:
            with pytest.raises(TlsError) as info:
                await client.list_jobs()
    assert "127.0.0.1" in info.value.message  # the mismatch names the address it checked


async def test_plain_http_agent_behind_https_address(pki: Pki, sim: Sim) -> None:
    address = sim.nomad_addr.replace("http://", "https://")
    async with NomadClient.from_settings(settings(sim, address, ca_cert=pki.ca_file)) as client:
        with pytest.raises(TlsError) as info:
            await client.list_jobs()
    assert "plain http://" in info.value.message


def test_unusable_tls_files_are_config_errors(pki: Pki, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="NOMAD_CACERT"):
        ssl_context(TlsOptions(ca_cert=junk))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no PEM certificate"):
        ssl_context(TlsOptions(ca_path=empty))
    with pytest.raises(ConfigError, match="cannot be loaded"):
        ssl_context(TlsOptions(client_cert=pki.ca_file, client_key=pki.client_key))


def test_an_encrypted_client_key_is_refused_not_prompted(pki: Pki, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pki.client_key.read_bytes(), password=None)
    locked = tmp_path / "locked-key.pem"
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"hunter2"),
        )
    )
    opts = TlsOptions(client_cert=pki.client_cert, client_key=locked)
    with pytest.raises(ConfigError, match="is encrypted"):
        ssl_context(opts)
