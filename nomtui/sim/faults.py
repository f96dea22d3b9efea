"""Misbehaviour on demand: latency (steady and spikes), 5xx, leader loss, cut streams, a
stuck exec stdin.

Faults are set by `nomtui sim` flags at start and changed at run time through the control
endpoint `GET/PUT /v1/sim/faults` (management token only), so tests can switch them on and
off against a running sim. Every fault injected is counted (`FaultCounts`, served by
`GET /v1/sim/stats`), so a chaos test can prove its faults really happened.

Which request gets which fault is drawn from one generator seeded by the sim's seed: the
same seed and the same order of requests give the same faults. Stream cuts by time are
timers, so their exact moments also depend on the event loop's pace.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

from aiohttp import web

_FRACTIONS = ("error_rate", "latency_spike_rate")


@dataclass
class Faults:
    latency_ms: float = 0.0
    """Added to every HTTP request before it is answered."""
    latency_spike_rate: float = 0.0
    """Fraction (0..1) of requests delayed by a further `latency_spike_ms`."""
    latency_spike_ms: float = 0.0
    error_rate: float = 0.0
    """Fraction (0..1) of requests (blocking queries and stream opens included) answered
    with a 500 before they reach their handler."""
    leader_lost: bool = False
    """While true, server endpoints answer 500 `No cluster leader`."""
    leader_loss_every_s: float = 0.0
    """When > 0, the leader is lost for `leader_loss_for_s` seconds once per this period."""
    leader_loss_for_s: float = 0.0
    stream_cut_bytes: int = 0
    """When > 0, every stream (logs, fs stream, events) is cut after this many bytes."""
    stream_cut_every_s: float = 0.0
    """When > 0, every stream is cut after a random 0.5x..1.5x this many seconds, as a
    proxy or load balancer would: the TCP connection closes, perhaps inside a frame."""
    exec_ignore_stdin_close: bool = False
    """Reproduces Nomad 1.9.0 (hashicorp/nomad#24171): stdin close never reaches the process."""
    log_rate_bps: float = 0.0
    """When > 0, every demo task writes this many bytes per second of logs."""

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for key, value in changes.items():
            if key not in known:
                raise ValueError(f"unknown fault {key!r}")
            current = getattr(self, key)
            if isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"fault {key!r} takes true or false")
            elif isinstance(current, (int, float)):
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise ValueError(f"fault {key!r} takes a non-negative number")
                if key in _FRACTIONS and value > 1:
                    raise ValueError(f"fault {key!r} is a fraction from 0 to 1")
                value = type(current)(value)
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FaultCounts:
    """How many faults of each kind the sim has injected since it started."""

    injected_errors: int = 0
    """Requests answered with a simulated 500 (`error_rate`)."""
    cut_streams: int = 0
    """Streams cut, by size or by time."""
    cut_streams_by_time: int = 0
    leader_losses: int = 0
    """Leader-loss windows begun (`leader_loss_every_s`; a `leader_lost` switch is not one)."""
    leader_refusals: int = 0
    """Requests answered `No cluster leader`."""
    latency_spikes: int = 0

    def as_dict(self) -> dict[str, int]:
        """CamelCase keys, like the rest of `/v1/sim/stats`."""
        return {
            "".join(part.title() for part in name.split("_")): value
            for name, value in asdict(self).items()
        }


