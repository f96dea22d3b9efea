"""Failures as they come off a real socket, mapped onto `nomtui.errors`.

The sim gives the Nomad-shaped failures (404, 403, 500, a closed port); a tiny aiohttp
server in this module gives what no agent sends but proxies and broken servers do
(bodies of the wrong shape, HTML error pages, cut streams, paging that never ends).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from nomtui.client.blocking import Retrying, Snapshot
from nomtui.client.nomad import NomadClient
from nomtui.errors import (
    BadResponse,
    NomtuiError,
    NotFound,
    ServerError,
    StreamDropped,
    Unauthorized,
    Unreachable,
)
from nomtui.sim.server import Sim, SimConfig
from tests.client import FAST_WAIT_S, Collector, nomad, set_faults, still

TOKEN = "nomtui-test-token-5f0c9e1a-7d3b-4e2a"

PROXY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return still(sim_config)


def assert_clean(err: NomtuiError, *needles: str) -> None:
    """One line, naming what it should, never the token (nor through its chain)."""
    assert "\n" not in err.message and err.message.endswith(".")
    for needle in needles:
        assert needle in err.message, (needle, err.message)
    assert TOKEN not in err.message and TOKEN not in repr(err)
    assert err.__cause__ is None and err.__context__ is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the sim's failures ---------------------------------------------------------------------


async def test_unknown_job_is_not_found(sim: Sim) -> None:
    async with nomad(sim) as client:
        with pytest.raises(NotFound) as info:
            await client.get_job("no-such-job", "ops")
    assert_clean(info.value, "no-such-job", sim.nomad_addr, "namespace ops", "job not found")


async def test_unknown_periodic_child_shows_its_slash(sim: Sim) -> None:
    async with nomad(sim) as client:
        with pytest.raises(NotFound) as info:
            await client.job_summary("parent/periodic-1", "default")
    assert "/v1/job/parent/periodic-1/summary" in info.value.message


async def test_wrong_token_is_unauthorized(sim: Sim) -> None:
    async with nomad(sim, token=TOKEN) as client:
        with pytest.raises(Unauthorized) as info:
            await client.list_jobs()
        assert TOKEN not in repr(client)
    assert_clean(info.value, "NOMAD_TOKEN", "403", "ACL token not found", sim.nomad_addr)


async def test_closed_port_is_unreachable() -> None:
    address = f"http://127.0.0.1:{free_port()}"
    async with NomadClient(address, TOKEN) as client:
        with pytest.raises(Unreachable) as info:
            await client.leader()
    assert_clean(info.value, address, "connection refused", "NOMAD_ADDR")


async def test_server_errors_and_a_watch_that_recovers(sim: Sim) -> None:
    async with nomad(sim) as client:
        watch = client.watch_jobs("default", wait_s=FAST_WAIT_S, min_interval_s=0)
        async with Collector(watch) as updates:
            first = await updates.snapshot()
            await set_faults(sim, error_rate=1.0)
            with pytest.raises(ServerError) as info:
                await client.get_job("www-nomad", "default")
            failed = await updates.next()
            assert isinstance(failed, Retrying) and isinstance(failed.error, ServerError)
            assert failed.attempt == 1 and failed.delay_s > 0
            await set_faults(sim, error_rate=0.0)
            back = await updates.next(timeout_s=10)
            while isinstance(back, Retrying):  # failed again while get_job was retrying
                back = await updates.next(timeout_s=10)
    assert_clean(info.value, "500", "simulated server failure", sim.nomad_addr)
    # After a failure the answer is yielded even though nothing changed: the link is back.
    assert isinstance(back, Snapshot) and back.value == first.value


async def test_leader_loss_is_a_server_error(sim: Sim) -> None:
    await set_faults(sim, leader_lost=True)
    async with nomad(sim) as client:
        with pytest.raises(ServerError) as info:
            await client.list_nodes()
    assert_clean(info.value, "No cluster leader")


# -- what proxies and broken servers send -----------------------------------------------------


async def _broken_app(request: web.Request) -> web.StreamResponse:
    path = request.path
    if path == "/v1/job/x":
        return web.json_response({"ID": 5})
    if path == "/v1/jobs":
        return web.Response(status=502, text=PROXY_PAGE, content_type="text/html")
    if path == "/v1/job/login":
        return web.Response(text="<html>Sign in</html>", content_type="text/html")
    if path == "/v1/job/echo":
        return web.Response(status=500, text=f"bad token {request.headers['X-Nomad-Token']}")
    if path == "/v1/nodes":
        return web.json_response([], headers={"X-Nomad-NextToken": "same"})
    if path == "/v1/status/leader":
        return web.json_response("10.0.0.1:4647", headers={"X-Nomad-Index": "7"})
    if path == "/v1/client/fs/logs/cut":
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b'{"Data": "aGVsbG8="}')
        assert request.transport is not None
        request.transport.close()  # the link drops mid-stream
        return resp
    return web.Response(status=404, text="404 page not found")


@pytest.fixture
async def broken(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """(http address, unix socket address) of the broken server."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _broken_app)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    port = free_port()
    sock = tmp_path / "nomad.sock"
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await web.UnixSite(runner, str(sock)).start()
    try:
        yield f"http://127.0.0.1:{port}", f"unix://{sock}"
    finally:
        await runner.cleanup()


