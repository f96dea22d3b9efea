"""`ConsulClient` against the sim's Consul over loopback, and against tiny real HTTP
servers for the answers the sim does not give (403, 500, HTML, a token echoed back)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from aiohttp import web

from nomtui.client.blocking import Retrying, Snapshot
from nomtui.client.consul import (
    ConsulClient,
    checks_by_alloc,
    health_by_alloc,
    status_by_alloc,
)
from nomtui.client.nomad import NomadClient
from nomtui.config.model import ConsulSettings
from nomtui.config.secret import Secret
from nomtui.errors import (
    BadResponse,
    ConfigError,
    NotFound,
    ServerError,
    TlsError,
    Unauthorized,
    Unreachable,
)
from nomtui.models.consul import HealthEntry
from nomtui.sim.server import Sim, SimConfig

T = TypeVar("T")

TOKEN = "c0ffee00-dead-beef-0000-consul-token"
PYHI = "services-pyhi"
SCRIBE = "services-scribe-api"  # the demo's crashing app: one instance is critical


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    # A frozen cluster: nothing moves unless a test writes, so counts are exact.
    sim_config.lifecycle = False
    return sim_config


@pytest.fixture
async def consul(sim: Sim) -> AsyncIterator[ConsulClient]:
    async with ConsulClient(sim.consul_addr, TOKEN, wait_s=0.5) as client:
        yield client


@pytest.fixture
async def nomad(sim: Sim) -> AsyncIterator[NomadClient]:
    async with NomadClient(sim.nomad_addr, sim.management_token) as client:
        yield client


async def running_allocs(nomad: NomadClient, job: str) -> set[str]:
    return {
        a.ID for a in await nomad.job_allocations(job, "default") if a.ClientStatus == "running"
    }


# -- reads -------------------------------------------------------------------------------------


async def test_services_name_the_demo_apps_with_their_url_tags(consul: ConsulClient) -> None:
    services = await consul.services()
    assert services[PYHI] == ["https://services-pyhi.dev.archive.org"]
    assert "consul" in services


async def test_service_health_decodes_models_and_maps_instances_to_allocations(
    consul: ConsulClient, nomad: NomadClient
) -> None:
    entries = await consul.service_health(PYHI)
    assert len(entries) == 3
    assert all(isinstance(e, HealthEntry) and e.status == "passing" for e in entries)
    by_alloc = health_by_alloc(entries)
    assert set(by_alloc) == await running_allocs(nomad, PYHI)
    for checks in by_alloc.values():
        # the service's own `alive` check plus the node's serfHealth, as Consul counts them
        assert {c.Name for c in checks} == {"alive", "Serf Health Status"}
    assert set(status_by_alloc(by_alloc).values()) == {"passing"}


async def test_passing_leaves_out_instances_with_a_failing_check(consul: ConsulClient) -> None:
    everything = await consul.service_health(SCRIBE)
    passing = await consul.service_health(SCRIBE, passing=True)
    failing = {e.Service.ID for e in everything if e.Service and e.status != "passing"}
    assert failing, "the demo's scribe-api should have a critical instance"
    assert {e.Service.ID for e in passing if e.Service} == {
        e.Service.ID for e in everything if e.Service
    } - failing
    assert "critical" in status_by_alloc(health_by_alloc(everything)).values()


async def test_checks_nodes_and_states(consul: ConsulClient) -> None:
    assert {c.ServiceName for c in await consul.checks(PYHI)} == {PYHI}
    nodes = await consul.nodes()
    assert "nomad-dc1-01" in {n.Node for n in nodes}
    node_checks = await consul.node_health("nomad-dc1-01")
    assert "serfHealth" in {c.CheckID for c in node_checks}
    critical = await consul.health_state("critical")
    assert SCRIBE in {c.ServiceName for c in critical}
    assert await consul.leader()
    with pytest.raises(ValueError, match="state must be one of"):
        await consul.health_state("bogus")


async def test_checks_by_alloc_from_the_state_listing_matches_health_by_alloc(
    consul: ConsulClient,
) -> None:
    from_state = checks_by_alloc(await consul.health_state("any"))
    from_health = health_by_alloc(await consul.service_health(PYHI))
    for alloc, checks in from_health.items():
        assert sorted(c.CheckID for c in from_state[alloc]) == sorted(c.CheckID for c in checks)


# -- watches -----------------------------------------------------------------------------------


async def next_snapshot(watch: AsyncIterator[Snapshot[T] | Retrying]) -> Snapshot[T]:
    while True:
        update = await asyncio.wait_for(anext(watch), 5)
        if isinstance(update, Snapshot):
            return update


async def test_health_watch_wakes_when_an_allocation_is_stopped(
    sim: Sim, nomad: NomadClient
) -> None:
    # A long wait: the answer must come from the blocking query waking, not timing out.
    async with ConsulClient(sim.consul_addr, wait_s=20) as consul:
        watch = consul.watch_service_health(PYHI)
        first = await next_snapshot(watch)
        entries = first.value
        assert isinstance(entries, list) and len(entries) == 3
        victim = entries[0].alloc_id
        assert victim is not None
        started = time.monotonic()
        waiting = asyncio.ensure_future(next_snapshot(watch))
        await asyncio.sleep(0.2)  # let the blocking query reach the server
        await nomad.stop_allocation(victim)
        second = await waiting
        assert time.monotonic() - started < 3
        assert second.index > first.index
        assert isinstance(second.value, list)
        assert victim not in {e.alloc_id for e in second.value}
        await watch.aclose()


async def test_services_and_state_watches_yield_a_first_snapshot(consul: ConsulClient) -> None:
    services = consul.watch_services()
    first = await next_snapshot(services)
    assert isinstance(first.value, dict) and PYHI in first.value and first.index > 0
    await services.aclose()
    states = consul.watch_health_state("any")
    assert (await next_snapshot(states)).index > 0
    await states.aclose()


async def test_closing_the_client_is_quick_with_a_query_parked(sim: Sim) -> None:
    consul = ConsulClient(sim.consul_addr, wait_s=30)
    watch = consul.watch_service_health(PYHI)
    await next_snapshot(watch)
    parked = asyncio.ensure_future(anext(watch))  # a 30 s blocking query in a thread
    await asyncio.sleep(0.2)
    started = time.monotonic()
    parked.cancel()
    await consul.aclose()
    assert time.monotonic() - started < 0.5
    # the pool's threads are daemons: a parked query never holds the process open
    assert all(t.daemon for t in threading.enumerate() if t.name.startswith("nomtui-consul"))


# -- failures ----------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_names_the_address_and_never_the_token() -> None:
    address = f"http://127.0.0.1:{closed_port()}"
    async with ConsulClient(address, TOKEN) as consul:
        with pytest.raises(Unreachable) as caught:
            await consul.services()
        assert TOKEN not in repr(consul)
    error = caught.value
    assert error.transient and error.service == "Consul"
    assert address in error.message and "CONSUL_HTTP_ADDR" in error.message
    assert TOKEN not in error.message and TOKEN not in repr(error)
    assert error.__cause__ is None and error.__context__ is None


async def test_a_watch_retries_while_unreachable() -> None:
    async with ConsulClient(f"http://127.0.0.1:{closed_port()}", TOKEN) as consul:
        watch = consul.watch_services()
        update = await asyncio.wait_for(anext(watch), 5)
        assert isinstance(update, Retrying) and isinstance(update.error, Unreachable)
        assert update.delay_s > 0
        await watch.aclose()


def test_a_bad_address_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CONSUL_HTTP_ADDR"):
        ConsulClient("ftp://user:pw@consul:8500")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """A real HTTP server on loopback answering every request with `handler`."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_403_is_unauthorized_and_an_echoed_token_is_scrubbed(
    serve: Callable[[Handler], Awaitable[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []

    async def deny(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-Consul-Token"))
        return web.Response(status=403, text=f"ACL not found for {TOKEN}")

    # py-consul would let this override the resolved token; the settings must decide.
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "from-the-environment")
    address = await serve(deny)
    async with ConsulClient(address, Secret(TOKEN)) as consul:
        with pytest.raises(Unauthorized) as caught:
            await consul.service_health("web")
    assert seen == [TOKEN]
    assert "CONSUL_HTTP_TOKEN" in caught.value.message
    assert TOKEN not in caught.value.message and "***" in caught.value.message
    assert caught.value.status == 403 and caught.value.path == "/v1/health/service/web"


@pytest.mark.parametrize(
    ("status", "body", "ctype", "error"),
    [
        (500, "rpc error: No cluster leader", "text/plain", ServerError),
        (404, "404 page not found", "text/plain", NotFound),
        (200, "<html><title>Login</title></html>", "text/html", BadResponse),
        (200, "{not json", "application/json", BadResponse),
        (200, '[{"Node": 7}]', "application/json", BadResponse),
    ],
)
async def test_answers_are_classified_by_status_and_shape(
    serve: Callable[[Handler], Awaitable[str]],
    status: int,
    body: str,
    ctype: str,
    error: type[Exception],
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(
            status=status, text=body, content_type=ctype, headers={"X-Consul-Index": "5"}
        )

    async with ConsulClient(await serve(answer)) as consul:
        with pytest.raises(error) as caught:
            await consul.service_health("web")
    assert caught.value.__context__ is None  # no chain holding requests' objects


async def test_no_token_sends_no_header(
    serve: Callable[[Handler], Awaitable[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(request.headers.get("X-Consul-Token"))
        return web.json_response({}, headers={"X-Consul-Index": "3"})

    monkeypatch.setenv("CONSUL_HTTP_TOKEN", "from-the-environment")
    async with ConsulClient(await serve(record)) as consul:
        assert await consul.services() == {}
    assert seen == [None]


async def test_from_settings(sim: Sim) -> None:
    settings = ConsulSettings(address=sim.consul_addr, token=Secret(TOKEN))
    async with ConsulClient.from_settings(settings, wait_s=0.5) as consul:
        assert consul.address == sim.consul_addr
        assert PYHI in await consul.services()
        assert TOKEN not in repr(consul)


# -- TLS ---------------------------------------------------------------------------------------


async def test_tls_needs_the_ca(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    import ssl

    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    config = SimConfig(lifecycle=False, data_dir=tmp_path / "d", tls=server)
    async with Sim(config) as sim:
        async with ConsulClient(sim.consul_addr) as consul:
            with pytest.raises(TlsError, match="CONSUL_CACERT"):
                await consul.services()
        async with ConsulClient(sim.consul_addr, ca_cert=str(ca_file)) as consul:
            assert PYHI in await consul.services()
        async with ConsulClient(sim.consul_addr, skip_verify=True) as consul:
            assert PYHI in await consul.services()