class FaultInjector:
    """Decides, deterministically from a seed, which request gets which fault."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self.counts = FaultCounts()
        self._rng = random.Random(seed ^ 0x5EED)
        self._open: set[StreamGuard] = set()
        """Streams being answered now: a change of `stream_cut_every_s` reaches them too."""
        self.on_leader_lost: Callable[[], None] | None = None
        """Called as a leader-loss window begins (the sim wakes its parked blocking
        queries, which then fail as a real server's do when its leader goes away)."""

    def finished(self, request: web.Request) -> None:
        """The handler of `request` returned: its streams' timers stop, because a kept-alive
        connection goes on to serve other requests, which no timer of this one may cut."""
        for guard in [g for g in self._open if g.request is request]:
            guard.done()

    def changed(self) -> None:
        """Apply the current faults to the streams already open (the control endpoint
        calls this after every change): a stream opened before the cuts were switched on
        is cut as well, and none is cut after they were switched off."""
        for guard in list(self._open):
            guard.arm()

    # The counters by their old names: tests and benchmarks read them.
    @property
    def injected_errors(self) -> int:
        return self.counts.injected_errors

    @property
    def cut_streams(self) -> int:
        return self.counts.cut_streams

    @property
    def leader_losses(self) -> int:
        return self.counts.leader_losses

    async def delay(self) -> None:
        faults = self.faults
        seconds = faults.latency_ms / 1000
        if faults.latency_spike_rate > 0 and self._rng.random() < faults.latency_spike_rate:
            self.counts.latency_spikes += 1
            seconds += faults.latency_spike_ms / 1000
        if seconds > 0:
            await asyncio.sleep(seconds)

    def should_fail(self) -> bool:
        if self.faults.error_rate <= 0:
            return False
        failed = self._rng.random() < self.faults.error_rate
        self.counts.injected_errors += failed
        return failed

    def refuses_for_leader(self, path: str) -> bool:
        """Whether a request for `path` (one the servers answer) is refused now because
        the cluster has no leader. `/v1/status/leader` itself answers, with no leader."""
        if not self.faults.leader_lost or path == "/v1/status/leader":
            return False
        self.counts.leader_refusals += 1
        return True

    def cut_after_s(self) -> float | None:
        """How long the next stream may live (None: no time limit)."""
        every = self.faults.stream_cut_every_s
        if every <= 0:
            return None
        return every * self._rng.uniform(0.5, 1.5)

    def cut_at(self, size: int) -> int:
        """Where inside a write of `size` bytes a time-based cut falls."""
        return self._rng.randrange(size) if size > 0 else 0

    def guard(self, request: web.Request, response: web.StreamResponse) -> StreamGuard:
        return StreamGuard(request, response, self)

    async def leader_loss_windows(self) -> None:
        """Lose the leader for a while, once per period, while both settings are positive."""
        while True:
            every = self.faults.leader_loss_every_s
            window = self.faults.leader_loss_for_s
            if every <= 0 or window <= 0:
                await asyncio.sleep(0.5)
                continue
            await asyncio.sleep(max(0.0, every - window))
            if self.faults.leader_loss_every_s <= 0 or self.faults.leader_loss_for_s <= 0:
                continue  # switched off while we slept: no window
            self.faults.leader_lost = True
            self.counts.leader_losses += 1
            if self.on_leader_lost is not None:
                self.on_leader_lost()
            try:
                await asyncio.sleep(window)
            finally:
                self.faults.leader_lost = False


BUSY_S = 1.5
"""A stream that wrote within this long is busy: its cut by time falls inside a write
(heartbeats included: logs send one a second) rather than between two."""


class StreamCut(Exception):
    """Raised inside a stream handler when the fault injector cut the connection."""


class StreamGuard:
    """Wraps a streaming response so a fault can cut it, like a dropped link: after a
    number of bytes (mid-frame), or after a time (mid-write, or while the stream is idle,
    from a timer, so a quiet event stream is cut too)."""

    def __init__(
        self, request: web.Request, response: web.StreamResponse, injector: FaultInjector
    ) -> None:
        self.request = request
        self._response = response
        self._injector = injector
        self._budget = injector.faults.stream_cut_bytes or None
        self._cut = False
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_write: float | None = None
        injector._open.add(self)
        self.arm()

    def arm(self) -> None:
        """Start the clock of a cut by time when those are on; stop it when they are off."""
        if self._cut:
            return
        if self._injector.faults.stream_cut_every_s <= 0:
            self._cancel_timer()
            self._deadline = None
            return
        if self._timer is not None:
            return
        after = self._injector.cut_after_s()
        assert after is not None
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + after
        self._timer = loop.call_later(after, self._cut_idle)

    def done(self) -> None:
        self._cancel_timer()
        self._injector._open.discard(self)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _close(self, by_time: bool) -> None:
        self._cut = True
        self._cancel_timer()
        self._injector.counts.cut_streams += 1
        self._injector.counts.cut_streams_by_time += by_time
        # close (not abort) so what was written is flushed before the link drops
        transport = self.request.transport
        if transport is not None:
            transport.close()

    def _cut_idle(self) -> None:
        self._timer = None
        transport = self.request.transport
        if self._cut or transport is None or transport.is_closing():
            return  # already cut, or the client went away first
        loop = asyncio.get_running_loop()
        if self._last_write is not None and loop.time() - self._last_write < BUSY_S:
            # Busy: the next write is cut part-way, as a link dropping mid-frame would.
            # Should no write come after all, this timer cuts the stream then.
            self._timer = loop.call_later(BUSY_S, self._cut_idle)
            return
        self._close(by_time=True)

    async def write(self, data: bytes) -> None:
        if self._cut:
            raise StreamCut()
        self._last_write = asyncio.get_running_loop().time()
        if self._deadline is not None and asyncio.get_running_loop().time() >= self._deadline:
            keep = self._injector.cut_at(len(data))
            if keep:
                await self._response.write(data[:keep])
            self._close(by_time=True)
            raise StreamCut()
        if self._budget is not None:
            if len(data) >= self._budget:
                if self._budget:
                    await self._response.write(data[: self._budget])
                self._close(by_time=False)
                raise StreamCut()
            self._budget -= len(data)
        await self._response.write(data)
