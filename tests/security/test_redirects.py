"""A redirect never carries the token elsewhere. A proxy (or a hostile agent) answering
3xx to https://somewhere gets a one-sentence error, and the place it points to sees no
request at all: not the Nomad HTTP client, not the exec WebSocket, not the Consul client.

Before this was checked, requests (Consul) and websockets (exec) both followed redirects
and kept sending X-Consul-Token / X-Nomad-Token: they strip only Authorization."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nomtui.client.consul import ConsulClient
from nomtui.client.exec import ExecSession
from nomtui.client.http import HttpClient
from nomtui.errors import BadResponse
from tests.corpus.badserver import BadServer, Reply, rule
from tests.security.helpers import CANARY


@pytest.fixture
def elsewhere() -> Iterator[BadServer]:
    """Where the redirects point: another origin (another port) that answers anything."""
    with BadServer([rule("/.*", Reply(body=b"[]"))]) as target:
        yield target


def redirector(target: str, status: int) -> BadServer:
    reply = Reply(status=status, content_type="text/html", headers={"Location": target})
    return BadServer([rule("/.*", reply)])


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_nomad_http(elsewhere: BadServer, status: int) -> None:
    with redirector(f"{elsewhere.address}/v1/jobs", status) as proxy:
        http = HttpClient(proxy.address, CANARY)
        try:
            with pytest.raises(BadResponse, match=f"unexpected status {status}"):
                await http.get("/v1/jobs", list[int])
        finally:
            await http.aclose()
    assert elsewhere.seen == []


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_exec_websocket(elsewhere: BadServer, status: int) -> None:
    ws = elsewhere.address.replace("http://", "ws://")
    with redirector(f"{ws}/v1/client/allocation/x/exec", status) as proxy:
        http = HttpClient(proxy.address, CANARY)
        try:
            with pytest.raises(BadResponse, match=f"unexpected status {status}"):
                async with ExecSession.open_with(http, "0b0b0b0b-0000", "http", ["true"]):
                    pass
        finally:
            await http.aclose()
    assert elsewhere.seen == []


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_consul(elsewhere: BadServer, status: int) -> None:
    with redirector(f"{elsewhere.address}/v1/catalog/services", status) as proxy:
        async with ConsulClient(proxy.address, CANARY, timeout_s=5) as consul:
            with pytest.raises(BadResponse, match=f"unexpected status {status}"):
                await consul.services()
    assert elsewhere.seen == []
