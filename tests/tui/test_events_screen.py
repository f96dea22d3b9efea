"""Pilot tests of the live event stream screen against the simulated cluster."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from nomtui.models.events import Event
from nomtui.tui.screens.events import (
    BUFFER,
    EventsScreen,
    event_cells,
    open_message,
    short_key,
    summarize,
)
from nomtui.tui.widgets.live_table import LiveTable
from nomtui.tui.widgets.topic_picker import TopicsScreen
from tests.tui.ops_app import NOW_NS, OpsApp, store_factory, until

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    # Only the events a test makes arrive after the buffer, so counts are exact.
    sim_config.lifecycle = False
    return sim_config


def events_app(sim: Sim) -> OpsApp:
    return OpsApp(store_factory(sim), lambda store: EventsScreen(store, clock=lambda: NOW_NS))


def table(pilot: Pilot[Any]) -> LiveTable:
    return pilot.app.screen.query_one("#events", LiveTable)


def topics_shown(t: LiveTable) -> set[str]:
    return {t.get_row(key)[1].plain for key in t.shown_keys}


def status(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#events-status").render())


async def drain(sim: Sim, name: str) -> None:
    node = next(i for i, n in sim.state.nodes.items() if n["Name"] == name)
    async with httpx.AsyncClient(headers={"X-Nomad-Token": sim.management_token}) as c:
        body = {"DrainSpec": {"Deadline": 3600_000_000_000}, "MarkEligible": False}
        (await c.put(f"{sim.nomad_addr}/v1/node/{node}/drain", json=body)).raise_for_status()


async def streaming(pilot: Pilot[Any]) -> LiveTable:
    t = table(pilot)
    await until(pilot, lambda: {"Job", "Allocation"} <= topics_shown(t))
    await until(pilot, lambda: "streaming" in status(pilot))
    return t


async def test_stream_shows_newest_first_and_new_events_arrive(sim: Sim) -> None:
    async with events_app(sim).run_test(size=(140, 36)) as pilot:
        t = await streaming(pilot)
        indexes = [int(t.get_row(key)[0].plain) for key in t.shown_keys]
        assert indexes == sorted(indexes, reverse=True)
        assert t.cursor_row == 0
        await drain(sim, "nomad-dc1-01")
        await until(pilot, lambda: t.get_row(t.shown_keys[0])[1].plain == "Node")
        assert "nomad-dc1-01" in t.get_row(t.shown_keys[0])[5].plain
        assert t.cursor_row == 0  # following the newest event


async def test_pause_counts_new_events_and_resume_shows_them(sim: Sim) -> None:
    async with events_app(sim).run_test(size=(140, 36)) as pilot:
        t = await streaming(pilot)
        rows = len(t.shown_keys)
        await pilot.press("p")
        assert "paused" in status(pilot)
        await drain(sim, "nomad-dc1-02")
        await until(pilot, lambda: "+0 new" not in status(pilot))
        await pilot.pause(0.3)  # the rest of the drain's events
        new = int(re.search(r"\+(\d+) new", status(pilot)).group(1))  # type: ignore[union-attr]
        assert new >= 1
        assert len(t.shown_keys) == rows  # the table stands still
        await pilot.press("p")
        await until(pilot, lambda: len(t.shown_keys) == rows + new)
        assert "paused" not in status(pilot)
        assert "Node" in topics_shown(t)


async def test_topic_filter_resubscribes_and_hides_other_topics(sim: Sim) -> None:
    app = events_app(sim)
    async with app.run_test(size=(140, 36)) as pilot:
        t = await streaming(pilot)
        await pilot.press("t")
        assert isinstance(app.screen, TopicsScreen)
        await pilot.press("space", "enter")  # the first topic, Job, off
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        assert "Job" not in screen.topics
        await until(pilot, lambda: "Job" not in topics_shown(t))
        assert "Allocation" in topics_shown(t)
        await drain(sim, "nomad-dc1-01")
        await until(pilot, lambda: "Node" in topics_shown(t))  # the new stream still flows


async def test_row_filter_and_enter_opens_what_the_event_is_about(sim: Sim) -> None:
    app = events_app(sim)
    async with app.run_test(size=(140, 36)) as pilot:
        t = await streaming(pilot)
        await pilot.press("slash", *"^\\d+ Al", "enter")
        await until(pilot, lambda: topics_shown(t) == {"Allocation"})
        await pilot.press("enter")
        assert app.opened[-1].kind == "alloc"
        assert app.opened[-1].params["alloc_id"] in sim.state.allocs


async def test_the_buffer_is_bounded(sim: Sim) -> None:
    app = events_app(sim)
    async with app.run_test(size=(140, 36)) as pilot:
        await streaming(pilot)
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        start = screen.last_index + 10
        for i in range(BUFFER + 50):
            screen.receive(start + i, [Event(Topic="Job", Type="JobRegistered", Key=f"j{i}")])
        assert len(screen.buffer) == BUFFER
        await until(pilot, lambda: len(table(pilot).shown_keys) == BUFFER)


async def test_bindings_have_ids_and_descriptions() -> None:
    for binding in (*EventsScreen.BINDINGS, *TopicsScreen.BINDINGS):
        assert not isinstance(binding, tuple)
        assert binding.id and binding.description and binding.tooltip


# -- pure helpers -------------------------------------------------------------------------


def test_summaries_and_targets_per_topic() -> None:
    alloc = Event(
        Topic="Allocation",
        Key="0e51f30d-c6a7-ee39-c4b0-32ccd7c524a5",
        Payload={
            "Allocation": {
                "Name": "web.web[0]",
                "ClientStatus": "running",
                "DesiredStatus": "stop",
                "NodeName": "n1",
            }
        },
    )
    assert summarize(alloc) == "web.web[0] running (desired stop) on n1"
    assert event_cells(alloc)[4].plain == "0e51f30d"
    target = open_message(alloc)
    assert target is not None and target.kind == "alloc"
    dep = Event(
        Topic="Deployment",
        Namespace="ops",
        Payload={"Deployment": {"JobID": "web", "Status": "failed", "StatusDescription": "x"}},
    )
    assert summarize(dep) == "web v0 failed: x"
    target = open_message(dep)
    assert target is not None and target.params == {"namespace": "ops", "job_id": "web"}
    node = Event(Topic="Node", Key="n", Payload={"Node": {"Name": "a", "Drain": True}})
    assert "draining" in summarize(node)
    assert summarize(Event(Topic="ACLToken", Payload=None)) == ""
    assert open_message(Event(Topic="ACLToken")) is None


def test_hostile_payload_text_is_cleaned() -> None:
    job = Event(Topic="Job", Key="x" * 50, Payload={"Job": {"ID": "evil\x1b]52;c;AAAA\x07job"}})
    assert "\x1b" not in summarize(job)
    assert short_key("x" * 50).endswith("…") and len(short_key("x" * 50)) == 30
