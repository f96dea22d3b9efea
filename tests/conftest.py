"""Fixtures shared by every test directory: a running simulated cluster, two ways.

- `sim` (async): a `Sim` started on free loopback ports on the test's own event loop.
  Use it from async tests, including Textual `App.run_test()` Pilot tests.
- `sim_thread` (sync): a `Sim` running in a `SimThread` (own loop, daemon thread), for
  sync tests, subprocess clients and anything that blocks.

Both are built from the `sim_config` fixture; override it in a test module (or a
nested conftest) to change the seed, tokens, faults or scale:

    @pytest.fixture
    def sim_config(sim_config):
        sim_config.faults.error_rate = 0.5
        return sim_config

`nomtui.sim` is imported inside the fixtures, so tests that do not use a sim still run
while the sim is broken.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from nomtui.sim.server import Sim, SimConfig


@pytest.fixture
def sim_config(tmp_path: Path) -> SimConfig:
    from nomtui.sim.server import SimConfig

    # Allocation directories under tmp_path: pytest cleans them up, even after a crash.
    return SimConfig(seed=42, data_dir=tmp_path / "sim-data")


@pytest.fixture
async def sim(sim_config: SimConfig) -> AsyncIterator[Sim]:
    from nomtui.sim.server import Sim

    the_sim = Sim(sim_config)
    await the_sim.start("127.0.0.1", 0, 0)
    try:
        yield the_sim
    finally:
        await the_sim.stop()


@pytest.fixture
def sim_thread(sim_config: SimConfig) -> Iterator[Sim]:
    from nomtui.sim.server import SimThread

    runner = SimThread(sim_config)
    try:
        yield runner.start("127.0.0.1", 0, 0)
    finally:
        runner.stop()