async def test_body_of_the_wrong_shape_is_a_bad_response(broken: tuple[str, str]) -> None:
    address, _ = broken
    async with NomadClient(address, TOKEN) as client:
        with pytest.raises(BadResponse) as info:
            await client.get_job("x", "default")
    assert_clean(
        info.value, address, "/v1/job/x", "$.ID does not fit Job: expected `str`, got `int`"
    )


async def test_proxy_html_error_page_is_a_server_error(broken: tuple[str, str]) -> None:
    address, _ = broken
    async with NomadClient(address, TOKEN) as client:
        with pytest.raises(ServerError) as info:
            await client.list_jobs()
    assert_clean(info.value, "502", "HTML page titled '502 Bad Gateway'", "proxy")
    assert "<" not in info.value.message


async def test_html_with_success_status_is_a_bad_response(broken: tuple[str, str]) -> None:
    address, _ = broken
    async with NomadClient(address, TOKEN) as client:
        with pytest.raises(BadResponse) as info:
            await client.get_job("login", "default")
    assert_clean(info.value, "text/html", "not JSON", "NOMAD_ADDR")


async def test_a_token_echoed_by_the_server_is_scrubbed(broken: tuple[str, str]) -> None:
    address, _ = broken
    async with NomadClient(address, TOKEN) as client:
        with pytest.raises(ServerError) as info:
            await client.get_job("echo", "default")
    assert_clean(info.value, "bad token ***")


async def test_paging_that_never_ends_is_a_bad_response(broken: tuple[str, str]) -> None:
    address, _ = broken
    async with NomadClient(address, TOKEN) as client:
        with pytest.raises(BadResponse) as info:
            await client.list_nodes(per_page=10)
    assert_clean(info.value, "X-Nomad-NextToken repeats")


async def test_cut_stream_is_stream_dropped(broken: tuple[str, str]) -> None:
    address, _ = broken
    async with NomadClient(address, TOKEN) as client:
        with pytest.raises(StreamDropped) as info:
            async with client.http.stream("GET", "/v1/client/fs/logs/cut") as body:
                assert body.status_code == 200
                async for _ in body.chunks():
                    await asyncio.sleep(0)
        with pytest.raises(NotFound):
            async with client.http.stream("GET", "/v1/client/fs/logs/none"):
                pass
    assert_clean(info.value, "/v1/client/fs/logs/cut", address)


async def test_unix_socket_address(broken: tuple[str, str]) -> None:
    _, socket_address = broken
    async with NomadClient(socket_address, TOKEN) as client:
        assert client.address == socket_address
        assert await client.leader() == "10.0.0.1:4647"
        with pytest.raises(NotFound) as info:
            await client.get_node("abcd")
    assert socket_address in info.value.message
    missing = socket_address + ".gone"
    async with NomadClient(missing, TOKEN) as client:
        with pytest.raises(Unreachable) as gone:
            await client.leader()
    assert_clean(gone.value, missing, "no such socket")
