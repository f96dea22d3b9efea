"""Misbehaviour on demand: latency, 5xx, leader loss, cut streams, a stuck exec stdin.

Faults are set by `nomtui sim` flags at start and changed at run time through the control
endpoint `GET/PUT /v1/sim/faults` (management token only), so tests can switch them on and
off against a running sim.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass, fields
from typing import Any

from aiohttp import web


@dataclass
class Faults:
    latency_ms: float = 0.0
    """Added to every HTTP request before it is answered."""
    error_rate: float = 0.0
    """Fraction (0..1) of non-stream requests answered with a 500."""
    leader_lost: bool = False
    """While true, server endpoints answer 500 `No cluster leader`."""
    leader_loss_every_s: float = 0.0
    """When > 0, the leader is lost for `leader_loss_for_s` seconds once per this period."""
    leader_loss_for_s: float = 0.0
    stream_cut_bytes: int = 0
    """When > 0, every stream (logs, fs stream, events) is cut after this many bytes."""
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
                value = type(current)(value)
            setattr(self, key, value)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    """Decides, deterministically from a seed, which request gets which fault."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self._rng = random.Random(seed ^ 0x5EED)
        self.injected_errors = 0
        self.cut_streams = 0
        self.leader_losses = 0

    async def delay(self) -> None:
        if self.faults.latency_ms > 0:
            await asyncio.sleep(self.faults.latency_ms / 1000)

    def should_fail(self) -> bool:
        if self.faults.error_rate <= 0:
            return False
        failed = self._rng.random() < self.faults.error_rate
        self.injected_errors += failed
        return failed

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
            self.faults.leader_lost = True
            self.leader_losses += 1
            await asyncio.sleep(window)
            self.faults.leader_lost = False


class StreamCut(Exception):
    """Raised inside a stream handler when the fault injector cut the connection."""


class StreamGuard:
    """Wraps a streaming response so a fault can cut it mid-frame, like a dropped link."""

    def __init__(
        self, request: web.Request, response: web.StreamResponse, injector: FaultInjector
    ) -> None:
        self._request = request
        self._response = response
        self._injector = injector
        self._budget = injector.faults.stream_cut_bytes or None

    async def write(self, data: bytes) -> None:
        if self._budget is not None:
            if len(data) >= self._budget:
                if self._budget:
                    await self._response.write(data[: self._budget])
                self._injector.cut_streams += 1
                # close (not abort) so the partial frame is flushed before the link drops
                transport = self._request.transport
                if transport is not None:
                    transport.close()
                raise StreamCut()
            self._budget -= len(data)
        await self._response.write(data)
