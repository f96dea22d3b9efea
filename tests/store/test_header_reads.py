"""The header's reads are event-driven: an idle store asks nothing but blocking queries.

Leader, agent and token are read once, then again only on a reconnect, a leader hint or
a namespace switch; Consul's reachability is the catalog watch's state, its leader read
once. The sim's blocking waits are short here (0.5 s), so a few seconds of idle cover
many rounds of every watch: any timer-driven read would show up in the counts.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

import httpx

from nomtui.client.blocking import Answer, Backoff, QueryMeta, Snapshot, watch_loop
from nomtui.client.consul import ConsulClient
from nomtui.errors import NotFound, ServerError
from nomtui.store import ClusterView, JobsView, NodesView, ServicesView, Store
from nomtui.store.signals import EVERYTHING, LEADER, Outages, Trigger
from nomtui.store.watches import Channel, SourceState, SourceWatch, run_source

from .conftest import WAIT_S, Rig, data, loaded, until

HEADER_READS = ("/v1/status/leader", "/v1/agent/self", "/v1/acl/token/self")
CONSUL_WATCHES = {"/v1/catalog/services", "/v1/health/state/any"}


async def set_faults(rig: Rig, **faults: Any) -> None:
    async with httpx.AsyncClient() as http:
        resp = await http.put(
            f"{rig.sim.nomad_addr}/v1/sim/faults",
            json=faults,
            headers={"X-Nomad-Token": rig.sim.management_token},
        )
        resp.raise_for_status()


def header_reads(rig: Rig) -> tuple[int, ...]:
    plain = rig.requests.plain()
    return tuple(plain[path] for path in HEADER_READS)


async def idle(rig: Rig, rounds: int = 6) -> tuple[Counter[tuple[str, str, bool]], Counter[str]]:
    """The Nomad requests and Consul calls made while nothing happens for `rounds` waits."""
    nomad_before = Counter(rig.requests.seen)
    consul_before = Counter(rig.consul.calls)
    await asyncio.sleep(rounds * WAIT_S)
    return rig.requests.seen - nomad_before, rig.consul.calls - consul_before


async def test_an_idle_header_and_jobs_screen_ask_only_blocking_queries(rig: Rig) -> None:
    store = rig.store()
    views = (ClusterView(), JobsView(), ServicesView(), NodesView())
    subscriptions = [store.subscribe(view) for view in views]
    for states in subscriptions:
        await until(states, loaded)
    # Read once each, at the start.
    assert header_reads(rig) == (1, 1, 1)
    assert rig.consul.calls["/v1/status/leader"] == 1
    nomad, consul = await idle(rig)
    # The window was long enough for the watches to go round (Nomad's and Consul's own
    # 0.5 s waits)...
    assert sum(n for (_, _, blocking), n in nomad.items() if blocking) >= 6
    assert sum(consul.values()) >= 2
    # ...and nothing else was asked.
    assert {key for key in nomad if not key[2]} == set(), nomad
    assert set(consul) <= CONSUL_WATCHES, consul
    assert header_reads(rig) == (1, 1, 1)
    for states in subscriptions:
        await states.aclose()
    await store.aclose()


async def test_a_reconnect_reads_the_header_again_then_it_is_quiet(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(ClusterView()) as states:
        await until(states, loaded)
        assert header_reads(rig) == (1, 1, 1)
        await set_faults(rig, error_rate=1.0)
        await until(states, lambda s: s.connection == "reconnecting")
        await set_faults(rig, error_rate=0.0)
        back = await until(states, lambda s: s.connection == "live", 10)
        assert back.error is None and data(back).agent is not None
        # The re-read follows the first watch that answers again.
        await eventually(lambda: min(header_reads(rig)) >= 2)
        after = header_reads(rig)
        nomad, _ = await idle(rig)
        assert {key for key in nomad if not key[2]} == set(), nomad
        assert header_reads(rig) == after
    await store.aclose()


async def test_leader_loss_shows_no_leader_and_the_leader_comes_back(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(ClusterView()) as states:
        first = data(await until(states, loaded))
        assert first.leader
        await set_faults(rig, leader_lost=True)
        # The watches' 500s ask for the leader again, and the servers say there is none.
        lost = await until(states, lambda s: s.data is not None and s.data.leader == "")
        assert lost.connection != "live" and isinstance(lost.error, ServerError)
        await set_faults(rig, leader_lost=False)
        back = await until(states, lambda s: s.connection == "live" and bool(data(s).leader), 10)
        assert data(back).leader == first.leader
    await store.aclose()


async def test_a_namespace_switch_reads_agent_and_token_again(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(ClusterView()) as states:
        await until(states, loaded)
        store.refresh_cluster_info()
        await eventually(lambda: header_reads(rig) == (2, 2, 2))
    await store.aclose()


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait for `check` to hold (a read's effect on the counts, which no state shows)."""
    for _ in range(int(timeout_s / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_consul_reachability_comes_from_the_catalog_watch(rig: Rig) -> None:
    store = rig.store()
    async with store.subscribe(ClusterView()) as states:
        # Reachability comes with the catalog's first answer; the leader read follows it.
        state = await until(
            states,
            lambda s: s.data is not None and s.data.consul.reachable and s.data.consul.leader,
        )
        consul = data(state).consul
        assert consul.enabled and consul.leader and consul.error is None
    await store.aclose()
    # The catalog watch and one leader read: no probe of its own.
    assert set(rig.consul.calls) == {"/v1/catalog/services", "/v1/status/leader"}
    assert rig.consul.calls["/v1/status/leader"] == 1


async def test_an_unreachable_consul_leaves_the_nomad_header_live(rig: Rig) -> None:
    async with ConsulClient("http://127.0.0.1:1", wait_s=WAIT_S) as consul:
        store = Store(rig.nomad, consul, read_only=False, wait_s=WAIT_S)
        async with store.subscribe(ClusterView()) as states:
            state = await until(states, lambda s: bool(s.data and s.data.consul.error))
        assert state.connection == "live" and not data(state).consul.reachable
        assert data(state).leader
        await store.aclose()


# -- the signal chain, without a cluster: leader headers and failures become triggers ------


def _meta(ok: bool) -> QueryMeta:
    return QueryMeta(known_leader=ok, last_contact_ms=0)


async def _answers(metas: list[QueryMeta]) -> AsyncIterator[Snapshot[Any]]:
    """`watch_loop` over canned answers whose body never changes, only their headers."""
    answers = iter(metas)

    async def fetch(query: dict[str, str], timeout_s: float | None) -> Answer[str]:
        meta = next(answers, None)
        if meta is None:
            await asyncio.Event().wait()  # a blocking query that never returns
        return "same", b"same", 7, meta

    loop = watch_loop(fetch, None, wait_s=1, min_interval_s=0, backoff=Backoff())
    async for event in loop:
        assert isinstance(event, Snapshot)
        yield event


async def test_a_leader_flip_with_an_unchanged_body_is_yielded_once() -> None:
    events = _answers([_meta(True), _meta(True), _meta(False), _meta(False), _meta(True)])
    seen = [await anext(events) for _ in range(3)]
    assert [e.meta.leader_ok for e in seen if e.meta] == [True, False, True]
    # The same value object each time: the store does not rebuild views for it.
    assert seen[0].value is seen[1].value is seen[2].value


async def test_outages_turn_watch_events_into_reads() -> None:
    trigger = Trigger()
    observe = Outages(trigger, EVERYTHING, leader_hints=True).observe
    ok = SourceState("v", True, 1, meta=_meta(True))
    failing = SourceState("v", True, 1, error=ServerError("a", "/v1/jobs", "No cluster leader"))
    observe(SourceState(), ok)
    assert trigger.fired == 0  # a first answer: nothing to re-read
    observe(ok, SourceState("v", True, 2, meta=_meta(False)))
    assert await trigger.wait(0) == {LEADER}
    observe(ok, failing)
    assert await trigger.wait(0) == {LEADER}
    observe(failing, failing)  # this watch again...
    observe(ok, failing)  # ...and another one, in the same outage: asked already
    assert trigger.fired == 2
    observe(failing, ok)
    assert await trigger.wait(0) == EVERYTHING
    observe(failing, ok)  # the other watch recovers too: the outage is over already
    assert trigger.fired == 3
    observe(ok, failing)  # a new outage
    observe(failing, ok)
    assert await trigger.wait(0) == EVERYTHING
    # A 404 (a purged job's watch) is an answer, not an outage: nothing to read again.
    gone = SourceState("v", True, 1, error=NotFound("a", "/v1/job/x"))
    fired = trigger.fired
    observe(ok, gone)
    observe(gone, ok)
    assert trigger.fired == fired


async def test_run_source_shows_the_observer_each_change() -> None:
    seen: list[tuple[SourceState, SourceState]] = []
    channel: Channel[SourceState] = Channel("k")

    async def watch() -> SourceWatch:
        yield Snapshot("a", 1, _meta(True))
        yield Snapshot("b", 2, _meta(False))

    def observe(before: SourceState, after: SourceState) -> None:
        seen.append((before, after))

    await run_source(channel, watch(), lambda: datetime(2030, 1, 1, tzinfo=UTC), observe)
    assert [(b.value, a.value, a.meta) for b, a in seen] == [
        (None, "a", _meta(True)),
        ("a", "b", _meta(False)),
    ]
    latest = channel.latest
    assert isinstance(latest, SourceState) and latest.value == "b"


async def test_nomad_watches_carry_the_answers_leader_headers(rig: Rig) -> None:
    async with aclosing(rig.nomad.watch_jobs("*", wait_s=WAIT_S)) as watch:
        first = await anext(watch)
    assert isinstance(first, Snapshot)
    # The sim's answers: `X-Nomad-Knownleader: true`, `X-Nomad-Lastcontact: 0`.
    assert first.meta == QueryMeta(known_leader=True, last_contact_ms=0)
    assert first.meta is not None and first.meta.leader_ok
    headers = httpx.Headers({"X-Nomad-Knownleader": "false", "X-Nomad-Lastcontact": "12"})
    assert QueryMeta.from_headers(headers) == QueryMeta(False, 12)
    assert QueryMeta.from_headers(httpx.Headers({"X-Nomad-Lastcontact": "9000"})) == QueryMeta(
        True, 9000
    )
    assert not QueryMeta(True, 9000).leader_ok
    assert QueryMeta.from_headers(httpx.Headers({})) is None
