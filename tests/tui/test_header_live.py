"""The header against the sim: the TLS-off warning, ages that move with the clock and
cost no request, and cluster strings that stay text (a job named `[red]x`)."""

from __future__ import annotations

import io
import ssl
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from rich.console import Console
from textual.css.query import NoMatches
from textual.widgets import Static

from nomtui.client.consul import ConsulClient
from nomtui.client.nomad import NomadClient
from nomtui.config.model import NomadSettings
from nomtui.config.secret import Secret
from nomtui.sim.clock import FixedClock
from nomtui.sim.server import Sim, SimConfig
from nomtui.store import Store
from nomtui.tui.app import NomtuiApp
from nomtui.tui.header import TLS_WARNING_STYLE, render_status
from nomtui.tui.screens.job import JobScreen
from nomtui.tui.screens.jobs import JobsScreen
from tests.tui.core_app import ADDRESS, NOW_NS, app_for, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

HOSTILE = "[red]x"
"""A legal job ID that Rich markup would turn into a red `x`."""


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    # Frozen: no state of the cluster view comes after the test has set the token's expiry
    # (the sim's tokens have none), and nothing else moves.
    sim_config.clock = FixedClock(NOW_NS)
    sim_config.lifecycle = False
    return sim_config


def svg(app: NomtuiApp) -> str:
    return app.export_screenshot().replace("&#160;", " ")


def static_text(app: NomtuiApp, widget_id: str) -> str:
    """What a Static shows; a `str` content goes through Rich markup, as on screen."""
    console = Console(width=200, record=True, file=io.StringIO())
    try:
        console.print(app.screen.query_one(f"#{widget_id}", Static).content)
    except NoMatches:
        return ""  # not composed yet
    return console.export_text()


async def jobs_loaded(pilot: Pilot[None]) -> NomtuiApp:
    app = pilot.app
    assert isinstance(app, NomtuiApp)
    await until(pilot, lambda: isinstance(app.screen, JobsScreen) and bool(app.screen.jobs))
    return app


# -- TLS verification off ------------------------------------------------------------------


@pytest.fixture
async def tls_sim(tmp_path: Path) -> AsyncIterator[Sim]:
    trustme = pytest.importorskip("trustme")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    config = SimConfig(
        clock=FixedClock(NOW_NS), lifecycle=False, data_dir=tmp_path / "d", tls=context
    )
    async with Sim(config) as sim:
        yield sim


async def test_tls_verification_off_is_a_warning_in_the_header(tls_sim: Sim) -> None:
    def store() -> Store:
        # What `--tls-skip-verify` / NOMAD_SKIP_VERIFY / `skip_verify = true` build.
        settings = NomadSettings(
            address=tls_sim.nomad_addr, token=Secret(tls_sim.management_token), skip_verify=True
        )
        nomad = NomadClient.from_settings(settings)
        consul = ConsulClient(tls_sim.consul_addr, skip_verify=True)
        return Store(nomad, consul, read_only=False, wait_s=2)

    app = NomtuiApp(store, address=ADDRESS, clock=lambda: NOW_NS)
    async with app.run_test(size=(140, 30)) as pilot:
        await jobs_loaded(pilot)  # the cluster answers over the unverified TLS
        assert app.cluster.tls_unverified == ("Nomad", "Consul")
        await until(pilot, lambda: "TLS verification OFF (Nomad, Consul)" in svg(app))
        text = render_status(app.cluster)
        start = text.plain.index("⚠ TLS verification OFF")
        styles = {str(s.style) for s in text.spans if s.start <= start < s.end}
        assert styles == {TLS_WARNING_STYLE}


async def test_verified_or_plain_connections_show_no_warning(sim: Sim) -> None:
    async with app_for(sim).run_test(size=(140, 30)) as pilot:
        app = await jobs_loaded(pilot)
        assert app.cluster.tls_unverified == ()
        assert "TLS verification" not in svg(app)


# -- ages from the clock ---------------------------------------------------------------------


async def test_the_token_expiry_counts_down_without_a_request(sim: Sim) -> None:
    now = [NOW_NS]
    seen: Counter[tuple[str, bool]] = Counter()

    async def count(request: httpx.Request) -> None:
        seen[(request.url.path, "index" in request.url.params)] += 1

    def store() -> Store:
        nomad = NomadClient(
            sim.nomad_addr, Secret(sim.management_token), event_hooks={"request": [count]}
        )
        return Store(nomad, None, read_only=False, wait_s=30)

    app = NomtuiApp(store, address=ADDRESS, clock=lambda: now[0])
    async with app.run_test(size=(200, 30)) as pilot:
        await jobs_loaded(pilot)
        await until(pilot, lambda: app.cluster.leader != "" and app.cluster.token_name is not None)
        start = datetime.fromtimestamp(NOW_NS / 1e9, UTC)
        app.cluster = replace(app.cluster, token_expires=start + timedelta(seconds=90))
        await until(pilot, lambda: "expires in 1m30s" in svg(app))
        before = {key: n for key, n in seen.items() if not key[1]}
        now[0] += 60 * 10**9
        await until(pilot, lambda: "expires in 30s" in svg(app))
        now[0] += 60 * 10**9
        await until(pilot, lambda: "EXPIRED 30s ago" in svg(app))
        assert {key: n for key, n in seen.items() if not key[1]} == before


# -- cluster strings are text, never markup -------------------------------------------------


async def register_hostile(sim: Sim) -> None:
    async with NomadClient(sim.nomad_addr, Secret(sim.management_token)) as nomad:
        raw, _ = await nomad.http.get_json(
            "/v1/job/internetarchive-hello-js", {"namespace": "default"}
        )
        job: dict[str, Any] = dict(raw)
        job.update(ID=HOSTILE, Name=HOSTILE)
        await nomad.register_job(job)


async def test_a_job_named_like_markup_renders_literally(sim: Sim) -> None:
    await register_hostile(sim)
    async with app_for(sim).run_test(size=(140, 30)) as pilot:
        app = await jobs_loaded(pilot)
        await until(pilot, lambda: f"default/{HOSTILE}" in app.screen.jobs)  # type: ignore[attr-defined]
        app.open("job", namespace="default", job_id=HOSTILE)
        await until(pilot, lambda: isinstance(app.screen, JobScreen) and app.screen.detail)
        assert HOSTILE in static_text(app, "job-summary")
        assert HOSTILE in svg(app)


async def test_an_unknown_job_named_like_markup_shows_its_error_literally(sim: Sim) -> None:
    async with app_for(sim).run_test(size=(140, 30)) as pilot:
        app = await jobs_loaded(pilot)
        app.open("job", namespace="default", job_id=f"{HOSTILE}-gone")
        await until(pilot, lambda: isinstance(app.screen, JobScreen))
        await until(pilot, lambda: "has nothing at" in static_text(app, "job-summary"))
        assert static_text(app, "job-summary").startswith(f"{HOSTILE}-gone: ")
