"""Pilot tests of the read-only problems panel (nom-deploys-check) against the sim."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from nomtui.actions.check import Finding
from nomtui.models.consul import ConsulCheck
from nomtui.store import ServiceInstance, ServiceRow, ServicesData
from nomtui.tui.screens.check import CheckScreen, critical_checks, finding_keys
from nomtui.tui.widgets.live_table import LiveTable
from tests.tui.ops_app import NOW_NS, OpsApp, store_factory, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.lifecycle = False  # the demo's problems stay put while a test looks
    return sim_config


def check_app(sim: Sim, *, consul: bool = True) -> OpsApp:
    return OpsApp(
        store_factory(sim, consul=consul), lambda store: CheckScreen(store, clock=lambda: NOW_NS)
    )


def table(pilot: Pilot[Any]) -> LiveTable:
    return pilot.app.screen.query_one("#findings", LiveTable)


def rows(t: LiveTable) -> list[tuple[str, str, str]]:
    """(severity, kind, job) per row, in display order."""
    return [
        (t.get_row(k)[0].plain, t.get_row(k)[1].plain, t.get_row(k)[3].plain) for k in t.shown_keys
    ]


def summary(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#check-summary").render())


async def judged(pilot: Pilot[Any]) -> LiveTable:
    await until(pilot, lambda: "problem" in summary(pilot))
    return table(pilot)


async def test_problems_first_then_warnings(sim: Sim) -> None:
    async with check_app(sim).run_test(size=(140, 30)) as pilot:
        t = await judged(pilot)
        assert rows(t) == [
            ("problem", "check-critical", "services-scribe-api"),
            ("problem", "deployment-failed", "services-scribe-api"),
            ("warning", "awaiting-promotion", "internetarchive-hello-js"),
        ]
        text = summary(pilot)
        assert "2 problems, 1 warning" in text and "no GC" in text
        assert "Consul checks not included" not in text
        detail = str(pilot.app.screen.query_one("#finding-detail").render())
        assert "503" in detail  # the whole check output, not the cut table cell


async def test_enter_opens_the_allocation_or_the_job(sim: Sim) -> None:
    app = check_app(sim)
    async with app.run_test(size=(140, 30)) as pilot:
        t = await judged(pilot)
        await pilot.press("enter")
        assert app.opened[-1].kind == "alloc"
        assert app.opened[-1].params["alloc_id"] in sim.state.allocs
        t.move_cursor(row=2)
        await pilot.pause()
        await pilot.press("enter")
        assert app.opened[-1].kind == "job"
        assert app.opened[-1].params == {
            "namespace": "default",
            "job_id": "internetarchive-hello-js",
        }


async def test_a_promotion_clears_its_warning_live(sim: Sim) -> None:
    dep = next(
        d
        for d in sim.state.deployments.values()
        if d["JobID"] == "internetarchive-hello-js" and d["Status"] == "running"
    )
    async with check_app(sim).run_test(size=(140, 30)) as pilot:
        t = await judged(pilot)
        assert any(kind == "awaiting-promotion" for _, kind, _ in rows(t))
        async with httpx.AsyncClient(headers={"X-Nomad-Token": sim.management_token}) as c:
            url = f"{sim.nomad_addr}/v1/deployment/promote/{dep['ID']}"
            (await c.post(url, json={"DeploymentID": dep["ID"], "All": True})).raise_for_status()
        await until(pilot, lambda: all(kind != "awaiting-promotion" for _, kind, _ in rows(t)))
        assert "warning" not in summary(pilot)


async def test_without_consul_the_checks_are_said_to_be_skipped(sim: Sim) -> None:
    async with check_app(sim, consul=False).run_test(size=(140, 30)) as pilot:
        t = await judged(pilot)
        assert "Consul checks not included" in summary(pilot)
        assert all(kind != "check-critical" for _, kind, _ in rows(t))


async def test_filter_and_no_writing_action(sim: Sim) -> None:
    async with check_app(sim).run_test(size=(140, 30)) as pilot:
        t = await judged(pilot)
        await pilot.press("slash", *"!warn", "enter")
        await until(pilot, lambda: [sev for sev, _, _ in rows(t)] == ["problem", "problem"])
        actions = {b.action for b in CheckScreen.BINDINGS if not isinstance(b, tuple)}
        assert actions == {"open", "filter", "clear_filter", "sort_next", "sort_reverse"}
        for binding in CheckScreen.BINDINGS:
            assert not isinstance(binding, tuple)
            assert binding.id and binding.description and binding.tooltip


def test_finding_keys_stay_stable_and_unique() -> None:
    a = Finding(job="j", namespace="n", kind="blocked-eval", severity="problem", detail="x")
    b = Finding(job="j", namespace="n", kind="blocked-eval", severity="problem", detail="y")
    assert finding_keys([a, b]) == ["blocked-eval|n|j|||0", "blocked-eval|n|j|||1"]


def test_critical_checks_come_from_service_instances_only_once() -> None:
    critical = ConsulCheck(Node="n1", CheckID="c1", Status="critical", ServiceID="s1")
    node_check = ConsulCheck(Node="n1", CheckID="serfHealth", Status="critical")
    instance = ServiceInstance(
        service_id="s1",
        node="n1",
        alloc_id=None,
        alloc=None,
        checks=(critical, node_check),
        status="critical",
    )
    row = ServiceRow(name="web", tags=(), instances=(instance, instance), status="critical")
    data = ServicesData(enabled=True, services={"web": row}, by_alloc={})
    assert critical_checks(data) == [critical]
    assert critical_checks(None) is None
    assert critical_checks(ServicesData(enabled=False, services={}, by_alloc={})) is None
