"""`run_view` builds a view at most every `min_build_interval_s`: a burst of source
changes makes one build with the newest values, and a lone change is built at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nomtui.store.views import JobsView
from nomtui.store.watches import Channel, SourceState, run_view


async def test_a_burst_makes_one_build_with_the_newest_values() -> None:
    source: Channel[SourceState] = Channel("src")
    view: Channel[Any] = Channel("view")
    builds: list[Any] = []

    def build(values: Sequence[Any]) -> Any:
        builds.append(values[0])
        return values[0]

    async def release(_: Channel[Any]) -> None:
        pass

    def clock() -> datetime:
        return datetime(2030, 1, 1, tzinfo=UTC)

    source.publish(SourceState(0, True, 1))
    task = asyncio.create_task(
        run_view(
            view,
            JobsView(),
            [source],
            release,
            build,
            clock=clock,
            stale_after_s=30,
            min_build_interval_s=0.3,
        )
    )
    try:
        await asyncio.sleep(0.05)
        assert builds == [0]  # the first value: at once
        for n in range(1, 11):  # a burst, well inside the interval
            source.publish(SourceState(n, True, n + 1))
            await asyncio.sleep(0)
        await asyncio.sleep(0.5)
        assert builds == [0, 10]  # ten changes inside the interval: one build, the last
        assert view.latest is not None and view.latest.data == 10
        source.publish(SourceState(11, True, 12))  # a later change is built too
        await asyncio.sleep(0.5)
        assert builds == [0, 10, 11]
    finally:
        task.cancel()
        await asyncio.wait([task])
