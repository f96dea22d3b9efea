"""The error family, and how the HTTP base maps failures onto it (by status and type)."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from nomtui.client.http import HttpClient
from nomtui.client.nomad import NomadClient
from nomtui.config.secret import Secret
from nomtui.errors import (
    BadRequest,
    BadResponse,
    ClusterError,
    ConfigError,
    Conflict,
    NomtuiError,
    NotFound,
    ReadOnlyRefused,
    ServerError,
    StreamDropped,
    TlsError,
    Unauthorized,
    Unreachable,
    scrub,
)

ADDR = "http://127.0.0.1:4646"
TOKEN = "3f1c1c5e-5d6a-4b8e-9e2f-7a1d2c3b4a59"


def _client(handler: httpx.MockTransport | None = None, **kw: object) -> NomadClient:
    transport = handler or httpx.MockTransport(lambda r: httpx.Response(200, json=[]))
    return NomadClient(http=HttpClient(ADDR, TOKEN, transport=transport, **kw))  # type: ignore[arg-type]


def _answer(status: int, body: bytes = b"", ctype: str | None = None) -> httpx.MockTransport:
    headers = {"content-type": ctype} if ctype else {}
    return httpx.MockTransport(lambda r: httpx.Response(status, content=body, headers=headers))


# -- the classes themselves ---------------------------------------------------------------


def test_every_error_has_a_title_and_a_one_line_message() -> None:
    errors: list[NomtuiError] = [
        Unreachable(ADDR, "connection refused"),
        TlsError("https://n:4646", "certificate verify failed"),
        Unauthorized(ADDR, "/v1/jobs", "Permission denied"),
        NotFound(ADDR, "/v1/job/x", "job not found"),
        Conflict(ADDR, "/v1/var/x", "cas conflict"),
        BadRequest(ADDR, "/v1/jobs", "Invalid wait time"),
        ServerError(ADDR, "/v1/jobs", "No cluster leader"),
        BadResponse(ADDR, "/v1/jobs", "not JSON"),
        StreamDropped(ADDR, "/v1/event/stream"),
        ConfigError("NOMAD_ADDR is empty."),
        ReadOnlyRefused("stop job web", "prod"),
    ]
    for err in errors:
        assert err.title
        assert "\n" not in err.message
        assert str(err) == err.message
        assert type(err).__name__ in repr(err)
        if isinstance(err, ClusterError):
            assert err.address in err.message


def test_transient_flags() -> None:
    assert Unreachable.transient and ServerError.transient and StreamDropped.transient
    assert not Unauthorized.transient and not BadResponse.transient and not TlsError.transient


def test_messages_say_what_to_check() -> None:
    assert "NOMAD_ADDR" in Unreachable(ADDR).message
    assert "CONSUL_HTTP_ADDR" in Unreachable("http://c:8500", service="Consul").message
    assert "NOMAD_TOKEN" in Unauthorized(ADDR, "/v1/jobs").message
    assert "NOMAD_CACERT" in TlsError(ADDR).message


def test_server_detail_is_one_short_clean_line() -> None:
    err = ServerError(ADDR, "/v1/jobs", "line one\nline two\x1b]0;pwned\x07" + "x" * 1000)
    assert "\n" not in err.message and "\x1b" not in err.message
    assert len(err.message) < 400


def test_scrub() -> None:
    assert scrub(f"token {TOKEN} echoed", TOKEN, None, "") == "token *** echoed"


# -- mapping in the client ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, Unauthorized),
        (403, Unauthorized),
        (404, NotFound),
        (409, Conflict),
        (400, BadRequest),
        (405, BadRequest),
        (500, ServerError),
        (503, ServerError),
        (302, BadResponse),
    ],
)
async def test_status_classification(status: int, cls: type[NomtuiError]) -> None:
    # The body is deliberately misleading: classification must use the status only.
    async with _client(_answer(status, b"Permission denied", "text/plain")) as client:
        with pytest.raises(cls) as info:
            await client.list_jobs()
    assert ADDR in info.value.message


async def test_server_text_is_quoted_but_a_token_echo_is_scrubbed() -> None:
    async with _client(_answer(403, f"ACL token {TOKEN} not found".encode())) as client:
        with pytest.raises(Unauthorized) as info:
            await client.list_jobs()
    assert "not found" in info.value.message
    assert TOKEN not in info.value.message and TOKEN not in repr(info.value)


@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"<html>login</html>", "text/html"),
        (b"[]", None),
        (b"{not json", "application/json"),
        (b'[{"ID": 5}]', "application/json"),  # wrong type: ID must be a string
        (b'{"ID": "x"}', "application/json"),  # object where a list belongs
    ],
)
async def test_bad_response(body: bytes, ctype: str | None) -> None:
    async with _client(_answer(200, body, ctype)) as client:
        with pytest.raises(BadResponse):
            await client.list_jobs()


async def test_bad_index_header_is_a_bad_response() -> None:
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, json=[], headers={"X-Nomad-Index": "soon"})
    )
    async with _client(transport) as client:
        with pytest.raises(BadResponse):
            await client.http.get_json("/v1/jobs")


async def test_index_header_is_case_insensitive() -> None:
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, json=[], headers={"x-nomad-index": "42"})
    )
    async with _client(transport) as client:
        assert await client.http.get_json("/v1/jobs") == ([], 42)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused_is_unreachable() -> None:
    addr = f"http://127.0.0.1:{_free_port()}"
    async with NomadClient(addr, TOKEN) as client:
        with pytest.raises(Unreachable) as info:
            await client.list_jobs()
    assert addr in info.value.message
    assert info.value.__cause__ is None  # the httpx chain (holding the request) is dropped


async def test_ssl_failure_is_tls_error() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("boom", request=request) from ssl.SSLCertVerificationError(
            "certificate verify failed"
        )

    async with _client(httpx.MockTransport(fail)) as client:
        with pytest.raises(TlsError):
            await client.list_jobs()


async def test_read_timeout_is_unreachable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with _client(httpx.MockTransport(slow)) as client:
        with pytest.raises(Unreachable, match="no answer"):
            await client.list_jobs()


@pytest.mark.parametrize("address", ["127.0.0.1:4646", "ftp://x", "http://", ""])
def test_bad_address_is_config_error(address: str) -> None:
    with pytest.raises(ConfigError):
        HttpClient(address)


# -- the token stays hidden ---------------------------------------------------------------


async def test_token_is_sent_but_never_shown() -> None:
    seen: dict[str, str] = {}

    def record(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(200, json=[], headers={"X-Nomad-Index": "1"})

    client = _client(httpx.MockTransport(record), region="eu")
    async with client:
        await client.list_jobs()
        assert seen["x-nomad-token"] == TOKEN
        for text in (repr(client), str(client), repr(client.http), repr(vars(client.http))):
            assert TOKEN not in text
    assert TOKEN not in repr(Secret(TOKEN)) and TOKEN not in str(Secret(TOKEN))


async def test_region_and_namespace_params() -> None:
    seen: list[httpx.URL] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=[])

    client = _client(httpx.MockTransport(record), region="eu", namespace="apps")
    async with client:
        await client.list_jobs()  # explicit namespace wins over the client's
        await client.http.get_json("/v1/agent/self")
    assert seen[0].params["region"] == "eu" and seen[0].params["namespace"] == "*"
    assert seen[1].params["namespace"] == "apps"


async def test_userinfo_becomes_basic_auth_and_leaves_the_address() -> None:
    seen: dict[str, str] = {}

    def record(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        return httpx.Response(200, json=[])

    http = HttpClient(
        "http://proxyuser:hunter2@127.0.0.1:4646", TOKEN, transport=httpx.MockTransport(record)
    )
    async with NomadClient(http=http) as client:
        await client.list_jobs()
        assert client.address == "http://127.0.0.1:4646"
        assert "hunter2" not in repr(client)
    assert seen["authorization"].startswith("Basic ")
    assert seen["x-nomad-token"] == TOKEN


def test_a_bad_address_never_echoes_its_password() -> None:
    with pytest.raises(ConfigError) as info:
        HttpClient("ftp://user:hunter2@host")
    assert "hunter2" not in info.value.message
